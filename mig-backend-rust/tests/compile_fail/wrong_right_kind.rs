// expect: E0308
// COPY_SEND needs a send right; a receive right is another type.
use generated::rights::client;
use mach_rt as rt;

pub fn wrong<T: rt::Transport>(t: &mut T, server: &rt::SendRight, r: &rt::ReceiveRight) {
    let _ = client::copy_send(t, server, r);
}
