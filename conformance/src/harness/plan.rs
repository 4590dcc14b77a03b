//! How the test program drives one routine: the role of every parameter (request or reply
//! port, value, string, array, count, disposition, ...), decided from what the stubs say.

use std::collections::BTreeMap;

use super::stubs::{Descriptor, Param, Prototype, StubRoutine};

/// How the generated program treats one argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Shape {
    /// One value of its C type (scalars, structures, fixed arrays, single ports).
    Value,
    /// A NUL-terminated string in a char array of `max` bytes.
    Str { max: u32 },
    /// A variable array with a `Cnt` argument: `max` elements inline, `None` out of line.
    Array { max: Option<u32>, elem: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Role {
    RequestPort,
    ReplyPort,
    In(Shape),
    Out(Shape),
    InOut(Shape),
    Count(String),
    Poly(String),
    ClientOnlyDealloc(String),
    /// `servercopy`: GNU MIG's server stub passes the received inline bit (observed): TRUE when
    /// the data sits in the request, which the server must copy.
    ServerCopy {
        base: String,
        inline_max: u32,
    },
}

/// One routine the generator drives.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub(super) index: usize,
    pub(super) routine: String,
    pub(super) simple: bool,
    pub(super) client: Prototype,
    pub(super) server: Prototype,
    pub(super) roles: BTreeMap<String, Role>,
    /// Descriptors of sent arguments (from the user file), for received dispositions.
    pub(super) sent: BTreeMap<String, Descriptor>,
    /// Descriptors the server stub checks received arguments against.
    pub(super) checked: BTreeMap<String, Descriptor>,
    /// Descriptors the user stub checks returned arguments against.
    pub(super) user_checked: BTreeMap<String, Descriptor>,
}

impl Plan {
    /// The disposition the client gives a polymorphic port argument: one the server's type
    /// check accepts once GNU Mach has turned it into the received right.
    pub(super) fn client_poly(&self, base: &str) -> &'static str {
        disposition_for(self.checked.get(base))
    }

    /// The disposition the server function gives a polymorphic port it returns.
    pub(super) fn server_poly(&self, base: &str) -> &'static str {
        match self.user_checked.get(base) {
            None => "MACH_MSG_TYPE_MAKE_SEND",
            check => disposition_for(check),
        }
    }
}

/// A disposition whose received form passes the check `check` (any right when unchecked).
fn disposition_for(check: Option<&Descriptor>) -> &'static str {
    match check.map(|d| d.name.as_str()) {
        Some("PORT_SEND_ONCE") => "MACH_MSG_TYPE_MAKE_SEND_ONCE",
        Some("PORT_RECEIVE") => "MACH_MSG_TYPE_MOVE_RECEIVE",
        _ => "MACH_MSG_TYPE_COPY_SEND",
    }
}

/// A routine the generator leaves out, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub routine: String,
    pub reason: String,
}
pub(super) fn classify(
    index: usize,
    client: &Prototype,
    server: Option<&Prototype>,
    user: &StubRoutine,
    srv: &StubRoutine,
) -> Result<Plan, String> {
    let server = server.ok_or("no server function in the server header")?;
    let mut roles = BTreeMap::new();
    let all: Vec<&Param> = client.params.iter().chain(server.params.iter()).collect();
    for p in &all {
        let server_only = !client.params.iter().any(|q| q.name == p.name);
        if roles.contains_key(&p.name) || (server_only && !p.name.ends_with("Poly")) {
            continue;
        }
        let name = p.name.as_str();
        let sent = user.descriptors.get(name);
        let returned = srv.descriptors.get(name);
        let role = if user.request_port.as_deref() == Some(name) {
            Role::RequestPort
        } else if user.reply_port.as_deref() == Some(name) {
            Role::ReplyPort
        } else if let Some(base) = strip_known(name, "Cnt", &all) {
            Role::Count(base)
        } else if let Some(base) = strip_known(name, "Poly", &all) {
            Role::Poly(base)
        } else if let Some(base) = strip_known(name, "Dealloc", &all) {
            if server.params.iter().any(|q| q.name == name) {
                return Err(format!("`{name}` reaches the server"));
            }
            Role::ClientOnlyDealloc(base)
        } else {
            let has_count = all.iter().any(|q| q.name == format!("{name}Cnt"));
            let ratio = user
                .ratios
                .get(name)
                .or(srv.ratios.get(name))
                .copied()
                .unwrap_or(1);
            let shape_of = |d: &Descriptor| -> Result<Shape, String> {
                if has_count {
                    let max = d.inline.then_some(d.number / ratio);
                    Ok(Shape::Array {
                        max,
                        elem: d.c_element_bytes() * ratio,
                    })
                } else if d.is_string() {
                    Ok(Shape::Str { max: d.number })
                } else if !d.inline {
                    Err(format!("`{name}` is out of line without a count"))
                } else {
                    Ok(Shape::Value)
                }
            };
            match (sent, returned) {
                (Some(s), None) => Role::In(shape_of(s)?),
                (None, Some(r)) => Role::Out(shape_of(r)?),
                (Some(s), Some(r)) => {
                    let shape = shape_of(s)?;
                    if shape != Shape::Value || shape_of(r)? != Shape::Value {
                        return Err(format!("`{name}` is an inout array or string"));
                    }
                    Role::InOut(shape)
                }
                (None, None) => {
                    return Err(format!(
                        "`{} {name}` is neither in the message nor in its header",
                        p.ctype
                    ));
                }
            }
        };
        roles.insert(p.name.clone(), role);
    }
    // Server-only parameters the generator knows: the reply port (sreplyport) and its disposition.
    for p in &server.params {
        if client.params.iter().any(|q| q.name == p.name) {
            continue;
        }
        match roles.get(&p.name) {
            Some(Role::Poly(_)) | Some(Role::Count(_)) => {}
            Some(Role::Out(_)) | Some(Role::In(_)) => {}
            _ if p.ctype == "mach_port_t"
                && server
                    .params
                    .iter()
                    .any(|q| q.name == format!("{}Poly", p.name)) =>
            {
                roles.insert(p.name.clone(), Role::ReplyPort);
            }
            _ if p.ctype == "boolean_t" && p.name.ends_with("SCopy") => {
                let base = p.name.trim_end_matches("SCopy");
                let Some(sent) = user.descriptors.get(base) else {
                    return Err(format!("`{}` without a sent `{base}`", p.name));
                };
                let inline_max = match sent.inline {
                    true => sent.number / user.ratios.get(base).copied().unwrap_or(1),
                    false => 0,
                };
                roles.insert(
                    p.name.clone(),
                    Role::ServerCopy {
                        base: base.to_string(),
                        inline_max,
                    },
                );
            }
            _ => return Err(format!("server-only parameter `{} {}`", p.ctype, p.name)),
        }
    }
    Ok(Plan {
        index,
        routine: client.routine.clone(),
        simple: client.simple,
        client: client.clone(),
        server: server.clone(),
        roles,
        sent: user.descriptors.clone(),
        checked: srv.checks.clone(),
        user_checked: user.checks.clone(),
    })
}

/// `name` minus `suffix` when what remains names another parameter.
fn strip_known(name: &str, suffix: &str, all: &[&Param]) -> Option<String> {
    let base = name.strip_suffix(suffix)?;
    all.iter().any(|p| p.name == base).then(|| base.to_string())
}
