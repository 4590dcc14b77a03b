//! The `.defs` formatter (`migc fmt`, and the language server's formatting): lays raw source out
//! again, keeping every comment and preprocessor line, without changing what the file means.
//!
//! # Style
//! - Every statement starts a line at column 0; at most one blank line is kept where the input
//!   had one or more.
//! - Routine arguments go one per line, indented by four spaces, with the direction, name and
//!   `:` in aligned columns (the layout of GNU Mach's own `.defs` files, with spaces):
//!   ```text
//!   routine task_create(
//!           target_task    : task_t;
//!           inherit_memory : boolean_t;
//!       out child_task     : task_t);
//!   ```
//! - The translations of a `type` declaration (`ctype:`, `intran:` ...) go on the following
//!   lines, indented by four spaces.
//! - Tokens inside a line are separated by single spaces, except around `( ) [ ] ; , ^` and
//!   inside brackets (`array[*:16]`).
//! - Keywords keep the case they were written in: MIG matches them case-insensitively, so
//!   normalising would be safe, but a formatter that only moves white space is easier to trust.
//!
//! # Why this never changes the meaning
//! The formatter works on the token stream of the raw source, not on the syntax tree, so it
//! can lay out files the parser cannot read alone (conditional statements, macro invocations,
//! syntax errors): it only changes the white space between tokens. Preprocessor lines stay
//! on lines of their own, verbatim; comments are copied verbatim, and a `//` comment always
//! ends its line; two tokens are only written without a space between them when they cannot
//! lex as one (`/` before `*` is always separated). A file with a lexical error (unterminated
//! comment or string, a stray character) is refused, not guessed at. Brackets are counted
//! through `#if` branches (each branch starts from the level before the `#if`), so a routine
//! whose name is chosen by `#ifdef` still ends at its `;`; unbalanced brackets only make the
//! layout plainer.
//! The corpus test (`migc/tests/fmt_corpus.rs`) checks idempotence and, by lowering both
//! versions, that the IR is unchanged.

use crate::lexer::{self, Keyword, LexMode, TokenKind};
use crate::source::Span;

/// Indentation of arguments, translations and continuation lines.
const INDENT: usize = 4;
/// The direction column is at least as wide as `out`, so that argument names line up across
/// routines with and without directions.
const MIN_DIRECTION_WIDTH: usize = 3;

/// Why a file was not formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    pub message: String,
    pub span: Span,
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Formats raw `.defs` source. The result ends with one newline (or is empty).
pub fn format(text: &str) -> Result<String, FormatError> {
    let items = items(text)?;
    let mut w = Writer::default();
    let mut i = 0;
    while i < items.len() {
        let it = &items[i];
        if it.kind.is_trivia() {
            w.loose(it, 0);
            i += 1;
            continue;
        }
        let end = statement_end(&items, i);
        statement(&mut w, &items[i..end]);
        i = end;
    }
    Ok(w.finish())
}

/// A token that is not white space, with the number of line breaks before it.
#[derive(Debug, Clone, Copy)]
struct Item<'a> {
    kind: TokenKind,
    text: &'a str,
    /// Newlines between the previous item and this one.
    breaks: u32,
    /// Bracket nesting the token sits at (a bracket and its match share a level).
    level: u32,
}

impl Item<'_> {
    fn is(&self, kind: TokenKind) -> bool {
        self.kind == kind
    }
    fn significant(&self) -> bool {
        !self.kind.is_trivia()
    }
    fn keyword(&self) -> Option<Keyword> {
        match self.kind {
            TokenKind::Keyword(k) => Some(k),
            _ => None,
        }
    }
    fn closes(&self) -> bool {
        matches!(
            self.kind,
            TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace
        )
    }
    fn is_line_comment(&self) -> bool {
        self.kind == TokenKind::Comment && self.text.starts_with("//")
    }
}

