//! Fuzz target: arbitrary request messages to the demux functions of migc's generated servers
//! for every subsystem of gnumach-dev (C, compiled by build.rs with clang, AddressSanitizer and
//! libFuzzer coverage). Every server function is the weak default answering MIG_EOPNOTSUPP, so
//! what runs is the generated request checking, which must never read or write outside the
//! message.
//!
//! With `MIGC_FUZZ_SEED_DIR` set, the target first writes its seed corpus there (one valid
//! request per routine, see build.rs); `scripts/fuzz.sh` points it at the run's corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!(concat!(env!("OUT_DIR"), "/seeds.rs"));

extern "C" {
    fn migc_fuzz_demux(data: *const u8, len: usize) -> i32;
}

/// `MIG_EOPNOTSUPP` as the driver defines it: the answer of a server function reached.
const REACHED: i32 = -1;

/// Writes the seeds into `$MIGC_FUZZ_SEED_DIR` and checks that each one gets past the stub's
/// checks to its server function (printed: the seeds are only useful if they are valid).
fn write_seeds() {
    let Some(dir) = std::env::var_os("MIGC_FUZZ_SEED_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let mut rejected = Vec::new();
    for (name, bytes) in SEEDS {
        let _ = std::fs::write(dir.join(format!("seed-{name}")), bytes);
        // SAFETY: as in the target below.
        let ret = unsafe { migc_fuzz_demux(bytes.as_ptr(), bytes.len()) };
        if ret != REACHED {
            rejected.push(format!("{name} ({ret})"));
        }
    }
    eprintln!(
        "demux seeds: {} of {} reach their server function{}{}",
        SEEDS.len() - rejected.len(),
        SEEDS.len(),
        if rejected.is_empty() {
            ""
        } else {
            "; rejected: "
        },
        rejected.join(", ")
    );
}

fuzz_target!(init: write_seeds(), |data: &[u8]| {
    // SAFETY: the C driver reads exactly `len` bytes from `data`, which the slice provides.
    unsafe {
        migc_fuzz_demux(data.as_ptr(), data.len());
    }
});
