//! Routines and their arguments: directions, flags, implicit arguments, and the checks that
//! make a routine sendable (a request port, ports where ports are needed, no reply data in a
//! simple routine).

use std::collections::HashMap;

use mig_frontend::ast::{self, ArgFlag, Direction, RoutineKind as AstKind, TypeSpecKind};
use mig_frontend::diagnostics::UnitDiagnostic;
use mig_frontend::source::Span;

use super::{Lowerer, PendingRoutine};
use crate::ir::{
    Argument, ArgumentKind, Count, Dealloc, Routine, RoutineKind, Storage, TypeHandle, TypeOrigin,
};

/// An argument being lowered, with the spans its checks report at.
struct ArgDraft {
    arg: Argument,
    span: Span,
    name_span: Span,
    flags: Vec<ast::Spanned<ArgFlag>>,
}

impl Lowerer {
    pub(super) fn routine(&mut self, span: Span, r: &ast::Routine) {
        let kind = match r.kind.node {
            AstKind::Routine => RoutineKind::Routine,
            AstKind::SimpleRoutine => RoutineKind::SimpleRoutine,
            AstKind::Procedure | AstKind::SimpleProcedure | AstKind::Function => {
                self.diags.push(
                    UnitDiagnostic::error(
                        "CMU routine forms are not supported by the GNU wire format",
                        r.kind.span,
                        "`procedure`, `simpleprocedure` and `function` have no GNU equivalent",
                    )
                    .with_note("write `routine` or `simpleroutine`"),
                );
                self.counter = self.counter.saturating_add(1);
                return;
            }
        };
        let number = self.counter;
        self.counter = self.counter.saturating_add(1);
        if let Some(&prev) = self.routine_names.get(&r.name.name) {
            self.diags.push(
                UnitDiagnostic::error(
                    format!("routine `{}` declared twice", r.name.name),
                    r.name.span,
                    "a second routine with this name",
                )
                .with_secondary(prev, "first declared here")
                .with_note("the generated C functions would have the same name"),
            );
            return;
        }
        self.routine_names.insert(r.name.name.clone(), r.name.span);
        let Some(arguments) = self.arguments(kind, r) else {
            return;
        };
        let Ok(number) = u32::try_from(number) else {
            self.diags.push(UnitDiagnostic::error(
                "message id overflow",
                r.name.span,
                "too many routines and skipped ids",
            ));
            return;
        };
        self.routines.push(PendingRoutine {
            routine: Routine {
                name: r.name.name.clone(),
                kind,
                number,
                msgh_id: 0,
                reply_msgh_id: None,
                arguments,
                user_prefix: self.user_prefix.clone(),
                server_prefix: self.server_prefix.clone(),
                msg_option: self.msg_option.clone(),
                wait_time: self.wait_time.clone(),
            },
            span,
        });
    }

    /// Lowers the argument list; `None` when an error was reported.
    fn arguments(&mut self, kind: RoutineKind, r: &ast::Routine) -> Option<Vec<Argument>> {
        let errors_before = self.error_count();
        let explicit_request_port = r.args.iter().any(|a| {
            a.direction
                .as_ref()
                .is_some_and(|d| d.node == Direction::RequestPort)
        });
        let mut drafts: Vec<ArgDraft> = Vec::new();
        let mut names: HashMap<String, Span> = HashMap::new();
        for (i, a) in r.args.iter().enumerate() {
            let Some(spec) = &a.ty else { continue };
            let Some(ty) = self.argument_type(spec) else {
                continue;
            };
            let kind = match a.direction.clone() {
                None if i == 0 && !explicit_request_port => ArgumentKind::RequestPort,
                None => ArgumentKind::In,
                Some(d) => match self.direction(d) {
                    Some(k) => k,
                    None => continue,
                },
            };
            if let Some(&prev) = names.get(&a.name.name) {
                self.diags.push(
                    UnitDiagnostic::error(
                        format!("argument `{}` declared twice", a.name.name),
                        a.name.span,
                        "a second argument with this name",
                    )
                    .with_secondary(prev, "first declared here"),
                );
                continue;
            }
            names.insert(a.name.name.clone(), a.name.span);
            drafts.push(ArgDraft {
                arg: Argument {
                    name: a.name.name.clone(),
                    kind,
                    ty,
                    dealloc: Dealloc::Default,
                    server_copy: false,
                    count_in_out: false,
                    parent: None,
                    count: None,
                    poly: None,
                    dealloc_arg: None,
                    server_copy_arg: None,
                },
                span: a.span,
                name_span: a.name.span,
                flags: a.flags.clone(),
            });
        }
        for d in &mut drafts {
            self.flags(d);
        }
        self.check_ports(kind, r, &drafts);
        let args = self.with_implicit(drafts, &mut names);
        (self.error_count() == errors_before).then_some(args)
    }

    fn error_count(&self) -> usize {
        self.diags
            .iter()
            .filter(|d| d.severity >= codespan_reporting::diagnostic::Severity::Error)
            .count()
    }

