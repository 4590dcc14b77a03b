//! The object back end of migc: client stubs as x86_64 ELF relocatable objects, generated from
//! the validated IR with Cranelift, with no C compiler between a `.defs` file and a linked
//! program (`migc --emit obj`).
//!
//! # What it produces
//! [`user_object`] writes `<subsystem>User.o`: one global function per routine with the symbol
//! name, System V x86_64 calling convention and argument types of the C back end's client
//! stub, calling the same runtime (`mach_msg`, `mig_get_reply_port`, `mig_dealloc_reply_port`,
//! `mig_put_reply_port`, `mig_strncpy`, `mig_allocate`, `memcpy`). Every byte of the request (header, type descriptors,
//! data) is computed here from the IR's layouts and emitted as straight-line stores; the reply
//! is checked field by field as the C stub checks it, returning the same error codes.
//!
//! [`server_object`] writes `<subsystem>Server.o`: a local `_X<routine>` function per routine
//! that checks the request as the C server stub does (size, complexity, every type descriptor,
//! variable counts; `MIG_BAD_ARGUMENTS` on failure), calls the server function with the C
//! stub's arguments and fills the reply; the routine table `<demux>_routines` (`.data`, one
//! function address per slot) and the global demux `<demux>` (`MIG_BAD_ID` outside the
//! subsystem), as gcc's object of the C server file defines them.
//!
//! # Limits (checked by [`check`] before any code is generated)
//! - x86_64-gnu only: other targets are refused with an error naming the target.
//! - [`server_object`] (`-server`, `<subsystem>Server.o`) refuses `KernelServer` subsystems and
//!   types with translations or destructors (`intran`, `outtran`, `destructor`), `c_struct`
//!   arguments over 16 bytes passed by value; see
//!   `server/` for what it covers.
//! - Every layout of the 17 gnumach-dev subsystems: scalars, structures by value (in
//!   registers up to 16 bytes, in memory beyond, as System V passes them), fixed
//!   and variable inline arrays and strings (`array[*:N]`, `c_string[*:N]`: the fixed layout's
//!   later offsets move by the variable data, as the C stub's `InP`/`OutP`), dynamic arrays
//!   (`array[]`: inline up to the limit, out of line beyond it, `mig_allocate` for a reply
//!   larger than the caller's buffer), out-of-line data, ports, port arrays, polymorphic
//!   rights. `msgoption` takes numbers and GNU Mach's `MACH_*` option names; `waittime` numbers
//!   and `MACH_MSG_TIMEOUT_NONE`.
//! - Refused with a message naming the routine: `KernelUser` subsystems (kernel code: none of
//!   gnumach-dev's user configurations is one), `waittime` naming a C variable, inout variable
//!   arrays (refused by the C back end too).
//! - Variable copies into a request are inline loops; copies out of a reply call `memcpy`, as
//!   gcc -O2 compiles the C stub's `__builtin_memcpy` (so `nm` of both objects agree).
//!
//! # What this crate does not do
//! No parsing, no I/O, no spans: it sees a [`mig_ir::Validated`] module and [`Options`] only.
//! Generated objects are deterministic (same input, same bytes). No `unsafe`.

#![forbid(unsafe_code)]

mod abi;
mod emit;
mod model;
mod server;
mod user;

use mig_ir::Validated;

/// Settings from the command line that change generated code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `-prefix P`: prepended to the client stub names.
    pub prefix: String,
    /// `-subrprefix P`: prepended to the runtime calls.
    pub subr_prefix: String,
}

/// A construct the object back end cannot generate code for.
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

/// Reports every construct of `v` the object back end cannot generate client code for.
pub fn check(v: &Validated) -> Result<(), Vec<Unsupported>> {
    let errors = user::unsupported(v);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The client stubs of `v` as an ELF relocatable object.
pub fn user_object(v: &Validated, opts: &Options) -> Result<Vec<u8>, Vec<Unsupported>> {
    check(v)?;
    user::user_object(v, opts).map_err(|message| {
        vec![Unsupported {
            routine: None,
            message,
        }]
    })
}

/// Reports every construct of `v` the object back end cannot generate server code for.
pub fn check_server(v: &Validated) -> Result<(), Vec<Unsupported>> {
    let errors = server::unsupported(v);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The server stubs of `v` as an ELF relocatable object: the local `_X<routine>` handlers,
/// the routine table `<demux>_routines` and the demux function `<demux>`, as gcc's object of
/// the C back end's server file defines them.
pub fn server_object(v: &Validated, opts: &Options) -> Result<Vec<u8>, Vec<Unsupported>> {
    check_server(v)?;
    server::server_object(v, opts).map_err(|message| {
        vec![Unsupported {
            routine: None,
            message,
        }]
    })
}
