//! Preprocessing tokens (C11 6.4): a lexer over one file's text that removes comments and
//! backslash-newline splices, and reports each token's byte range in the file.

use std::borrow::Cow;

/// The kind of a preprocessing token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ident,
    Number,
    /// A character constant (`'a'`, `L'a'`...).
    Char,
    /// A string literal (`"a"`, `L"a"`, `u8"a"`...).
    Str,
    /// A `<...>` header name (only lexed on request after `#include`).
    HeaderName,
    Punct,
    /// Any other single character (stray `\`, `@`, non-ASCII...).
    Other,
    /// The end of a logical line.
    Newline,
    Eof,
}

/// A token in a file: its kind and byte range, with flags about its surroundings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawTok {
    pub kind: Kind,
    pub start: u32,
    pub end: u32,
    /// Whitespace (or a comment) came before it on the same logical line.
    pub ws: bool,
    /// It contains a backslash-newline splice: its spelling differs from its source text.
    pub spliced: bool,
    /// A string or character literal without its closing quote.
    pub unterminated: bool,
}

impl RawTok {
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// The spelling of a token: its source text without splices.
pub fn spelling<'s>(src: &'s str, t: &RawTok) -> Cow<'s, str> {
    let text = src.get(t.range()).unwrap_or("");
    if !t.spliced {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let n = splice_len(b, i);
        if n > 0 {
            i += n;
            continue;
        }
        // Copy one character (text is valid UTF-8: find the char boundary).
        let ch_len = text[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&text[i..i + ch_len]);
        i += ch_len;
    }
    Cow::Owned(out)
}

/// Length of a backslash-newline splice at `i` (0 if none).
fn splice_len(b: &[u8], i: usize) -> usize {
    if b.get(i) != Some(&b'\\') {
        return 0;
    }
    match (b.get(i + 1), b.get(i + 2)) {
        (Some(b'\n'), _) => 2,
        (Some(b'\r'), Some(b'\n')) => 3,
        _ => 0,
    }
}

/// Punctuators, longest first within each leading character (C11 6.4.6, with digraphs).
const PUNCTS: &[&str] = &[
    "%:%:", "...", "<<=", ">>=", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||",
    "*=", "/=", "%=", "+=", "-=", "&=", "^=", "|=", "##", "<:", ":>", "<%", "%>", "%:", "[", "]",
    "(", ")", "{", "}", ".", "&", "*", "+", "-", "~", "!", "/", "%", "<", ">", "^", "|", "?", ":",
    ";", "=", ",", "#",
];

/// Length of the longest punctuator of [`PUNCTS`] at the start of `b` (0 if none): one match on
/// the first bytes instead of a scan of the list (the preprocessor's hottest path).
fn punct_len(b: &[u8]) -> usize {
    let c = |i: usize| b.get(i).copied().unwrap_or(0);
    let two = |ok: &[u8]| if ok.contains(&c(1)) { 2 } else { 1 };
    match c(0) {
        b'%' if c(1) == b':' && c(2) == b'%' && c(3) == b':' => 4,
        b'%' => two(b"=>:"),
        b'.' if c(1) == b'.' && c(2) == b'.' => 3,
        b'<' | b'>' if c(1) == c(0) => {
            if c(2) == b'=' {
                3
            } else {
                2
            }
        }
        b'<' => two(b"=:%"),
        b'>' => two(b"="),
        b'-' => two(b">-="),
        b'+' => two(b"+="),
        b'&' => two(b"&="),
        b'|' => two(b"|="),
        b'=' | b'!' | b'*' | b'/' | b'^' => two(b"="),
        b'#' => two(b"#"),
        b':' => two(b">"),
        b'.' | b'[' | b']' | b'(' | b')' | b'{' | b'}' | b'~' | b'?' | b';' | b',' => 1,
        _ => 0,
    }
}

/// A lexer over one file. It does not borrow the text: every call takes it, so the caller can
/// keep the file in a [`crate::source::SourceDb`] it also mutates.
#[derive(Debug, Clone, Default)]
pub struct Lexer {
    pos: usize,
    /// Physical newlines swallowed inside comments and splices since the last `Newline` token.
    pub hidden_newlines: u32,
    /// Start of an unterminated `/*` comment, once seen.
    pub unterminated_comment: Option<u32>,
    /// The next token is the first of its line.
    pub at_bol: bool,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'$'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

impl Lexer {
    pub fn new() -> Lexer {
        Lexer {
            at_bol: true,
            ..Lexer::default()
        }
    }

