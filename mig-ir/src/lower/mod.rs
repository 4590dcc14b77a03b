//! Lowering and validation: the syntax tree of one unit to a [`Validated`] module, for a target.
//!
//! Statements are processed in order, as MIG does: a type must be declared before it is used,
//! and `userprefix`, `serverprefix`, `msgoption` and `waittime` apply to the routines that
//! follow them. Unlike GNU MIG, the order of `subsystem` and `type` statements does not
//! matter (GNU MIG crashes on some types declared before `subsystem`); message ids are
//! assigned once the base is known. Every problem found is reported (not just the first), and
//! a [`Validated`] module is returned only when there is no error. A unit with errors still
//! yields a [`Partial`] module when it declares a subsystem: every routine that lowered on its
//! own (types resolved, message id, layout), for an editor; back ends never see it.
//!
//! This module and its children are the only part of the crate that reads the AST.

mod routines;
mod types;

use std::collections::HashMap;

use codespan_reporting::diagnostic::Severity;
use mig_frontend::ast::{self, StatementKind, SubsystemModifier};
use mig_frontend::diagnostics::UnitDiagnostic;
use mig_frontend::source::Span;

use crate::ir::{Import, ImportKind, Module, Routine, Subsystem, Type, TypeHandle, TypeOrigin};
use crate::layout::layout_routine;
use crate::target::Target;
use crate::{Partial, Validated};

/// The result of lowering: a module when there was no error, and every diagnostic (warnings
/// come with a module too).
#[derive(Debug)]
pub struct Lowered {
    pub module: Option<Validated>,
    /// When `module` is `None` because of errors: what could be validated (see [`Partial`]).
    pub partial: Option<Partial>,
    pub diagnostics: Vec<UnitDiagnostic>,
}

/// Lowers and validates a parsed unit for `target`.
///
/// Never panics, whatever the tree (trees with parse errors included: nodes the parser could
/// not read are skipped, as the parser already reported them).
pub fn lower(file: &ast::File, target: &'static Target) -> Lowered {
    let mut l = Lowerer::new(target);
    l.predefine();
    for st in &file.statements {
        l.statement(st);
    }
    l.finish()
}

struct SubsystemDecl {
    name: String,
    base: Option<u32>,
    kernel_user: bool,
    kernel_server: bool,
    span: Span,
}

/// A routine with the span needed to report id problems once the base is known.
struct PendingRoutine {
    routine: Routine,
    span: Span,
}

pub(crate) struct Lowerer {
    target: &'static Target,
    diags: Vec<UnitDiagnostic>,
    types: Vec<Type>,
    /// Declared types: handle and declaration span (`None` for predefined ones).
    scope: HashMap<String, (TypeHandle, Option<Span>)>,
    implicit: Option<ImplicitTypes>,
    subsystem: Option<SubsystemDecl>,
    routines: Vec<PendingRoutine>,
    routine_names: HashMap<String, Span>,
    /// Routines that failed to lower, in order.
    broken: Vec<String>,
    counter: u64,
    imports: Vec<Import>,
    rcsids: Vec<String>,
    server_demux: Option<String>,
    error_proc: Option<String>,
    user_prefix: String,
    server_prefix: String,
    msg_option: Option<String>,
    wait_time: Option<String>,
}

/// Handles of the types of implicit arguments.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ImplicitTypes {
    count: TypeHandle,
    poly: TypeHandle,
    boolean: TypeHandle,
}

impl Lowerer {
    fn new(target: &'static Target) -> Self {
        Lowerer {
            target,
            diags: Vec::new(),
            types: Vec::new(),
            scope: HashMap::new(),
            implicit: None,
            subsystem: None,
            routines: Vec::new(),
            routine_names: HashMap::new(),
            broken: Vec::new(),
            counter: 0,
            imports: Vec::new(),
            rcsids: Vec::new(),
            server_demux: None,
            error_proc: None,
            user_prefix: String::new(),
            server_prefix: String::new(),
            msg_option: None,
            wait_time: None,
        }
    }

