// expect: E0382
// Once given away with the message, out-of-line memory cannot be read any more.
use generated::rights::client;
use mach_rt as rt;

pub fn after<T: rt::Transport>(t: &mut T, server: &rt::SendRight, data: rt::OolBuffer<u8>) -> u8 {
    let _ = client::give_memory(t, server, data);
    data.as_slice()[0]
}