    /// The byte at `i` after skipping splices, and the index just past it.
    fn peek_at(&mut self, b: &[u8], mut i: usize, spliced: &mut bool) -> Option<(u8, usize)> {
        loop {
            let n = splice_len(b, i);
            if n == 0 {
                break;
            }
            *spliced = true;
            self.hidden_newlines += 1;
            i += n;
        }
        b.get(i).map(|&c| (c, i + 1))
    }

    /// Skips whitespace and comments; returns true if any was skipped.
    fn skip_ws(&mut self, b: &[u8]) -> bool {
        let mut any = false;
        loop {
            let mut dummy = false;
            let Some((c, next)) = self.peek_at(b, self.pos, &mut dummy) else {
                // Trailing splices at end of file are skipped too.
                self.pos = self.pos.max(b.len().min(self.pos + 3));
                if self.pos > b.len() {
                    self.pos = b.len();
                }
                return any;
            };
            match c {
                b' ' | b'\t' | b'\r' | 0x0b | 0x0c => {
                    self.pos = next;
                    any = true;
                }
                b'/' => {
                    let Some((c2, after)) = self.peek_at(b, next, &mut dummy) else {
                        return any;
                    };
                    if c2 == b'*' {
                        let start = self.pos;
                        self.pos = after;
                        self.skip_block_comment(b, start);
                        any = true;
                    } else if c2 == b'/' {
                        self.pos = after;
                        self.skip_line_comment(b);
                        any = true;
                    } else {
                        return any;
                    }
                }
                _ => return any,
            }
        }
    }

    fn skip_block_comment(&mut self, b: &[u8], start: usize) {
        let mut prev_star = false;
        let mut i = self.pos;
        while i < b.len() {
            let c = b[i];
            if c == b'/' && prev_star {
                self.pos = i + 1;
                return;
            }
            if c == b'\n' {
                self.hidden_newlines += 1;
            }
            // A splice between '*' and '/' keeps the star pending.
            if c == b'\\' && splice_len(b, i) > 0 {
                i += splice_len(b, i);
                continue;
            }
            prev_star = c == b'*';
            i += 1;
        }
        self.pos = b.len();
        if self.unterminated_comment.is_none() {
            self.unterminated_comment = Some(start as u32);
        }
    }

    fn skip_line_comment(&mut self, b: &[u8]) {
        let mut i = self.pos;
        while i < b.len() {
            let n = splice_len(b, i);
            if n > 0 {
                self.hidden_newlines += 1;
                i += n;
                continue;
            }
            if b[i] == b'\n' {
                break;
            }
            i += 1;
        }
        self.pos = i;
    }

    /// The next token. At the end of the text, returns `Eof` forever.
    pub fn next(&mut self, src: &str) -> RawTok {
        let b = src.as_bytes();
        let ws = self.skip_ws(b);
        let start = self.pos;
        let mut spliced = false;
        let Some((c, next)) = self.peek_at(b, start, &mut spliced) else {
            self.pos = b.len();
            return self.make(Kind::Eof, b.len(), b.len(), ws, false);
        };
        if start != self.pos || spliced {
            // Cannot happen: skip_ws consumed leading splices.
            spliced = true;
        }
        let tok = match c {
            b'\n' => {
                self.pos = next;
                let t = self.make(Kind::Newline, start, next, ws, false);
                self.at_bol = true;
                return t;
            }
            b'0'..=b'9' => self.lex_number(b, start, next, spliced),
            b'.' => match self.peek_at(b, next, &mut spliced) {
                Some((d, _)) if d.is_ascii_digit() => self.lex_number(b, start, next, spliced),
                _ => self.lex_punct(b, start, spliced),
            },
            b'\'' | b'"' => self.lex_quoted(b, start, next, c, spliced),
            c if is_ident_start(c) => self.lex_ident_or_prefixed(b, start, next, spliced),
            c if c.is_ascii() && c != b'\\' && c != b'@' && c != b'`' && !c.is_ascii_control() => {
                self.lex_punct(b, start, spliced)
            }
            _ => {
                // One character (maybe multi-byte UTF-8).
                let len = src[start..].chars().next().map_or(1, char::len_utf8);
                self.pos = start + len;
                (Kind::Other, start + len, spliced, false)
            }
        };
        let (kind, end, spliced, unterminated) = tok;
        let mut t = self.make(kind, start, end, ws, spliced);
        t.unterminated = unterminated;
        t
    }

    fn make(&mut self, kind: Kind, start: usize, end: usize, ws: bool, spliced: bool) -> RawTok {
        self.at_bol = false;
        RawTok {
            kind,
            start: start as u32,
            end: end as u32,
            ws,
            spliced,
            unterminated: false,
        }
    }

