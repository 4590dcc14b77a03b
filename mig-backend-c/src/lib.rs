//! The C back end of migc: GNU MIG compatible user stubs, server stubs and headers, written
//! from a validated IR module for a target.
//!
//! # Outputs
//! - [`user_header`]: prototypes of the client stubs (`-header`, default `<subsystem>.h`);
//! - [`user_source`]: the client stubs (`-user`, default `<subsystem>User.c`), or one file per
//!   routine with [`user_sources_split`] (`-i PREFIX`);
//! - [`server_source`]: the server stubs, the routine table and the demux function (`-server`);
//! - [`server_header`]: prototypes of the server functions and the demux (`-sheader`);
//! - [`internal_header`]: prototypes of the server functions alone (`-iheader`).
//!
//! The generated code talks to the kernel through typed Mach messages laid out exactly as GNU
//! MIG lays them out (the layouts come from [`mig_ir::layout`]), calls the same runtime
//! (`mach_msg`, `mig_get_reply_port`, `mig_dealloc_reply_port`, `mig_put_reply_port`,
//! `mig_strncpy`, `mig_allocate`, `mig_deallocate`), and uses the same function names,
//! prototypes, structure layouts and return codes.
//!
//! # What this crate does not do
//! No parsing, no I/O, no knowledge of spans or source text: it sees only a
//! [`mig_ir::Validated`] module and [`Options`]. Constructs it cannot express for a target are
//! reported by [`check`] as [`Unsupported`] errors before any text is written.

#![forbid(unsafe_code)]

mod checks;
mod header;
mod msg;
mod server;
mod user;
mod writer;

use mig_ir::Validated;

/// Settings from the command line that change generated text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `-prefix P`: prepended to the client stub names and the demux function name.
    pub prefix: String,
    /// `-subrprefix P`: prepended to the runtime calls (`mach_msg`, `mig_get_reply_port`, ...).
    pub subr_prefix: String,
    /// `-s`: a symbol table (`<subsystem>_routine_name_table`) in the server file.
    pub symtab: bool,
    /// The name the user file uses to include the user header (`"mach.h"`), when one is written.
    pub user_header_name: Option<String>,
    /// The name the server file uses to include the server header, when one is written.
    pub server_header_name: Option<String>,
}

/// A construct the C back end cannot express for the module's target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// The routine concerned, if any.
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

/// Reports every construct of `v` that the C back end cannot express for its target.
pub fn check(v: &Validated) -> Result<(), Vec<Unsupported>> {
    let errors = msg::unsupported(v);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The client header.
pub fn user_header(v: &Validated, opts: &Options) -> String {
    let _k = msg::KernelMode::enter(v.module(), msg::Side::User);
    header::user_header(v, opts)
}

/// The client stubs, all in one file.
pub fn user_source(v: &Validated, opts: &Options) -> String {
    let _k = msg::KernelMode::enter(v.module(), msg::Side::User);
    user::user_source(v, opts, None)
}

/// One client file per routine (`-i PREFIX`): `(routine name, text)` pairs, in routine order.
pub fn user_sources_split(v: &Validated, opts: &Options) -> Vec<(String, String)> {
    let _k = msg::KernelMode::enter(v.module(), msg::Side::User);
    (0..v.module().routines.len())
        .map(|i| {
            (
                v.module().routines[i].name.clone(),
                user::user_source(v, opts, Some(i)),
            )
        })
        .collect()
}

/// Whether GNU MIG writes an internal header (`-iheader`) for the module: only for
/// `KernelServer` subsystems.
pub fn has_internal_header(v: &Validated) -> bool {
    v.module().subsystem.kernel_server
}

/// The server stubs, routine table and demux function.
pub fn server_source(v: &Validated, opts: &Options) -> String {
    let _k = msg::KernelMode::enter(v.module(), msg::Side::Server);
    server::server_source(v, opts)
}

/// The server header: server function prototypes, the routine table and the demux.
pub fn server_header(v: &Validated, opts: &Options) -> String {
    let _k = msg::KernelMode::enter(v.module(), msg::Side::Server);
    header::server_header(v, opts)
}

/// The internal header (`KernelServer` subsystems only: GNU MIG writes none for others, see
/// [`has_internal_header`]): the client stub names renamed to `<name>_external`.
pub fn internal_header(v: &Validated, opts: &Options) -> String {
    header::internal_header(v, opts)
}