    /// The type of an argument: a named type is used as is; anything else is a new type.
    fn argument_type(&mut self, spec: &ast::TypeSpec) -> Option<TypeHandle> {
        match &spec.kind {
            TypeSpecKind::Named(id) => match self.scope.get(&id.name) {
                Some(&(h, _)) => Some(h),
                None => self.resolve(spec, None, TypeOrigin::Anonymous),
            },
            TypeSpecKind::Inline { .. } => self.resolve(spec, None, TypeOrigin::ArgumentInline),
            _ => self.resolve(spec, None, TypeOrigin::Anonymous),
        }
    }

    fn direction(&mut self, d: ast::Spanned<Direction>) -> Option<ArgumentKind> {
        Some(match d.node {
            Direction::In => ArgumentKind::In,
            Direction::Out => ArgumentKind::Out,
            Direction::InOut => ArgumentKind::InOut,
            Direction::RequestPort => ArgumentKind::RequestPort,
            Direction::ReplyPort => ArgumentKind::ReplyPort,
            Direction::SReplyPort => ArgumentKind::SReplyPort,
            Direction::UReplyPort => ArgumentKind::UReplyPort,
            Direction::WaitTime => ArgumentKind::WaitTime,
            Direction::MsgOption => ArgumentKind::MsgOption,
            Direction::MsgSeqno => ArgumentKind::MsgSeqno,
            _ => {
                self.diags.push(UnitDiagnostic::error(
                    "argument direction not supported by the GNU wire format",
                    d.span,
                    "Apple and OSF directions have no GNU equivalent",
                ));
                return None;
            }
        })
    }

    /// Applies and checks the flags of one argument.
    fn flags(&mut self, d: &mut ArgDraft) {
        let ty = self.ty(d.arg.ty).clone();
        let mut dealloc_span: Option<Span> = None;
        for f in &d.flags {
            match f.node {
                ArgFlag::Dealloc | ArgFlag::NotDealloc | ArgFlag::DeallocVariable => {
                    if let Some(prev) = dealloc_span {
                        self.diags.push(
                            UnitDiagnostic::error(
                                "conflicting deallocation flags",
                                f.span,
                                "a second deallocation flag",
                            )
                            .with_secondary(prev, "first given here"),
                        );
                        continue;
                    }
                    dealloc_span = Some(f.span);
                    if ty.storage == Storage::Inline && !ty.port {
                        self.diags.push(UnitDiagnostic::warning(
                            format!("deallocation flag has no effect on `{}`", d.arg.name),
                            f.span,
                            "the argument is inline data",
                        ));
                        continue;
                    }
                    d.arg.dealloc = match f.node {
                        ArgFlag::Dealloc => Dealloc::Always,
                        ArgFlag::NotDealloc => Dealloc::Never,
                        _ => Dealloc::Variable,
                    };
                }
                ArgFlag::ServerCopy => {
                    if d.arg.kind.in_request() && ty.storage != Storage::Inline {
                        d.arg.server_copy = true;
                    } else {
                        self.diags.push(UnitDiagnostic::warning(
                            format!("`serverCopy` has no effect on `{}`", d.arg.name),
                            f.span,
                            "only request data that may travel out of line can be a server copy",
                        ));
                    }
                }
                ArgFlag::CountInOut => {
                    if d.arg.kind.in_reply() && ty.is_variable() && !ty.string {
                        d.arg.count_in_out = true;
                    } else {
                        self.diags.push(UnitDiagnostic::warning(
                            format!("`CountInOut` has no effect on `{}`", d.arg.name),
                            f.span,
                            "only variable arrays in the reply have a count to send in",
                        ));
                    }
                }
                ArgFlag::IsLong | ArgFlag::IsNotLong => self.diags.push(UnitDiagnostic::warning(
                    "descriptor form flag ignored",
                    f.span,
                    "the descriptor form follows from the type's size and count",
                )),
                // `retcode` and the Apple/OSF flags are reported by the front end's dialect
                // check; they do not change the wire format.
                ArgFlag::RetCode
                | ArgFlag::SameCount
                | ArgFlag::PhysicalCopy
                | ArgFlag::Overwrite
                | ArgFlag::Auto
                | ArgFlag::Const => {}
            }
        }
    }

