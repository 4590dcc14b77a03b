//! Hover text (Markdown): for a routine its message ids, request and reply layouts on the
//! unit's target and the C prototypes; for a type or an argument the resolved IPC type, sizes,
//! C names and translations. In a unit with lowering errors the other routines keep theirs
//! (the partial module, see `mig_ir::Partial`). Without an IR (syntax errors, a broken routine,
//! or no subsystem: a type-only include) the declaration as written is shown.

use std::fmt::Write;
use std::path::Path;

use mig_ir::layout::{FieldRole, MessageLayout};
use mig_ir::{Count, Module, ModuleView, Routine, Storage, Type};

use super::index::{Symbol, SymbolKind};
use super::signature::{parameter, prototype, Side};
use super::Unit;

/// The hover for the name at `offset` of `file` in `unit`, with the range it applies to.
pub fn hover(
    unit: &Unit,
    file: &Path,
    offset: usize,
    text: &str,
) -> Option<(String, std::ops::Range<usize>)> {
    let occ = unit.index.at(file, offset)?;
    let sym = unit.index.symbols.get(occ.symbol)?;
    let module = unit.view();
    let body = match (sym.kind, module) {
        (SymbolKind::Routine, Some(v)) => v
            .module()
            .routines
            .iter()
            .position(|r| r.name == sym.name)
            .map(|i| routine(v, i)),
        (SymbolKind::Type, Some(v)) => v
            .module()
            .type_by_name(&sym.name)
            .map(|h| type_text(v.module(), v.module().ty(h), v.target().name)),
        (SymbolKind::Argument, Some(v)) => argument(unit, v, sym),
        (SymbolKind::Subsystem, Some(v)) => Some(subsystem(v)),
        _ => None,
    };
    let body = body.unwrap_or_else(|| as_written(unit, sym, file, text));
    Some((body, occ.loc.range.clone()))
}

/// The declaration's source, and why there is nothing more.
fn as_written(unit: &Unit, sym: &Symbol, file: &Path, text: &str) -> String {
    let src = if sym.full.file == file {
        text.get(sym.full.range.clone()).map(str::to_string)
    } else {
        std::fs::read_to_string(&sym.full.file)
            .ok()
            .and_then(|t| t.get(sym.full.range.clone()).map(str::to_string))
    }
    .unwrap_or_else(|| sym.name.clone());
    let why = if sym.kind == SymbolKind::Routine && unit.routine_is_broken(&sym.name) {
        "no layout: this routine has errors (see its diagnostics)"
    } else if unit.parsed.has_errors()
        || unit
            .diagnostics
            .iter()
            .any(|d| d.severity >= codespan_reporting::diagnostic::Severity::Error)
    {
        "no layout: the file has errors"
    } else {
        "no layout: the file declares no subsystem (open a file that includes it)"
    };
    format!("```mig\n{}\n```\n\n*{why}*", src.trim())
}

fn subsystem(v: &dyn ModuleView) -> String {
    let s = &v.module().subsystem;
    let mut out = format!(
        "```mig\nsubsystem {}{}{} {};\n```\n\n",
        if s.kernel_user { "KernelUser " } else { "" },
        if s.kernel_server { "KernelServer " } else { "" },
        s.name,
        s.base
    );
    let _ = writeln!(
        out,
        "message ids {}..{} ({} slots, {} routines); demux `{}`; target `{}`",
        s.base,
        s.base.saturating_add(s.slots),
        s.slots,
        v.module().routines.len(),
        s.server_demux,
        v.target().name
    );
    out
}

fn routine(v: &dyn ModuleView, index: usize) -> String {
    let m = v.module();
    let r = &m.routines[index];
    let mut out = format!(
        "```mig\n{} {}\n```\n\n",
        if r.is_simple() {
            "simpleroutine"
        } else {
            "routine"
        },
        r.name
    );
    let _ = write!(out, "**msgh_id** request `{}`", r.msgh_id);
    match r.reply_msgh_id {
        Some(id) => {
            let _ = write!(out, ", reply `{id}`");
        }
        None => out.push_str(", no reply (simple routine)"),
    }
    let _ = writeln!(
        out,
        " (number {} of subsystem `{}` {})\n",
        r.number, m.subsystem.name, m.subsystem.base
    );
    if let Some(l) = v.layout(index) {
        layout_table(&mut out, "Request", m, r, &l.request, v.target().name, true);
        if let Some(reply) = &l.reply {
            layout_table(&mut out, "Reply", m, r, reply, v.target().name, false);
        }
    }
    let _ = writeln!(
        out,
        "User function:\n```c\n{}\n```\nServer function:\n```c\n{}\n```",
        prototype(m, r, Side::User),
        prototype(m, r, Side::Server)
    );
    out
}

