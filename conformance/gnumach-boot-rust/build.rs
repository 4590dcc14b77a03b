//! Generates the client stubs of mach, mach_host, mach_port and device with
//! `mig_backend_rust::Builder` into OUT_DIR. The gnumach-dev headers come from
//! `MIGC_REFERENCE_INCLUDE`, or from the reference tree that scripts/fetch-reference.sh makes.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=MIGC_REFERENCE_INCLUDE");
    let include = std::env::var_os("MIGC_REFERENCE_INCLUDE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../.cache/reference/root/usr/include/x86_64-linux-gnu")
        });
    let result = mig_backend_rust::Builder::new()
        .include(&include)
        .client(include.join("mach/mach.defs"))
        .client(include.join("mach/mach_host.defs"))
        .client(include.join("mach/mach_port.defs"))
        .client(include.join("device/device.defs"))
        .compile();
    if let Err(e) = result {
        panic!("generating the stubs: {e}");
    }
}