    /// Request and reply ports must be ports; special arguments must be plain scalars; a
    /// simple routine has no reply data.
    fn check_ports(&mut self, kind: RoutineKind, r: &ast::Routine, drafts: &[ArgDraft]) {
        let request_ports: Vec<&ArgDraft> = drafts
            .iter()
            .filter(|d| d.arg.kind == ArgumentKind::RequestPort)
            .collect();
        match request_ports.as_slice() {
            [] => {
                if r.args.iter().all(|a| a.ty.is_some()) {
                    self.diags.push(
                        UnitDiagnostic::error(
                            format!("routine `{}` has no request port", r.name.name),
                            r.name.span,
                            "no argument to send the request to",
                        )
                        .with_note(
                            "the first argument is the request port unless one is marked `requestport`",
                        ),
                    );
                }
            }
            [_] => {}
            [first, rest @ ..] => {
                for d in rest {
                    self.diags.push(
                        UnitDiagnostic::error(
                            format!("multiple request ports in `{}`", r.name.name),
                            d.name_span,
                            "a second request port",
                        )
                        .with_secondary(first.name_span, "first request port"),
                    );
                }
            }
        }
        for d in drafts {
            let ty = self.ty(d.arg.ty);
            let is_port = ty.port && ty.count == Count::Fixed(1) && ty.storage == Storage::Inline;
            let scalar = !ty.port
                && ty.count == Count::Fixed(1)
                && ty.storage == Storage::Inline
                && !ty.string;
            let problem = match d.arg.kind {
                ArgumentKind::RequestPort if !is_port => Some(("request port", "a port")),
                ArgumentKind::ReplyPort | ArgumentKind::SReplyPort | ArgumentKind::UReplyPort
                    if !is_port =>
                {
                    Some(("reply port", "a port"))
                }
                ArgumentKind::WaitTime | ArgumentKind::MsgOption | ArgumentKind::MsgSeqno
                    if !scalar =>
                {
                    Some((
                        "special argument",
                        "a scalar integer (not a port, array or string)",
                    ))
                }
                ArgumentKind::Out | ArgumentKind::InOut if kind == RoutineKind::SimpleRoutine => {
                    self.diags.push(
                        UnitDiagnostic::error(
                            format!(
                                "simple routine `{}` cannot return `{}`",
                                r.name.name, d.arg.name
                            ),
                            d.span,
                            "a simple routine has no reply message",
                        )
                        .with_note("make it a `routine`, or make the argument `in`"),
                    );
                    None
                }
                // Observed: GNU MIG rejects these too ("Inline variable-sized arguments can't
                // be InOut"): the reply would have to carry the data back in a space whose
                // size the request already fixed. A rule of the language, for every back end.
                ArgumentKind::InOut
                    if matches!(ty.count, Count::Variable { .. })
                        && ty.storage != Storage::OutOfLine =>
                {
                    self.diags.push(
                        UnitDiagnostic::error(
                            format!(
                                "inline variable-sized argument `{}` cannot be `inout`",
                                d.arg.name
                            ),
                            d.span,
                            "variable-sized, and not out of line",
                        )
                        .with_note(
                            "use an `in` and an `out` argument, or an out-of-line array (`^array[] of ...`)",
                        ),
                    );
                    None
                }
                _ => None,
            };
            if let Some((what, must)) = problem {
                self.diags.push(UnitDiagnostic::error(
                    format!("{what} `{}` has the wrong type", d.arg.name),
                    d.span,
                    format!("must be {must}"),
                ));
            }
        }
    }

    /// Adds `<name>Cnt`, `<name>Poly`, `<name>Dealloc` and `<name>SCopy` after their argument.
    fn with_implicit(
        &mut self,
        drafts: Vec<ArgDraft>,
        names: &mut HashMap<String, Span>,
    ) -> Vec<Argument> {
        let it = self.implicit_types();
        let mut out: Vec<Argument> = Vec::new();
        for d in drafts {
            let ty = self.ty(d.arg.ty).clone();
            let data = matches!(
                d.arg.kind,
                ArgumentKind::In | ArgumentKind::Out | ArgumentKind::InOut
            );
            let parent = out.len();
            let arg_name = d.arg.name.clone();
            let dealloc = d.arg.dealloc;
            let server_copy = d.arg.server_copy;
            out.push(d.arg);
            let mut add = |l: &mut Self, out: &mut Vec<Argument>, suffix: &str, kind, ty| {
                let name = format!("{arg_name}{suffix}");
                if let Some(&prev) = names.get(&name) {
                    l.diags.push(
                        UnitDiagnostic::error(
                            format!("implicit argument `{name}` collides with an argument"),
                            d.name_span,
                            format!("`{arg_name}` implies an argument `{name}`"),
                        )
                        .with_secondary(prev, "an argument of that name"),
                    );
                    return None;
                }
                names.insert(name.clone(), d.name_span);
                out.push(Argument {
                    name,
                    kind,
                    ty,
                    dealloc: Dealloc::Default,
                    server_copy: false,
                    count_in_out: false,
                    parent: Some(parent),
                    count: None,
                    poly: None,
                    dealloc_arg: None,
                    server_copy_arg: None,
                });
                Some(out.len() - 1)
            };
            if data && ty.is_variable() && !ty.string {
                out[parent].count = add(self, &mut out, "Cnt", ArgumentKind::Count, it.count);
            }
            if ty.polymorphic {
                out[parent].poly = add(self, &mut out, "Poly", ArgumentKind::Poly, it.poly);
            }
            if dealloc == Dealloc::Variable {
                out[parent].dealloc_arg =
                    add(self, &mut out, "Dealloc", ArgumentKind::Dealloc, it.boolean);
            }
            if server_copy {
                out[parent].server_copy_arg = add(
                    self,
                    &mut out,
                    "SCopy",
                    ArgumentKind::ServerCopy,
                    it.boolean,
                );
            }
        }
        out
    }
}
