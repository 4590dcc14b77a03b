//! Constants of the Mach interface, with the values of gnumach-dev's headers
//! (`mach/kern_return.h`, `mach/message.h`, `mach/port.h`, `mach/notify.h`).

/// A `kern_return_t` or `mach_msg_return_t`.
pub type KernReturn = u32;
/// A port name in an IPC space (`mach_port_name_t`).
pub type Name = u32;

/// `MACH_PORT_NULL`.
pub const MACH_PORT_NULL: Name = 0;
/// `MACH_PORT_DEAD`.
pub const MACH_PORT_DEAD: Name = !0;

/// True for a name that can denote a right (neither `MACH_PORT_NULL` nor `MACH_PORT_DEAD`).
pub fn name_valid(name: Name) -> bool {
    name != MACH_PORT_NULL && name != MACH_PORT_DEAD
}

/// `KERN_SUCCESS`.
pub const KERN_SUCCESS: KernReturn = 0;
/// `KERN_NO_SPACE`.
pub const KERN_NO_SPACE: KernReturn = 3;
/// `KERN_INVALID_ARGUMENT`.
pub const KERN_INVALID_ARGUMENT: KernReturn = 4;
/// `KERN_RESOURCE_SHORTAGE`.
pub const KERN_RESOURCE_SHORTAGE: KernReturn = 6;
/// `KERN_NOT_IN_SET`.
pub const KERN_NOT_IN_SET: KernReturn = 12;
/// `KERN_NAME_EXISTS`.
pub const KERN_NAME_EXISTS: KernReturn = 13;
/// `KERN_INVALID_NAME`.
pub const KERN_INVALID_NAME: KernReturn = 15;
/// `KERN_INVALID_TASK`.
pub const KERN_INVALID_TASK: KernReturn = 16;
/// `KERN_INVALID_RIGHT`.
pub const KERN_INVALID_RIGHT: KernReturn = 17;
/// `KERN_INVALID_VALUE`.
pub const KERN_INVALID_VALUE: KernReturn = 18;
/// `KERN_UREFS_OVERFLOW`.
pub const KERN_UREFS_OVERFLOW: KernReturn = 19;
/// `KERN_INVALID_CAPABILITY`.
pub const KERN_INVALID_CAPABILITY: KernReturn = 20;
/// `KERN_RIGHT_EXISTS`.
pub const KERN_RIGHT_EXISTS: KernReturn = 21;

/// `MACH_MSG_SUCCESS`.
pub const MACH_MSG_SUCCESS: KernReturn = 0;
/// `MACH_MSG_IPC_SPACE`: no room in the receiver's name space (or'ed into receive errors).
pub const MACH_MSG_IPC_SPACE: KernReturn = 0x2000;
/// `MACH_MSG_VM_SPACE`: no room in the receiver's address space (or'ed into receive errors).
pub const MACH_MSG_VM_SPACE: KernReturn = 0x1000;
/// `MACH_SEND_INVALID_DATA`.
pub const MACH_SEND_INVALID_DATA: KernReturn = 0x1000_0002;
/// `MACH_SEND_INVALID_DEST`.
pub const MACH_SEND_INVALID_DEST: KernReturn = 0x1000_0003;
/// `MACH_SEND_TIMED_OUT`.
pub const MACH_SEND_TIMED_OUT: KernReturn = 0x1000_0004;
/// `MACH_SEND_MSG_TOO_SMALL`.
pub const MACH_SEND_MSG_TOO_SMALL: KernReturn = 0x1000_0008;
/// `MACH_SEND_INVALID_REPLY`.
pub const MACH_SEND_INVALID_REPLY: KernReturn = 0x1000_0009;
/// `MACH_SEND_INVALID_RIGHT`.
pub const MACH_SEND_INVALID_RIGHT: KernReturn = 0x1000_000a;
/// `MACH_SEND_INVALID_MEMORY`.
pub const MACH_SEND_INVALID_MEMORY: KernReturn = 0x1000_000c;
/// `MACH_SEND_INVALID_TYPE`.
pub const MACH_SEND_INVALID_TYPE: KernReturn = 0x1000_000f;
/// `MACH_SEND_INVALID_HEADER`.
pub const MACH_SEND_INVALID_HEADER: KernReturn = 0x1000_0010;
/// `MACH_RCV_INVALID_NAME`.
pub const MACH_RCV_INVALID_NAME: KernReturn = 0x1000_4002;
/// `MACH_RCV_TIMED_OUT`.
pub const MACH_RCV_TIMED_OUT: KernReturn = 0x1000_4003;
/// `MACH_RCV_TOO_LARGE`.
pub const MACH_RCV_TOO_LARGE: KernReturn = 0x1000_4004;
/// `MACH_RCV_PORT_CHANGED`.
pub const MACH_RCV_PORT_CHANGED: KernReturn = 0x1000_4006;
/// `MACH_RCV_PORT_DIED`.
pub const MACH_RCV_PORT_DIED: KernReturn = 0x1000_4009;
/// `MACH_RCV_IN_SET`.
pub const MACH_RCV_IN_SET: KernReturn = 0x1000_400a;
/// `MACH_RCV_HEADER_ERROR`.
pub const MACH_RCV_HEADER_ERROR: KernReturn = 0x1000_400b;
/// `MACH_RCV_BODY_ERROR`.
pub const MACH_RCV_BODY_ERROR: KernReturn = 0x1000_400c;