fn items(text: &str) -> Result<Vec<Item<'_>>, FormatError> {
    let (tokens, errors) = lexer::lex(text, LexMode::Raw);
    if let Some(e) = errors.first() {
        return Err(FormatError {
            message: format!("cannot format a file with a lexical error: {}", e.message),
            span: e.span,
        });
    }
    let mut out = Vec::new();
    let mut breaks = 0;
    let mut level = 0u32;
    // Bracket levels at each open `#if`: every branch starts from the level before it, so
    // brackets opened differently in two branches (a routine name chosen by `#ifdef`) count once.
    let mut conds: Vec<u32> = Vec::new();
    for t in tokens {
        let text = &text[t.span.range()];
        let at = match t.kind {
            TokenKind::Whitespace => continue,
            TokenKind::Newline => {
                breaks += 1;
                continue;
            }
            TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => {
                level += 1;
                level - 1
            }
            TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                level = level.saturating_sub(1);
                level
            }
            TokenKind::Directive => {
                match directive_name(text) {
                    "if" | "ifdef" | "ifndef" => conds.push(level),
                    "elif" | "else" => level = conds.last().copied().unwrap_or(level),
                    "endif" => {
                        conds.pop();
                    }
                    _ => {}
                }
                level
            }
            _ => level,
        };
        out.push(Item {
            kind: t.kind,
            text,
            breaks,
            level: at,
        });
        breaks = 0;
    }
    Ok(out)
}

/// `if` for `#  if X`.
fn directive_name(text: &str) -> &str {
    let rest = text.trim_start_matches('#').trim_start_matches([' ', '\t']);
    let end = rest
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    &rest[..end]
}

/// Keywords that begin a statement.
fn starts_statement(k: Keyword) -> bool {
    use Keyword::*;
    matches!(
        k,
        Subsystem
            | Routine
            | SimpleRoutine
            | Procedure
            | SimpleProcedure
            | Function
            | Skip
            | Type
            | Import
            | UImport
            | SImport
            | DImport
            | IImport
            | RcsId
            | MsgOption
            | WaitTime
            | NoWaitTime
            | SendTime
            | NoSendTime
            | ServerPrefix
            | UserPrefix
            | ServerDemux
            | Error
            | UseSpecialReplyPort
            | ConsumeOnSendError
            | UserTypeLimit
            | OnStackLimit
    )
}

fn is_translation(k: Keyword) -> bool {
    use Keyword::*;
    matches!(
        k,
        CType | CUserType | CServerType | InTran | OutTran | Destructor | InTranPayload
    )
}

/// Keywords written directly before their `[` or `(`: `array[]`, `PointerTo(T)`.
fn takes_brackets(k: Keyword) -> bool {
    use Keyword::*;
    matches!(
        k,
        Array | Struct | CString | PointerTo | PointerToIfNot | ValueOf
    )
}

fn is_routine_keyword(k: Keyword) -> bool {
    use Keyword::*;
    matches!(
        k,
        Routine | SimpleRoutine | Procedure | SimpleProcedure | Function
    )
}

/// The end (exclusive) of the statement starting at `start`: after its `;` at its own level
/// and the comments on the same line; or before a statement keyword that starts a line (the
/// previous text was a macro invocation or is missing its `;`); or at the end of input.
fn statement_end(items: &[Item], start: usize) -> usize {
    let base = items[start].level;
    let mut i = start;
    while i < items.len() {
        let it = &items[i];
        let top = it.level <= base;
        if i > start && top && it.breaks > 0 && it.keyword().is_some_and(starts_statement) {
            return i;
        }
        i += 1;
        if top && it.is(TokenKind::Semi) {
            while i < items.len() && items[i].is(TokenKind::Comment) && items[i].breaks == 0 {
                i += 1;
            }
            return i;
        }
    }
    i
}

fn statement(w: &mut Writer, items: &[Item]) {
    w.open(0, items[0].breaks >= 2);
    match items[0].keyword() {
        Some(k) if is_routine_keyword(k) => {
            if !routine(w, items) {
                run(w, items, INDENT, &|_, _| false);
            }
        }
        Some(Keyword::Type) => run(w, items, INDENT, &|it, depth| {
            depth == 0 && it.keyword().is_some_and(is_translation)
        }),
        _ => run(w, items, INDENT, &|_, _| false),
    }
}

/// One argument of a routine: comments and directives before it, its tokens up to and
/// including the `;` that ends it, and the comments after that `;` on the same line.
#[derive(Debug, Default)]
struct Arg<'s, 'a> {
    lead: &'s [Item<'a>],
    body: &'s [Item<'a>],
    trail: &'s [Item<'a>],
}