    fn implicit_types(&mut self) -> ImplicitTypes {
        if let Some(i) = self.implicit {
            return i;
        }
        let mk = |l: &mut Self, name: &str, ipc: &str| {
            let mut t = l.scalar(ipc, 32);
            t.name = Some(name.into());
            t.origin = TypeOrigin::Implicit;
            t.c = crate::ir::CNames::named(name);
            l.add_type(t)
        };
        let i = ImplicitTypes {
            count: mk(self, "mach_msg_type_number_t", "MACH_MSG_TYPE_INTEGER_32"),
            poly: mk(self, "mach_msg_type_name_t", "MACH_MSG_TYPE_INTEGER_32"),
            boolean: mk(self, "boolean_t", "MACH_MSG_TYPE_BOOLEAN"),
        };
        self.implicit = Some(i);
        i
    }

    fn statement(&mut self, st: &ast::Statement) {
        match &st.kind {
            StatementKind::Subsystem(s) => self.subsystem(st.span, s),
            StatementKind::Routine(r) => {
                let before = self.routines.len();
                self.routine(st.span, r);
                if self.routines.len() == before {
                    self.broken.push(r.name.name.clone());
                }
            }
            StatementKind::Skip { count } => {
                let n = match count {
                    Some(e) => match self.bound(e, "skip count") {
                        Some(n) => n as u64,
                        None => return,
                    },
                    None => 1,
                };
                self.counter = self.counter.saturating_add(n);
            }
            StatementKind::Type(decl) => self.type_decl(decl),
            StatementKind::Import { kind, file } => self.imports.push(Import {
                kind: match kind.node {
                    ast::ImportKind::Import => ImportKind::Import,
                    ast::ImportKind::UImport => ImportKind::UImport,
                    ast::ImportKind::SImport => ImportKind::SImport,
                    ast::ImportKind::DImport => ImportKind::DImport,
                    ast::ImportKind::IImport => ImportKind::IImport,
                },
                file: file.node.clone(),
            }),
            StatementKind::RcsId(s) => self.rcsids.push(s.node.clone()),
            StatementKind::MsgOption(w) => {
                self.msg_option = (w.node != "MACH_MSG_OPTION_NONE").then(|| w.node.clone());
            }
            StatementKind::WaitTime(w) => self.wait_time = Some(w.node.clone()),
            StatementKind::NoWaitTime => self.wait_time = None,
            StatementKind::ServerPrefix(id) => self.server_prefix = id.name.clone(),
            StatementKind::UserPrefix(id) => self.user_prefix = id.name.clone(),
            StatementKind::ServerDemux(id) => self.server_demux = Some(id.name.clone()),
            StatementKind::Error(id) => self.error_proc = Some(id.name.clone()),
            StatementKind::SendTime(_)
            | StatementKind::NoSendTime
            | StatementKind::UseSpecialReplyPort(_)
            | StatementKind::ConsumeOnSendError(_)
            | StatementKind::UserTypeLimit(_)
            | StatementKind::OnStackLimit(_) => self.diags.push(UnitDiagnostic::warning(
                "statement ignored by the GNU wire format",
                st.span,
                "this Apple statement has no effect here",
            )),
            StatementKind::Empty | StatementKind::Invalid => {}
        }
    }

    fn subsystem(&mut self, span: Span, s: &ast::Subsystem) {
        if let Some(prev) = &self.subsystem {
            self.diags.push(
                UnitDiagnostic::error(
                    "subsystem redefined",
                    span,
                    format!("a second subsystem statement (`{}`)", s.name.name),
                )
                .with_secondary(prev.span, "first declared here")
                .with_note("a .defs file describes exactly one subsystem"),
            );
            return;
        }
        let base = match s.base.eval() {
            Some(v) if (0..=i32::MAX as i128).contains(&v) => Some(v as u32),
            Some(v) => {
                self.diags.push(UnitDiagnostic::error(
                    "subsystem base out of range",
                    s.base.span,
                    format!("evaluates to {v}; message ids are 0 to {}", i32::MAX),
                ));
                None
            }
            None => {
                self.diags.push(UnitDiagnostic::error(
                    "invalid subsystem base",
                    s.base.span,
                    "expected a constant integer",
                ));
                None
            }
        };
        let has = |m| s.modifiers.iter().any(|x| x.node == m);
        self.subsystem = Some(SubsystemDecl {
            name: s.name.name.clone(),
            base,
            kernel_user: has(SubsystemModifier::KernelUser),
            kernel_server: has(SubsystemModifier::KernelServer),
            span,
        });
    }

