//! Directives of source text: conditionals, `#include` (search paths, guards, cycles),
//! `#define`/`#undef`, `#error`/`#warning`, `#line` and line markers, `#pragma`, `#ident`.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::lexer::{Kind, RawTok};
use super::{expr, Cond, Guard, Pp, Token};
use crate::source::{IncludeStep, Range32};

impl Pp<'_> {
    /// Reads the rest of the directive line as tokens (its newline is owed to the output).
    fn line_tokens(&mut self) -> Vec<Token> {
        let mut toks = Vec::new();
        loop {
            let t = self.file_next();
            match t.kind {
                Kind::Newline => {
                    self.pending_newlines += 1;
                    break;
                }
                Kind::Eof => {
                    self.pushback.push(t);
                    break;
                }
                _ => toks.push(self.token_of(&t)),
            }
        }
        if let Some(f) = self.files.last_mut() {
            f.bol = true;
        }
        toks
    }

    /// Handles a directive whose `#` was just read at the start of a line.
    pub(super) fn directive(&mut self, hash: RawTok) {
        let name = self.file_next();
        if name.kind == Kind::Newline {
            self.pending_newlines += 1;
            if let Some(f) = self.files.last_mut() {
                f.bol = true;
            }
            return;
        }
        if name.kind == Kind::Eof {
            self.pushback.push(name);
            return;
        }
        let word = self.spelling(&name);
        let at = (hash.start, name.end);
        let active = self.active();
        let cond_word = matches!(
            word.as_str(),
            "if" | "ifdef" | "ifndef" | "elif" | "else" | "endif"
        );
        if !cond_word {
            if !active {
                self.line_tokens();
                return;
            }
            self.note_guard_breaker();
        }
        match word.as_str() {
            "if" | "ifdef" | "ifndef" => self.dir_if(&word, at),
            "elif" => self.dir_elif(at),
            "else" | "endif" => self.dir_else_endif(&word, at),
            "include" | "include_next" | "import" => self.dir_include(&word, at),
            "define" => {
                let toks = self.line_tokens();
                if !self.halted {
                    self.define(toks, at);
                }
            }
            "undef" => {
                let toks = self.line_tokens();
                self.undef(toks, at);
            }
            "error" | "warning" => {
                let toks = self.line_tokens();
                let text = join(&toks);
                let end = toks.last().map_or(at.1, |t| t.pos.1);
                let msg = format!("#{word} {text}");
                if word == "error" {
                    self.error_at(at.0 as usize..end as usize, msg.trim_end(), "");
                } else {
                    self.warn_at(at.0 as usize..end as usize, msg.trim_end(), "");
                }
            }
            "line" => {
                let toks = self.line_tokens();
                let toks = self.expand_list(toks, 0);
                self.dir_line(&toks, at, false);
            }
            "pragma" => {
                let toks = self.line_tokens();
                if toks.first().is_some_and(|t| &*t.text == "once") {
                    if let Some(c) = self.top().and_then(|f| f.canon.clone()) {
                        self.once.insert(c);
                    }
                }
            }
            "ident" | "sccs" | "assert" | "unassert" => {
                self.line_tokens();
            }
            _ if name.kind == Kind::Number => {
                let mut toks = vec![self.token_of(&name)];
                toks.extend(self.line_tokens());
                self.dir_line(&toks, at, true);
            }
            _ => {
                self.line_tokens();
                let msg = format!("invalid preprocessing directive #{word}");
                self.error_at(name.range(), msg, "unknown directive");
            }
        }
    }

    fn push_cond(&mut self, active: bool, at: (u32, u32)) {
        let parent_active = self.active();
        if let Some(f) = self.files.last_mut() {
            f.conds.push(Cond {
                active: parent_active && active,
                taken: active,
                parent_active,
                seen_else: false,
                at,
            });
        }
    }

    fn dir_if(&mut self, word: &str, at: (u32, u32)) {
        let toks = self.line_tokens();
        if !self.active() {
            self.push_cond(false, at);
            return;
        }
        let first_in_file = self.top().is_some_and(|f| f.guard == Guard::Start);
        if let Some(f) = self.files.last_mut() {
            if matches!(f.guard, Guard::Closed(_)) {
                f.guard = Guard::Broken;
            }
        }
        let (value, guard) = match word {
            "if" => {
                let guard = guard_of_if(&toks);
                (self.eval_if(toks, at), guard)
            }
            _ => match toks.first() {
                Some(t) if t.kind == Kind::Ident => {
                    if toks.len() > 1 {
                        let msg = format!("extra tokens at end of #{word} directive");
                        self.warn_at(range(toks[1].pos), msg, "");
                    }
                    let def = self.is_defined(&t.text);
                    let guard = (word == "ifndef").then(|| t.text.clone());
                    (if word == "ifdef" { def } else { !def }, guard)
                }
                Some(t) => {
                    self.error_at(range(t.pos), "macro names must be identifiers", "");
                    (false, None)
                }
                None => {
                    self.error_at(
                        range(at),
                        format!("no macro name given in #{word} directive"),
                        "",
                    );
                    (false, None)
                }
            },
        };
        if let Some(f) = self.files.last_mut() {
            if first_in_file && f.conds.is_empty() {
                f.guard = match guard {
                    Some(g) => Guard::Inside(g),
                    None => Guard::Broken,
                };
            }
        }
        self.push_cond(value, at);
    }

    fn dir_elif(&mut self, at: (u32, u32)) {
        let toks = self.line_tokens();
        let Some(c) = self.top().and_then(|f| f.conds.last()).copied() else {
            self.error_at(range(at), "#elif without #if", "");
            return;
        };
        if c.seen_else {
            self.error_at(range(at), "#elif after #else", "");
        }
        self.break_guard_at_depth_one();
        let active = if c.parent_active && !c.taken {
            self.eval_if(toks, at)
        } else {
            false
        };
        if let Some(top) = self.files.last_mut().and_then(|f| f.conds.last_mut()) {
            top.active = c.parent_active && !c.taken && active;
            top.taken |= active;
        }
    }

    fn break_guard_at_depth_one(&mut self) {
        if let Some(f) = self.files.last_mut() {
            if f.conds.len() == 1 {
                f.guard = Guard::Broken;
            }
        }
    }

    fn dir_else_endif(&mut self, word: &str, at: (u32, u32)) {
        let toks = self.line_tokens();
        if let Some(t) = toks.first() {
            if self.active()
                || self
                    .top()
                    .and_then(|f| f.conds.last())
                    .is_some_and(|c| c.parent_active)
            {
                let msg = format!("extra tokens at end of #{word} directive");
                self.warn_at(range(t.pos), msg, "");
            }
        }
        let Some(c) = self.top().and_then(|f| f.conds.last()).copied() else {
            self.error_at(range(at), format!("#{word} without #if"), "");
            return;
        };
        if word == "endif" {
            if let Some(f) = self.files.last_mut() {
                f.conds.pop();
                if f.conds.is_empty() {
                    if let Guard::Inside(g) = &f.guard {
                        f.guard = Guard::Closed(g.clone());
                    }
                }
            }
            return;
        }
        if c.seen_else {
            self.error_at(range(at), "#else after #else", "");
        }
        self.break_guard_at_depth_one();
        if let Some(top) = self.files.last_mut().and_then(|f| f.conds.last_mut()) {
            top.active = c.parent_active && !c.taken;
            top.taken = true;
            top.seen_else = true;
        }
    }

    /// Evaluates an `#if`/`#elif` line; errors are diagnosed and count as false.
    fn eval_if(&mut self, toks: Vec<Token>, at: (u32, u32)) -> bool {
        let toks = self.replace_defined(toks);
        let toks = self.expand_list(toks, 0);
        let toks = self.replace_defined(toks);
        match expr::eval(&toks) {
            Ok(v) => v.is_true(),
            Err(e) => {
                let pos = e.at.and_then(|i| toks.get(i)).map_or(at, |t| t.pos);
                self.error_at(range(pos), e.message, "");
                false
            }
        }
    }

    /// Replaces `defined X` and `defined ( X )` by `1` or `0`.
    fn replace_defined(&mut self, toks: Vec<Token>) -> Vec<Token> {
        let mut out = Vec::with_capacity(toks.len());
        let mut i = 0;
        while i < toks.len() {
            let t = &toks[i];
            if t.kind == Kind::Ident && matches!(&*t.text, "__has_include" | "__has_include_next") {
                let (v, next) = self.has_include(&toks, i);
                let mut z = Token::new(Kind::Number, if v { "1" } else { "0" }, t.ws);
                z.pos = t.pos;
                out.push(z);
                i = next;
                continue;
            }
            if t.kind != Kind::Ident || &*t.text != "defined" {
                out.push(t.clone());
                i += 1;
                continue;
            }
            let (name, next) = match toks.get(i + 1) {
                Some(p) if p.is_punct("(") => match (toks.get(i + 2), toks.get(i + 3)) {
                    (Some(n), Some(c)) if n.kind == Kind::Ident && c.is_punct(")") => {
                        (Some(n.text.clone()), i + 4)
                    }
                    _ => (None, i + 2),
                },
                Some(n) if n.kind == Kind::Ident => (Some(n.text.clone()), i + 2),
                _ => (None, i + 1),
            };
            let Some(name) = name else {
                self.error_at(
                    range(t.pos),
                    "operator 'defined' requires an identifier",
                    "",
                );
                let mut z = Token::new(Kind::Number, "0", t.ws);
                z.pos = t.pos;
                out.push(z);
                i = toks.len();
                continue;
            };
            let v = if self.is_defined(&name) { "1" } else { "0" };
            let mut z = Token::new(Kind::Number, v, t.ws);
            z.pos = t.pos;
            out.push(z);
            i = next;
        }
        out
    }

    /// `__has_include ( "file" )`, `__has_include ( <file> )` (and `_next`) at `toks[i]`: whether
    /// the search for `#include` would find the file, and the index after the `)`. The operand
    /// is read before macro expansion, as gcc does for these two forms.
    fn has_include(&mut self, toks: &[Token], i: usize) -> (bool, usize) {
        let next = &*toks[i].text == "__has_include_next";
        let bad = |pp: &mut Self, at: usize| {
            let pos = toks.get(at).unwrap_or(&toks[i]).pos;
            pp.error_at(
                range(pos),
                "operator '__has_include' requires a header name",
                "expected (\"FILE\") or (<FILE>)",
            );
            (false, toks.len())
        };
        if !toks.get(i + 1).is_some_and(|t| t.is_punct("(")) {
            return bad(self, i + 1);
        }
        let (name, angled, after) = match toks.get(i + 2) {
            Some(t) if t.kind == Kind::Str && t.text.starts_with('"') => {
                (t.text[1..t.text.len() - 1].to_string(), false, i + 3)
            }
            Some(t) if t.is_punct("<") => {
                let Some(close) = toks[i + 3..].iter().position(|t| t.is_punct(">")) else {
                    return bad(self, i + 2);
                };
                let name: String = toks[i + 3..i + 3 + close]
                    .iter()
                    .map(|t| &*t.text)
                    .collect();
                (name, true, i + 4 + close)
            }
            _ => return bad(self, i + 2),
        };
        if !toks.get(after).is_some_and(|t| t.is_punct(")")) {
            return bad(self, after);
        }
        (self.search(&name, angled, next).is_some(), after + 1)
    }

    /// `#line N ["file"]` or a line marker `# N "file" flags`: sets the presumed line and name.
    fn dir_line(&mut self, toks: &[Token], at: (u32, u32), marker: bool) {
        let Some(n) = toks.first() else {
            self.error_at(range(at), "#line directive requires a line number", "");
            return;
        };
        let line = match n.text.parse::<u64>() {
            Ok(v) if n.kind == Kind::Number => v,
            _ => {
                let msg = format!("'{}' after #line is not a positive integer", n.text);
                self.error_at(range(n.pos), msg, "");
                return;
            }
        };
        let name = match toks.get(1) {
            Some(s) if s.kind == Kind::Str && s.text.starts_with('"') => {
                Some(Rc::from(unescape(&s.text[1..s.text.len() - 1])))
            }
            Some(s) if !marker => {
                let msg = format!("invalid filename '{}' in #line", s.text);
                self.error_at(range(s.pos), msg, "");
                return;
            }
            _ => None,
        };
        // The next line has number `line`.
        let next_line = self.presumed_line(at.0) - self.top().map_or(0, |f| f.line_delta) + 1;
        if let Some(f) = self.files.last_mut() {
            f.line_delta = line as i64 - next_line;
            if name.is_some() {
                f.presumed_name = name;
            }
        }
    }

    /// `#include`, `#include_next`, `#import`.
    fn dir_include(&mut self, word: &str, at: (u32, u32)) {
        let header = if self.pushback.is_empty() {
            let f = self.files.last_mut();
            f.and_then(|f| f.lexer.header_name(&self.db.get(f.file).text))
        } else {
            None
        };
        let (name, angled, name_range) = if let Some(h) = header {
            let text = self.spelling(&h);
            let rest = self.line_tokens();
            if let Some(t) = rest.first() {
                let msg = format!("extra tokens at end of #{word} directive");
                self.warn_at(range(t.pos), msg, "");
            }
            (text[1..text.len() - 1].to_string(), true, (h.start, h.end))
        } else {
            let toks = self.line_tokens();
            let expanded = match toks.first() {
                Some(t) if t.kind == Kind::Str => toks,
                _ => self.expand_list(toks, 0),
            };
            let span = match (expanded.first(), expanded.last()) {
                (Some(a), Some(b)) => (a.pos.0, b.pos.1.max(a.pos.0)),
                _ => at,
            };
            match parse_include_operand(&expanded) {
                Some((name, angled)) => (name, angled, span),
                None => {
                    let msg = format!("#{word} expects \"FILENAME\" or <FILENAME>");
                    self.error_at(range(span), msg, "");
                    return;
                }
            }
        };
        if self.halted {
            return;
        }
        self.include_file(&name, angled, word, (at.0, name_range.1), name_range);
    }

    fn include_file(
        &mut self,
        name: &str,
        angled: bool,
        word: &str,
        at: (u32, u32),
        name_range: (u32, u32),
    ) {
        let Some(found) = self.search(name, angled, word == "include_next") else {
            let msg = format!("cannot find include file '{name}'");
            self.error_at(range(name_range), msg, "not found in the include path");
            return;
        };
        let (path, dir_idx) = found;
        let canon = super::file_key(&path).unwrap_or_else(|| path.clone());
        if self.once.contains(&canon) {
            return;
        }
        if let Some(g) = self.guards.get(&canon) {
            if self.is_defined(g) {
                return;
            }
        }
        if word == "import" {
            self.once.insert(canon.clone());
        }
        if self.files.len() >= self.opts.limits.max_include_depth {
            let msg = format!(
                "#include nested more than {} deep",
                self.opts.limits.max_include_depth
            );
            self.error_at(range(name_range), msg, "");
            return;
        }
        if let Some(f) = self.files.iter().find(|f| f.canon.as_ref() == Some(&canon)) {
            let guarded = match &f.guard {
                Guard::Inside(g) | Guard::Closed(g) => self.macros.contains_key(g),
                _ => false,
            };
            if !guarded {
                let msg = format!("include cycle: '{name}' is already being included");
                self.error_at(range(name_range), msg, "includes itself again");
                return;
            }
        }
        let Some(file) = self.read_file(&path) else {
            let msg = format!("cannot read include file '{}'", path.display());
            self.error_at(range(name_range), msg, "");
            return;
        };
        let Some(parent) = self.top() else { return };
        let step = IncludeStep {
            file,
            at: Some((
                parent.include,
                Range32 {
                    start: at.0,
                    end: at.1,
                },
            )),
        };
        let include = self.origins.map.push_include(step);
        self.last = super::Last::Other;
        self.push_file(file, include, Some(path), Some(canon), dir_idx);
    }

    /// Finds an include file: the includer's directory (quoted form), then `-I`, `-isystem`,
    /// the standard system directories and `-idirafter`, as `gcc -E` does. The standard ones are
    /// looked up only when a search gets that far. Returns the path and its search-path index.
    fn search(&self, name: &str, angled: bool, next: bool) -> Option<(PathBuf, Option<usize>)> {
        if name.is_empty() {
            return None;
        }
        let p = Path::new(name);
        if p.is_absolute() {
            return p.is_file().then(|| (p.to_path_buf(), None));
        }
        let top = self.top()?;
        let opts = self.opts;
        let std_dirs = std::iter::once(()).flat_map(|()| opts.std_dirs.dirs().iter());
        let dirs = opts
            .include_dirs
            .iter()
            .chain(&opts.system_dirs)
            .chain(std_dirs)
            .chain(&opts.after_dirs);
        let mut first = 0;
        if next {
            if let Some(i) = top.dir_idx {
                first = i + 1;
            }
        } else if !angled {
            let dir = top
                .path
                .as_ref()
                .and_then(|p| p.parent())
                .unwrap_or(Path::new(""));
            let cand = dir.join(name);
            if cand.is_file() {
                return Some((cand, None));
            }
        }
        for (i, d) in dirs.enumerate().skip(first) {
            let cand = d.join(name);
            if cand.is_file() {
                return Some((cand, Some(i)));
            }
        }
        None
    }

    /// Reads a file into the database once (regular files only), diagnosing bad UTF-8.
    pub(super) fn read_file(&mut self, path: &Path) -> Option<crate::source::FileId> {
        let key = super::file_key(path).unwrap_or_else(|| path.to_path_buf());
        if let Some(&id) = self.cache.get(&key) {
            return Some(id);
        }
        if !path.is_file() {
            return None;
        }
        let bytes = std::fs::read(path).ok()?;
        let name = path.to_string_lossy().into_owned();
        let (id, bad) = self.db.add_bytes(name, &bytes);
        self.files_read.push(path.to_path_buf());
        self.cache.insert(key, id);
        if let Some(off) = bad {
            let include = self.top().map(|f| f.include);
            let d = crate::diagnostics::Diagnostic::warning()
                .with_message(format!("invalid utf-8 in '{}'", path.display()))
                .with_labels(vec![codespan_reporting::diagnostic::Label::primary(
                    id,
                    off..off + 1,
                )
                .with_message("replaced by U+FFFD")]);
            let d = match include {
                Some(inc) => d.with_notes(crate::diagnostics::include_notes(
                    self.db,
                    &self.origins.map,
                    inc,
                )),
                None => d,
            };
            self.diags.push(d);
        }
        Some(id)
    }
}

