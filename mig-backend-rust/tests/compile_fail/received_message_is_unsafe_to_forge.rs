// expect: E0133
// A Received message is what a transport vouches for; making one from bytes is unsafe.
use mach_rt as rt;

pub fn forge(bytes: &[u8]) -> rt::Received<'_> {
    rt::Received::from_kernel(bytes)
}