/// `MACH_MSGH_BITS_REMOTE_MASK`.
pub const MACH_MSGH_BITS_REMOTE_MASK: u32 = 0x0000_00ff;
/// `MACH_MSGH_BITS_LOCAL_MASK`.
pub const MACH_MSGH_BITS_LOCAL_MASK: u32 = 0x0000_ff00;
/// `MACH_MSGH_BITS_COMPLEX`.
pub const MACH_MSGH_BITS_COMPLEX: u32 = 0x8000_0000;
/// `MACH_MSGH_BITS_CIRCULAR` (internal: never delivered).
pub const MACH_MSGH_BITS_CIRCULAR: u32 = 0x4000_0000;
/// `MACH_MSGH_BITS_PORTS_MASK`.
pub const MACH_MSGH_BITS_PORTS_MASK: u32 = MACH_MSGH_BITS_REMOTE_MASK | MACH_MSGH_BITS_LOCAL_MASK;
/// `msgt_deallocate` in a type descriptor's first word.
pub const MSGT_DEALLOCATE: u32 = 1 << 31;
/// `msgt_inline` in a type descriptor's first word.
pub const MSGT_INLINE: u32 = 1 << 29;

/// `MACH_MSGH_BITS(remote, local)`.
pub fn msgh_bits(remote: u32, local: u32) -> u32 {
    remote | (local << 8)
}

/// `MACH_MSG_TYPE_INTEGER_32`.
pub const MACH_MSG_TYPE_INTEGER_32: u32 = 2;
/// `MACH_MSG_TYPE_PORT_NAME`.
pub const MACH_MSG_TYPE_PORT_NAME: u32 = 15;
/// `MACH_MSG_TYPE_MOVE_RECEIVE` (also `MACH_MSG_TYPE_PORT_RECEIVE`).
pub const MACH_MSG_TYPE_MOVE_RECEIVE: u32 = 16;
/// `MACH_MSG_TYPE_MOVE_SEND` (also `MACH_MSG_TYPE_PORT_SEND`).
pub const MACH_MSG_TYPE_MOVE_SEND: u32 = 17;
/// `MACH_MSG_TYPE_MOVE_SEND_ONCE` (also `MACH_MSG_TYPE_PORT_SEND_ONCE`).
pub const MACH_MSG_TYPE_MOVE_SEND_ONCE: u32 = 18;
/// `MACH_MSG_TYPE_COPY_SEND`.
pub const MACH_MSG_TYPE_COPY_SEND: u32 = 19;
/// `MACH_MSG_TYPE_MAKE_SEND`.
pub const MACH_MSG_TYPE_MAKE_SEND: u32 = 20;
/// `MACH_MSG_TYPE_MAKE_SEND_ONCE`.
pub const MACH_MSG_TYPE_MAKE_SEND_ONCE: u32 = 21;
/// `MACH_MSG_TYPE_PORT_RECEIVE`.
pub const MACH_MSG_TYPE_PORT_RECEIVE: u32 = MACH_MSG_TYPE_MOVE_RECEIVE;
/// `MACH_MSG_TYPE_PORT_SEND`.
pub const MACH_MSG_TYPE_PORT_SEND: u32 = MACH_MSG_TYPE_MOVE_SEND;
/// `MACH_MSG_TYPE_PORT_SEND_ONCE`.
pub const MACH_MSG_TYPE_PORT_SEND_ONCE: u32 = MACH_MSG_TYPE_MOVE_SEND_ONCE;

/// `MACH_MSG_TYPE_PORT_ANY(x)`: a disposition that carries a port right.
pub fn msg_type_port_any(t: u32) -> bool {
    (MACH_MSG_TYPE_MOVE_RECEIVE..=MACH_MSG_TYPE_MAKE_SEND_ONCE).contains(&t)
}