/// Formats `routine NAME(args) ...;` with aligned arguments; false when the statement does not
/// have that shape (then it is formatted as a plain run of tokens).
fn routine(w: &mut Writer, items: &[Item]) -> bool {
    if items.len() < 3 || !items[2].is(TokenKind::LParen) || !items[1].significant() {
        return false;
    }
    let Some(close) = matching(items, 2) else {
        return false;
    };
    let args = split_args(&items[3..close], items[2].level + 1);
    w.push(items[0].text, false);
    w.push(items[1].text, true);
    w.push("(", false);
    // Column widths over the arguments that have the plain `[dir] name : type` shape.
    let heads: Vec<Option<(Option<&str>, &str, usize)>> =
        args.iter().map(|a| head(a.body)).collect();
    let dir_w = heads
        .iter()
        .flatten()
        .filter_map(|h| h.0.map(str::len))
        .fold(MIN_DIRECTION_WIDTH, usize::max);
    let name_w = heads.iter().flatten().map(|h| h.1.len()).max().unwrap_or(0);
    for (arg, head) in args.iter().zip(&heads) {
        for it in arg.lead {
            w.loose(it, INDENT);
        }
        if arg.body.is_empty() {
            continue;
        }
        w.open(INDENT, arg.body[0].breaks >= 2);
        match head {
            Some((dir, name, colon)) => {
                let mut col = format!("{:<dir_w$} ", dir.unwrap_or(""));
                col.push_str(&format!("{name:<name_w$} :"));
                w.push(&col, false);
                w.spacing.reset();
                w.spacing.prev = Some(TokenKind::Colon);
                run_from(w, &arg.body[colon + 1..], 2 * INDENT, &|_, _| false);
            }
            None => run(w, arg.body, 2 * INDENT, &|_, _| false),
        }
        for it in arg.trail {
            w.loose(it, INDENT);
        }
    }
    if w.line.is_none() {
        w.open(0, false);
    }
    w.push(")", false);
    w.spacing.reset();
    w.spacing.prev = Some(TokenKind::RParen);
    run_from(w, &items[close + 1..], INDENT, &|_, _| false);
    true
}

/// Index of the bracket closing the one at `open`.
fn matching(items: &[Item], open: usize) -> Option<usize> {
    let level = items[open].level;
    (open + 1..items.len()).find(|&i| items[i].closes() && items[i].level == level)
}

fn split_args<'s, 'a>(items: &'s [Item<'a>], level: u32) -> Vec<Arg<'s, 'a>> {
    let mut args = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let lead_start = i;
        while i < items.len() && !items[i].significant() {
            i += 1;
        }
        let body_start = i;
        while i < items.len() {
            let it = &items[i];
            i += 1;
            if it.level <= level && it.is(TokenKind::Semi) {
                break;
            }
        }
        let body_end = i;
        while i < items.len() && items[i].is(TokenKind::Comment) && items[i].breaks == 0 {
            i += 1;
        }
        args.push(Arg {
            lead: &items[lead_start..body_start],
            body: &items[body_start..body_end],
            trail: &items[body_end..i],
        });
    }
    args
}

/// `[dir] name :` at the start of an argument, with the index of the `:`; `None` when the
/// argument has another shape or comments or directives interrupt the head.
fn head<'a>(body: &[Item<'a>]) -> Option<(Option<&'a str>, &'a str, usize)> {
    let colon = body
        .iter()
        .position(|it| !it.significant() || it.is(TokenKind::Colon))?;
    if !body[colon].is(TokenKind::Colon) {
        return None;
    }
    let word = |it: &Item| matches!(it.kind, TokenKind::Ident | TokenKind::Keyword(_));
    match &body[..colon] {
        [name] if word(name) => Some((None, name.text, colon)),
        [dir, name] if word(dir) && word(name) && name.breaks == 0 => {
            Some((Some(dir.text), name.text, colon))
        }
        _ => None,
    }
}

/// Writes items onto the current line; `breaks_before(item, depth)` says where a new line at
/// `indent` starts regardless of the input.
fn run(w: &mut Writer, items: &[Item], indent: usize, breaks_before: &dyn Fn(&Item, u32) -> bool) {
    w.spacing.reset();
    run_from(w, items, indent, breaks_before);
}

