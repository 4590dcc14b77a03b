//! `kern_return_t`, `mach_msg_return_t` and the MIG codes as one error type.

use core::fmt;

/// A `kern_return_t` value (also `mach_msg_return_t` and the MIG codes): 0 is success.
pub type KernReturn = i32;

pub const KERN_SUCCESS: KernReturn = 0;
pub const KERN_INVALID_ADDRESS: KernReturn = 1;
pub const KERN_PROTECTION_FAILURE: KernReturn = 2;
pub const KERN_NO_SPACE: KernReturn = 3;
pub const KERN_INVALID_ARGUMENT: KernReturn = 4;
pub const KERN_FAILURE: KernReturn = 5;
pub const KERN_RESOURCE_SHORTAGE: KernReturn = 6;
pub const KERN_NOT_RECEIVER: KernReturn = 7;
pub const KERN_NO_ACCESS: KernReturn = 8;
pub const KERN_INVALID_NAME: KernReturn = 15;
pub const KERN_INVALID_RIGHT: KernReturn = 17;
pub const KERN_INVALID_VALUE: KernReturn = 18;

/// Client type check failure.
pub const MIG_TYPE_ERROR: KernReturn = -300;
/// Wrong reply message id.
pub const MIG_REPLY_MISMATCH: KernReturn = -301;
/// Server detected error.
pub const MIG_REMOTE_ERROR: KernReturn = -302;
/// Bad request message id.
pub const MIG_BAD_ID: KernReturn = -303;
/// Server type check failure.
pub const MIG_BAD_ARGUMENTS: KernReturn = -304;
/// No reply should be sent.
pub const MIG_NO_REPLY: KernReturn = -305;
/// Server raised exception.
pub const MIG_EXCEPTION: KernReturn = -306;
/// Array not large enough.
pub const MIG_ARRAY_TOO_LARGE: KernReturn = -307;
/// Server died.
pub const MIG_SERVER_DIED: KernReturn = -308;
/// Destroy request with no reply.
pub const MIG_DESTROY_REQUEST: KernReturn = -309;
/// The server does not implement the operation (GNU MIG's `MIG_EOPNOTSUPP`, `EOPNOTSUPP`
/// of the Hurd).
pub const MIG_EOPNOTSUPP: KernReturn = 0x4000_002d;

/// A failed call: a nonzero `kern_return_t` from the server, a `mach_msg` error, or a MIG
/// check that failed (`MIG_TYPE_ERROR`, `MIG_REPLY_MISMATCH`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Error(KernReturn);

impl Error {
    pub const TYPE_ERROR: Error = Error(MIG_TYPE_ERROR);
    pub const REPLY_MISMATCH: Error = Error(MIG_REPLY_MISMATCH);
    pub const BAD_ID: Error = Error(MIG_BAD_ID);
    pub const BAD_ARGUMENTS: Error = Error(MIG_BAD_ARGUMENTS);
    pub const ARRAY_TOO_LARGE: Error = Error(MIG_ARRAY_TOO_LARGE);
    pub const SERVER_DIED: Error = Error(MIG_SERVER_DIED);
    pub const FAILURE: Error = Error(KERN_FAILURE);
    pub const EOPNOTSUPP: Error = Error(MIG_EOPNOTSUPP);

    /// The error for a code; `KERN_SUCCESS` (0) is not an error and gives `KERN_FAILURE`.
    pub const fn new(code: KernReturn) -> Error {
        if code == KERN_SUCCESS {
            Error(KERN_FAILURE)
        } else {
            Error(code)
        }
    }

    /// `Ok(())` for `KERN_SUCCESS`, the error otherwise.
    pub const fn check(code: KernReturn) -> Result<(), Error> {
        if code == KERN_SUCCESS {
            Ok(())
        } else {
            Err(Error(code))
        }
    }

    /// The `kern_return_t` value (never 0).
    pub const fn code(self) -> KernReturn {
        self.0
    }

    /// One of the MIG codes (-300 ..= -309).
    pub const fn is_mig(self) -> bool {
        self.0 <= MIG_TYPE_ERROR && self.0 >= MIG_DESTROY_REQUEST
    }
}

/// The `kern_return_t` of a result: 0 for `Ok`.
pub fn code_of<T>(r: &Result<T, Error>) -> KernReturn {
    match r {
        Ok(_) => KERN_SUCCESS,
        Err(e) => e.code(),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            MIG_TYPE_ERROR => "MIG_TYPE_ERROR",
            MIG_REPLY_MISMATCH => "MIG_REPLY_MISMATCH",
            MIG_REMOTE_ERROR => "MIG_REMOTE_ERROR",
            MIG_BAD_ID => "MIG_BAD_ID",
            MIG_BAD_ARGUMENTS => "MIG_BAD_ARGUMENTS",
            MIG_NO_REPLY => "MIG_NO_REPLY",
            MIG_EXCEPTION => "MIG_EXCEPTION",
            MIG_ARRAY_TOO_LARGE => "MIG_ARRAY_TOO_LARGE",
            MIG_SERVER_DIED => "MIG_SERVER_DIED",
            MIG_DESTROY_REQUEST => "MIG_DESTROY_REQUEST",
            KERN_INVALID_ADDRESS => "KERN_INVALID_ADDRESS",
            KERN_INVALID_ARGUMENT => "KERN_INVALID_ARGUMENT",
            KERN_FAILURE => "KERN_FAILURE",
            KERN_INVALID_NAME => "KERN_INVALID_NAME",
            KERN_INVALID_RIGHT => "KERN_INVALID_RIGHT",
            _ => return write!(f, "kern_return_t {:#x}", self.0),
        };
        f.write_str(name)
    }
}
