//! Type resolution: a `TypeSpec` of the syntax tree to a [`Type`] in the module's arena.
//!
//! Observed GNU MIG rules (see `docs/wire-format-gnu.md`): `array[N]` is inline and fixed,
//! `array[*:N]` inline and variable, `array[]` and `array[*]` dynamic (inline up to the
//! target's limit, else out of line), `^array[]` out of line; `c_string[N]` is one
//! `MACH_MSG_TYPE_STRING_C` of `8*N` bits, `c_string[*:N]` up to N one-byte elements; a
//! `struct { ... }` is laid out like C and sent as integers of its largest alignment.

use mig_frontend::ast::{
    self, ArrayBound, Expr, IpcTypeAtom, IpcTypeName, TranslationKind, TypeSpec, TypeSpecKind,
};
use mig_frontend::diagnostics::UnitDiagnostic;
use mig_frontend::source::Span;

use super::Lowerer;
use crate::ir::{
    CNames, Count, Dealloc, MsgTypeName, Storage, TranslationFn, Type, TypeHandle, TypeOrigin,
};

/// Largest array bound accepted: keeps every byte count within `u64` arithmetic and far beyond
/// anything a Mach message can carry.
const MAX_BOUND: i128 = u32::MAX as i128;

impl Lowerer {
    pub(super) fn add_type(&mut self, ty: Type) -> TypeHandle {
        self.types.push(ty);
        TypeHandle(self.types.len() as u32 - 1)
    }

    pub(super) fn ty(&self, h: TypeHandle) -> &Type {
        &self.types[h.index()]
    }

    /// Declares the predefined types with the target's C sizes.
    pub(super) fn predefine(&mut self) {
        let c = self.target.c;
        let defs = [
            ("char", "MACH_MSG_TYPE_CHAR", c.char),
            ("short", "MACH_MSG_TYPE_INTEGER_16", c.short),
            ("int", "MACH_MSG_TYPE_INTEGER_32", c.int),
            ("uintptr_t", integer_name(c.uintptr.size), c.uintptr),
            ("intptr_t", integer_name(c.uintptr.size), c.uintptr),
        ];
        for (name, ipc, sa) in defs {
            let mut t = self.scalar(ipc, sa.size * 8);
            t.name = Some(name.into());
            t.origin = TypeOrigin::Predefined;
            t.c = CNames::named(name);
            let h = self.add_type(t);
            self.scope.insert(name.into(), (h, None));
        }
    }

    /// An inline scalar of a symbolic IPC type.
    pub(super) fn scalar(&self, symbol: &str, bits: u32) -> Type {
        let n = self.msg_name(symbol);
        let bytes = bits.div_ceil(8).max(1);
        Type {
            name: None,
            origin: TypeOrigin::Anonymous,
            name_in: n.clone(),
            name_out: n,
            size_bits: bits,
            element_number: 1,
            count: Count::Fixed(1),
            storage: Storage::Inline,
            string: false,
            port: false,
            polymorphic: false,
            dealloc: Dealloc::Default,
            element: None,
            c_struct: false,
            c_size: bytes,
            c_align: natural_align(bytes, self.target.c.long.align),
            c: CNames::default(),
        }
    }

    fn msg_name(&self, symbol: &str) -> MsgTypeName {
        MsgTypeName {
            symbol: Some(symbol.into()),
            value: self.target.msg_type_value(symbol).unwrap_or(u32::MAX),
        }
    }

    /// Resolves a spec. `name` is set for declarations (`type NAME = spec`, `arg : NAME = spec`).
    pub(super) fn resolve(
        &mut self,
        spec: &TypeSpec,
        name: Option<&str>,
        origin: TypeOrigin,
    ) -> Option<TypeHandle> {
        let mut t = self.resolve_spec(spec)?;
        t.origin = origin;
        if let Some(name) = name {
            t.name = Some(name.into());
            t.c = CNames::named(name);
        }
        Some(self.add_type(t))
    }

