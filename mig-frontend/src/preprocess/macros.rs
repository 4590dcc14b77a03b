//! Macros: `#define`/`#undef`, and expansion with `#`, `##`, `__VA_ARGS__` and the "blue
//! paint" rule (a macro's name met inside its own expansion is never expanded again).

use std::cell::Cell;
use std::rc::Rc;

use super::lexer::{self, Kind, RawTok};
use super::{Pp, Token};

/// Built-in macros whose value depends on where they are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    File,
    Line,
    Counter,
    IncludeLevel,
    BaseFile,
    Date,
    Time,
    /// `_Pragma ( "..." )`: the operator form of `#pragma` (C99), handled as the directive is.
    Pragma,
}

/// A macro definition.
#[derive(Debug)]
pub struct Macro {
    pub name: Rc<str>,
    /// Parameter names; None for an object-like macro.
    pub params: Option<Vec<Rc<str>>>,
    /// The last parameter takes the variable arguments (`...` or `name...`).
    pub variadic: bool,
    pub body: Vec<Token>,
    /// For each body token, the parameter it names (function-like macros).
    pub body_params: Vec<Option<usize>>,
    pub builtin: Option<Builtin>,
    /// Number of replacement contexts of this macro being read (>0: disabled).
    pub busy: Cell<u32>,
}

impl Macro {
    /// Same definition in the sense of C11 6.10.3p2 (spelling and whitespace separation).
    fn same_as(&self, other: &Macro) -> bool {
        self.params == other.params
            && self.variadic == other.variadic
            && self.body.len() == other.body.len()
            && self
                .body
                .iter()
                .zip(&other.body)
                .enumerate()
                .all(|(i, (a, b))| a.text == b.text && (i == 0 || a.ws == b.ws))
    }
}

/// A replacement list being read, which disables its macro while it is on the stack.
#[derive(Debug)]
pub struct Context {
    toks: Vec<Token>,
    pos: usize,
    mac: Option<Rc<Macro>>,
}

/// Contexts read by one expansion; `base` lets it read on into the file.
#[derive(Debug, Default)]
pub struct Frame {
    ctx: Vec<Context>,
    base: bool,
}

