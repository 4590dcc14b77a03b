//! The parser: tokens to [`ast::File`], recovering after errors so that one run reports them all.
//!
//! The grammar lives in `grammar.lalrpop`; this module feeds it the significant tokens, turns
//! lalrpop's errors into diagnostics that say what was expected where, and suppresses the
//! cascade of follow-on errors that recovery produces inside one broken statement.

use lalrpop_util::{ErrorRecovery, ParseError};

use crate::ast::{self, IpcTypeAtom, IpcTypeName, TypeSpecKind};
use crate::diagnostics::UnitDiagnostic;
use crate::lexer::{self, Keyword, LexMode, Token, TokenKind};
use crate::source::Span;

lalrpop_util::lalrpop_mod!(
    #[allow(
        clippy::all,
        clippy::pedantic,
        unused_imports,
        unused_qualifications,
        missing_debug_implementations
    )]
    grammar
);

/// Syntax errors after which parsing stops (the rest of the input is not read).
pub const MAX_SYNTAX_ERRORS: usize = 100;

/// Errors collected while the grammar runs.
#[derive(Debug, Default)]
pub struct ParseErrors {
    pub(crate) recovered: Vec<ErrorRecovery<usize, TokenKind, ()>>,
    pub(crate) other: Vec<UnitDiagnostic>,
    /// Shared with the token feed, which ends the input once too many errors were recovered.
    count: std::rc::Rc<std::cell::Cell<usize>>,
}

impl ParseErrors {
    pub(crate) fn record(&mut self, e: ErrorRecovery<usize, TokenKind, ()>) {
        self.recovered.push(e);
        self.count.set(self.count.get() + 1);
    }
}

/// The result of parsing: the tree (always), its tokens, and every diagnostic.
#[derive(Debug, Clone)]
pub struct ParseResult {
    pub file: ast::File,
    /// All tokens, trivia included.
    pub tokens: Vec<Token>,
    pub diagnostics: Vec<UnitDiagnostic>,
}

/// Parses unit text (preprocessed) or raw source (`LexMode::Raw`: comments and directive lines
/// are skipped as trivia).
pub fn parse(text: &str, mode: LexMode) -> ParseResult {
    let (tokens, lex_errors) = lexer::lex(text, mode);
    let lex_error_count = lex_errors.len();
    let mut diagnostics: Vec<UnitDiagnostic> = lex_errors
        .into_iter()
        .take(MAX_SYNTAX_ERRORS)
        .map(|e| UnitDiagnostic::error(e.message, e.span, "here"))
        .collect();
    if lex_error_count > MAX_SYNTAX_ERRORS {
        let last = diagnostics.last().map_or(Span::default(), |d| d.primary.0);
        diagnostics.push(
            UnitDiagnostic::error(
                format!(
                    "{} more lexical errors not shown",
                    lex_error_count - MAX_SYNTAX_ERRORS
                ),
                last,
                "after this one",
            )
            .with_note("is this a .defs file?"),
        );
    }
    let significant: Vec<Token> = tokens
        .iter()
        .copied()
        .filter(|t| !t.kind.is_trivia() && t.kind != TokenKind::Error)
        .collect();
    let mut errors = ParseErrors::default();
    let count = errors.count.clone();
    let mut stopped_at = None;
    let input = significant
        .iter()
        .take_while(|t| {
            let go_on = count.get() < MAX_SYNTAX_ERRORS;
            if !go_on && stopped_at.is_none() {
                stopped_at = Some(t.span);
            }
            go_on
        })
        .map(|t| Ok::<_, ()>((t.span.start as usize, t.kind, t.span.end as usize)));
    let result = grammar::FileParser::new().parse(text, &mut errors, input);
    let file = match result {
        Ok(file) => file,
        Err(e) => {
            // Recovery failed at the outermost level (only at end of input): keep what we have.
            errors.recovered.push(ErrorRecovery {
                error: e,
                dropped_tokens: Vec::new(),
            });
            ast::File::default()
        }
    };
    let mut syntax = Vec::new();
    let mut quiet_until = 0usize;
    for rec in &errors.recovered {
        let (start, diag) = describe(text, &significant, &rec.error);
        if start < quiet_until {
            continue;
        }
        // Errors before the end of the statement that failed are consequences of the first.
        quiet_until = next_semicolon(&significant, start);
        syntax.push(diag);
    }
    diagnostics.extend(syntax);
    diagnostics.extend(errors.other);
    if let Some(span) = stopped_at {
        diagnostics.push(UnitDiagnostic::error(
            format!("too many syntax errors ({MAX_SYNTAX_ERRORS}); the rest of the input was not parsed"),
            span,
            "parsing stopped here",
        ));
    }
    diagnostics.sort_by_key(|d| d.primary.0.start);
    ParseResult {
        file,
        tokens,
        diagnostics,
    }
}