fn layout_table(
    out: &mut String,
    title: &str,
    m: &Module,
    r: &Routine,
    l: &MessageLayout,
    target: &str,
    request: bool,
) {
    let size = if l.variable {
        format!("{}..{} bytes", l.fixed_size, l.max_size)
    } else {
        format!("{} bytes", l.fixed_size)
    };
    let _ = writeln!(
        out,
        "**{title}** on `{target}`: {size}{}\n",
        if l.complex { ", complex" } else { "" }
    );
    out.push_str("| field | offset | size | type descriptor |\n|---|---:|---:|---|\n");
    for f in &l.fields {
        let desc = match &f.role {
            FieldRole::Descriptor {
                argument,
                descriptor: d,
            } => {
                let symbol = argument
                    .and_then(|a| r.arguments.get(a))
                    .and_then(|a| {
                        let t = m.ty(a.ty);
                        if request { &t.name_in } else { &t.name_out }
                            .symbol
                            .clone()
                    })
                    .unwrap_or_else(|| {
                        if argument.is_none() {
                            "MACH_MSG_TYPE_INTEGER_32".into()
                        } else {
                            d.name.to_string()
                        }
                    });
                let number = d.number.map_or("unbounded".to_string(), |n| n.to_string());
                format!(
                    "{symbol} ({}), {} bits × {number}{}{}",
                    d.name,
                    d.size_bits,
                    if d.inline { "" } else { ", out-of-line" },
                    if d.long { ", long form" } else { "" }
                )
            }
            FieldRole::Header => "mach_msg_header_t".into(),
            FieldRole::Data { storage, .. } => match storage {
                Storage::Inline => String::new(),
                Storage::OutOfLine => "pointer to out-of-line data".into(),
                Storage::Dynamic => "inline or out-of-line".into(),
            },
            FieldRole::Padding { .. } => "padding".into(),
        };
        let size = if f.variable {
            format!("≤ {}", f.size)
        } else {
            f.size.to_string()
        };
        let _ = writeln!(out, "| `{}` | {} | {size} | {desc} |", f.name, f.offset);
    }
    out.push('\n');
}

fn argument(unit: &Unit, v: &dyn ModuleView, sym: &Symbol) -> Option<String> {
    let parent = unit.index.symbols.get(sym.parent?)?;
    let m = v.module();
    let r = m.routine_by_name(&parent.name)?;
    let a = r.arguments.iter().find(|a| a.name == sym.name)?;
    let mut out = format!(
        "```mig\n{} {} : {}\n```\nargument of `{}` ({:?})\n\n",
        sym.detail,
        a.name,
        m.ty(a.ty).name.as_deref().unwrap_or("(anonymous type)"),
        r.name,
        a.kind
    );
    for side in [Side::User, Side::Server] {
        if let Some(p) = parameter(m, r, a, side) {
            let _ = writeln!(out, "- {side:?} side: `{p}`");
        }
    }
    for i in [a.count, a.poly, a.dealloc_arg, a.server_copy_arg]
        .into_iter()
        .flatten()
    {
        if let Some(imp) = r.arguments.get(i) {
            let _ = writeln!(out, "- implicit `{}` ({:?})", imp.name, imp.kind);
        }
    }
    out.push('\n');
    out.push_str(&type_text(m, m.ty(a.ty), v.target().name));
    Some(out)
}

fn type_text(m: &Module, t: &Type, target: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "```mig\ntype {}\n```\n",
        t.name.as_deref().unwrap_or("(anonymous)")
    );
    let name = |n: &mig_ir::MsgTypeName| match &n.symbol {
        Some(s) => format!("`{s}` ({})", n.value),
        None => format!("`{}`", n.value),
    };
    if t.name_in == t.name_out {
        let _ = writeln!(out, "- IPC type: {}", name(&t.name_in));
    } else {
        let _ = writeln!(
            out,
            "- IPC type: sent as {}, received as {}",
            name(&t.name_in),
            name(&t.name_out)
        );
    }
    let count = match t.count {
        Count::Fixed(1) => "one element".to_string(),
        Count::Fixed(n) => format!("{n} elements"),
        Count::Variable { max: Some(n) } => format!("variable, at most {n} elements"),
        Count::Variable { max: None } => "variable, unbounded".to_string(),
    };
    let _ = writeln!(
        out,
        "- size: {} bits × {} per element; {count}; {}",
        t.size_bits,
        t.element_number,
        match t.storage {
            Storage::Inline => "inline",
            Storage::OutOfLine => "out-of-line",
            Storage::Dynamic => "inline or out-of-line (chosen per message)",
        }
    );
    let _ = writeln!(
        out,
        "- C element on `{target}`: {} bytes, aligned to {}",
        t.c_size, t.c_align
    );
    if let Some(e) = t.element {
        let et = m.ty(e);
        let _ = writeln!(
            out,
            "- element type: `{}`",
            et.name.as_deref().unwrap_or(&et.c.user)
        );
    }
    if t.c.user == t.c.server {
        let _ = writeln!(out, "- C type: `{}`", t.c.user);
    } else {
        let _ = writeln!(
            out,
            "- C type: user `{}`, server `{}`",
            t.c.user, t.c.server
        );
    }
    let tran = |what: &str, f: &Option<mig_ir::TranslationFn>, out: &mut String| {
        if let Some(f) = f {
            let _ = writeln!(out, "- {what}: `{} {}({})`", f.to, f.function, f.from);
        }
    };
    tran("intran", &t.c.in_tran, &mut out);
    tran("outtran", &t.c.out_tran, &mut out);
    tran("intranpayload", &t.c.in_tran_payload, &mut out);
    if let Some(d) = &t.c.destructor {
        let _ = writeln!(out, "- destructor: `{d}`");
    }
    let flags: Vec<&str> = [
        (t.port, "port rights"),
        (t.polymorphic, "polymorphic"),
        (t.string, "C string"),
    ]
    .into_iter()
    .filter_map(|(on, s)| on.then_some(s))
    .collect();
    if !flags.is_empty() {
        let _ = writeln!(out, "- {}", flags.join(", "));
    }
    out
}
