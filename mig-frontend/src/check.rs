//! Dialect checks on a parsed tree: constructs of another MIG family, and constructs that are
//! accepted but have no effect. The grammar accepts every family's forms; this pass says which
//! ones the selected dialect would not understand. Everything here is a warning.

use crate::ast::*;
use crate::diagnostics::UnitDiagnostic;
use crate::dialect::Dialect;
use crate::source::Span;

/// Warns about constructs that `dialect` does not have or ignores.
pub fn check_dialect(file: &File, dialect: Dialect) -> Vec<UnitDiagnostic> {
    let mut c = Checker {
        dialect,
        out: Vec::new(),
    };
    for st in &file.statements {
        c.statement(st);
    }
    c.out
}

struct Checker {
    dialect: Dialect,
    out: Vec<UnitDiagnostic>,
}

impl Checker {
    /// Warns when `what`, known to `families`, is used under a dialect not among them.
    fn foreign(&mut self, what: &str, families: &[Dialect], span: Span) {
        if families.contains(&self.dialect) {
            return;
        }
        let owners: Vec<&str> = families.iter().map(|d| d.title()).collect();
        self.out.push(
            UnitDiagnostic::warning(
                format!(
                    "{what} is a construct of {}, not of {}",
                    owners.join(" and "),
                    self.dialect.title()
                ),
                span,
                format!("{} does not accept this", self.dialect.title()),
            )
            .with_note(format!(
                "select the dialect with `--dialect {}` if this file is written for it",
                families[0].name()
            )),
        );
    }

    fn statement(&mut self, st: &Statement) {
        use Dialect::*;
        match &st.kind {
            StatementKind::Skip { count: Some(e) } => {
                self.foreign("`skip N`", &[Gnu], e.span);
            }
            StatementKind::Import { kind, .. } => match kind.node {
                ImportKind::DImport => self.foreign("`dimport`", &[Apple], kind.span),
                ImportKind::IImport => self.foreign("`iimport`", &[Apple], kind.span),
                _ => {}
            },
            StatementKind::SendTime(w) => self.foreign("`sendtime`", &[Apple], w.span.to(st.span)),
            StatementKind::NoSendTime => self.foreign("`nosendtime`", &[Apple], st.span),
            StatementKind::Error(n) => {
                self.foreign("the `error` statement", &[Apple, Osf, Cmu], n.span)
            }
            StatementKind::UseSpecialReplyPort(_) => {
                self.foreign("`UseSpecialReplyPort`", &[Apple], st.span)
            }
            StatementKind::ConsumeOnSendError(_) => {
                self.foreign("`ConsumeOnSendError`", &[Apple], st.span)
            }
            StatementKind::UserTypeLimit(_) => self.foreign("`UserTypeLimit`", &[Apple], st.span),
            StatementKind::OnStackLimit(_) => self.foreign("`OnStackLimit`", &[Apple], st.span),
            StatementKind::Routine(r) => self.routine(r),
            StatementKind::Type(t) => {
                if let Some(spec) = &t.spec {
                    self.type_spec(spec);
                }
                for tr in &t.translations {
                    self.translation(tr);
                }
            }
            _ => {}
        }
    }

    fn routine(&mut self, r: &Routine) {
        use Dialect::*;
        match r.kind.node {
            RoutineKind::Procedure => self.foreign("`procedure`", &[Cmu], r.kind.span),
            RoutineKind::SimpleProcedure => self.foreign("`simpleprocedure`", &[Cmu], r.kind.span),
            RoutineKind::Function => self.foreign("`function`", &[Cmu], r.kind.span),
            RoutineKind::Routine | RoutineKind::SimpleRoutine => {}
        }
        if let Some(t) = &r.returns {
            self.type_spec(t);
        }
        for arg in &r.args {
            if let Some(d) = &arg.direction {
                let name = format!("the `{}` direction", direction_word(d.node));
                self.foreign(&name, d.node.dialects(), d.span);
            }
            if let Some(t) = &arg.ty {
                self.type_spec(t);
            }
            self.flags(&arg.flags);
        }
    }

    fn flags(&mut self, flags: &[Spanned<ArgFlag>]) {
        for f in flags {
            if f.node == ArgFlag::RetCode && self.dialect == Dialect::Gnu {
                self.out.push(
                    UnitDiagnostic::warning(
                        "`retcode` is accepted and ignored",
                        f.span,
                        "this flag has no effect",
                    )
                    .with_note(
                        "GNU MIG ignores `retcode`; the routine's return code is always its result",
                    ),
                );
                continue;
            }
            self.foreign(
                &format!("the `{}` flag", flag_word(f.node)),
                f.node.dialects(),
                f.span,
            );
        }
    }

