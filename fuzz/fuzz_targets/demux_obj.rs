//! Fuzz target: arbitrary request messages to the demux of `mach.defs` as the object back end
//! generates it (`mig_backend_obj::server_object`, machine code linked beside the C), and to
//! migc's C demux of the same file under AddressSanitizer, the `demux` target's harness
//! (`fuzz/demux/driver.c`, `migc_fuzz_demux_obj`): both must return the same, write the same
//! reply bytes and leave the same request bytes on every input, and the object server must
//! not touch a byte past the message (its request ends at a guard page). The server functions
//! are the C file's weak defaults (`MIG_EOPNOTSUPP`), shared by both demuxes.
//!
//! At start every `mach` seed of the `demux` target (one valid request per routine) runs
//! through both, and must reach its server function; with `MIGC_FUZZ_SEED_DIR` set they are
//! also written there as the corpus (`scripts/fuzz.sh run demux_obj SECS`).
#![no_main]

use libfuzzer_sys::fuzz_target;

include!(concat!(env!("OUT_DIR"), "/seeds.rs"));

extern "C" {
    fn migc_fuzz_demux_obj(data: *const u8, len: usize) -> i32;
}

/// `MIG_EOPNOTSUPP` as the driver defines it: the answer of a server function reached.
const REACHED: i32 = -1;

fn seeds() {
    let dir = std::env::var_os("MIGC_FUZZ_SEED_DIR").map(std::path::PathBuf::from);
    let mut rejected = Vec::new();
    let mut n = 0;
    for (name, bytes) in SEEDS.iter().filter(|(n, _)| n.starts_with("mach-")) {
        n += 1;
        if let Some(dir) = &dir {
            let _ = std::fs::write(dir.join(format!("seed-{name}")), bytes);
        }
        // SAFETY: the C driver reads exactly `len` bytes from `data`, which the slice provides.
        let ret = unsafe { migc_fuzz_demux_obj(bytes.as_ptr(), bytes.len()) };
        if ret != REACHED {
            rejected.push(format!("{name} ({ret})"));
        }
    }
    eprintln!(
        "demux_obj seeds: {} of {n} reach their server function through both demuxes{}{}",
        n - rejected.len(),
        if rejected.is_empty() {
            ""
        } else {
            "; rejected: "
        },
        rejected.join(", ")
    );
    assert!(n > 0 && rejected.is_empty(), "demux_obj: bad seeds");
}

fuzz_target!(init: seeds(), |data: &[u8]| {
    // SAFETY: as above.
    unsafe {
        migc_fuzz_demux_obj(data.as_ptr(), data.len());
    }
});
