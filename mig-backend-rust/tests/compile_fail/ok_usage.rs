// expect: ok
// The right ways to call: a control that shows the failures below come from the misuse.
use generated::rights::client;
use mach_rt as rt;

pub fn ok<T: rt::Transport>(t: &mut T, server: &rt::SendRight, r: rt::ReceiveRight, s: rt::SendRight) {
    let _ = client::make_send(t, server, &r);
    let _ = client::copy_send(t, server, &s);
    let _ = client::give_send(t, server, s);
    let _ = client::give_receive(t, server, r);
    let _ = client::lend_memory(t, server, &[1u8, 2, 3]);
    if let Ok((send, receive)) = client::take(t, server) {
        let _: rt::SendRight = send;
        let _: rt::ReceiveRight = receive;
    }
}
