//! Lowering never panics: deterministic random syntax trees (a seeded generator, so failures
//! reproduce) are lowered for every target. Whatever the tree, either a module comes back (and
//! renders to JSON and `-list`, with sane layouts), or at least one error explains why not.

use codespan_reporting::diagnostic::Severity;
use mig_frontend::ast::*;
use mig_frontend::source::Span;
use mig_ir::target::TARGETS;

/// xorshift64*: small, deterministic, good enough to explore trees.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const NAMES: &[&str] = &[
    "a",
    "b",
    "t",
    "int",
    "char",
    "mach_port_t",
    "x",
    "xCnt",
    "poly",
    "s",
];
const IPC: &[&str] = &[
    "MACH_MSG_TYPE_INTEGER_32",
    "MACH_MSG_TYPE_INTEGER_64",
    "MACH_MSG_TYPE_COPY_SEND",
    "MACH_MSG_TYPE_MAKE_SEND_ONCE",
    "MACH_MSG_TYPE_PORT_NAME",
    "MACH_MSG_TYPE_STRING_C",
    "MACH_MSG_TYPE_BIT",
    "MACH_MSG_TYPE_POLYMORPHIC",
    "MACH_MSG_TYPE_NOPE",
];

fn span(r: &mut Rng) -> Span {
    let s = r.below(64) as usize;
    Span::new(s, s + r.below(8) as usize)
}

fn ident(r: &mut Rng) -> Ident {
    Ident {
        name: r.pick(NAMES).to_string(),
        span: span(r),
    }
}

fn expr(r: &mut Rng, depth: u32) -> Expr {
    let kind = match r.below(if depth > 2 { 3 } else { 6 }) {
        0 | 1 => ExprKind::Number(*r.pick(&[0, 1, 4, 255, 4096, u32::MAX as u64, u64::MAX])),
        2 => ExprKind::Name("N".into()),
        3 => ExprKind::Neg(Box::new(expr(r, depth + 1))),
        4 => ExprKind::Invalid,
        _ => ExprKind::Binary(
            Box::new(expr(r, depth + 1)),
            *r.pick(&[BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div]),
            Box::new(expr(r, depth + 1)),
        ),
    };
    Expr {
        kind,
        span: span(r),
    }
}

fn atom(r: &mut Rng) -> IpcTypeAtom {
    match r.below(6) {
        0 => IpcTypeAtom::Number(Spanned::new(r.below(300), span(r))),
        1 => IpcTypeAtom::Polymorphic(span(r)),
        _ => IpcTypeAtom::Symbolic(Ident {
            name: r.pick(IPC).to_string(),
            span: span(r),
        }),
    }
}

fn flag(r: &mut Rng) -> Spanned<ArgFlag> {
    use ArgFlag::*;
    let all = [
        Dealloc,
        NotDealloc,
        DeallocVariable,
        ServerCopy,
        CountInOut,
        IsLong,
        IsNotLong,
        RetCode,
        SameCount,
        PhysicalCopy,
        Overwrite,
        Auto,
        Const,
    ];
    Spanned::new(*r.pick(&all), span(r))
}

fn bound(r: &mut Rng) -> ArrayBound {
    match r.below(4) {
        0 => ArrayBound::Unbounded,
        1 => ArrayBound::Star,
        2 => ArrayBound::Fixed(expr(r, 0)),
        _ => ArrayBound::Max(expr(r, 0)),
    }
}

fn spec(r: &mut Rng, depth: u32) -> TypeSpec {
    let leaf = depth > 3;
    let kind = match r.below(if leaf { 3 } else { 13 }) {
        0 | 1 => TypeSpecKind::Named(ident(r)),
        2 => TypeSpecKind::Ipc {
            name: if r.chance(30) {
                IpcTypeName::Pair(atom(r), atom(r))
            } else {
                IpcTypeName::Single(atom(r))
            },
            size: r.chance(40).then(|| expr(r, 0)),
            flags: (0..r.below(3)).map(|_| flag(r)).collect(),
        },
        3 | 4 => TypeSpecKind::Array {
            bound: bound(r),
            element: Box::new(spec(r, depth + 1)),
        },
        5 => TypeSpecKind::StructArray {
            count: expr(r, 0),
            element: Box::new(spec(r, depth + 1)),
        },
        6 => TypeSpecKind::Struct {
            fields: (0..r.below(4))
                .map(|_| StructField {
                    ty: spec(r, depth + 1),
                    name: ident(r),
                })
                .collect(),
        },
        7 => TypeSpecKind::CString { bound: bound(r) },
        8 => TypeSpecKind::Pointer(Box::new(spec(r, depth + 1))),
        9 => TypeSpecKind::Polymorphic,
        10 => TypeSpecKind::PointerTo(Box::new(spec(r, depth + 1))),
        11 => TypeSpecKind::ValueOf(Box::new(spec(r, depth + 1))),
        _ => TypeSpecKind::Inline {
            name: ident(r),
            spec: Box::new(spec(r, depth + 1)),
            translations: translations(r),
        },
    };
    TypeSpec {
        kind,
        span: span(r),
    }
}