    fn resolve_spec(&mut self, spec: &TypeSpec) -> Option<Type> {
        match &spec.kind {
            TypeSpecKind::Named(id) => match self.scope.get(&id.name) {
                Some(&(h, _)) => Some(self.ty(h).clone()),
                None => {
                    self.diags.push(
                        UnitDiagnostic::error(
                            format!("undefined type `{}`", id.name),
                            id.span,
                            "not declared before this use",
                        )
                        .with_note("types must be declared with `type` before they are used"),
                    );
                    None
                }
            },
            TypeSpecKind::Ipc { name, size, flags } => {
                self.ipc(spec.span, name, size.as_ref(), flags)
            }
            TypeSpecKind::Array { bound, element } => self.array(spec.span, bound, element),
            TypeSpecKind::StructArray { count, element } => {
                let n = self.bound(count, "struct count")?;
                let mut t = self.fixed_array(spec.span, n, element)?;
                t.c_struct = true;
                Some(t)
            }
            TypeSpecKind::Struct { fields } => self.structure(spec.span, fields),
            TypeSpecKind::CString { bound } => self.c_string(spec.span, bound),
            TypeSpecKind::Pointer(inner) => self.pointer(spec.span, inner),
            TypeSpecKind::Polymorphic => {
                let mut t = self.scalar("MACH_MSG_TYPE_POLYMORPHIC", 32);
                t.port = true;
                t.polymorphic = true;
                t.c_size = self.target.port_name.size;
                t.c_align = self.target.port_name.align;
                Some(t)
            }
            TypeSpecKind::PointerTo(_)
            | TypeSpecKind::PointerToIfNot(..)
            | TypeSpecKind::ValueOf(_) => {
                self.diags.push(UnitDiagnostic::error(
                    "Apple native types are not supported by the GNU wire format",
                    spec.span,
                    "`PointerTo`, `PointerToIfNot` and `ValueOf` have no GNU equivalent",
                ));
                None
            }
            TypeSpecKind::Inline {
                name,
                spec: inner,
                translations,
            } => {
                let mut t = self.resolve_spec(inner)?;
                t.name = Some(name.name.clone());
                t.origin = TypeOrigin::ArgumentInline;
                t.c = CNames::named(&name.name);
                self.translate(&mut t, translations);
                Some(t)
            }
        }
    }

    /// Evaluates a bound or size: a non-negative integer up to [`MAX_BOUND`].
    pub(super) fn bound(&mut self, e: &Expr, what: &str) -> Option<u32> {
        match e.eval() {
            Some(v) if (0..=MAX_BOUND).contains(&v) => Some(v as u32),
            Some(v) => {
                self.diags.push(UnitDiagnostic::error(
                    format!("{what} out of range"),
                    e.span,
                    format!("evaluates to {v}; expected 0 to {MAX_BOUND}"),
                ));
                None
            }
            None => {
                let why = match &e.kind {
                    ast::ExprKind::Name(n) => format!("`{n}` is not a number"),
                    _ => "not a constant integer (overflow or division by zero)".into(),
                };
                self.diags.push(UnitDiagnostic::error(
                    format!("invalid {what}"),
                    e.span,
                    why,
                ));
                None
            }
        }
    }

    fn atom(&mut self, atom: &IpcTypeAtom) -> Option<(MsgTypeName, Option<u32>, Span)> {
        match atom {
            IpcTypeAtom::Symbolic(id) => match self.target.msg_type_value(&id.name) {
                Some(value) => Some((
                    MsgTypeName {
                        symbol: Some(id.name.clone()),
                        value,
                    },
                    self.target.default_size_bits(&id.name),
                    id.span,
                )),
                None => {
                    self.diags.push(
                        UnitDiagnostic::error(
                            format!("unknown IPC type name `{}`", id.name),
                            id.span,
                            format!(
                                "not a `MACH_MSG_TYPE_*` name of target {}",
                                self.target.name
                            ),
                        )
                        .with_note("IPC type names are case-sensitive"),
                    );
                    None
                }
            },
            IpcTypeAtom::Number(n) => match u8::try_from(n.node) {
                Ok(v) => Some((
                    MsgTypeName {
                        symbol: None,
                        value: v as u32,
                    },
                    None,
                    n.span,
                )),
                Err(_) => {
                    self.diags.push(UnitDiagnostic::error(
                        "IPC type number out of range",
                        n.span,
                        "`msgt_name` is 8 bits: 0 to 255",
                    ));
                    None
                }
            },
            IpcTypeAtom::Polymorphic(span) => Some((
                self.msg_name("MACH_MSG_TYPE_POLYMORPHIC"),
                self.target.default_size_bits("MACH_MSG_TYPE_POLYMORPHIC"),
                *span,
            )),
        }
    }