fn run_from(
    w: &mut Writer,
    items: &[Item],
    indent: usize,
    breaks_before: &dyn Fn(&Item, u32) -> bool,
) {
    let base = items.first().map_or(0, |it| it.level);
    // Levels of the open `{` of GNU `struct { ... }` types: one field per line inside.
    let mut braces: Vec<u32> = Vec::new();
    let mut prev: Option<&Item> = None;
    for it in items {
        if !it.significant() {
            let inner = indent + INDENT * braces.len().saturating_sub(1);
            w.loose(it, inner);
            continue;
        }
        let field_start = prev.is_some_and(|p| {
            p.is(TokenKind::LBrace)
                || (p.is(TokenKind::Semi) && braces.last() == Some(&(p.level - 1)))
        });
        let closes_brace = it.is(TokenKind::RBrace) && braces.last() == Some(&it.level);
        if closes_brace {
            braces.pop();
        }
        let line_indent = indent + INDENT * braces.len();
        let line_indent = if braces.is_empty() && closes_brace {
            indent.saturating_sub(INDENT)
        } else if braces.is_empty() {
            indent
        } else {
            line_indent - INDENT
        };
        let forced =
            field_start || closes_brace || breaks_before(it, it.level.saturating_sub(base));
        if w.line.is_some() && forced {
            w.close();
        }
        let space = if w.line.is_none() {
            w.open(line_indent, it.breaks >= 2);
            false
        } else {
            w.spacing.space_before(it)
        };
        w.push(it.text, space);
        w.spacing.advance(it);
        if it.is(TokenKind::LBrace) {
            braces.push(it.level);
        }
        prev = Some(it);
    }
}

/// Decides the spaces between tokens on a line.
#[derive(Debug, Default)]
struct Spacing {
    prev: Option<TokenKind>,
    /// The token before `prev` allows a unary operator at `prev`.
    prev_unary: bool,
    brackets: u32,
    prev_text_end: Option<u8>,
}

impl Spacing {
    fn reset(&mut self) {
        *self = Spacing::default();
    }

    fn advance(&mut self, it: &Item) {
        use TokenKind::*;
        let operand_expected = match self.prev {
            None => true,
            Some(p) => matches!(
                p,
                LParen | LBracket | Comma | Eq | Colon | Plus | Minus | Star | Slash | Pipe
            ),
        };
        self.prev_unary = matches!(it.kind, Minus | Plus) && operand_expected;
        match it.kind {
            LBracket => self.brackets += 1,
            RBracket => self.brackets = self.brackets.saturating_sub(1),
            _ => {}
        }
        self.prev = Some(it.kind);
        self.prev_text_end = it.text.bytes().last();
    }

    fn space_before(&self, it: &Item) -> bool {
        use TokenKind::*;
        let Some(prev) = self.prev else {
            return false;
        };
        let tight = match (prev, it.kind) {
            (_, Semi | Comma | RParen | RBracket) => true,
            (LParen | LBracket | Caret, _) => true,
            (Ident, LParen | LBracket) => true,
            (Keyword(k), LParen | LBracket) if takes_brackets(k) => true,
            (Keyword(k), Colon) if is_translation(k) => true,
            (Colon, _) | (_, Colon) | (Star, _) | (_, Star) if self.brackets > 0 => true,
            (Minus | Plus, _) if self.prev_unary => true,
            _ => false,
        };
        // Never write `/*` or `//` where there was none.
        let comment_risk = self.prev_text_end == Some(b'/') && it.text.starts_with(['*', '/']);
        !tight || comment_risk
    }
}

/// Builds the output line by line.
#[derive(Debug, Default)]
struct Writer {
    out: String,
    /// The line being written, if one is open.
    line: Option<String>,
    spacing: Spacing,
}

impl Writer {
    /// Ends the open line.
    fn close(&mut self) {
        if let Some(line) = self.line.take() {
            self.out.push_str(&line);
            self.out.push('\n');
        }
    }

    /// Starts a new line at `indent`, after a blank line when `blank` (never at the top).
    fn open(&mut self, indent: usize, blank: bool) {
        self.close();
        if blank && !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
        self.line = Some(" ".repeat(indent));
        self.spacing.reset();
    }

    fn push(&mut self, text: &str, space: bool) {
        let line = self.line.get_or_insert_with(String::new);
        if space && !line.trim_start().is_empty() {
            line.push(' ');
        }
        line.push_str(text);
    }

