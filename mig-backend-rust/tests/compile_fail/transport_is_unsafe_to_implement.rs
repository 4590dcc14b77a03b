// expect: E0200
// A transport vouches for received out-of-line memory: implementing it is unsafe.
use mach_rt as rt;

pub struct Fake;

impl rt::Transport for Fake {
    fn mach_msg(
        &mut self,
        _: &mut [u8],
        _: u32,
        _: u32,
        _: u32,
        _: rt::PortName,
        _: u32,
        _: rt::PortName,
    ) -> rt::KernReturn {
        0
    }
    fn get_reply_port(&mut self) -> rt::PortName {
        rt::PortName(1)
    }
}