    fn ipc(
        &mut self,
        span: Span,
        name: &IpcTypeName,
        size: Option<&Expr>,
        flags: &[ast::Spanned<ast::ArgFlag>],
    ) -> Option<Type> {
        let (name_in, name_out, default_size) = match name {
            IpcTypeName::Single(a) => {
                let (n, size, _) = self.atom(a)?;
                // GNU MIG: a received-right name (`MACH_MSG_TYPE_PORT_SEND`...) as a type is
                // polymorphic for the sender and that right for the receiver (observed).
                if matches!(
                    n.symbol.as_deref(),
                    Some(
                        "MACH_MSG_TYPE_PORT_SEND"
                            | "MACH_MSG_TYPE_PORT_SEND_ONCE"
                            | "MACH_MSG_TYPE_PORT_RECEIVE"
                    )
                ) {
                    (self.msg_name("MACH_MSG_TYPE_POLYMORPHIC"), n, size)
                } else {
                    let out = n
                        .symbol
                        .as_deref()
                        .and_then(|s| self.target.received_disposition(s))
                        .map(|s| self.msg_name(s))
                        .unwrap_or_else(|| n.clone());
                    (n, out, size)
                }
            }
            IpcTypeName::Pair(a, b) => {
                let (na, sa, spa) = self.atom(a)?;
                let (nb, sb, spb) = self.atom(b)?;
                let size = match (sa, sb, na.is_polymorphic(), nb.is_polymorphic()) {
                    (_, s, true, false) => s,
                    (s, _, false, true) => s,
                    (Some(x), Some(y), _, _) if x != y && size.is_none() => {
                        self.diags.push(
                            UnitDiagnostic::error(
                                "size mismatch in IPC type pair",
                                spa.to(spb),
                                format!("{x} bits on the left, {y} bits on the right"),
                            )
                            .with_note("both sides of `A | B` must have the same size"),
                        );
                        return None;
                    }
                    (x, _, _, _) => x,
                };
                (na, nb, size)
            }
        };
        let size_bits = match size {
            Some(e) => self.bound(e, "IPC type size")?,
            None => match default_size {
                Some(s) => s,
                None => {
                    self.diags.push(UnitDiagnostic::error(
                        "IPC type needs an explicit size",
                        span,
                        "write `(TYPE, SIZE-IN-BITS)`",
                    ));
                    return None;
                }
            },
        };
        let port = self.target.is_port_right(name_in.value)
            || self.target.is_port_right(name_out.value)
            || name_in.is_polymorphic()
            || name_out.is_polymorphic();
        let polymorphic = name_in.is_polymorphic() || name_out.is_polymorphic();
        let string = name_in
            .symbol
            .as_deref()
            .is_some_and(|s| s.starts_with("MACH_MSG_TYPE_STRING"));
        let bytes = if port {
            self.target.port_name.size
        } else {
            size_bits.div_ceil(8).max(1)
        };
        let mut dealloc = Dealloc::Default;
        for f in flags {
            match f.node {
                ast::ArgFlag::Dealloc => dealloc = Dealloc::Always,
                ast::ArgFlag::NotDealloc => dealloc = Dealloc::Never,
                ast::ArgFlag::DeallocVariable => dealloc = Dealloc::Variable,
                _ => self.diags.push(UnitDiagnostic::warning(
                    "flag has no effect on an IPC type",
                    f.span,
                    "only `dealloc`, `notdealloc` and `dealloc[]` apply here",
                )),
            }
        }
        Some(Type {
            name: None,
            origin: TypeOrigin::Anonymous,
            name_in,
            name_out,
            size_bits,
            element_number: 1,
            count: Count::Fixed(1),
            storage: Storage::Inline,
            string,
            port,
            polymorphic,
            dealloc,
            element: None,
            c_struct: false,
            c_size: bytes,
            c_align: natural_align(bytes, self.target.c.long.align),
            c: CNames::default(),
        })
    }

    /// Resolves an element type that must be fixed and inline; returns it and its handle.
    fn element(&mut self, outer: Span, spec: &TypeSpec) -> Option<(Type, TypeHandle)> {
        let t = self.resolve_spec(spec)?;
        if t.storage != Storage::Inline || t.is_variable() || t.string && t.count != Count::Fixed(1)
        {
            self.diags.push(
                UnitDiagnostic::error(
                    "array element must have a fixed inline size",
                    spec.span,
                    "this type is variable-sized or out-of-line",
                )
                .with_secondary(outer, "in this array"),
            );
            return None;
        }
        let h = self.add_type(Type {
            origin: TypeOrigin::Anonymous,
            ..t.clone()
        });
        Some((t, h))
    }

