//! The in-process wire harness: a client and a server of one subsystem, linked into one
//! program, talking through `conformance/harness/harness_rt.c` instead of the kernel.
//!
//! For a subsystem the harness
//! 1. runs a MIG for the client side (user stubs with `-prefix cli_`, and their header) and a
//!    MIG for the server side (server stubs and their `-sheader`): two commands, so that a
//!    GNU client can face a migc server and the other way round ([`build::mig_stubs`]);
//! 2. reads the routines back from that generated C ([`stubs`]): the prototypes of both
//!    headers, and the type descriptors each stub file initialises
//!    (`const mach_msg_type_t <arg>Type = {...}`: the user file for what goes in, the server
//!    file for what comes out), and decides how to drive each routine ([`plan`]);
//! 3. writes a test program ([`program`]): for every routine it can drive, server functions
//!    that check every value they receive and fill every value they return, and calls of the
//!    client stub with generated values (arrays at 0, 1 and the maximum count, strings, ports,
//!    out-of-line data), a call whose server function fails, and malformed requests sent to
//!    the demux;
//! 4. compiles it with gcc together with the files implementing both sides
//!    ([`build::build_program`]: C stubs, or objects of another back end) and runs it
//!    ([`run`]).
//!
//! The program prints one line per event (`request`, `reply`, `*-ool`, `oneway`, `fail`,
//! `malformed`, `done`); [`HarnessRun`] reads them. Routines the generator cannot drive are
//! listed with the reason. The routine signatures are read from the generated C of the MIG
//! under test rather than from migc's IR, so that the harness judges any MIG the same way,
//! migc included.

pub mod build;
pub mod plan;
pub mod program;
pub mod run;
pub mod stubs;

pub use build::{
    build_harness, build_program, mig_stubs, repair_inlined_port_arrays, HarnessBuild, Repair,
    StubFiles,
};
pub use plan::Skipped;
pub use program::{generate, Generated};
pub use run::{compare_wire, run_harness, HarnessRun};
pub use stubs::{parse_prototypes, parse_stub_file, Descriptor, Param, Prototype, StubRoutine};

/// The 17 files of gnumach-dev with a `subsystem` statement: name and path under the include folder.
pub const SUBSYSTEM_FILES: &[(&str, &str)] = &[
    ("mach", "mach/mach.defs"),
    ("mach_port", "mach/mach_port.defs"),
    ("mach_host", "mach/mach_host.defs"),
    ("mach4", "mach/mach4.defs"),
    ("gnumach", "mach/gnumach.defs"),
    ("experimental", "mach/experimental.defs"),
    ("memory_object", "mach/memory_object.defs"),
    ("memory_object_default", "mach/memory_object_default.defs"),
    ("default_pager", "mach/default_pager.defs"),
    ("notify", "mach/notify.defs"),
    ("exc", "mach/exc.defs"),
    ("task_notify", "mach/task_notify.defs"),
    ("mach_i386", "mach/x86_64/mach_i386.defs"),
    ("device", "device/device.defs"),
    ("device_request", "device/device_request.defs"),
    ("device_reply", "device/device_reply.defs"),
    ("mach_debug", "mach_debug/mach_debug.defs"),
];
