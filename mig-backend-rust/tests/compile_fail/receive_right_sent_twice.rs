// expect: E0382
// MOVE_RECEIVE consumes the receive right: it cannot be sent a second time.
use generated::rights::client;
use mach_rt as rt;

pub fn twice<T: rt::Transport>(t: &mut T, server: &rt::SendRight, r: rt::ReceiveRight) {
    let _ = client::give_receive(t, server, r);
    let _ = client::give_receive(t, server, r);
}