    /// Makes the array type whose C element is `elem`: the element's wire elements are folded
    /// into `element_number`.
    fn array_of(&self, elem: &Type, h: TypeHandle, count: Count, storage: Storage) -> Type {
        let per = match elem.count {
            Count::Fixed(n) => n,
            Count::Variable { .. } => 1,
        };
        let c_size = elem.c_size.saturating_mul(per);
        Type {
            name: None,
            origin: TypeOrigin::Anonymous,
            element_number: elem.element_number.saturating_mul(per),
            count,
            storage,
            dealloc: elem.dealloc,
            element: Some(h),
            c_struct: false,
            c_size,
            c: CNames {
                user: elem.c.user.clone(),
                server: elem.c.server.clone(),
                ..CNames::default()
            },
            ..elem.clone()
        }
    }

    fn fixed_array(&mut self, span: Span, n: u32, element: &TypeSpec) -> Option<Type> {
        let (elem, h) = self.element(span, element)?;
        if n == 0 {
            self.diags.push(UnitDiagnostic::warning(
                "array of zero elements",
                span,
                "this array carries no data",
            ));
        }
        Some(self.array_of(&elem, h, Count::Fixed(n), Storage::Inline))
    }

    fn array(&mut self, span: Span, bound: &ArrayBound, element: &TypeSpec) -> Option<Type> {
        match bound {
            ArrayBound::Fixed(e) => {
                let n = self.bound(e, "array bound")?;
                self.fixed_array(span, n, element)
            }
            ArrayBound::Max(e) => {
                let n = self.bound(e, "array bound")?;
                let (elem, h) = self.element(span, element)?;
                Some(self.array_of(&elem, h, Count::Variable { max: Some(n) }, Storage::Inline))
            }
            ArrayBound::Unbounded | ArrayBound::Star => {
                let (elem, h) = self.element(span, element)?;
                Some(self.array_of(&elem, h, Count::Variable { max: None }, Storage::Dynamic))
            }
        }
    }

    fn pointer(&mut self, span: Span, inner: &TypeSpec) -> Option<Type> {
        let mut t = self.resolve_spec(inner)?;
        match (t.storage, t.count) {
            (Storage::OutOfLine, _) => {
                self.diags.push(UnitDiagnostic::error(
                    "out-of-line type cannot be made out-of-line again",
                    span,
                    "`^` applied to a type that is already out-of-line",
                ));
                return None;
            }
            (Storage::Inline, Count::Variable { max: Some(_) }) => {
                self.diags.push(
                    UnitDiagnostic::error(
                        "out-of-line arrays cannot have a maximum",
                        span,
                        "`^array[*:N]` is not a GNU MIG type",
                    )
                    .with_note("write `^array[] of T` (unbounded) or `array[*:N] of T` (inline)"),
                );
                return None;
            }
            _ => {}
        }
        if t.polymorphic {
            self.diags.push(UnitDiagnostic::error(
                "polymorphic data cannot be out-of-line",
                span,
                "the disposition of out-of-line data cannot be chosen at run time",
            ));
            return None;
        }
        if t.string {
            self.diags.push(UnitDiagnostic::error(
                "strings cannot be out-of-line",
                span,
                "`^` applied to a string type",
            ));
            return None;
        }
        t.storage = Storage::OutOfLine;
        Some(t)
    }

    fn c_string(&mut self, span: Span, bound: &ArrayBound) -> Option<Type> {
        let (count, bits) = match bound {
            // GNU MIG sends `c_string[N]` as N one-byte `STRING_C` elements (observed:
            // `msgt_size` 8, `msgt_number` N), like `c_string[*:N]` at its maximum.
            ArrayBound::Fixed(e) => (Count::Fixed(self.bound(e, "string length")?), 8),
            ArrayBound::Max(e) => (
                Count::Variable {
                    max: Some(self.bound(e, "string length")?),
                },
                8,
            ),
            ArrayBound::Unbounded | ArrayBound::Star => {
                self.diags.push(UnitDiagnostic::error(
                    "c_string needs a length",
                    span,
                    "write `c_string[N]` or `c_string[*:N]`",
                ));
                return None;
            }
        };
        let mut t = self.scalar("MACH_MSG_TYPE_STRING_C", bits);
        t.string = true;
        t.count = count;
        t.c_size = (bits / 8).max(1);
        t.c_align = 1;
        Some(t)
    }

