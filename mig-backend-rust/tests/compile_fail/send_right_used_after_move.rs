// expect: E0382
// After MOVE_SEND the task no longer holds the send right: it cannot be copied afterwards.
use generated::rights::client;
use mach_rt as rt;

pub fn after<T: rt::Transport>(t: &mut T, server: &rt::SendRight, s: rt::SendRight) {
    let _ = client::give_send(t, server, s);
    let _ = client::copy_send(t, server, &s);
}