fn next_semicolon(tokens: &[Token], from: usize) -> usize {
    tokens
        .iter()
        .find(|t| t.span.start as usize >= from && t.kind == TokenKind::Semi)
        .map_or(usize::MAX, |t| t.span.end as usize)
}

/// Builds the diagnostic for one lalrpop error; returns its start offset too.
fn describe(
    text: &str,
    tokens: &[Token],
    error: &ParseError<usize, TokenKind, ()>,
) -> (usize, UnitDiagnostic) {
    match error {
        ParseError::UnrecognizedToken {
            token: (l, kind, r),
            expected,
        } => {
            let found = describe_token(text, *kind, *l, *r);
            let exp = describe_expected(expected);
            let context = statement_context(text, tokens, *l);
            let idx = tokens.partition_point(|t| (t.span.start as usize) < *l);
            if exp == "`;`" && idx > 0 {
                // A missing terminator: point just after the statement, where it belongs.
                let prev = tokens[idx - 1].span;
                let what = context
                    .as_ref()
                    .map_or("statement".to_string(), |(w, _)| w[3..].to_string());
                let d = UnitDiagnostic::error(
                    format!("expected `;` after {what}, found {found}"),
                    Span::new(prev.end as usize, prev.end as usize),
                    "add `;` here",
                )
                .with_secondary(Span::new(*l, *r), format!("{found} starts here"));
                return (*l, d);
            }
            let message = match &context {
                Some((what, _)) => format!("expected {exp} {what}, found {found}"),
                None => format!("expected {exp}, found {found}"),
            };
            let mut d =
                UnitDiagnostic::error(message, Span::new(*l, *r), format!("unexpected {found}"));
            if let Some((what, span)) = context {
                d = d.with_secondary(span, what.replace("in ", "").replace("after ", ""));
            }
            (*l, d)
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let exp = describe_expected(expected);
            let at = (*location).min(text.len());
            let context = statement_context(text, tokens, at);
            let message = match &context {
                Some((what, _)) => format!("expected {exp} {what}, found end of input"),
                None => format!("expected {exp}, found end of input"),
            };
            (
                at,
                UnitDiagnostic::error(message, Span::new(at, at), "input ends here"),
            )
        }
        ParseError::InvalidToken { location } => (
            *location,
            UnitDiagnostic::error("invalid token", Span::new(*location, *location + 1), "here"),
        ),
        ParseError::ExtraToken {
            token: (l, kind, r),
        } => {
            let found = describe_token(text, *kind, *l, *r);
            (
                *l,
                UnitDiagnostic::error(
                    format!("unexpected {found}"),
                    Span::new(*l, *r),
                    "not expected here",
                ),
            )
        }
        ParseError::User { .. } => (
            0,
            UnitDiagnostic::error("parse error", Span::new(0, 0), "here"),
        ),
    }
}

