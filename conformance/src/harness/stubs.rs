//! Reading generated C back: the prototypes of a MIG header and the type descriptors, header
//! assignments and count ratios of a stub file, per routine.

use std::collections::BTreeMap;

/// One parameter of a generated prototype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The C type as written (`const_dev_name_t`, `vm_address_t *`).
    pub ctype: String,
    pub name: String,
}

impl Param {
    /// The type without one trailing `*` when the parameter is a pointer to what is returned.
    pub(super) fn pointee(&self) -> Option<&str> {
        self.ctype.strip_suffix('*').map(str::trim)
    }
}

/// A prototype of a generated header.
#[derive(Debug, Clone)]
pub struct Prototype {
    /// The routine's name in the `.defs` file.
    pub routine: String,
    /// True for a `simpleroutine`.
    pub simple: bool,
    /// The C function's name (with `-prefix`, `userprefix` or `serverprefix` applied).
    pub function: String,
    pub params: Vec<Param>,
}

/// A type descriptor a stub initialises for one argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// `MACH_MSG_TYPE_<name>` without the prefix.
    pub name: String,
    pub size_bits: u32,
    pub number: u32,
    pub inline: bool,
}

impl Descriptor {
    pub(super) fn is_port(&self) -> bool {
        matches!(
            self.name.as_str(),
            "MOVE_RECEIVE"
                | "MOVE_SEND"
                | "MOVE_SEND_ONCE"
                | "COPY_SEND"
                | "MAKE_SEND"
                | "MAKE_SEND_ONCE"
                | "POLYMORPHIC"
        )
    }
    pub(super) fn is_string(&self) -> bool {
        self.name == "STRING" || self.name == "STRING_C"
    }
    /// Bytes of one element as the C side holds it (ports are `mach_port_t`, 4 bytes).
    pub(super) fn c_element_bytes(&self) -> u32 {
        if self.is_port() {
            4
        } else {
            self.size_bits.max(8) / 8
        }
    }
}

/// What one stub file says about one routine.
#[derive(Debug, Clone, Default)]
pub struct StubRoutine {
    /// Descriptors initialised as `<arg>Type` (user file: sent arguments; server file: returned).
    pub descriptors: BTreeMap<String, Descriptor>,
    /// Descriptors a stub checks received arguments against, initialised as `<arg>Check`.
    pub checks: BTreeMap<String, Descriptor>,
    /// User file: the expression put in `msgh_request_port` / `msgh_reply_port`.
    pub request_port: Option<String>,
    pub reply_port: Option<String>,
    pub msgh_id: Option<i64>,
    /// Wire elements per C element of an array, from `<arg>Type.msgt_number = N * <arg>Cnt;`.
    pub ratios: BTreeMap<String, u32>,
}

/// Reads the prototypes of a generated header, keyed by the `/* Routine X */` comments.
pub fn parse_prototypes(header: &str) -> Vec<Prototype> {
    let mut out = Vec::new();
    let mut lines = header.lines().peekable();
    while let Some(line) = lines.next() {
        let (simple, routine) = if let Some(r) = comment_name(line, "/* Routine ") {
            (false, r)
        } else if let Some(r) = comment_name(line, "/* SimpleRoutine ") {
            (true, r)
        } else {
            continue;
        };
        // Skip to `<return type> <function>` followed by `(`.
        let mut function = None;
        for l in lines.by_ref() {
            if l == "(" {
                break;
            }
            if let Some(rest) = l.strip_prefix("kern_return_t ") {
                function = Some(rest.trim().to_string());
            }
        }
        let mut params = Vec::new();
        for l in lines.by_ref() {
            let l = l.trim();
            if l == ");" {
                break;
            }
            let l = l.trim_end_matches(',');
            let split = l.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
            if let Some(at) = split {
                params.push(Param {
                    ctype: l[..=at].trim().to_string(),
                    name: l[at + 1..].to_string(),
                });
            }
        }
        if let Some(function) = function {
            out.push(Prototype {
                routine: routine.to_string(),
                simple,
                function,
                params,
            });
        }
    }
    out
}

