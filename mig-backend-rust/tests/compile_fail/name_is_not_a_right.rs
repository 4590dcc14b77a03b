// expect: E0308
// A bare port name is not a right: MOVE_SEND takes an owned SendRight.
use generated::rights::client;
use mach_rt as rt;

pub fn name<T: rt::Transport>(t: &mut T, server: &rt::SendRight) {
    let _ = client::give_send(t, server, rt::PortName(5));
}
