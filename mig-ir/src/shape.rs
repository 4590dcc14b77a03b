//! How each datum of a message travels: the one classification every back end shares.
//!
//! A datum is a (type descriptor, data) pair of a request or reply. Its [`DataShape`] follows
//! from its type, its storage and the bytes the layout reserved for it; back ends decide only
//! how to spell each shape in their language.

use crate::ir::{Count, Storage, Type};

/// How a datum's data looks on the wire and is copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataShape {
    /// `kern_return_t RetCode` of a reply (a datum with no type).
    RetCode,
    /// One port right in an inline slot.
    Port,
    /// A scalar or structure copied by value.
    Value,
    /// `c_string[N]`: a NUL-terminated string in an `N`-byte array.
    FixedString { max: u32 },
    /// An inline array of fixed count: `n` elements in `bytes` bytes.
    FixedArray { n: u32, bytes: u32 },
    /// An inline array of `n` port rights.
    PortArray { n: u32 },
    /// `array[*:max]`: inline, 0 to `max` elements.
    VarArray { max: u32 },
    /// `c_string[*:max]`: inline, `msgt_number` bytes including the NUL.
    VarString { max: u32 },
    /// `array[]`: inline up to `max` elements, else out of line.
    Dynamic { max: u32 },
    /// Out-of-line memory: an address in the body.
    Ool,
}

/// Classifies a datum of type `ty` (`None` for the return code) stored as `storage`, whose data
/// takes at most `data_max` bytes in elements of `elem_bytes` bytes.
pub fn data_shape(
    ty: Option<&Type>,
    storage: Storage,
    data_max: u32,
    elem_bytes: u32,
) -> DataShape {
    let Some(ty) = ty else {
        return DataShape::RetCode;
    };
    match (storage, ty.count) {
        (Storage::OutOfLine, _) => DataShape::Ool,
        (Storage::Dynamic, _) => DataShape::Dynamic {
            max: data_max.checked_div(elem_bytes).unwrap_or(0),
        },
        (Storage::Inline, Count::Variable { max }) => {
            let max = max.unwrap_or(0);
            if ty.string {
                DataShape::VarString { max }
            } else {
                DataShape::VarArray { max }
            }
        }
        (Storage::Inline, Count::Fixed(n)) => {
            if ty.string {
                DataShape::FixedString {
                    max: data_max.max(1),
                }
            } else if ty.port && n == 1 && ty.element_number == 1 {
                DataShape::Port
            } else if ty.port {
                DataShape::PortArray {
                    n: n.saturating_mul(ty.element_number),
                }
            } else if n == 1 || ty.c_struct {
                DataShape::Value
            } else {
                DataShape::FixedArray { n, bytes: data_max }
            }
        }
    }
}