fn ctype(r: &mut Rng) -> CTypeName {
    CTypeName {
        text: r.pick(NAMES).to_string(),
        span: span(r),
    }
}

fn translations(r: &mut Rng) -> Vec<Translation> {
    (0..r.below(3))
        .map(|_| {
            let kind = match r.below(4) {
                0 => TranslationKind::CType(ctype(r)),
                1 => TranslationKind::InTran {
                    to: ctype(r),
                    function: ident(r),
                    from: ctype(r),
                },
                2 => TranslationKind::Destructor {
                    function: ident(r),
                    of: ctype(r),
                },
                _ => TranslationKind::InTranPayload {
                    to: ctype(r),
                    function: ident(r),
                },
            };
            Translation {
                kind,
                span: span(r),
            }
        })
        .collect()
}

fn argument(r: &mut Rng) -> Argument {
    use Direction::*;
    let dirs = [
        In,
        Out,
        InOut,
        RequestPort,
        ReplyPort,
        SReplyPort,
        UReplyPort,
        WaitTime,
        MsgOption,
        MsgSeqno,
        SendTime,
        SecToken,
        UserImpl,
    ];
    Argument {
        direction: r.chance(50).then(|| Spanned::new(*r.pick(&dirs), span(r))),
        name: ident(r),
        ty: r.chance(95).then(|| spec(r, 0)),
        flags: (0..r.below(3)).map(|_| flag(r)).collect(),
        span: span(r),
    }
}

fn statement(r: &mut Rng) -> Statement {
    let kind = match r.below(12) {
        0 => StatementKind::Subsystem(Subsystem {
            modifiers: Vec::new(),
            name: ident(r),
            base: expr(r, 0),
        }),
        1..=4 => StatementKind::Routine(Routine {
            kind: Spanned::new(
                *r.pick(&[
                    RoutineKind::Routine,
                    RoutineKind::Routine,
                    RoutineKind::SimpleRoutine,
                    RoutineKind::Function,
                ]),
                span(r),
            ),
            name: ident(r),
            args: (0..r.below(6)).map(|_| argument(r)).collect(),
            returns: None,
        }),
        5 => StatementKind::Skip {
            count: r.chance(50).then(|| expr(r, 0)),
        },
        6..=8 => StatementKind::Type(TypeDecl {
            name: ident(r),
            spec: r.chance(95).then(|| spec(r, 0)),
            translations: translations(r),
        }),
        9 => StatementKind::MsgOption(Spanned::new("MACH_SEND_TIMEOUT".into(), span(r))),
        10 => StatementKind::UserTypeLimit(expr(r, 0)),
        _ => StatementKind::Invalid,
    };
    Statement {
        kind,
        span: span(r),
    }
}

#[test]
fn lowering_random_trees_never_panics() {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut modules, mut rejected) = (0, 0);
    for _ in 0..4000 {
        let mut file = File {
            statements: (0..r.below(12)).map(|_| statement(&mut r)).collect(),
        };
        if r.chance(70) {
            file.statements.insert(
                0,
                Statement {
                    kind: StatementKind::Subsystem(Subsystem {
                        modifiers: Vec::new(),
                        name: ident(&mut r),
                        base: Expr {
                            kind: ExprKind::Number(r.below(5000)),
                            span: Span::default(),
                        },
                    }),
                    span: Span::default(),
                },
            );
        }
        for target in TARGETS {
            let lowered = mig_ir::lower(&file, target);
            match &lowered.module {
                Some(v) => {
                    modules += 1;
                    assert!(v.to_json().contains("\"format_version\""));
                    let list = mig_ir::render_list(v);
                    assert_eq!(list.lines().count(), v.module().routines.len());
                    for (_, l) in v.routines() {
                        for m in std::iter::once(&l.request).chain(l.reply.as_ref()) {
                            assert!(m.fixed_size <= m.max_size);
                            assert!(m.fixed_size >= target.header_size);
                        }
                    }
                }
                None => {
                    rejected += 1;
                    assert!(
                        lowered
                            .diagnostics
                            .iter()
                            .any(|d| d.severity == Severity::Error),
                        "no module and no error for {file:#?}"
                    );
                }
            }
        }
    }
    println!("random trees: {modules} modules, {rejected} rejected with errors");
    assert!(
        modules > 100 && rejected > 100,
        "the generator explores both outcomes"
    );
}