    fn type_decl(&mut self, decl: &ast::TypeDecl) {
        let Some(spec) = &decl.spec else { return };
        let name = &decl.name.name;
        if let Some(&(_, prev)) = self.scope.get(name) {
            let mut d = UnitDiagnostic::error(
                format!("type `{name}` redefined"),
                decl.name.span,
                "a second definition",
            );
            d = match prev {
                Some(p) => d.with_secondary(p, "first defined here"),
                None => d.with_note(format!("`{name}` is predefined by MIG")),
            };
            self.diags.push(d);
            return;
        }
        let Some(h) = self.resolve(spec, Some(name), TypeOrigin::Declared) else {
            return;
        };
        let mut t = self.types[h.index()].clone();
        self.translate(&mut t, &decl.translations);
        self.types[h.index()] = t;
        self.scope.insert(name.clone(), (h, Some(decl.name.span)));
    }

    fn finish(mut self) -> Lowered {
        let sub = match self.subsystem.take() {
            Some(s) => s,
            None => {
                let span = self.routines.first().map(|r| r.span).unwrap_or_default();
                self.diags.push(
                    UnitDiagnostic::error(
                        "missing subsystem statement",
                        span,
                        "no `subsystem NAME BASE;` in this unit",
                    )
                    .with_note("every .defs file that declares routines needs a subsystem"),
                );
                return Lowered {
                    module: None,
                    partial: None,
                    diagnostics: self.diags,
                };
            }
        };
        let base = sub.base.unwrap_or(0) as u64;
        let mut routines = Vec::new();
        for p in std::mem::take(&mut self.routines) {
            let mut r = p.routine;
            let id = base + r.number as u64;
            let reply = id + 100;
            let limit = if r.is_simple() { id } else { reply };
            if limit > i32::MAX as u64 {
                self.diags.push(
                    UnitDiagnostic::error(
                        "message id overflow",
                        p.span,
                        format!(
                            "routine `{}` would have id {}, past {}",
                            r.name,
                            limit,
                            i32::MAX
                        ),
                    )
                    .with_secondary(sub.span, "the base is set here")
                    .with_note("`msgh_id` is a signed 32-bit integer (`mach_msg_id_t`)"),
                );
                self.broken.push(r.name.clone());
                continue;
            }
            r.msgh_id = id as u32;
            r.reply_msgh_id = (!r.is_simple()).then_some(reply as u32);
            routines.push(r);
        }
        let slots = match u32::try_from(self.counter) {
            Ok(n) if base + n as u64 <= i32::MAX as u64 => n,
            _ => {
                self.diags.push(UnitDiagnostic::error(
                    "message id overflow",
                    sub.span,
                    format!("the subsystem's ids run past {}", i32::MAX),
                ));
                0
            }
        };
        let module = Module {
            target: self.target.name.into(),
            subsystem: Subsystem {
                server_demux: self
                    .server_demux
                    .clone()
                    .unwrap_or_else(|| format!("{}_server", sub.name)),
                name: sub.name,
                base: base as u32,
                kernel_user: sub.kernel_user,
                kernel_server: sub.kernel_server,
                slots,
                imports: std::mem::take(&mut self.imports),
                rcsids: std::mem::take(&mut self.rcsids),
                error_proc: self.error_proc.take(),
            },
            types: std::mem::take(&mut self.types),
            routines,
        };
        let mut layouts = Vec::new();
        let mut laid_out = Vec::new();
        for r in &module.routines {
            match layout_routine(&module, r, self.target) {
                Ok(l) => {
                    layouts.push(l);
                    laid_out.push(true);
                }
                Err(e) => {
                    let span = self.routine_names.get(&r.name).copied().unwrap_or_default();
                    self.diags.push(UnitDiagnostic::error(
                        format!("routine `{}`: {}", r.name, e.message),
                        span,
                        "its messages do not fit 32-bit sizes",
                    ));
                    laid_out.push(false);
                }
            }
        }
        let failed = self.diags.iter().any(|d| d.severity >= Severity::Error);
        if !failed {
            return Lowered {
                module: Some(Validated::new(module, layouts, self.target)),
                partial: None,
                diagnostics: self.diags,
            };
        }
        // Errors: keep every routine that lowered and was laid out, in order.
        let mut module = module;
        let mut broken = std::mem::take(&mut self.broken);
        let mut keep = laid_out.iter();
        module.routines.retain(|r| {
            let ok = keep.next().copied().unwrap_or(false);
            if !ok {
                broken.push(r.name.clone());
            }
            ok
        });
        Lowered {
            module: None,
            partial: Some(Partial::new(module, layouts, self.target, broken)),
            diagnostics: self.diags,
        }
    }
}
