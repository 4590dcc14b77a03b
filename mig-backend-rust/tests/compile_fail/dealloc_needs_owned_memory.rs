// expect: E0308
// Out-of-line data sent with `dealloc` leaves the task: borrowed memory cannot be given away.
use generated::rights::client;
use mach_rt as rt;

pub fn borrowed<T: rt::Transport>(t: &mut T, server: &rt::SendRight, data: &[u8]) {
    let _ = client::give_memory(t, server, data);
}
