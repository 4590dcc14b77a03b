//! The IR data types: a [`Module`] is one subsystem with its types, routines and arguments.
//!
//! Everything here is plain data with public fields, serialisable to JSON. Types live in one
//! arena ([`Module::types`]) and are referred to by [`TypeHandle`]; routines refer to their
//! arguments by position. Nothing here points back into source text: the IR carries names and
//! numbers, never spans.

use serde::Serialize;

/// Index of a [`Type`] in [`Module::types`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TypeHandle(pub u32);

impl TypeHandle {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One interface: the subsystem statement, every type it declared and every routine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Module {
    /// The target the module was lowered for (`x86_64-gnu`); type sizes depend on it.
    pub target: String,
    pub subsystem: Subsystem,
    /// Every type: predefined (`int`, `char`...), declared with `type`, declared in place in an
    /// argument, and the anonymous element types of arrays. Declaration order.
    pub types: Vec<Type>,
    /// Routines and simple routines in declaration order (so in `number` order).
    pub routines: Vec<Routine>,
}

impl Module {
    pub fn ty(&self, handle: TypeHandle) -> &Type {
        &self.types[handle.index()]
    }

    /// Looks a declared type up by name.
    pub fn type_by_name(&self, name: &str) -> Option<TypeHandle> {
        self.types
            .iter()
            .rposition(|t| t.name.as_deref() == Some(name))
            .map(|i| TypeHandle(i as u32))
    }

    pub fn routine_by_name(&self, name: &str) -> Option<&Routine> {
        self.routines.iter().find(|r| r.name == name)
    }

