//! The C prototypes of a routine's user function (the client stub) and server function (what
//! the server implements), following GNU MIG's conventions: `kern_return_t` result; data
//! going in by value, data coming out through a pointer; the implicit count, disposition,
//! deallocation and server-copy arguments after the argument they belong to; each side sees
//! the arguments it has (`sreplyport` and `msgseqno` only the server, `ureplyport`,
//! `waittime`, `msgoption` and `dealloc[]` flags only the user) and its own C type names
//! (`cusertype`/`cservertype`, and on the server the types `intran`/`outtran` convert to).

use mig_ir::{Argument, ArgumentKind, Module, Routine};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    User,
    Server,
}

/// One parameter as declared in C, or `None` when the side does not see the argument.
pub fn parameter(m: &Module, r: &Routine, a: &Argument, side: Side) -> Option<String> {
    use ArgumentKind::*;
    let parent_kind = a.parent.and_then(|p| r.arguments.get(p)).map(|p| p.kind);
    let visible = match a.kind {
        RequestPort | ReplyPort | In | Out | InOut | Count | Poly => true,
        SReplyPort | MsgSeqno | ServerCopy => side == Side::Server,
        UReplyPort | WaitTime | MsgOption | Dealloc => side == Side::User,
    };
    if !visible {
        return None;
    }
    let ty = m.ty(a.ty);
    let mut c = match side {
        Side::User => ty.c.user.clone(),
        Side::Server => ty.c.server.clone(),
    };
    if side == Side::Server {
        match a.kind {
            In | RequestPort => {
                if let Some(t) = &ty.c.in_tran {
                    c = t.to.clone();
                }
            }
            Out => {
                if let Some(t) = &ty.c.out_tran {
                    c = t.from.clone();
                }
            }
            _ => {}
        }
    }
    let out = match a.kind {
        Out | InOut => true,
        Count | Poly => matches!(parent_kind, Some(Out | InOut)),
        _ => false,
    };
    Some(if out {
        format!("{c} *{}", a.name)
    } else {
        format!("{c} {}", a.name)
    })
}

/// The prototype of one side's function.
pub fn prototype(m: &Module, r: &Routine, side: Side) -> String {
    let prefix = match side {
        Side::User => &r.user_prefix,
        Side::Server => &r.server_prefix,
    };
    let params: Vec<String> = r
        .arguments
        .iter()
        .filter_map(|a| parameter(m, r, a, side))
        .collect();
    if params.is_empty() {
        return format!("kern_return_t {prefix}{}(void);", r.name);
    }
    format!(
        "kern_return_t {prefix}{}(\n\t{});",
        r.name,
        params.join(",\n\t")
    )
}