impl Pp<'_> {
    pub(super) fn define_builtins(&mut self) {
        use Builtin::*;
        for (name, b) in [
            ("__FILE__", File),
            ("__LINE__", Line),
            ("__COUNTER__", Counter),
            ("__INCLUDE_LEVEL__", IncludeLevel),
            ("__BASE_FILE__", BaseFile),
            ("__DATE__", Date),
            ("__TIME__", Time),
        ] {
            let name: Rc<str> = Rc::from(name);
            let m = Macro {
                name: name.clone(),
                params: None,
                variadic: false,
                body: Vec::new(),
                body_params: Vec::new(),
                builtin: Some(b),
                busy: Cell::new(0),
            };
            self.macros.insert(name, Rc::new(m));
        }
        let name: Rc<str> = Rc::from("_Pragma");
        let m = Macro {
            name: name.clone(),
            params: Some(vec![Rc::from("__pragma")]),
            variadic: false,
            body: Vec::new(),
            body_params: Vec::new(),
            builtin: Some(Pragma),
            busy: Cell::new(0),
        };
        self.macros.insert(name, Rc::new(m));
    }

    /// `_Pragma ( "string" )` after its name: the string, destringized, is a `#pragma` line
    /// (as the directive, `once` is honoured and every other pragma is dropped). It produces
    /// no tokens. Returns false when no `(` follows (the name stays as it is).
    fn pragma_operator(&mut self, frame: &mut Frame, name: &Token, mac: &Macro) -> bool {
        if !self.take_lparen(frame) {
            return false;
        }
        let Some(args) = self.collect_args(frame, mac, 1, name) else {
            return true;
        };
        match args.as_slice() {
            [arg] if arg.len() == 1 && arg[0].kind == Kind::Str && arg[0].text.starts_with('"') => {
                let text = &arg[0].text[1..arg[0].text.len() - 1];
                let line = text.replace("\\\"", "\"").replace("\\\\", "\\");
                let first = lexer::lex_all(&line)
                    .first()
                    .map(|t| line[t.start as usize..t.end as usize].to_string());
                if first.as_deref() == Some("once") {
                    if let Some(c) = self.top().and_then(|f| f.canon.clone()) {
                        self.once.insert(c);
                    }
                }
            }
            _ => self.error_at(
                range(name.pos),
                "_Pragma takes a parenthesized string literal",
                "",
            ),
        }
        true
    }

    /// `#define` with the tokens after `define`. `at` is the directive's range for messages.
    pub(super) fn define(&mut self, toks: Vec<Token>, at: (u32, u32)) {
        let Some(name) = toks.first() else {
            self.error_at(range(at), "macro name missing in #define", "");
            return;
        };
        if name.kind != Kind::Ident {
            self.error_at(range(name.pos), "macro names must be identifiers", "");
            return;
        }
        if &*name.text == "defined" {
            self.error_at(
                range(name.pos),
                "'defined' cannot be used as a macro name",
                "",
            );
            return;
        }
        let mut i = 1;
        let mut params = None;
        let mut variadic = false;
        if toks.get(1).is_some_and(|t| t.is_punct("(") && !t.ws) {
            i = 2;
            let mut list: Vec<Rc<str>> = Vec::new();
            loop {
                let Some(t) = toks.get(i) else {
                    self.error_at(range(name.pos), "missing ')' in macro parameter list", "");
                    return;
                };
                i += 1;
                if t.is_punct(")") && list.is_empty() {
                    break;
                }
                if t.is_punct("...") {
                    list.push(Rc::from("__VA_ARGS__"));
                    variadic = true;
                } else if t.kind == Kind::Ident {
                    if list.contains(&t.text) || &*t.text == "__VA_ARGS__" {
                        let msg = format!("duplicate macro parameter '{}'", t.text);
                        self.error_at(range(t.pos), msg, "");
                        return;
                    }
                    list.push(t.text.clone());
                    if toks.get(i).is_some_and(|t| t.is_punct("...")) {
                        variadic = true;
                        i += 1;
                    }
                } else {
                    let msg = format!("expected parameter name, found '{}'", t.text);
                    self.error_at(range(t.pos), msg, "");
                    return;
                }
                match toks.get(i) {
                    Some(t) if t.is_punct(")") => {
                        i += 1;
                        break;
                    }
                    Some(t) if t.is_punct(",") && !variadic => i += 1,
                    Some(t) => {
                        let msg =
                            format!("expected ',' or ')' in parameter list, found '{}'", t.text);
                        self.error_at(range(t.pos), msg, "");
                        return;
                    }
                    None => {
                        self.error_at(range(name.pos), "missing ')' in macro parameter list", "");
                        return;
                    }
                }
            }
            params = Some(list);
        }
        let mut body: Vec<Token> = toks[i..].to_vec();
        if let Some(first) = body.first_mut() {
            first.ws = false;
        }
        let mut body_params = Vec::with_capacity(body.len());
        for t in &body {
            let p = match (&params, t.kind) {
                (Some(ps), Kind::Ident) => ps.iter().position(|p| *p == t.text),
                _ => None,
            };
            body_params.push(p);
        }
        // `#` must name a parameter; `##` cannot start or end the list.
        for (k, t) in body.iter().enumerate() {
            if t.is_punct("##") && (k == 0 || k + 1 == body.len()) {
                let msg = "'##' cannot appear at either end of a macro expansion";
                self.error_at(range(t.pos), msg, "");
                return;
            }
            if params.is_some()
                && (t.is_punct("#") || t.is_punct("%:"))
                && body_params.get(k + 1).copied().flatten().is_none()
            {
                self.error_at(range(t.pos), "'#' is not followed by a macro parameter", "");
                return;
            }
        }
        for t in &mut body {
            t.noexpand = false;
        }
        let m = Macro {
            name: name.text.clone(),
            params,
            variadic,
            body,
            body_params,
            builtin: None,
            busy: Cell::new(0),
        };
        if let Some(old) = self.macros.get(&m.name) {
            if old.builtin.is_some() || !old.same_as(&m) {
                let msg = format!("'{}' redefined", m.name);
                self.warn_at(range(name.pos), msg, "");
            }
        }
        self.macros.insert(m.name.clone(), Rc::new(m));
    }

    pub(super) fn undef(&mut self, toks: Vec<Token>, at: (u32, u32)) {
        match toks.first() {
            Some(t) if t.kind == Kind::Ident => {
                if toks.len() > 1 {
                    self.warn_at(
                        range(toks[1].pos),
                        "extra tokens at end of #undef directive",
                        "",
                    );
                }
                self.macros.remove(&t.text);
            }
            Some(t) => self.error_at(range(t.pos), "macro names must be identifiers", ""),
            None => self.error_at(range(at), "macro name missing in #undef", ""),
        }
    }

    pub(super) fn is_defined(&self, name: &str) -> bool {
        // gcc's `__has_include` operators answer `defined` and `#ifdef` as macros do.
        self.macros.contains_key(name) || matches!(name, "__has_include" | "__has_include_next")
    }

    /// Expands a macro named in the file and writes the result, mapped to the invocation.
    pub(super) fn expand_from_file(&mut self, raw: RawTok, mac: Rc<Macro>) {
        let tok = self.token_of(&raw);
        self.session_end = raw.end;
        let mut frame = Frame {
            ctx: Vec::new(),
            base: true,
        };
        if !self.enter_macro(&mut frame, tok, mac, 0) {
            self.emit_file_tok(raw);
            return;
        }
        let mut out = Vec::new();
        self.expand_loop(&mut frame, &mut out, 0);
        self.release(&mut frame);
        if let Some(first) = out.first_mut() {
            first.ws = raw.ws;
        }
        self.emit_expansion(&out, (raw.start, self.session_end));
    }

    /// Fully expands a token list in isolation (macro arguments, `#if` and `#include` lines).
    pub(super) fn expand_list(&mut self, toks: Vec<Token>, depth: u32) -> Vec<Token> {
        if depth > self.opts.limits.max_arg_nesting {
            let at = toks.first().map_or((0, 0), |t| t.pos);
            let msg = format!(
                "macro invocations nested more than {} deep in arguments",
                self.opts.limits.max_arg_nesting
            );
            self.error_at(range(at), msg, "");
            self.halted = true;
            return toks;
        }
        let mut frame = Frame {
            ctx: vec![Context {
                toks,
                pos: 0,
                mac: None,
            }],
            base: false,
        };
        let mut out = Vec::new();
        self.expand_loop(&mut frame, &mut out, depth);
        self.release(&mut frame);
        out
    }

    /// Re-enables the macros of contexts left on a frame (after an error or a halt).
    fn release(&mut self, frame: &mut Frame) {
        for c in frame.ctx.drain(..) {
            if let Some(m) = c.mac {
                m.busy.set(m.busy.get().saturating_sub(1));
            }
        }
    }

    fn expand_loop(&mut self, frame: &mut Frame, out: &mut Vec<Token>, depth: u32) {
        while let Some(mut t) = self.next_ctx_token(frame) {
            if self.halted {
                return;
            }
            if t.kind == Kind::Ident && !t.noexpand {
                if let Some(m) = self.macros.get(&t.text).cloned() {
                    if m.busy.get() > 0 {
                        t.noexpand = true;
                    } else if self.enter_macro(frame, t.clone(), m, depth) {
                        continue;
                    }
                }
            }
            out.push(t);
        }
    }

    /// The next token of the frame's contexts, popping exhausted ones (never the file).
    fn next_ctx_token(&mut self, frame: &mut Frame) -> Option<Token> {
        loop {
            let c = frame.ctx.last_mut()?;
            if let Some(t) = c.toks.get(c.pos) {
                c.pos += 1;
                return Some(t.clone());
            }
            if let Some(m) = frame.ctx.pop().and_then(|c| c.mac) {
                m.busy.set(m.busy.get().saturating_sub(1));
            }
        }
    }

    /// Consumes a `(` if it comes next (in the contexts or, for a top-level invocation, in the
    /// file, possibly on a later line).
    fn take_lparen(&mut self, frame: &mut Frame) -> bool {
        while let Some(c) = frame.ctx.last_mut() {
            if let Some(t) = c.toks.get(c.pos) {
                if t.is_punct("(") {
                    c.pos += 1;
                    return true;
                }
                return false;
            }
            if let Some(m) = frame.ctx.pop().and_then(|c| c.mac) {
                m.busy.set(m.busy.get().saturating_sub(1));
            }
        }
        if !frame.base {
            return false;
        }
        let mut seen = Vec::new();
        let saved_newlines = self.pending_newlines;
        loop {
            let t = self.file_next();
            if t.kind == Kind::Newline {
                seen.push(t);
                continue;
            }
            if t.kind == Kind::Punct && self.spelling(&t) == "(" {
                self.pending_newlines += seen.len() as u32;
                self.session_end = t.end;
                return true;
            }
            seen.push(t);
            break;
        }
        self.pending_newlines = saved_newlines;
        while let Some(t) = seen.pop() {
            self.pushback.push(t);
        }
        false
    }

    /// The next token of a macro argument: contexts, then (top level) the file, where newlines
    /// are whitespace. None at the end of the file or at a directive.
    fn next_arg_token(&mut self, frame: &mut Frame) -> Option<Token> {
        if let Some(t) = self.next_ctx_token(frame) {
            return Some(t);
        }
        if !frame.base {
            return None;
        }
        let mut ws = false;
        loop {
            let t = self.file_next();
            match t.kind {
                Kind::Eof => {
                    self.pushback.push(t);
                    return None;
                }
                Kind::Newline => {
                    let next = self.file_next();
                    if next.kind == Kind::Punct && self.is_hash(&next) {
                        self.pushback.push(next);
                        self.pushback.push(t);
                        return None;
                    }
                    self.pushback.push(next);
                    self.pending_newlines += 1;
                    ws = true;
                }
                _ => {
                    self.session_end = t.end;
                    let mut tok = self.token_of(&t);
                    tok.ws |= ws;
                    return Some(tok);
                }
            }
        }
    }

    /// Starts expanding `mac` named by `name`. False when a function-like macro is not
    /// followed by `(` (the name stays as it is).
    fn enter_macro(&mut self, frame: &mut Frame, name: Token, mac: Rc<Macro>, depth: u32) -> bool {
        if let Some(Builtin::Pragma) = mac.builtin {
            return self.pragma_operator(frame, &name, &mac);
        }
        if let Some(b) = mac.builtin {
            let t = self.builtin_token(b, &name);
            frame.ctx.push(Context {
                toks: vec![t],
                pos: 0,
                mac: None,
            });
            return true;
        }
        let mut result = match &mac.params {
            None => self.substitute(&mac, &[], &name, depth),
            Some(params) => {
                if !self.take_lparen(frame) {
                    return false;
                }
                let Some(args) = self.collect_args(frame, &mac, params.len(), &name) else {
                    return true;
                };
                self.substitute(&mac, &args, &name, depth)
            }
        };
        for t in &mut result {
            t.pos = name.pos;
        }
        if let Some(first) = result.first_mut() {
            first.ws = name.ws;
        }
        self.expansion_tokens += result.len() as u64 + 1;
        if self.expansion_tokens > self.opts.limits.max_expansion_tokens {
            let msg = format!(
                "macro expansion exceeds the limit of {} tokens (runaway macro '{}'?)",
                self.opts.limits.max_expansion_tokens, mac.name
            );
            self.error_at(range(name.pos), msg, "while expanding this");
            self.halted = true;
            return true;
        }
        mac.busy.set(mac.busy.get() + 1);
        frame.ctx.push(Context {
            toks: result,
            pos: 0,
            mac: Some(mac),
        });
        true
    }

    fn collect_args(
        &mut self,
        frame: &mut Frame,
        mac: &Macro,
        nparams: usize,
        name: &Token,
    ) -> Option<Vec<Vec<Token>>> {
        let mut args: Vec<Vec<Token>> = vec![Vec::new()];
        let mut depth = 0u32;
        loop {
            let Some(mut t) = self.next_arg_token(frame) else {
                let msg = format!("unterminated argument list invoking macro '{}'", mac.name);
                self.error_at(range(name.pos), msg, "");
                return None;
            };
            if t.kind == Kind::Punct {
                match &*t.text {
                    "(" => depth += 1,
                    ")" if depth == 0 => break,
                    ")" => depth -= 1,
                    "," if depth == 0 && !(mac.variadic && args.len() == nparams) => {
                        args.push(Vec::new());
                        continue;
                    }
                    _ => {}
                }
            }
            if t.kind == Kind::Ident && !t.noexpand {
                if let Some(m) = self.macros.get(&t.text) {
                    if m.busy.get() > 0 {
                        t.noexpand = true;
                    }
                }
            }
            if let Some(a) = args.last_mut() {
                a.push(t);
            }
        }
        // `f()` passes one empty argument; a variadic macro may omit its variable arguments.
        if nparams == 0 && args.len() == 1 && args[0].is_empty() {
            args.clear();
        }
        if mac.variadic && args.len() + 1 == nparams {
            args.push(Vec::new());
        }
        if args.len() != nparams {
            let msg = if args.len() < nparams {
                format!(
                    "macro '{}' requires {} arguments, but only {} given",
                    mac.name,
                    nparams,
                    args.len()
                )
            } else {
                format!(
                    "macro '{}' passed {} arguments, but takes just {}",
                    mac.name,
                    args.len(),
                    nparams
                )
            };
            self.error_at(
                range((name.pos.0, self.session_end)),
                msg,
                "in this invocation",
            );
            return None;
        }
        Some(args)
    }

    /// The replacement list with arguments substituted, `#` and `##` applied.
    fn substitute(
        &mut self,
        mac: &Macro,
        args: &[Vec<Token>],
        name: &Token,
        depth: u32,
    ) -> Vec<Token> {
        let body = &mac.body;
        let is_paste = |k: usize| {
            body.get(k)
                .is_some_and(|t| t.is_punct("##") || t.is_punct("%:%:"))
        };
        let mut expanded: Vec<Option<Vec<Token>>> = vec![None; args.len()];
        let mut res: Vec<Token> = Vec::with_capacity(body.len());
        let mut paste_at: Option<usize> = None;
        let mut k = 0;
        while k < body.len() {
            let bt = &body[k];
            let param = mac.body_params.get(k).copied().flatten();
            if is_paste(k) {
                paste_at = Some(res.len());
                k += 1;
                continue;
            }
            let group_start = res.len();
            // `__VA_OPT__ ( content )` (C23, gcc): the content, substituted, when the variable
            // argument has tokens; nothing otherwise.
            if mac.variadic && bt.kind == Kind::Ident && &*bt.text == "__VA_OPT__" {
                if let Some(close) = va_opt_close(body, k) {
                    let va = args.last().map_or(&[][..], |a| a.as_slice());
                    let present = !self.expand_list(va.to_vec(), depth + 1).is_empty();
                    let inner = if present {
                        let sub = Macro {
                            name: mac.name.clone(),
                            params: mac.params.clone(),
                            variadic: true,
                            body: body[k + 2..close].to_vec(),
                            body_params: mac.body_params[k + 2..close].to_vec(),
                            builtin: None,
                            busy: std::cell::Cell::new(0),
                        };
                        self.substitute(&sub, args, name, depth)
                    } else {
                        Vec::new()
                    };
                    if inner.is_empty() {
                        res.push(Token::placemarker());
                    } else {
                        let start = res.len();
                        res.extend(inner);
                        res[start].ws = bt.ws;
                    }
                    k = close + 1;
                    self.finish_paste(&mut res, &mut paste_at, group_start);
                    continue;
                }
            }
            if mac.params.is_some() && (bt.is_punct("#") || bt.is_punct("%:")) {
                if let Some(p) = mac.body_params.get(k + 1).copied().flatten() {
                    let mut s = Token::new(
                        Kind::Str,
                        &stringify(args.get(p).map_or(&[][..], |a| a)),
                        bt.ws,
                    );
                    s.pos = name.pos;
                    res.push(s);
                    k += 2;
                    self.finish_paste(&mut res, &mut paste_at, group_start);
                    continue;
                }
            }
            if let Some(p) = param {
                let arg = args.get(p).map_or(&[][..], |a| a.as_slice());
                let pasted = paste_at.is_some() || is_paste(k + 1);
                // GNU `, ## __VA_ARGS__`: an empty variable argument swallows the comma.
                if paste_at.is_some()
                    && mac.variadic
                    && p + 1 == args.len()
                    && res.last().is_some_and(|t| t.is_punct(","))
                {
                    paste_at = None;
                    if arg.is_empty() {
                        res.pop();
                    } else {
                        res.extend(arg.iter().cloned());
                    }
                    k += 1;
                    continue;
                }
                let toks: Vec<Token> = if pasted {
                    arg.to_vec()
                } else {
                    if expanded[p].is_none() {
                        let e = self.expand_list(arg.to_vec(), depth + 1);
                        expanded[p] = Some(e);
                    }
                    expanded[p].clone().unwrap_or_default()
                };
                if toks.is_empty() {
                    res.push(Token::placemarker());
                } else {
                    let start = res.len();
                    res.extend(toks);
                    res[start].ws = bt.ws;
                }
            } else {
                res.push(bt.clone());
            }
            k += 1;
            self.finish_paste(&mut res, &mut paste_at, group_start);
        }
        res.retain(|t| !t.is_placemarker());
        res
    }

    /// After a group was appended at `group_start`, pastes its first token onto the token
    /// before it if a `##` came between them.
    fn finish_paste(
        &mut self,
        res: &mut Vec<Token>,
        paste_at: &mut Option<usize>,
        group_start: usize,
    ) {
        let Some(at) = paste_at.take() else { return };
        if at == 0 || at != group_start || group_start >= res.len() {
            return;
        }
        let rhs = res.remove(at);
        let lhs = res.remove(at - 1);
        let pasted = self.paste(lhs, rhs);
        for (n, t) in pasted.into_iter().enumerate() {
            res.insert(at - 1 + n, t);
        }
    }

    /// `lhs ## rhs`: one token, or both with a diagnostic if they do not form one.
    fn paste(&mut self, lhs: Token, rhs: Token) -> Vec<Token> {
        if lhs.is_placemarker() {
            return vec![Token {
                ws: lhs.ws || rhs.ws,
                ..rhs
            }];
        }
        if rhs.is_placemarker() {
            return vec![lhs];
        }
        let text = format!("{}{}", lhs.text, rhs.text);
        let toks = lexer::lex_all(&text);
        if toks.len() == 1 && toks[0].end as usize == text.len() && !toks[0].unterminated {
            let mut t = Token::new(toks[0].kind, &text, lhs.ws);
            t.pos = lhs.pos;
            return vec![t];
        }
        let msg = format!(
            "pasting \"{}\" and \"{}\" does not give a valid preprocessing token",
            lhs.text, rhs.text
        );
        self.error_at(range(lhs.pos), msg, "in this macro invocation");
        vec![lhs, rhs]
    }

    fn builtin_token(&mut self, b: Builtin, name: &Token) -> Token {
        let (kind, text) = match b {
            Builtin::File => {
                let n = self.presumed_name();
                (Kind::Str, quote(&n))
            }
            Builtin::BaseFile => (Kind::Str, quote(&self.base_file.clone())),
            Builtin::Line => (Kind::Number, self.presumed_line(name.pos.0).to_string()),
            Builtin::Counter => {
                self.counter += 1;
                (Kind::Number, (self.counter - 1).to_string())
            }
            Builtin::IncludeLevel => (Kind::Number, self.files.len().saturating_sub(1).to_string()),
            // Fixed values keep builds reproducible.
            Builtin::Date => (Kind::Str, "\"Jan  1 1970\"".to_string()),
            Builtin::Time => (Kind::Str, "\"00:00:00\"".to_string()),
            // Handled by `pragma_operator`; never a token of its own.
            Builtin::Pragma => (Kind::Ident, "_Pragma".to_string()),
        };
        let mut t = Token::new(kind, &text, name.ws);
        t.pos = name.pos;
        t
    }

    fn presumed_name(&self) -> String {
        match self.top() {
            Some(f) => match &f.presumed_name {
                Some(n) => n.to_string(),
                None => self.db.get(f.file).name.clone(),
            },
            None => String::new(),
        }
    }

    pub(super) fn presumed_line(&self, offset: u32) -> i64 {
        match self.top() {
            Some(f) => {
                let (line, _) = self.db.get(f.file).line_col(offset as usize);
                line as i64 + f.line_delta
            }
            None => 0,
        }
    }
}

fn range(at: (u32, u32)) -> std::ops::Range<usize> {
    at.0 as usize..at.1 as usize
}

/// A C string literal for `s`.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// `#param`: the argument's spelling as a string literal (C11 6.10.3.2).
fn stringify(arg: &[Token]) -> String {
    let mut out = String::from("\"");
    let mut first = true;
    for t in arg {
        if t.is_placemarker() {
            continue;
        }
        if !first && t.ws {
            out.push(' ');
        }
        first = false;
        if matches!(t.kind, Kind::Str | Kind::Char) {
            for c in t.text.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
        } else {
            out.push_str(&t.text);
        }
    }
    out.push('"');
    out
}

/// The index of the `)` closing `__VA_OPT__ (` at `body[k]`, if the parenthesis follows.
fn va_opt_close(body: &[Token], k: usize) -> Option<usize> {
    if !body.get(k + 1)?.is_punct("(") {
        return None;
    }
    let mut depth = 0usize;
    for (i, t) in body.iter().enumerate().skip(k + 1) {
        if t.is_punct("(") {
            depth += 1;
        } else if t.is_punct(")") {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}
