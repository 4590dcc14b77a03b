//! The syntax tree of a `.defs` file, for every dialect, with spans into the unit text.
//!
//! The tree is what was written, not what it means: type names are not resolved, flags are not
//! checked against each other, message ids are not counted. That is the IR's job (`mig-ir`).
//! Every node carries a [`Span`]; nodes the parser could not read after an error are
//! [`StatementKind::Error`] (or `None` in optional positions), so a broken file still yields a tree.

use serde::Serialize;

use crate::dialect::Dialect;
use crate::source::Span;

/// A parsed unit: the statements of a main file and of everything it included.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct File {
    pub statements: Vec<Statement>,
}

/// A name as written, with its span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A node with its span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(node: T, span: Span) -> Spanned<T> {
        Spanned { node, span }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    pub kind: StatementKind,
    /// From the first token to the terminating `;` (inclusive when present).
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum StatementKind {
    /// `subsystem [KernelUser] [KernelServer] NAME BASE;`
    Subsystem(Subsystem),
    /// `routine`, `simpleroutine` and the CMU forms.
    Routine(Routine),
    /// `skip;` or `skip N;`
    Skip {
        count: Option<Expr>,
    },
    /// `type NAME = SPEC translations;`
    Type(TypeDecl),
    /// `import`, `uimport`, `simport`, `dimport`, `iimport` with a file name.
    Import {
        kind: Spanned<ImportKind>,
        file: Spanned<String>,
    },
    /// `rcsid "text";` (the string without quotes).
    RcsId(Spanned<String>),
    /// `msgoption WORD;`
    MsgOption(Spanned<String>),
    /// `waittime WORD;`
    WaitTime(Spanned<String>),
    NoWaitTime,
    /// Apple `sendtime WORD;`
    SendTime(Spanned<String>),
    /// Apple `nosendtime;`
    NoSendTime,
    ServerPrefix(Ident),
    UserPrefix(Ident),
    ServerDemux(Ident),
    /// `error ID;` (CMU, OSF, Apple).
    Error(Ident),
    /// Apple `UseSpecialReplyPort N;`
    UseSpecialReplyPort(Expr),
    /// Apple `ConsumeOnSendError WORD;`
    ConsumeOnSendError(Ident),
    /// Apple `UserTypeLimit N;`
    UserTypeLimit(Expr),
    /// Apple `OnStackLimit N;`
    OnStackLimit(Expr),
    /// A lone `;`.
    Empty,
    /// Text the parser skipped after a syntax error.
    Invalid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SubsystemModifier {
    KernelUser,
    KernelServer,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subsystem {
    pub modifiers: Vec<Spanned<SubsystemModifier>>,
    pub name: Ident,
    pub base: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ImportKind {
    Import,
    UImport,
    SImport,
    /// Apple: only in the server demux header.
    DImport,
    /// Apple: only in the internal (server) header.
    IImport,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RoutineKind {
    Routine,
    SimpleRoutine,
    /// CMU: a routine without a return code.
    Procedure,
    /// CMU: a simple routine without a return code.
    SimpleProcedure,
    /// CMU: a routine returning a value of a declared type.
    Function,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Routine {
    pub kind: Spanned<RoutineKind>,
    pub name: Ident,
    pub args: Vec<Argument>,
    /// `function NAME(args): TYPE;` (CMU).
    pub returns: Option<TypeSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Direction {
    In,
    Out,
    InOut,
    RequestPort,
    ReplyPort,
    SReplyPort,
    UReplyPort,
    WaitTime,
    SendTime,
    MsgOption,
    MsgSeqno,
    SecToken,
    ServerSecToken,
    UserSecToken,
    AuditToken,
    ServerAuditToken,
    UserAuditToken,
    ServerContextToken,
    UserImpl,
    ServerImpl,
}

impl Direction {
    /// The dialects that know this direction.
    pub fn dialects(self) -> &'static [Dialect] {
        use Dialect::*;
        match self {
            Direction::In
            | Direction::Out
            | Direction::InOut
            | Direction::RequestPort
            | Direction::ReplyPort
            | Direction::SReplyPort
            | Direction::UReplyPort
            | Direction::WaitTime
            | Direction::MsgOption
            | Direction::MsgSeqno => &[Gnu, Apple, Osf, Cmu],
            Direction::SendTime
            | Direction::SecToken
            | Direction::ServerSecToken
            | Direction::UserSecToken
            | Direction::AuditToken
            | Direction::ServerAuditToken
            | Direction::UserAuditToken
            | Direction::ServerContextToken => &[Apple],
            Direction::UserImpl | Direction::ServerImpl => &[Apple, Osf],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Argument {
    pub direction: Option<Spanned<Direction>>,
    pub name: Ident,
    /// Missing only after a syntax error.
    pub ty: Option<TypeSpec>,
    pub flags: Vec<Spanned<ArgFlag>>,
    pub span: Span,
}

/// Argument and IPC flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ArgFlag {
    Dealloc,
    NotDealloc,
    /// `dealloc[]`: deallocation decided at run time by an implicit argument.
    DeallocVariable,
    ServerCopy,
    CountInOut,
    IsLong,
    IsNotLong,
    /// Accepted and ignored by GNU MIG.
    RetCode,
    SameCount,
    PhysicalCopy,
    Overwrite,
    Auto,
    Const,
}

impl ArgFlag {
    pub fn dialects(self) -> &'static [Dialect] {
        use Dialect::*;
        match self {
            ArgFlag::Dealloc
            | ArgFlag::NotDealloc
            | ArgFlag::DeallocVariable
            | ArgFlag::ServerCopy
            | ArgFlag::CountInOut
            | ArgFlag::IsLong
            | ArgFlag::IsNotLong
            | ArgFlag::RetCode => &[Gnu, Apple, Osf, Cmu],
            ArgFlag::SameCount
            | ArgFlag::PhysicalCopy
            | ArgFlag::Overwrite
            | ArgFlag::Auto
            | ArgFlag::Const => &[Apple, Osf],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeDecl {
    pub name: Ident,
    /// Missing only after a syntax error.
    pub spec: Option<TypeSpec>,
    pub translations: Vec<Translation>,
}

/// A type as written on the right of `=` or after `:` in an argument.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeSpec {
    pub kind: TypeSpecKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TypeSpecKind {
    /// A previously declared (or predefined) type name.
    Named(Ident),
    /// An IPC type, with an optional explicit size in bits and flags:
    /// `MACH_MSG_TYPE_INTEGER_32`, `(MACH_MSG_TYPE_INTEGER_32, 32)`, `(A | B, 32, dealloc)`.
    Ipc {
        name: IpcTypeName,
        size: Option<Expr>,
        flags: Vec<Spanned<ArgFlag>>,
    },
    /// `array[...] of T`
    Array {
        bound: ArrayBound,
        element: Box<TypeSpec>,
    },
    /// `struct[N] of T`
    StructArray { count: Expr, element: Box<TypeSpec> },
    /// GNU `struct { T1 f1; T2 f2; }`
    Struct { fields: Vec<StructField> },
    /// `c_string[N]` or `c_string[*:N]`
    CString { bound: ArrayBound },
    /// `^ T`: out-of-line.
    Pointer(Box<TypeSpec>),
    /// `polymorphic`
    Polymorphic,
    /// Apple `PointerTo(T)`
    PointerTo(Box<TypeSpec>),
    /// Apple `PointerToIfNot(T, V)`
    PointerToIfNot(Box<TypeSpec>, Box<TypeSpec>),
    /// Apple `ValueOf(T)`
    ValueOf(Box<TypeSpec>),
    /// An argument type defined in place: `out device : device_t = MACH_MSG_TYPE_PORT_SEND
    /// ctype: mach_port_t`. Declares `name` for this argument only.
    Inline {
        name: Ident,
        spec: Box<TypeSpec>,
        translations: Vec<Translation>,
    },
}

/// The IPC type name part of an IPC type spec.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum IpcTypeName {
    /// `MACH_MSG_TYPE_X` or a number, the same going in and out.
    Single(IpcTypeAtom),
    /// `A | B`: in-type and out-type differ (both sizes must agree).
    Pair(IpcTypeAtom, IpcTypeAtom),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum IpcTypeAtom {
    /// `MACH_MSG_TYPE_*` (case-sensitive name, kept as written).
    Symbolic(Ident),
    /// A numeric IPC type code.
    Number(Spanned<u64>),
    /// `polymorphic` as one side of a pair (`MACH_MSG_TYPE_MAKE_SEND_ONCE | polymorphic`).
    Polymorphic(Span),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ArrayBound {
    /// `[]`
    Unbounded,
    /// `[N]`
    Fixed(Expr),
    /// `[*:N]`
    Max(Expr),
    /// `[*]` (OSF/Apple: variable without a stated maximum)
    Star,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StructField {
    pub ty: TypeSpec,
    pub name: Ident,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Translation {
    pub kind: TranslationKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TranslationKind {
    /// `ctype: T`
    CType(CTypeName),
    /// `cusertype: T`
    CUserType(CTypeName),
    /// `cservertype: T`
    CServerType(CTypeName),
    /// `intran: T f(S)`
    InTran {
        to: CTypeName,
        function: Ident,
        from: CTypeName,
    },
    /// `outtran: S f(T)`
    OutTran {
        to: CTypeName,
        function: Ident,
        from: CTypeName,
    },
    /// `destructor: f(T)`
    Destructor { function: Ident, of: CTypeName },
    /// GNU `intranpayload: T f`
    InTranPayload { to: CTypeName, function: Ident },
}

/// A C type name in a translation. MIG takes a single identifier; Apple and OSF files also write
/// pointer types (`foo_t *`), kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CTypeName {
    pub text: String,
    pub span: Span,
}

/// An integer expression (sizes, bounds, bases, skip counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ExprKind {
    Number(u64),
    /// A name where a number was expected (left to the IR to diagnose or resolve).
    Name(String),
    Neg(Box<Expr>),
    Binary(Box<Expr>, BinOp, Box<Expr>),
    /// Left by error recovery.
    Invalid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl Expr {
    /// Evaluates with wrapping-free checked arithmetic; `None` on names, overflow or division by zero.
    pub fn eval(&self) -> Option<i128> {
        match &self.kind {
            ExprKind::Number(n) => Some(*n as i128),
            ExprKind::Name(_) | ExprKind::Invalid => None,
            ExprKind::Neg(e) => e.eval().map(|v| -v),
            ExprKind::Binary(a, op, b) => {
                let (a, b) = (a.eval()?, b.eval()?);
                match op {
                    BinOp::Add => a.checked_add(b),
                    BinOp::Sub => a.checked_sub(b),
                    BinOp::Mul => a.checked_mul(b),
                    BinOp::Div => a.checked_div(b),
                }
            }
        }
    }
}
