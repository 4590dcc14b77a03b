//! Fuzz target: arbitrary request messages to migc's generated server demux functions of
//! mach.defs and mach_port.defs (C, compiled by build.rs with AddressSanitizer). Every server
//! function is the weak default answering MIG_EOPNOTSUPP, so what runs is the generated
//! request checking, which must never read or write outside the message.
#![no_main]

use libfuzzer_sys::fuzz_target;

extern "C" {
    fn migc_fuzz_demux(data: *const u8, len: usize) -> i32;
}

fuzz_target!(|data: &[u8]| {
    // SAFETY: the C driver reads exactly `len` bytes from `data`, which the slice provides.
    unsafe {
        migc_fuzz_demux(data.as_ptr(), data.len());
    }
});
