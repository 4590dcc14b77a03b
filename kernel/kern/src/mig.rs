//! The kernel's MIG servers, generated at build time by `mig_backend_rust::Builder` (see
//! `build.rs`) from the project's own interfaces in `kernel/interfaces/`.
//!
//! Each subsystem is a `KernelServer`, so its server is in kernel mode: `server::dispatch`
//! takes a `mach_rt::KernelRequest` (the request's bytes, copied out into the kernel's IPC
//! space, whose port names it carries) and writes the reply into a buffer of
//! `server::MAX_REPLY_SIZE` bytes; out-of-line data in both directions is a
//! `mach_rt::OolToken` that the kernel's IPC layer resolves. The kernel implements
//! `server::Server` for each subsystem (a method left out answers `MIG_EOPNOTSUPP`);
//! `kernel/interfaces/README.md` shows the signatures. The generated code has no `unsafe`.
//!
//! Until every subsystem is served, parts of the generated code are unused.
#![allow(dead_code)]

/// `mach.defs` (ids 2000..2100): tasks, threads, virtual memory, memory objects.
pub mod mach {
    include!(concat!(env!("OUT_DIR"), "/mach.rs"));
}

/// `mach_port.defs` (ids 3200..3222): the port calls, on a task's IPC space.
pub mod mach_port {
    include!(concat!(env!("OUT_DIR"), "/mach_port.rs"));
}

/// `mach_host.defs` (ids 2600..2647): host, processors, scheduling, time, reboot.
pub mod mach_host {
    include!(concat!(env!("OUT_DIR"), "/mach_host.rs"));
}

/// `device.defs` (ids 2800..2814): devices opened on the device master port.
pub mod device {
    include!(concat!(env!("OUT_DIR"), "/device.rs"));
}

/// `mach_i386.defs` (ids 3800..3809): descriptor tables and I/O port permissions.
pub mod mach_i386 {
    include!(concat!(env!("OUT_DIR"), "/mach_i386.rs"));
}