    fn lex_number(
        &mut self,
        b: &[u8],
        start: usize,
        mut i: usize,
        mut spliced: bool,
    ) -> (Kind, usize, bool, bool) {
        let _ = start;
        let mut prev = b[i - 1];
        while let Some((c, next)) = self.peek_at(b, i, &mut spliced) {
            let exp_sign = (c == b'+' || c == b'-') && matches!(prev, b'e' | b'E' | b'p' | b'P');
            if is_ident_char(c) || c == b'.' || exp_sign {
                prev = c;
                i = next;
            } else {
                break;
            }
        }
        self.pos = i;
        (Kind::Number, i, spliced, false)
    }

    fn lex_ident_or_prefixed(
        &mut self,
        b: &[u8],
        start: usize,
        mut i: usize,
        mut spliced: bool,
    ) -> (Kind, usize, bool, bool) {
        while let Some((c, next)) = self.peek_at(b, i, &mut spliced) {
            if is_ident_char(c) {
                i = next;
            } else {
                break;
            }
        }
        // Encoding prefixes: L, u, U, u8 followed directly by a quote.
        if let Some((q, next)) = self.peek_at(b, i, &mut spliced) {
            if q == b'"' || q == b'\'' {
                let word: Vec<u8> = b[start..i]
                    .iter()
                    .copied()
                    .filter(|&c| c != b'\\' && c != b'\n' && c != b'\r')
                    .collect();
                let ok =
                    matches!(&word[..], b"L" | b"u" | b"U") || (q == b'"' && &word[..] == b"u8");
                if ok {
                    return self.lex_quoted(b, start, next, q, spliced);
                }
            }
        }
        self.pos = i;
        (Kind::Ident, i, spliced, false)
    }

    fn lex_quoted(
        &mut self,
        b: &[u8],
        start: usize,
        mut i: usize,
        quote: u8,
        mut spliced: bool,
    ) -> (Kind, usize, bool, bool) {
        let kind = if quote == b'"' { Kind::Str } else { Kind::Char };
        while let Some((c, next)) = self.peek_at(b, i, &mut spliced) {
            if c == b'\n' {
                break;
            }
            i = next;
            if c == quote {
                self.pos = i;
                return (kind, i, spliced, false);
            }
            if c == b'\\' {
                if let Some((c2, next2)) = self.peek_at(b, i, &mut spliced) {
                    if c2 != b'\n' {
                        i = next2;
                    }
                }
            }
        }
        // Unterminated: the token is the quote alone (as GCC does); the rest of the line
        // is lexed as further tokens.
        let _ = start;
        let end = b[start..]
            .iter()
            .position(|&c| c == quote)
            .map_or(start + 1, |p| start + p + 1);
        self.pos = end;
        (Kind::Other, end, spliced, true)
    }

    fn lex_punct(&mut self, b: &[u8], start: usize, spliced: bool) -> (Kind, usize, bool, bool) {
        if !spliced {
            let n = punct_len(&b[start..]);
            if n > 0 {
                self.pos = start + n;
                return (Kind::Punct, self.pos, false, false);
            }
        } else {
            // Rare: a splice inside a punctuator. Gather up to 4 spliced bytes.
            let mut sp = spliced;
            let mut chars = Vec::new();
            let mut ends = Vec::new();
            let mut i = start;
            while chars.len() < 4 {
                match self.peek_at(b, i, &mut sp) {
                    Some((c, next)) => {
                        chars.push(c);
                        ends.push(next);
                        i = next;
                    }
                    None => break,
                }
            }
            for p in PUNCTS {
                if chars.starts_with(p.as_bytes()) {
                    self.pos = ends[p.len() - 1];
                    return (Kind::Punct, self.pos, true, false);
                }
            }
        }
        self.pos = start + 1;
        (Kind::Other, start + 1, spliced, false)
    }

