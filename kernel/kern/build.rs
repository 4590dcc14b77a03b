//! The kernel's build script: passes the linker script to the final link of `mach_r`, and
//! generates the kernel's MIG servers from the project's own interfaces
//! (`kernel/interfaces/*.defs`, all `KernelServer` subsystems) into `OUT_DIR` with
//! `mig_backend_rust::Builder`, server side only. `src/mig.rs` includes them. Nothing here
//! reads the reference set: the kernel builds on a machine without `.cache/reference`.
use std::path::PathBuf;

/// The subsystems the kernel serves (file stems under `kernel/interfaces/`).
const INTERFACES: &[&str] = &["mach", "mach_port", "mach_host", "device", "mach_i386"];

fn main() {
    let dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!(
        "cargo:rustc-link-arg-bins=-Wl,-T,{}",
        dir.join("linker.ld").display()
    );
    println!("cargo:rerun-if-changed=linker.ld");

    let interfaces = dir.join("../interfaces");
    let mut builder = mig_backend_rust::Builder::new().include(&interfaces);
    for name in INTERFACES {
        builder = builder.server(interfaces.join(format!("{name}.defs")));
    }
    if let Err(e) = builder.compile() {
        panic!("cannot generate the kernel's MIG servers:\n{e}");
    }
}