fn comment_name<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.trim()
        .strip_prefix(prefix)?
        .strip_suffix(" */")
        .map(str::trim)
}

/// Reads the descriptor initialisers and header assignments of a stub file, per routine.
pub fn parse_stub_file(text: &str) -> BTreeMap<String, StubRoutine> {
    let mut out: BTreeMap<String, StubRoutine> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(r) =
            comment_name(line, "/* Routine ").or_else(|| comment_name(line, "/* SimpleRoutine "))
        {
            current = Some(r.to_string());
            out.entry(r.to_string()).or_default();
            continue;
        }
        let Some(routine) = current.as_ref() else {
            continue;
        };
        let entry = out.get_mut(routine).expect("entry exists");
        let t = line.trim();
        let decl = t
            .strip_prefix("const mach_msg_type_t ")
            .or_else(|| t.strip_prefix("const mach_msg_type_long_t "));
        let target = decl.and_then(|d| {
            d.strip_suffix("Type = {")
                .map(|a| (a, false))
                .or_else(|| d.strip_suffix("Check = {").map(|a| (a, true)))
        });
        if let Some((arg, is_check)) = target {
            let mut body = String::new();
            let mut depth = 1;
            for l in lines.by_ref() {
                depth += l.matches('{').count();
                depth -= l.matches('}').count();
                body.push_str(l);
                body.push('\n');
                if depth == 0 {
                    break;
                }
            }
            if let Some(d) = parse_descriptor(&body) {
                if is_check {
                    entry.checks.insert(arg.to_string(), d);
                } else {
                    entry.descriptors.insert(arg.to_string(), d);
                }
            }
        } else if let Some(v) = assignment(t, "InP->Head.msgh_request_port = ") {
            entry.request_port = Some(v);
        } else if let Some(v) = assignment(t, "InP->Head.msgh_reply_port = ") {
            entry.reply_port = Some(v);
        } else if let Some(v) = assignment(t, "InP->Head.msgh_id = ") {
            entry.msgh_id = v.parse().ok();
        } else if let Some((arg, n)) = count_ratio(t) {
            entry.ratios.insert(arg, n);
        }
    }
    out
}

/// `XP->argType.msgt(l)_number = N * argCnt;` gives (`arg`, N).
fn count_ratio(line: &str) -> Option<(String, u32)> {
    let (lhs, rhs) = line.strip_suffix(';')?.split_once(" = ")?;
    let arg = lhs.split("->").nth(1)?.split("Type.").next()?;
    let (n, cnt) = rhs.split_once(" * ")?;
    (cnt == format!("{arg}Cnt")).then_some(())?;
    Some((arg.to_string(), n.parse().ok()?))
}

fn assignment(line: &str, prefix: &str) -> Option<String> {
    Some(
        line.strip_prefix(prefix)?
            .strip_suffix(';')?
            .trim()
            .to_string(),
    )
}

fn parse_descriptor(body: &str) -> Option<Descriptor> {
    let field = |key: &str| -> Option<String> {
        body.lines().find_map(|l| {
            let l = l.trim();
            let rest = l
                .strip_prefix(&format!(".msgt_{key} ="))
                .or_else(|| l.strip_prefix(&format!(".msgtl_{key} =")))?;
            Some(rest.trim().trim_end_matches(',').trim().to_string())
        })
    };
    let name = field("name")?;
    let name = name.trim_start_matches("(unsigned char)").trim();
    Some(Descriptor {
        name: name
            .strip_prefix("MACH_MSG_TYPE_")
            .unwrap_or(name)
            .to_string(),
        size_bits: field("size")?.parse().ok()?,
        number: field("number")?.parse().ok()?,
        inline: field("inline")? == "TRUE",
    })
}