    /// Routine numbers consumed by `skip` statements, in increasing order.
    pub fn skipped_numbers(&self) -> Vec<u32> {
        let used: std::collections::BTreeSet<u32> =
            self.routines.iter().map(|r| r.number).collect();
        (0..self.subsystem.slots)
            .filter(|n| !used.contains(n))
            .collect()
    }
}

/// `subsystem [KernelUser] [KernelServer] NAME BASE;` and the statements that apply to the
/// whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subsystem {
    pub name: String,
    /// The first message id.
    pub base: u32,
    pub kernel_user: bool,
    pub kernel_server: bool,
    /// Name of the server demux function (`serverdemux`, default `<name>_server`).
    pub server_demux: String,
    /// Number of message id slots: routines plus skipped ids. The demux accepts
    /// `base .. base + slots`.
    pub slots: u32,
    pub imports: Vec<Import>,
    /// `rcsid` strings, in order.
    pub rcsids: Vec<String>,
    /// `error ID;` (CMU/OSF/Apple; GNU ignores it).
    pub error_proc: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Import {
    pub kind: ImportKind,
    /// As written, with its quotes or angle brackets: `<mach/std_types.h>`, `"foo.h"`.
    pub file: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ImportKind {
    /// `import`: both sides.
    Import,
    /// `uimport`: user side only.
    UImport,
    /// `simport`: server side only.
    SImport,
    /// Apple `dimport`: the server demux header.
    DImport,
    /// Apple `iimport`: the internal header.
    IImport,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RoutineKind {
    /// Request and reply; the reply carries a return code.
    Routine,
    /// Request only.
    SimpleRoutine,
}

/// A `routine` or `simpleroutine`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Routine {
    pub name: String,
    pub kind: RoutineKind,
    /// Position in the subsystem, counting skipped slots: request `msgh_id` is `base + number`.
    pub number: u32,
    /// Request message id.
    pub msgh_id: u32,
    /// Reply message id (`msgh_id + 100`); `None` for a simple routine.
    pub reply_msgh_id: Option<u32>,
    /// Declared and implicit arguments, in the order of the C prototype (implicit arguments
    /// follow the argument they belong to).
    pub arguments: Vec<Argument>,
    /// `userprefix` / `serverprefix` in effect where the routine was declared.
    pub user_prefix: String,
    pub server_prefix: String,
    /// `msgoption` in effect (`None` for `MACH_MSG_OPTION_NONE` or no statement).
    pub msg_option: Option<String>,
    /// `waittime` in effect (`None` after `nowaittime` or without a statement).
    pub wait_time: Option<String>,
}

impl Routine {
    pub fn is_simple(&self) -> bool {
        self.kind == RoutineKind::SimpleRoutine
    }

    /// Index of the argument that names the destination port.
    pub fn request_port(&self) -> Option<usize> {
        self.arguments
            .iter()
            .position(|a| a.kind == ArgumentKind::RequestPort)
    }
}

/// How an argument travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ArgumentKind {
    /// The destination port, in the header's `msgh_remote_port`.
    RequestPort,
    /// The reply port in the header's `msgh_local_port`, on both sides.
    ReplyPort,
    /// Reply port visible only on the server side.
    SReplyPort,
    /// Reply port chosen by the user side.
    UReplyPort,
    /// Receive timeout for this call (user side).
    WaitTime,
    /// Extra `mach_msg` options for this call (user side).
    MsgOption,
    /// The request's sequence number (server side).
    MsgSeqno,
    /// Data in the request.
    In,
    /// Data in the reply.
    Out,
    /// Data in the request and in the reply.
    InOut,
    /// Implicit `<name>Cnt`: the element count of a variable array. Travels in the type
    /// descriptor's `msgt_number`, except for `CountInOut`, where the request also carries the
    /// caller's buffer size as data.
    Count,
    /// Implicit `<name>Poly`: the port disposition of a polymorphic argument, carried in the
    /// type descriptor's `msgt_name`.
    Poly,
    /// Implicit `<name>Dealloc`: the user decides at run time whether out-of-line data is
    /// deallocated (`dealloc[]`).
    Dealloc,
    /// Implicit `<name>SCopy`: tells the server whether `serverCopy` data arrived inline.
    ServerCopy,
}

impl ArgumentKind {
    /// True for arguments that occupy a descriptor and data in the request body.
    pub fn in_request(self) -> bool {
        matches!(self, ArgumentKind::In | ArgumentKind::InOut)
    }
    /// True for arguments that occupy a descriptor and data in the reply body.
    pub fn in_reply(self) -> bool {
        matches!(self, ArgumentKind::Out | ArgumentKind::InOut)
    }
    pub fn is_implicit(self) -> bool {
        matches!(
            self,
            ArgumentKind::Count
                | ArgumentKind::Poly
                | ArgumentKind::Dealloc
                | ArgumentKind::ServerCopy
        )
    }
}

/// Whether out-of-line data is deallocated from the sender when the message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Dealloc {
    /// No flag: never (the type's own flags may still say so).
    Default,
    /// `dealloc`
    Always,
    /// `notdealloc`
    Never,
    /// `dealloc[]`: decided at run time by the implicit `<name>Dealloc` argument.
    Variable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Argument {
    pub name: String,
    pub kind: ArgumentKind,
    pub ty: TypeHandle,
    pub dealloc: Dealloc,
    /// `serverCopy`
    pub server_copy: bool,
    /// `CountInOut`: the request carries the caller's buffer size for this out array.
    pub count_in_out: bool,
    /// For implicit arguments: the index of the argument they belong to. For a data argument:
    /// the indices of its implicit `Count`, `Poly`, `Dealloc`, `ServerCopy` arguments.
    pub parent: Option<usize>,
    pub count: Option<usize>,
    pub poly: Option<usize>,
    pub dealloc_arg: Option<usize>,
    pub server_copy_arg: Option<usize>,
}

/// A `msgt_name` value: a symbolic `MACH_MSG_TYPE_*` name with its number on the target, or a
/// bare number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MsgTypeName {
    /// `MACH_MSG_TYPE_COPY_SEND`, `MACH_MSG_TYPE_POLYMORPHIC`, or `None` when written as a number.
    pub symbol: Option<String>,
    /// The numeric value on the target (`MACH_MSG_TYPE_POLYMORPHIC` is `u32::MAX`).
    pub value: u32,
}

impl MsgTypeName {
    pub fn is_polymorphic(&self) -> bool {
        self.symbol.as_deref() == Some("MACH_MSG_TYPE_POLYMORPHIC")
    }
}

