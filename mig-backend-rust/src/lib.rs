//! The Rust back end of migc: type-safe `no_std` stubs over the `mach-rt` runtime, written
//! from a validated IR module, and a `build.rs` API ([`Builder`]) in the style of prost-build.
//!
//! # What it writes
//! One Rust file per subsystem, to be `include!`d in a module of its own, with
//! - `messages`: a `#[repr(C)]` request and reply structure per routine, laid out as the
//!   largest message, with compile-time assertions of its size and of every member's offset
//!   as [`mig_ir::layout`] computed them. Stubs write and read members at
//!   `offset_of!(Request, member)` (less the bytes variable data before it left unused);
//! - `client` (with [`Options::client`]): one function per routine, generic over
//!   `mach_rt::Transport`, taking typed arguments (right wrappers, slices, byte strings,
//!   out-of-line buffers) and returning `Result<_, mach_rt::Error>`;
//! - `server` (with [`Options::server`]): a `Server` trait with one method per routine (each
//!   answering `MIG_EOPNOTSUPP` unless implemented) and `dispatch`, which checks each request
//!   as strictly as GNU MIG's server stubs, calls the method and fills the reply.
//!
//! The bytes on the wire are GNU MIG's (the same rules as `mig-backend-c`, from the same
//! layouts). The text is parsed with `syn` and printed with `prettyplease`, so it is valid
//! Rust and formatted; it is deterministic.
//!
//! # What this crate does not do
//! The generator ([`generate`]) sees only a [`mig_ir::Validated`] module and [`Options`]:
//! no spans, no source text. Only the x86_64 GNU Mach message format (target `x86_64-gnu`)
//! is supported, the one `mach-rt` describes; `intran`/`outtran` translations are C-only
//! (Rust stubs pass wire values); polymorphic data that is not a port is refused ([`check`]).
//! [`Builder`] (the `build.rs` API) is the one part that reads files.

#![forbid(unsafe_code)]

mod build;
mod client;
mod codec;
mod loopback;
mod model;
mod names;
mod server;
mod sig;
mod structs;

pub use build::{BuildError, Builder, Generated};

use mig_ir::{Count, Storage, Validated};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The `client` module.
    pub client: bool,
    /// The `server` module.
    pub server: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            client: true,
            server: true,
        }
    }
}

/// A construct the Rust back end cannot express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    pub routine: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.routine {
            Some(r) => write!(f, "routine `{r}`: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Reports every construct of `v` the Rust back end cannot express.
pub fn check(v: &Validated) -> Result<(), Vec<Unsupported>> {
    let mut out = Vec::new();
    if v.target().name != "x86_64-gnu" {
        out.push(Unsupported {
            routine: None,
            message: format!(
                "the Rust back end supports target x86_64-gnu only, not {}",
                v.target().name
            ),
        });
    }
    let module = v.module();
    for r in &module.routines {
        for a in &r.arguments {
            let ty = module.ty(a.ty);
            // Inline variable-sized `inout` arguments never get here: lowering refuses them,
            // as GNU MIG does, for every back end.
            let problem = if ty.polymorphic && !ty.port && a.kind.in_request() | a.kind.in_reply() {
                Some("is polymorphic data that is not a port")
            } else if ty.port
                && ty.polymorphic
                && !matches!(ty.count, Count::Fixed(1))
                && !(ty.storage == Storage::Inline && matches!(ty.count, Count::Variable { .. }))
            {
                Some("is a polymorphic port array")
            } else {
                None
            };
            if let Some(p) = problem {
                out.push(Unsupported {
                    routine: Some(r.name.clone()),
                    message: format!("argument `{}` {p}", a.name),
                });
            }
            if a.count_in_out {
                let ok = matches!(ty.storage, Storage::Inline | Storage::Dynamic);
                if !ok {
                    out.push(Unsupported {
                        routine: Some(r.name.clone()),
                        message: format!("argument `{}` is a CountInOut out-of-line array", a.name),
                    });
                }
            }
        }
        for (what, s) in [("msgoption", &r.msg_option), ("waittime", &r.wait_time)] {
            if let Some(s) = s {
                let known = s.parse::<u64>().is_ok()
                    || matches!(
                        s.as_str(),
                        "MACH_MSG_OPTION_NONE"
                            | "MACH_SEND_INTERRUPT"
                            | "MACH_RCV_INTERRUPT"
                            | "MACH_SEND_NOTIFY"
                            | "MACH_MSG_TIMEOUT_NONE"
                    );
                if !known {
                    out.push(Unsupported {
                        routine: Some(r.name.clone()),
                        message: format!("{what} `{s}` is not a number or a known constant"),
                    });
                }
            }
        }
    }
    if out.is_empty() {
        Ok(())
    } else {
        Err(out)
    }
}

/// The Rust stubs of `v`, formatted. Fails when [`check`] does.
pub fn generate(v: &Validated, opts: &Options) -> Result<String, Vec<Unsupported>> {
    check(v)?;
    let text = raw(v, opts);
    let file = syn::parse_file(&text).map_err(|e| {
        let line = e.span().start().line;
        let context = text.lines().nth(line.saturating_sub(1)).unwrap_or("");
        vec![Unsupported {
            routine: None,
            message: format!(
                "generated Rust does not parse (a bug): {e} at line {line}: {context}"
            ),
        }]
    })?;
    let m = v.module();
    let mut out = format!(
        "// Rust stubs of subsystem `{}` (base {}) for {}, generated by migc. Do not edit.\n\
         // Include in a module of its own: `mod {} {{ include!(...); }}`; needs the `mach-rt` crate.\n\n",
        m.subsystem.name, m.subsystem.base, v.target().name, m.subsystem.name
    );
    out.push_str(&prettyplease::unparse(&file));
    Ok(out)
}

/// A test aid (not part of the stable interface): a `loopback` module whose `Loopback`
/// implements the server trait by calling the client functions, to be placed next to stubs
/// generated with both sides. See `tests/wire.rs`.
#[doc(hidden)]
pub fn loopback(v: &Validated) -> Result<String, Vec<Unsupported>> {
    check(v)?;
    let text = loopback::loopback_module(v);
    let file = syn::parse_file(&text).map_err(|e| {
        vec![Unsupported {
            routine: None,
            message: format!("loopback does not parse (a bug): {e}"),
        }]
    })?;
    Ok(prettyplease::unparse(&file))
}

/// `types`: an alias per declared scalar type, used in the signatures.
fn types_module(o: &mut codec::Out, v: &Validated) {
    o.line("/// The scalar types the interface declares, as Rust types.");
    o.line("#[allow(non_camel_case_types, dead_code)]");
    o.line("pub mod types {");
    for (name, ty) in model::aliases(v.module()) {
        o.line(format!("/// `{name}` of the interface."));
        o.line(format!("pub type {} = {ty};", names::ident(&name)));
    }
    o.line("}");
}

/// The unformatted text.
fn raw(v: &Validated, opts: &Options) -> String {
    let mut o = codec::Out::default();
    types_module(&mut o, v);
    structs::messages_module(&mut o, v);
    if opts.client {
        client::client_module(&mut o, v);
    }
    if opts.server {
        server::server_module(&mut o, v);
    }
    o.text
}
