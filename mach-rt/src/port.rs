//! Port names and rights. A name is a plain number in the task's port space; a right is a name
//! the holder owns a right of a known kind under. Rights are neither `Copy` nor `Clone`:
//! passing one by value into a stub that moves it (`MOVE_RECEIVE`, `MOVE_SEND`,
//! `MOVE_SEND_ONCE`) consumes it, so it cannot be sent twice; stubs that copy or make rights
//! (`COPY_SEND`, `MAKE_SEND`, `MAKE_SEND_ONCE`) borrow it.
//!
//! Rights are not released on drop (that takes a `mach_port_deallocate` call through a
//! transport): drop one with [`SendRight::into_name`] and deallocate the name, or let the task
//! end.

/// `mach_port_name_t` (and `mach_port_t` in user space): a name in a task's port space.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PortName(pub u32);

impl PortName {
    /// `MACH_PORT_NULL`
    pub const NULL: PortName = PortName(0);
    /// `MACH_PORT_DEAD`
    pub const DEAD: PortName = PortName(!0);

    pub const fn is_null(self) -> bool {
        self.0 == 0
    }
    pub const fn raw(self) -> u32 {
        self.0
    }
}

macro_rules! right {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, PartialEq, Eq, Hash)]
        #[must_use = "a right that is dropped stays in the port space; deallocate its name"]
        pub struct $name(PortName);

        impl $name {
            /// Takes ownership of a right the task holds under `name` (from a trap such as
            /// `mach_task_self`, from a received message, or from the command line).
            pub const fn from_name(name: PortName) -> Self {
                $name(name)
            }
            /// The name, borrowed.
            pub const fn name(&self) -> PortName {
                self.0
            }
            /// Gives up the wrapper and returns the name (the right stays in the port space).
            pub const fn into_name(self) -> PortName {
                self.0
            }
        }
    };
}

right!(
    /// A send right (`MACH_PORT_RIGHT_SEND`): sent by `COPY_SEND` (borrowed) or `MOVE_SEND`
    /// (consumed); received as `MACH_MSG_TYPE_PORT_SEND`.
    SendRight
);
right!(
    /// A send-once right: sent by `MOVE_SEND_ONCE` (consumed); received as
    /// `MACH_MSG_TYPE_PORT_SEND_ONCE`.
    SendOnceRight
);
right!(
    /// A receive right: sent by `MOVE_RECEIVE` (consumed), or used to make send and send-once
    /// rights (`MAKE_SEND`, `MAKE_SEND_ONCE`, borrowed); received as
    /// `MACH_MSG_TYPE_PORT_RECEIVE`.
    ReceiveRight
);

/// A polymorphic port value: a name and the disposition it is sent with, or the disposition
/// it arrived as (`msgt_name`, one of the `MACH_MSG_TYPE_*` numbers of [`crate::msg`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Poly {
    pub name: PortName,
    pub disposition: u32,
}

impl Poly {
    pub const fn new(name: PortName, disposition: u32) -> Poly {
        Poly { name, disposition }
    }
}

/// A polymorphic array of port rights: the names and the one disposition they travel with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PolyPorts<'a> {
    pub names: &'a [PortName],
    pub disposition: u32,
}
