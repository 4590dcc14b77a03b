// expect: E0277
// Rights are neither Copy nor Clone: a receive right cannot be duplicated.
use mach_rt as rt;

fn duplicate<T: Clone>(x: &T) -> (T, T) {
    (x.clone(), x.clone())
}

pub fn dup(r: &rt::ReceiveRight) -> (rt::ReceiveRight, rt::ReceiveRight) {
    duplicate(r)
}
