// expect: E0133
// Claiming arbitrary memory as an owned buffer is unsafe.
use mach_rt as rt;

pub fn forge() -> rt::OolBuffer<u8> {
    rt::OolBuffer::from_raw(0x1000, 4096)
}