    /// A comment or directive. Directives take a line of their own at column 0; a comment on
    /// the line of the previous token stays there, one on a line of its own gets a line at
    /// `indent`; a `//` comment ends its line.
    fn loose(&mut self, it: &Item, indent: usize) {
        if it.is(TokenKind::Directive) {
            self.close();
            self.open(0, it.breaks >= 2);
            self.push(it.text, false);
            self.close();
            return;
        }
        if it.breaks == 0 && self.line.is_some() {
            self.push(it.text, true);
        } else {
            self.open(indent, it.breaks >= 2);
            self.push(it.text, false);
        }
        if it.is_line_comment() {
            self.close();
        }
    }

    fn finish(mut self) -> String {
        self.close();
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(s: &str) -> String {
        let once = format(s).unwrap();
        assert_eq!(format(&once).unwrap(), once, "not idempotent");
        once
    }

    #[test]
    fn routine_arguments_align() {
        let got = fmt("routine task_create(\n\t\ttarget_task\t: task_t;\n\t\tinherit_memory\t: boolean_t;\n\tout\tchild_task\t: task_t);\n");
        assert_eq!(
            got,
            "routine task_create(\n        target_task    : task_t;\n        inherit_memory : boolean_t;\n    out child_task     : task_t);\n"
        );
    }

    #[test]
    fn directives_and_comments_stay() {
        let src = "subsystem\n#if\tKERNEL_USER\n\t  KernelUser\n#endif\t/* KERNEL_USER */\n\t\t       mach 2000;\n\nskip;\t/* old */\n";
        assert_eq!(
            fmt(src),
            "subsystem\n#if\tKERNEL_USER\n    KernelUser\n#endif\t/* KERNEL_USER */\n    mach 2000;\n\nskip; /* old */\n"
        );
    }

    #[test]
    fn type_translations_on_following_lines() {
        let src = "type task_t = mach_port_t ctype: mach_port_t\n#if KERNEL_SERVER\nintran: task_t convert_port_to_task(mach_port_t)\n#endif\n;\ntype a = array[*:1024] of (MACH_MSG_TYPE_INTEGER_32, -32+2);";
        assert_eq!(
            fmt(src),
            "type task_t = mach_port_t\n    ctype: mach_port_t\n#if KERNEL_SERVER\n    intran: task_t convert_port_to_task(mach_port_t)\n#endif\n    ;\ntype a = array[*:1024] of (MACH_MSG_TYPE_INTEGER_32, -32 + 2);\n"
        );
    }

    #[test]
    fn macro_invocation_before_statement() {
        let src = "#ifdef X\nMACH_IMPORTS\n#endif\nskip;\nFOO\nroutine f(a: int);";
        assert_eq!(
            fmt(src),
            "#ifdef X\nMACH_IMPORTS\n#endif\nskip;\nFOO\nroutine f(\n        a : int);\n"
        );
    }

    #[test]
    fn comments_in_argument_lists() {
        let src = "routine f( /* first */\n  /* own line */\n  a: int; // trailing\n#if X\n  out b /* odd */ : int\n#endif\n  );";
        let got = fmt(src);
        assert_eq!(
            got,
            "routine f( /* first */\n    /* own line */\n        a : int; // trailing\n#if X\n    out b /* odd */ : int\n#endif\n);\n"
        );
    }

    #[test]
    fn struct_fields_one_per_line() {
        let src =
            "type s = struct { int a; /* first */ char b[4]; };\nroutine f(x : struct {int a;});";
        assert_eq!(
            fmt(src),
            "type s = struct {\n    int a; /* first */\n    char b[4];\n};\nroutine f(\n        x : struct {\n        int a;\n    });\n"
        );
    }

    #[test]
    fn refuses_broken_lexing() {
        assert!(format("type a = \"open").is_err());
        assert!(format("/* open").is_err());
        assert!(format("type a = @;").is_err());
    }

    #[test]
    fn unbalanced_and_conditional_brackets() {
        fmt("routine f(a: int;\nroutine g a: int);");
        let src = "routine\n#ifdef K\nf(\n  p : int;\n#else\ng(\n  q : int;\n#endif\n out r : int);\nskip;";
        let got = fmt(src);
        assert!(got.ends_with(");\nskip;\n"), "{got}");
    }

    #[test]
    fn slash_star_never_formed() {
        let got = fmt("type a = array[4 / *x] of int;");
        assert!(!got.contains("/*"), "{got}");
    }
}
