//! Field offsets of migc's layouts, checked by a C compiler.
//!
//! x86_64-gnu: GNU MIG's own `Request`/`Reply` structures (from its user stubs) are compiled
//! with gcc against the gnumach-dev headers, and `offsetof` of every field migc lays out is
//! compared with migc's offset: all fields of fixed-size messages, and for variable messages
//! every field up to the first variable datum (after it, GNU MIG's C structure reserves the
//! maximum and moves the rest at run time).
//!
//! i686-gnu: there is no 32-bit GNU MIG here. migc's layout is written out as a C structure
//! with the element types of each field and explicit padding, compiled with `gcc -m32` against
//! the same headers (which select the 32-bit message format without `__LP64__`), and every
//! `offsetof` and the `sizeof` must equal migc's numbers: the C ABI inserts no padding migc did
//! not predict, and the header and descriptor sizes are the headers' own.

mod gnu;

use std::fmt::Write;

use gnu::{routine_sections, Reference};
use mig_ir::layout::{FieldRole, MessageLayout};
use mig_ir::Storage;

/// The `#include` lines of a GNU MIG user stub, minus the runtime header gnumach-dev lacks.
fn includes(user: &str) -> String {
    let mut s = String::from(
        "#define _GNU_SOURCE 1\n#define EXPORT_BOOLEAN\n#include <stdio.h>\n#include <stddef.h>\n",
    );
    for l in user.lines() {
        if l.starts_with("#include <") && !l.contains("mig_support.h") {
            s.push_str(l);
            s.push('\n');
        }
    }
    s
}

/// The text of `typedef struct { ... } <name>;` in a routine's stub.
fn typedef(section: &str, name: &str) -> Option<String> {
    let end = section.find(&format!("}} {name};"))?;
    let start = section[..end].rfind("typedef struct {")?;
    Some(section[start..end + name.len() + 3].to_string())
}

/// Fields whose offsets GNU MIG's C structure shares with the wire: all of a fixed message,
/// or those up to the first variable datum.
fn comparable(l: &MessageLayout) -> Vec<(&str, u32)> {
    let mut out = Vec::new();
    for f in &l.fields {
        out.push((f.name.as_str(), f.offset));
        if f.variable {
            break;
        }
    }
    out
}

#[test]
fn x86_64_offsets_match_gnu_mig_structures() {
    let Some(r) = Reference::find() else { return };
    let (mut fields, mut messages) = (0, 0);
    for f in r.subsystem_files() {
        let gnu = r.run_gnu(&f);
        let v = gnu::lower_x86_64(&gnu.preprocessed, &f.name);
        let user = routine_sections(&gnu.user, "/* Routine ", "/* SimpleRoutine ");
        let mut src = includes(&gnu.user);
        let mut body = String::new();
        let mut expected = String::new();
        for (routine, layout) in v.routines() {
            let section = &user[&routine.name];
            let msgs = [
                ("Request", Some(&layout.request)),
                ("Reply", layout.reply.as_ref()),
            ];
            for (kind, l) in msgs {
                let Some(l) = l else { continue };
                let t =
                    typedef(section, kind).unwrap_or_else(|| panic!("{}: no {kind}", routine.name));
                let tag = format!("{kind}_{}", routine.name);
                writeln!(
                    src,
                    "{};",
                    t.trim_end_matches(';').replacen(
                        &format!("}} {kind}"),
                        &format!("}} {tag}"),
                        1
                    )
                )
                .unwrap();
                for (name, offset) in comparable(l) {
                    writeln!(
                        body,
                        "  printf(\"{tag}.{name} %zu\\n\", offsetof({tag}, {name}));"
                    )
                    .unwrap();
                    writeln!(expected, "{tag}.{name} {offset}").unwrap();
                    fields += 1;
                }
                if !l.variable {
                    writeln!(body, "  printf(\"sizeof {tag} %zu\\n\", sizeof({tag}));").unwrap();
                    writeln!(expected, "sizeof {tag} {}", l.max_size).unwrap();
                }
                messages += 1;
            }
        }
        write!(src, "int main(void) {{\n{body}  return 0;\n}}\n").unwrap();
        let got = r.run_c(&format!("offsets-{}", f.name), &src, &[]);
        assert_eq!(
            got, expected,
            "{}: offsets differ (left: gcc on GNU MIG's structures, right: migc)",
            f.name
        );
    }
    println!(
        "x86_64 offsets: {fields} fields of {messages} messages agree with GNU MIG's structures"
    );
}