fn range(at: (u32, u32)) -> std::ops::Range<usize> {
    at.0 as usize..at.1 as usize
}

/// Spellings joined with single spaces where there was whitespace.
fn join(toks: &[Token]) -> String {
    let mut s = String::new();
    for (i, t) in toks.iter().enumerate() {
        if i > 0 && t.ws {
            s.push(' ');
        }
        s.push_str(&t.text);
    }
    s
}

/// The guard name of `#if !defined X` / `#if !defined(X)`.
fn guard_of_if(toks: &[Token]) -> Option<Rc<str>> {
    let texts: Vec<&str> = toks.iter().map(|t| &*t.text).collect();
    match texts.as_slice() {
        ["!", "defined", x] | ["!", "defined", "(", x, ")"] => {
            toks.iter().find(|t| &*t.text == *x).map(|t| t.text.clone())
        }
        _ => None,
    }
}

/// The file name of an `#include` operand after expansion: `"name"` or `< ... >`.
fn parse_include_operand(toks: &[Token]) -> Option<(String, bool)> {
    let first = toks.first()?;
    if first.kind == Kind::Str && first.text.starts_with('"') && first.text.len() >= 2 {
        return Some((first.text[1..first.text.len() - 1].to_string(), false));
    }
    if first.is_punct("<") {
        let mut name = String::new();
        for (i, t) in toks.iter().enumerate().skip(1) {
            if t.is_punct(">") {
                return Some((name, true));
            }
            if i > 1 && t.ws {
                name.push(' ');
            }
            name.push_str(&t.text);
        }
    }
    None
}

/// Undoes `\\` and `\"` in a `#line` file name.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}