    fn type_spec(&mut self, t: &TypeSpec) {
        use Dialect::*;
        match &t.kind {
            TypeSpecKind::Named(_) | TypeSpecKind::Polymorphic => {}
            TypeSpecKind::Ipc { name, flags, .. } => {
                let atoms: Vec<&IpcTypeAtom> = match name {
                    IpcTypeName::Single(a) => vec![a],
                    IpcTypeName::Pair(a, b) => vec![a, b],
                };
                for a in atoms {
                    if let IpcTypeAtom::Symbolic(id) = a {
                        match id.name.as_str() {
                            "MACH_MSG_TYPE_PROTECTED_PAYLOAD" => {
                                self.foreign("`MACH_MSG_TYPE_PROTECTED_PAYLOAD`", &[Gnu], id.span)
                            }
                            "MACH_MSG_TYPE_REAL_32" | "MACH_MSG_TYPE_REAL_64" => {
                                self.foreign(&format!("`{}`", id.name), &[Apple], id.span)
                            }
                            _ => {}
                        }
                    }
                }
                self.flags(flags);
            }
            TypeSpecKind::Array { element, .. } | TypeSpecKind::StructArray { element, .. } => {
                self.type_spec(element)
            }
            TypeSpecKind::Struct { fields } => {
                self.foreign("`struct { ... }`", &[Gnu], t.span);
                for f in fields {
                    self.type_spec(&f.ty);
                }
            }
            TypeSpecKind::CString { .. } => {}
            TypeSpecKind::Pointer(e) => self.type_spec(e),
            TypeSpecKind::PointerTo(e) | TypeSpecKind::ValueOf(e) => {
                self.foreign("an Apple native type", &[Apple], t.span);
                self.type_spec(e);
            }
            TypeSpecKind::PointerToIfNot(a, b) => {
                self.foreign("an Apple native type", &[Apple], t.span);
                self.type_spec(a);
                self.type_spec(b);
            }
            TypeSpecKind::Inline {
                spec, translations, ..
            } => {
                self.type_spec(spec);
                for tr in translations {
                    self.translation(tr);
                }
            }
        }
    }

    fn translation(&mut self, tr: &Translation) {
        if let TranslationKind::InTranPayload { .. } = tr.kind {
            self.foreign("`intranpayload`", &[Dialect::Gnu], tr.span);
        }
    }
}

/// The keyword of a direction as the formatter writes it.
pub fn direction_word(d: Direction) -> &'static str {
    match d {
        Direction::In => "in",
        Direction::Out => "out",
        Direction::InOut => "inout",
        Direction::RequestPort => "requestport",
        Direction::ReplyPort => "replyport",
        Direction::SReplyPort => "sreplyport",
        Direction::UReplyPort => "ureplyport",
        Direction::WaitTime => "waittime",
        Direction::SendTime => "sendtime",
        Direction::MsgOption => "msgoption",
        Direction::MsgSeqno => "msgseqno",
        Direction::SecToken => "SecToken",
        Direction::ServerSecToken => "ServerSecToken",
        Direction::UserSecToken => "UserSecToken",
        Direction::AuditToken => "AuditToken",
        Direction::ServerAuditToken => "ServerAuditToken",
        Direction::UserAuditToken => "UserAuditToken",
        Direction::ServerContextToken => "ServerContextToken",
        Direction::UserImpl => "UserImpl",
        Direction::ServerImpl => "ServerImpl",
    }
}

/// The keyword of a flag as the formatter writes it.
pub fn flag_word(f: ArgFlag) -> &'static str {
    match f {
        ArgFlag::Dealloc => "dealloc",
        ArgFlag::NotDealloc => "notdealloc",
        ArgFlag::DeallocVariable => "dealloc[]",
        ArgFlag::ServerCopy => "servercopy",
        ArgFlag::CountInOut => "CountInOut",
        ArgFlag::IsLong => "IsLong",
        ArgFlag::IsNotLong => "IsNotLong",
        ArgFlag::RetCode => "retcode",
        ArgFlag::SameCount => "SameCount",
        ArgFlag::PhysicalCopy => "physicalcopy",
        ArgFlag::Overwrite => "overwrite",
        ArgFlag::Auto => "auto",
        ArgFlag::Const => "const",
    }
}