    /// After `#include`: if the next token is `<`, lexes a header name up to `>` on the same
    /// line. Returns None (and consumes nothing) otherwise.
    pub fn header_name(&mut self, src: &str) -> Option<RawTok> {
        let b = src.as_bytes();
        let save = (self.pos, self.hidden_newlines, self.unterminated_comment);
        let ws = self.skip_ws(b);
        let start = self.pos;
        if b.get(start) != Some(&b'<') {
            (self.pos, self.hidden_newlines, self.unterminated_comment) = save;
            return None;
        }
        let mut i = start + 1;
        let mut spliced = false;
        while let Some((c, next)) = self.peek_at(b, i, &mut spliced) {
            if c == b'\n' {
                break;
            }
            i = next;
            if c == b'>' {
                self.pos = i;
                let mut t = self.make(Kind::HeaderName, start, i, ws, spliced);
                t.spliced = spliced;
                return Some(t);
            }
        }
        (self.pos, self.hidden_newlines, self.unterminated_comment) = save;
        None
    }
}

/// Lexes `text` completely (no file), for pasted tokens and tests. Stops at the first newline.
pub fn lex_all(text: &str) -> Vec<RawTok> {
    let mut lx = Lexer::new();
    let mut out = Vec::new();
    loop {
        let t = lx.next(text);
        if matches!(t.kind, Kind::Eof | Kind::Newline) {
            return out;
        }
        out.push(t);
    }
}

/// True when writing `b` right after `a` would lex differently from `a` followed by `b`
/// (the two would glue into one token, or start a comment).
pub fn would_glue(a: &str, b: &str) -> bool {
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let (la, fb) = (a.as_bytes()[a.len() - 1], b.as_bytes()[0]);
    // Fast paths: clearly separate character classes.
    let word = |c: u8| is_ident_char(c) || c >= 0x80;
    if word(la) && (word(fb) || fb == b'\'' || fb == b'"') {
        return true;
    }
    if fb.is_ascii_alphanumeric() && !matches!(la, b'.' | b'\\') {
        return false;
    }
    let mut joined = String::with_capacity(a.len() + b.len().min(4));
    joined.push_str(a);
    joined.extend(b.chars().take(3));
    let mut lx = Lexer::new();
    let first = lx.next(&joined);
    first.kind == Kind::Eof || first.kind == Kind::Newline || first.end as usize != a.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(Kind, String)> {
        let mut lx = Lexer::new();
        let mut v = Vec::new();
        loop {
            let t = lx.next(s);
            if t.kind == Kind::Eof {
                return v;
            }
            v.push((t.kind, spelling(s, &t).into_owned()));
        }
    }

    #[test]
    fn lexes_basic_tokens() {
        let v = kinds("a+=1.5e+3 'x' L\"s\" u8\"t\" ... %:%: x->y");
        let texts: Vec<_> = v.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(
            texts,
            ["a", "+=", "1.5e+3", "'x'", "L\"s\"", "u8\"t\"", "...", "%:%:", "x", "->", "y"]
        );
    }

    #[test]
    fn removes_comments_and_splices() {
        let s = "a/* c\n */b // x \\\n still comment\nc\\\nd";
        let v = kinds(s);
        let texts: Vec<_> = v.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(texts, ["a", "b", "\n", "cd"]);
    }

    #[test]
    fn unterminated_things_do_not_panic() {
        for s in [
            "'", "\"abc", "/* x", "a\\", "\\", "L'", "u8", "\u{e9}x", "1e+", ".\\\n5",
        ] {
            let _ = kinds(s);
        }
        let mut lx = Lexer::new();
        while lx.next("/* open").kind != Kind::Eof {}
        assert_eq!(lx.unterminated_comment, Some(0));
    }

    #[test]
    fn header_names() {
        let s = "  <mach/std_types.h> x";
        let mut lx = Lexer::new();
        let t = lx.header_name(s).unwrap();
        assert_eq!(&s[t.range()], "<mach/std_types.h>");
        assert!(Lexer::new().header_name("\"a.h\"").is_none());
    }

    #[test]
    fn glue_detection() {
        assert!(would_glue("a", "b"));
        assert!(would_glue("+", "+"));
        assert!(would_glue("/", "/"));
        assert!(would_glue("/", "*"));
        assert!(would_glue("-", ">"));
        assert!(would_glue("L", "\"x\""));
        assert!(would_glue("1", ".5"));
        assert!(!would_glue("(", "a"));
        assert!(!would_glue("a", ")"));
        assert!(!would_glue("+", "-"));
    }
}

#[cfg(test)]
mod punct_tests {
    use super::{punct_len, PUNCTS};

    /// `punct_len` agrees with a scan of `PUNCTS` (longest first) on every string of up to
    /// four bytes over the punctuator alphabet.
    #[test]
    fn punct_len_is_the_longest_match() {
        let alphabet: Vec<u8> = b"%:.<>=-+&|!*/^#[](){}~?;,a".to_vec();
        let scan = |b: &[u8]| {
            PUNCTS
                .iter()
                .find(|p| b.starts_with(p.as_bytes()))
                .map_or(0, |p| p.len())
        };
        let mut buf = Vec::new();
        for a in &alphabet {
            for b in &alphabet {
                for c in &alphabet {
                    for d in &alphabet {
                        buf.clear();
                        buf.extend([*a, *b, *c, *d]);
                        for n in 1..=4 {
                            assert_eq!(punct_len(&buf[..n]), scan(&buf[..n]), "{:?}", &buf[..n]);
                        }
                    }
                }
            }
        }
    }
}