/// `MACH_MSG_TYPE_PORT_ANY_SEND(x)`: a disposition that carries a send or send-once right.
pub fn msg_type_port_any_send(t: u32) -> bool {
    (MACH_MSG_TYPE_MOVE_SEND..=MACH_MSG_TYPE_MAKE_SEND_ONCE).contains(&t)
}

/// `mach_port_right_t` values.
pub const MACH_PORT_RIGHT_SEND: u32 = 0;
/// `MACH_PORT_RIGHT_RECEIVE`.
pub const MACH_PORT_RIGHT_RECEIVE: u32 = 1;
/// `MACH_PORT_RIGHT_SEND_ONCE`.
pub const MACH_PORT_RIGHT_SEND_ONCE: u32 = 2;
/// `MACH_PORT_RIGHT_PORT_SET`.
pub const MACH_PORT_RIGHT_PORT_SET: u32 = 3;
/// `MACH_PORT_RIGHT_DEAD_NAME`.
pub const MACH_PORT_RIGHT_DEAD_NAME: u32 = 4;
/// `MACH_PORT_RIGHT_NUMBER`.
pub const MACH_PORT_RIGHT_NUMBER: u32 = 5;

/// `MACH_PORT_TYPE_SEND`.
pub const MACH_PORT_TYPE_SEND: u32 = 1 << 16;
/// `MACH_PORT_TYPE_RECEIVE`.
pub const MACH_PORT_TYPE_RECEIVE: u32 = 1 << 17;
/// `MACH_PORT_TYPE_SEND_ONCE`.
pub const MACH_PORT_TYPE_SEND_ONCE: u32 = 1 << 18;
/// `MACH_PORT_TYPE_PORT_SET`.
pub const MACH_PORT_TYPE_PORT_SET: u32 = 1 << 19;
/// `MACH_PORT_TYPE_DEAD_NAME`.
pub const MACH_PORT_TYPE_DEAD_NAME: u32 = 1 << 20;
/// `MACH_PORT_TYPE_DNREQUEST`.
pub const MACH_PORT_TYPE_DNREQUEST: u32 = 0x8000_0000;

/// `MACH_PORT_QLIMIT_DEFAULT`.
pub const MACH_PORT_QLIMIT_DEFAULT: u32 = 5;
/// `MACH_PORT_QLIMIT_MAX`.
pub const MACH_PORT_QLIMIT_MAX: u32 = 16;
/// Most user references a dead name may hold. GNU Mach's `MACH_PORT_UREFS_MAX` is internal
/// (not in gnumach-dev's headers): this is the count a dead name was seen to reach, one more
/// being `KERN_UREFS_OVERFLOW`.
pub const MACH_PORT_UREFS_MAX: u32 = 0xffff;
/// Most user references a send right may hold: GNU Mach stops send rights (with or without
/// the receive right under the same name) one below [`MACH_PORT_UREFS_MAX`], as observed.
pub const MACH_PORT_SEND_UREFS_MAX: u32 = 0xfffe;

/// `MACH_NOTIFY_PORT_DELETED`.
pub const MACH_NOTIFY_PORT_DELETED: i32 = 0o101;
/// `MACH_NOTIFY_PORT_DESTROYED`.
pub const MACH_NOTIFY_PORT_DESTROYED: i32 = 0o105;
/// `MACH_NOTIFY_NO_SENDERS`.
pub const MACH_NOTIFY_NO_SENDERS: i32 = 0o106;
/// `MACH_NOTIFY_SEND_ONCE`.
pub const MACH_NOTIFY_SEND_ONCE: i32 = 0o107;
/// `MACH_NOTIFY_DEAD_NAME`.
pub const MACH_NOTIFY_DEAD_NAME: i32 = 0o110;

/// Size of `mach_msg_header_t` on x86_64.
pub const HEADER_SIZE: usize = 32;
/// Size of a type descriptor (`mach_msg_type_t`, and `mach_msg_type_long_t` on x86_64).
pub const DESCRIPTOR_SIZE: usize = 8;
/// `MACH_MSG_USER_ALIGNMENT` on x86_64: data and message sizes are multiples of it.
pub const MSG_ALIGNMENT: usize = 8;
/// `msgt_size` of a port right carried inline (a `mach_port_name_inlined_t` slot).
pub const INLINE_PORT_BITS: u32 = 64;
/// `msgt_size` of a port right in an out-of-line array (a `mach_port_name_t`).
pub const OOL_PORT_BITS: u32 = 32;