/// Where a value's data travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Storage {
    /// In the message body, after its type descriptor.
    Inline,
    /// Out of line: the body holds a pointer; the kernel copies or moves the memory.
    OutOfLine,
    /// `array[]` without `^` in GNU MIG: the sender chooses, per message, inline (up to the
    /// target's dynamic limit) or out of line; `msgt_inline` tells the receiver.
    Dynamic,
}

/// How many elements a value has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Count {
    /// Always this many (a scalar is `Fixed(1)`).
    Fixed(u32),
    /// From zero up to `max` elements; `None` when unbounded (`array[]`, `^array[]`).
    Variable { max: Option<u32> },
}

/// A resolved type: what its values look like in a message, and what they are called in C.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Type {
    /// The declared name; `None` for anonymous types (array elements written in place).
    pub name: Option<String>,
    /// Where the type came from.
    pub origin: TypeOrigin,
    /// `msgt_name` when the value is sent by the user side (request) ...
    pub name_in: MsgTypeName,
    /// ... and when it is received (the disposition the receiver holds, e.g. `PORT_SEND` for a
    /// `COPY_SEND`).
    pub name_out: MsgTypeName,
    /// `msgt_size` of one wire element, in bits, as declared. Port rights are declared with the
    /// port name size; the target decides their inline slot size (see [`crate::target`]).
    pub size_bits: u32,
    /// Wire elements (`msgt_number`) per C element: 1 for scalars, more for `struct` and
    /// fixed arrays used as elements.
    pub element_number: u32,
    /// Number of C elements.
    pub count: Count,
    pub storage: Storage,
    /// `c_string`: `msgt_number` counts bytes up to and including the terminating NUL.
    pub string: bool,
    /// The value holds port rights (a right disposition or polymorphic).
    pub port: bool,
    /// The value's `msgt_name` is chosen at run time (`polymorphic`, or a pair with
    /// `polymorphic` on one side).
    pub polymorphic: bool,
    /// Type-level `dealloc` flag (`(T, N, dealloc)` or OOL declarations).
    pub dealloc: Dealloc,
    /// The element type of an array, pointer or `struct[N] of`.
    pub element: Option<TypeHandle>,
    /// `struct[N] of T`: a C structure (passed and copied by value), not a C array.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub c_struct: bool,
    /// C size and alignment of one C element in bytes, on the target.
    pub c_size: u32,
    pub c_align: u32,
    /// The C type names on each side and the translation functions.
    pub c: CNames,
}

impl Type {
    /// Total wire elements for `n` C elements.
    pub fn wire_number(&self, n: u32) -> u64 {
        n as u64 * self.element_number as u64
    }

    pub fn is_variable(&self) -> bool {
        matches!(self.count, Count::Variable { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TypeOrigin {
    /// `char`, `short`, `int`, `uintptr_t`, `intptr_t`, with the target's sizes.
    Predefined,
    /// `type NAME = ...;`
    Declared,
    /// `arg : NAME = ...` in an argument list.
    ArgumentInline,
    /// An element or pointee type written in place.
    Anonymous,
    /// The types of implicit arguments: `mach_msg_type_number_t` (counts),
    /// `mach_msg_type_name_t` (poly dispositions), `boolean_t` (dealloc, server copy flags).
    Implicit,
}

/// C names and translations of a type (`ctype`, `cusertype`, `cservertype`, `intran`,
/// `outtran`, `destructor`, `intranpayload`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CNames {
    /// C type on the user side (the type's name unless `ctype`/`cusertype` says otherwise).
    pub user: String,
    /// C type on the server side (the type's name unless `ctype`/`cservertype` says otherwise).
    pub server: String,
    /// `intran: T f(S)`: the server converts the received value with `f`.
    pub in_tran: Option<TranslationFn>,
    /// `outtran: S f(T)`: the server converts the value it replies with.
    pub out_tran: Option<TranslationFn>,
    /// `destructor: f(T)`
    pub destructor: Option<String>,
    /// GNU `intranpayload: T f`: converts a protected payload into `T`.
    pub in_tran_payload: Option<TranslationFn>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TranslationFn {
    pub function: String,
    /// C type of the result.
    pub to: String,
    /// C type of the argument (empty for `intranpayload`).
    pub from: String,
}