    /// GNU `struct { T1 f1; ... }`: C layout, sent as integers of the largest field alignment.
    fn structure(&mut self, span: Span, fields: &[ast::StructField]) -> Option<Type> {
        let overflow = |l: &mut Self| {
            l.diags.push(UnitDiagnostic::error(
                "struct too large",
                span,
                "its size does not fit 32 bits",
            ))
        };
        let mut offset: u32 = 0;
        let mut align: u32 = 1;
        let mut ok = true;
        for f in fields {
            let Some((t, _)) = self.element(span, &f.ty) else {
                ok = false;
                continue;
            };
            if t.port {
                self.diags.push(UnitDiagnostic::error(
                    "struct fields cannot be ports",
                    f.ty.span,
                    "port rights need their own argument",
                ));
                ok = false;
                continue;
            }
            let per = match t.count {
                Count::Fixed(n) => n,
                Count::Variable { .. } => 1,
            };
            let a = t.c_align.max(1);
            let next = offset
                .checked_next_multiple_of(a)
                .and_then(|o| o.checked_add(t.c_size.checked_mul(per)?));
            match next {
                Some(n) => offset = n,
                None => {
                    overflow(self);
                    return None;
                }
            }
            align = align.max(a);
        }
        if !ok {
            return None;
        }
        if fields.is_empty() {
            self.diags.push(UnitDiagnostic::error(
                "empty struct",
                span,
                "a struct needs at least one field",
            ));
            return None;
        }
        let Some(size) = offset.checked_next_multiple_of(align) else {
            overflow(self);
            return None;
        };
        let mut t = self.scalar(integer_name(align), align * 8);
        t.element_number = size / align;
        t.c_size = size;
        t.c_align = align;
        Some(t)
    }

    /// Applies `ctype`, `cusertype`, `cservertype` and the translation functions.
    pub(super) fn translate(&mut self, t: &mut Type, translations: &[ast::Translation]) {
        for tr in translations {
            match &tr.kind {
                TranslationKind::CType(c) => {
                    t.c.user = c.text.clone();
                    t.c.server = c.text.clone();
                }
                TranslationKind::CUserType(c) => t.c.user = c.text.clone(),
                TranslationKind::CServerType(c) => t.c.server = c.text.clone(),
                TranslationKind::InTran { to, function, from } => {
                    t.c.server = to.text.clone();
                    t.c.in_tran = Some(TranslationFn {
                        function: function.name.clone(),
                        to: to.text.clone(),
                        from: from.text.clone(),
                    });
                }
                TranslationKind::OutTran { to, function, from } => {
                    t.c.server = from.text.clone();
                    t.c.out_tran = Some(TranslationFn {
                        function: function.name.clone(),
                        to: to.text.clone(),
                        from: from.text.clone(),
                    });
                }
                TranslationKind::Destructor { function, .. } => {
                    t.c.destructor = Some(function.name.clone());
                }
                TranslationKind::InTranPayload { to, function } => {
                    t.c.in_tran_payload = Some(TranslationFn {
                        function: function.name.clone(),
                        to: to.text.clone(),
                        from: String::new(),
                    });
                }
            }
        }
    }
}

impl CNames {
    pub(crate) fn named(name: &str) -> CNames {
        CNames {
            user: name.into(),
            server: name.into(),
            ..CNames::default()
        }
    }
}

/// `MACH_MSG_TYPE_INTEGER_<8*bytes>` for 1, 2, 4 or 8 bytes.
fn integer_name(bytes: u32) -> &'static str {
    match bytes {
        1 => "MACH_MSG_TYPE_INTEGER_8",
        2 => "MACH_MSG_TYPE_INTEGER_16",
        8 => "MACH_MSG_TYPE_INTEGER_64",
        _ => "MACH_MSG_TYPE_INTEGER_32",
    }
}

/// C alignment of a scalar of `bytes`: the largest power of two dividing it, capped.
fn natural_align(bytes: u32, cap: u32) -> u32 {
    let mut a = 1;
    while a < cap && bytes.is_multiple_of(a * 2) {
        a *= 2;
    }
    a
}