/// Names the statement an offset is in: ("in routine declaration", span of its first token).
/// Statements end at a `;` outside parentheses (inside, `;` separates arguments).
fn statement_context(text: &str, tokens: &[Token], at: usize) -> Option<(String, Span)> {
    let idx = tokens.partition_point(|t| (t.span.start as usize) < at);
    let mut start = 0;
    let mut depth = 0u32;
    for (i, t) in tokens[..idx].iter().enumerate() {
        match t.kind {
            TokenKind::LParen => depth += 1,
            TokenKind::RParen => depth = depth.saturating_sub(1),
            TokenKind::Semi if depth == 0 => start = i + 1,
            _ => {}
        }
    }
    let first = tokens.get(start).filter(|_| start < idx)?;
    let what = match first.kind {
        TokenKind::Keyword(kw) => match kw {
            Keyword::Routine
            | Keyword::SimpleRoutine
            | Keyword::Procedure
            | Keyword::SimpleProcedure
            | Keyword::Function => format!("{} declaration", kw.as_str()),
            Keyword::Type => "type declaration".to_string(),
            Keyword::Subsystem => "subsystem statement".to_string(),
            _ => format!("{} statement", &text[first.span.range()]),
        },
        _ => return None,
    };
    Some((format!("in {what}"), first.span))
}

fn describe_token(text: &str, kind: TokenKind, l: usize, r: usize) -> String {
    let slice = text.get(l..r).unwrap_or("");
    match kind {
        TokenKind::Ident => format!("identifier `{slice}`"),
        TokenKind::Number => format!("number `{slice}`"),
        TokenKind::String => "string".to_string(),
        TokenKind::Keyword(_) => format!("keyword `{slice}`"),
        _ => format!("`{slice}`"),
    }
}

/// Turns lalrpop's terminal names into a readable list: "`;`, `,` or identifier".
fn describe_expected(expected: &[String]) -> String {
    let mut names: Vec<String> = Vec::new();
    let mut keywords = 0;
    for e in expected {
        let e = e.trim_matches('"').replace("\\\"", "\"");
        let name = match e.as_str() {
            "ident" => "identifier".to_string(),
            "num" => "number".to_string(),
            "string" => "string".to_string(),
            "anglefile" => "`<file>`".to_string(),
            "word" => "word".to_string(),
            s if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) => {
                keywords += 1;
                format!("`{s}`")
            }
            s => format!("`{s}`"),
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    // Long keyword lists (every statement or direction) say little: summarise them.
    if keywords > 6 {
        names.retain(|n| {
            !n.starts_with('`') || !n[1..].starts_with(|c: char| c.is_ascii_alphabetic())
        });
        names.push("a keyword".to_string());
    }
    match names.len() {
        0 => "nothing more".to_string(),
        1 => names.remove(0),
        _ => {
            let last = names.pop().unwrap_or_default();
            format!("{} or {}", names.join(", "), last)
        }
    }
}

// ----- helpers called from grammar actions -----

pub(crate) fn text_of(text: &str, l: usize, r: usize) -> &str {
    text.get(l..r).unwrap_or("")
}

/// Parses a number token. MIG numbers are decimal (leading zeros included); `0x` hexadecimal is
/// accepted too. Bad numbers are diagnosed and read as 0.
pub(crate) fn number(text: &str, l: usize, r: usize, errors: &mut ParseErrors) -> u64 {
    let s = text_of(text, l, r);
    let parsed = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else {
        s.parse::<u64>().ok()
    };
    match parsed {
        Some(n) => n,
        None => {
            let too_big = s.bytes().all(|b| b.is_ascii_digit());
            let message = if too_big {
                format!("number `{s}` is too large")
            } else {
                format!("invalid number `{s}`")
            };
            errors
                .other
                .push(UnitDiagnostic::error(message, Span::new(l, r), "here"));
            0
        }
    }
}

/// The value of a string literal without quotes, with `\"` and `\\` unescaped.
pub(crate) fn string_value(lit: &str) -> String {
    let inner = lit
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(lit);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('"' | '\\')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A name in type position: `MACH_MSG_TYPE_*` names are IPC types, anything else a type name.
pub(crate) fn named_or_symbolic(n: ast::Ident) -> TypeSpecKind {
    if n.name.starts_with("MACH_MSG_TYPE_") {
        TypeSpecKind::Ipc {
            name: IpcTypeName::Single(IpcTypeAtom::Symbolic(n)),
            size: None,
            flags: Vec::new(),
        }
    } else {
        TypeSpecKind::Named(n)
    }
}