/// A C declaration of one field of migc's layout, with the element type of its data.
fn c_field(l: &MessageLayout, i: usize) -> String {
    let f = &l.fields[i];
    match &f.role {
        FieldRole::Header => "mach_msg_header_t Head;".into(),
        FieldRole::Descriptor { descriptor, .. } => {
            let t = if descriptor.long {
                "mach_msg_type_long_t"
            } else {
                "mach_msg_type_t"
            };
            format!("{t} {};", f.name)
        }
        FieldRole::Padding { .. } => format!("char {}[{}];", f.name, f.size),
        FieldRole::Data { argument, storage } => {
            let _ = argument;
            let (elem, bytes) = data_element(l, i);
            match storage {
                Storage::OutOfLine => format!("void *{};", f.name),
                Storage::Dynamic => format!(
                    "union {{ {elem} {n}[{c}]; void *{n}P; }};",
                    n = f.name,
                    c = f.size / bytes.max(1)
                ),
                Storage::Inline => format!("{elem} {}[{}];", f.name, f.size / bytes.max(1)),
            }
        }
    }
}

/// The C element type of a data field and its size in bytes.
fn data_element(l: &MessageLayout, i: usize) -> (&'static str, u32) {
    let FieldRole::Descriptor { descriptor, .. } = &l.fields[i - 1].role else {
        unreachable!("data follows its descriptor")
    };
    match descriptor.size_bits {
        8 => ("uint8_t", 1),
        16 => ("uint16_t", 2),
        32 if descriptor.name >= 16 && descriptor.name <= 21 => ("mach_port_name_inlined_t", 4),
        32 => ("uint32_t", 4),
        64 => ("uint64_t", 8),
        _ => ("char", 1),
    }
}

#[test]
fn i686_layouts_match_gcc_m32() {
    let Some(r) = Reference::find() else { return };
    let (mut fields, mut messages) = (0, 0);
    let mut src = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <mach/message.h>\n",
    );
    let mut body = String::new();
    let mut expected = String::new();
    for f in r.subsystem_files() {
        // Without `-D__x86_64__` the .defs select their 32-bit types.
        let text = r.preprocess(&f.path, &[]);
        let v = gnu::lower(&text, &f.name, &mig_ir::target::I686_GNU);
        for (routine, layout) in v.routines() {
            let msgs = [
                ("Request", Some(&layout.request)),
                ("Reply", layout.reply.as_ref()),
            ];
            for (kind, l) in msgs {
                let Some(l) = l else { continue };
                let tag = format!("{}_{kind}_{}", f.name, routine.name);
                writeln!(src, "typedef struct {{").unwrap();
                for i in 0..l.fields.len() {
                    writeln!(src, "  {}", c_field(l, i)).unwrap();
                }
                writeln!(src, "}} {tag};").unwrap();
                for field in &l.fields {
                    let name = &field.name;
                    writeln!(
                        body,
                        "  printf(\"{tag}.{name} %zu\\n\", offsetof({tag}, {name}));"
                    )
                    .unwrap();
                    writeln!(expected, "{tag}.{name} {}", field.offset).unwrap();
                    fields += 1;
                }
                writeln!(body, "  printf(\"sizeof {tag} %zu\\n\", sizeof({tag}));").unwrap();
                writeln!(expected, "sizeof {tag} {}", l.max_size).unwrap();
                messages += 1;
            }
        }
    }
    write!(src, "int main(void) {{\n{body}  return 0;\n}}\n").unwrap();
    let got = r.run_c("i686-layouts", &src, &["-m32"]);
    assert_eq!(
        got, expected,
        "i686 offsets differ (left: gcc -m32, right: migc)"
    );
    println!("i686 layouts: {fields} fields of {messages} messages agree with gcc -m32");
}
