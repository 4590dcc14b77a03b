//! The lexer: unit text (or raw source) to tokens, trivia kept.
//!
//! Logos does the character-level work ([`RawToken`]); [`Lexer`] adds what depends on context:
//! keyword classification (case-insensitive), the raw word after `msgoption`, `waittime` and
//! `sendtime` statements (`[-/._$A-Za-z0-9]+`), and the `<file>` name after import statements.
//! Comments, whitespace and preprocessor lines are trivia: the parser skips them, the
//! formatter and the language server read them.

use logos::Logos;
use serde::Serialize;

use crate::source::Span;

/// Character-level tokens recognised by logos.
#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
enum RawToken {
    #[regex(r"[ \t\r\x0c\x0b]+")]
    Whitespace,
    #[token("\n")]
    Newline,
    #[regex(r"//[^\n]*", allow_greedy = true)]
    LineComment,
    #[token("/*", block_comment)]
    BlockComment,
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident,
    #[regex(r"[0-9][0-9A-Za-z_]*")]
    Number,
    #[token("\"", string_literal)]
    String,
    #[token(":")]
    Colon,
    #[token(";")]
    Semi,
    #[token(",")]
    Comma,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("=")]
    Eq,
    #[token("^")]
    Caret,
    #[token("~")]
    Tilde,
    #[token("<")]
    Lt,
    #[token(">")]
    Gt,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("|")]
    Pipe,
    #[token("#")]
    Hash,
}

/// Consumes a block comment; an unterminated one runs to the end of the input.
fn block_comment(lex: &mut logos::Lexer<RawToken>) -> bool {
    let rest = lex.remainder();
    match rest.find("*/") {
        Some(i) => {
            lex.bump(i + 2);
            true
        }
        None => {
            lex.bump(rest.len());
            false
        }
    }
}

/// Consumes a string literal up to the closing quote on the same line.
fn string_literal(lex: &mut logos::Lexer<RawToken>) -> bool {
    let rest = lex.remainder().as_bytes();
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            b'\\' if i + 1 < rest.len() && rest[i + 1] != b'\n' => i += 2,
            b'"' => {
                lex.bump(i + 1);
                return true;
            }
            b'\n' => break,
            _ => i += 1,
        }
    }
    lex.bump(i.min(rest.len()));
    false
}

/// A keyword: its meaning does not depend on case (`Routine`, `ROUTINE`, `routine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Keyword {
    // statements
    Subsystem,
    KernelUser,
    KernelServer,
    Routine,
    SimpleRoutine,
    Procedure,
    SimpleProcedure,
    Function,
    Skip,
    Type,
    Import,
    UImport,
    SImport,
    DImport,
    IImport,
    RcsId,
    MsgOption,
    WaitTime,
    NoWaitTime,
    SendTime,
    NoSendTime,
    ServerPrefix,
    UserPrefix,
    ServerDemux,
    Error,
    UseSpecialReplyPort,
    ConsumeOnSendError,
    UserTypeLimit,
    OnStackLimit,
    // directions
    In,
    Out,
    InOut,
    RequestPort,
    ReplyPort,
    SReplyPort,
    UReplyPort,
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
    // type constructors
    Array,
    Of,
    Struct,
    CString,
    Polymorphic,
    PointerTo,
    PointerToIfNot,
    ValueOf,
    // translations
    CType,
    CUserType,
    CServerType,
    InTran,
    OutTran,
    Destructor,
    InTranPayload,
    // flags
    Dealloc,
    NotDealloc,
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
}

/// Every keyword with its canonical spelling (as the formatter writes it).
pub const KEYWORDS: &[(&str, Keyword)] = &[
    ("subsystem", Keyword::Subsystem),
    ("KernelUser", Keyword::KernelUser),
    ("KernelServer", Keyword::KernelServer),
    ("routine", Keyword::Routine),
    ("simpleroutine", Keyword::SimpleRoutine),
    ("procedure", Keyword::Procedure),
    ("simpleprocedure", Keyword::SimpleProcedure),
    ("function", Keyword::Function),
    ("skip", Keyword::Skip),
    ("type", Keyword::Type),
    ("import", Keyword::Import),
    ("uimport", Keyword::UImport),
    ("simport", Keyword::SImport),
    ("dimport", Keyword::DImport),
    ("iimport", Keyword::IImport),
    ("rcsid", Keyword::RcsId),
    ("msgoption", Keyword::MsgOption),
    ("waittime", Keyword::WaitTime),
    ("nowaittime", Keyword::NoWaitTime),
    ("sendtime", Keyword::SendTime),
    ("nosendtime", Keyword::NoSendTime),
    ("serverprefix", Keyword::ServerPrefix),
    ("userprefix", Keyword::UserPrefix),
    ("serverdemux", Keyword::ServerDemux),
    ("error", Keyword::Error),
    ("UseSpecialReplyPort", Keyword::UseSpecialReplyPort),
    ("ConsumeOnSendError", Keyword::ConsumeOnSendError),
    ("UserTypeLimit", Keyword::UserTypeLimit),
    ("OnStackLimit", Keyword::OnStackLimit),
    ("in", Keyword::In),
    ("out", Keyword::Out),
    ("inout", Keyword::InOut),
    ("requestport", Keyword::RequestPort),
    ("replyport", Keyword::ReplyPort),
    ("sreplyport", Keyword::SReplyPort),
    ("ureplyport", Keyword::UReplyPort),
    ("msgseqno", Keyword::MsgSeqno),
    ("SecToken", Keyword::SecToken),
    ("ServerSecToken", Keyword::ServerSecToken),
    ("UserSecToken", Keyword::UserSecToken),
    ("AuditToken", Keyword::AuditToken),
    ("ServerAuditToken", Keyword::ServerAuditToken),
    ("UserAuditToken", Keyword::UserAuditToken),
    ("ServerContextToken", Keyword::ServerContextToken),
    ("UserImpl", Keyword::UserImpl),
    ("ServerImpl", Keyword::ServerImpl),
    ("array", Keyword::Array),
    ("of", Keyword::Of),
    ("struct", Keyword::Struct),
    ("c_string", Keyword::CString),
    ("polymorphic", Keyword::Polymorphic),
    ("PointerTo", Keyword::PointerTo),
    ("PointerToIfNot", Keyword::PointerToIfNot),
    ("ValueOf", Keyword::ValueOf),
    ("ctype", Keyword::CType),
    ("cusertype", Keyword::CUserType),
    ("cservertype", Keyword::CServerType),
    ("intran", Keyword::InTran),
    ("outtran", Keyword::OutTran),
    ("destructor", Keyword::Destructor),
    ("intranpayload", Keyword::InTranPayload),
    ("dealloc", Keyword::Dealloc),
    ("notdealloc", Keyword::NotDealloc),
    ("servercopy", Keyword::ServerCopy),
    ("countinout", Keyword::CountInOut),
    ("islong", Keyword::IsLong),
    ("isnotlong", Keyword::IsNotLong),
    ("retcode", Keyword::RetCode),
    ("samecount", Keyword::SameCount),
    ("physicalcopy", Keyword::PhysicalCopy),
    ("overwrite", Keyword::Overwrite),
    ("auto", Keyword::Auto),
    ("const", Keyword::Const),
];

impl Keyword {
    /// Classifies an identifier, ignoring case.
    pub fn from_ident(text: &str) -> Option<Keyword> {
        if text.len() > 20 {
            return None;
        }
        let mut buf = [0u8; 20];
        let lower = &mut buf[..text.len()];
        lower.copy_from_slice(text.as_bytes());
        lower.make_ascii_lowercase();
        KEYWORDS
            .iter()
            .find(|(k, _)| k.len() == lower.len() && k.as_bytes().eq_ignore_ascii_case(lower))
            .map(|&(_, kw)| kw)
    }

    /// The canonical spelling.
    pub fn as_str(self) -> &'static str {
        KEYWORDS
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(s, _)| s)
    }

    /// Keywords after which, at statement level, the next word is raw (`[-/._$A-Za-z0-9]+`).
    fn takes_raw_word(self) -> bool {
        matches!(
            self,
            Keyword::MsgOption | Keyword::WaitTime | Keyword::SendTime
        )
    }

    fn takes_file_name(self) -> bool {
        matches!(
            self,
            Keyword::Import
                | Keyword::UImport
                | Keyword::SImport
                | Keyword::DImport
                | Keyword::IImport
        )
    }
}

/// What kind of token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum TokenKind {
    Whitespace,
    Newline,
    /// `/* ... */` or `// ...` (only in raw source).
    Comment,
    /// A preprocessor line `# ...` to its end (only in raw source).
    Directive,
    Ident,
    Keyword(Keyword),
    Number,
    /// `"..."`
    String,
    /// `<...>` after an import keyword.
    AngleFile,
    /// The raw word after `msgoption`, `waittime` or `sendtime`.
    Word,
    Colon,
    Semi,
    Comma,
    Plus,
    Minus,
    Star,
    Slash,
    LParen,
    RParen,
    Eq,
    Caret,
    Tilde,
    Lt,
    Gt,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Pipe,
    /// A character no token starts with, an unterminated string or comment.
    Error,
}

impl TokenKind {
    pub fn is_trivia(self) -> bool {
        matches!(
            self,
            TokenKind::Whitespace | TokenKind::Newline | TokenKind::Comment | TokenKind::Directive
        )
    }
}

/// A token: kind and span. Its text is `&source[span.range()]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// A lexical error: what and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub message: String,
    pub span: Span,
}

/// Whether `#` lines are trivia (raw source) or errors (unit text after preprocessing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LexMode {
    /// Text from the preprocessor: no comments or directives are expected.
    Unit,
    /// A source file as written: comments and directive lines are trivia.
    Raw,
}

/// Lexes all of `text` into tokens, trivia included, and the lexical errors found.
pub fn lex(text: &str, mode: LexMode) -> (Vec<Token>, Vec<LexError>) {
    let mut tokens = Vec::with_capacity(text.len() / 4);
    let mut errors = Vec::new();
    let mut lexer = RawToken::lexer(text);
    // Context: the last significant token, parenthesis depth, whether the line so far is blank.
    let mut last_sig: Option<TokenKind> = None;
    let mut depth: u32 = 0;
    let mut line_start = true;
    while let Some(result) = lexer.next() {
        let range = lexer.span();
        let span = Span::new(range.start, range.end);
        let slice = lexer.slice();
        let kind = match result {
            Ok(raw) => match raw {
                RawToken::Whitespace => TokenKind::Whitespace,
                RawToken::Newline => TokenKind::Newline,
                RawToken::LineComment => TokenKind::Comment,
                RawToken::BlockComment => {
                    if !slice.ends_with("*/") || slice.len() < 4 {
                        errors.push(LexError {
                            message: "unterminated comment".into(),
                            span: Span::new(range.start, range.start + 2),
                        });
                    }
                    TokenKind::Comment
                }
                RawToken::Hash if line_start => {
                    // A directive runs to the end of the line, with backslash continuations.
                    let end = directive_end(text, range.start);
                    lexer.bump(end - range.end);
                    let span = Span::new(range.start, end);
                    if mode == LexMode::Unit {
                        errors.push(LexError {
                            message: "unexpected preprocessor line in preprocessed text".into(),
                            span,
                        });
                    }
                    tokens.push(Token {
                        kind: TokenKind::Directive,
                        span,
                    });
                    line_start = false;
                    continue;
                }
                RawToken::Hash => {
                    errors.push(LexError {
                        message: "unexpected character '#'".into(),
                        span,
                    });
                    TokenKind::Error
                }
                RawToken::Ident => match Keyword::from_ident(slice) {
                    Some(kw) => TokenKind::Keyword(kw),
                    None => TokenKind::Ident,
                },
                RawToken::Number => TokenKind::Number,
                RawToken::String => {
                    if slice.len() < 2 || !slice.ends_with('"') {
                        errors.push(LexError {
                            message: "unterminated string".into(),
                            span,
                        });
                        TokenKind::Error
                    } else {
                        TokenKind::String
                    }
                }
                RawToken::Colon => TokenKind::Colon,
                RawToken::Semi => TokenKind::Semi,
                RawToken::Comma => TokenKind::Comma,
                RawToken::Plus => TokenKind::Plus,
                RawToken::Minus => TokenKind::Minus,
                RawToken::Star => TokenKind::Star,
                RawToken::Slash => TokenKind::Slash,
                RawToken::LParen => TokenKind::LParen,
                RawToken::RParen => TokenKind::RParen,
                RawToken::Eq => TokenKind::Eq,
                RawToken::Caret => TokenKind::Caret,
                RawToken::Tilde => TokenKind::Tilde,
                RawToken::Lt => TokenKind::Lt,
                RawToken::Gt => TokenKind::Gt,
                RawToken::LBracket => TokenKind::LBracket,
                RawToken::RBracket => TokenKind::RBracket,
                RawToken::LBrace => TokenKind::LBrace,
                RawToken::RBrace => TokenKind::RBrace,
                RawToken::Pipe => TokenKind::Pipe,
            },
            Err(()) => {
                let ch = slice.chars().next().unwrap_or('?');
                errors.push(LexError {
                    message: format!("unexpected character {}", describe_char(ch)),
                    span,
                });
                TokenKind::Error
            }
        };
        let kind = contextual(text, &mut lexer, kind, span, last_sig, depth, &mut errors);
        let span = match kind {
            TokenKind::Word | TokenKind::AngleFile => {
                let r = lexer.span();
                Span::new(range.start, r.end)
            }
            _ => span,
        };
        match kind {
            TokenKind::LParen => depth += 1,
            TokenKind::RParen => depth = depth.saturating_sub(1),
            TokenKind::Semi if depth > 0 && last_sig == Some(TokenKind::RParen) => {}
            _ => {}
        }
        if kind == TokenKind::Newline {
            line_start = true;
        } else if kind != TokenKind::Whitespace && kind != TokenKind::Comment {
            line_start = false;
        }
        if !kind.is_trivia() {
            last_sig = Some(kind);
        }
        tokens.push(Token { kind, span });
    }
    (tokens, errors)
}

/// Applies context: raw words after `msgoption`-like statements, `<file>` after imports.
fn contextual(
    text: &str,
    lexer: &mut logos::Lexer<RawToken>,
    kind: TokenKind,
    span: Span,
    last_sig: Option<TokenKind>,
    depth: u32,
    errors: &mut Vec<LexError>,
) -> TokenKind {
    let Some(TokenKind::Keyword(prev)) = last_sig else {
        return kind;
    };
    if depth == 0 && prev.takes_raw_word() && starts_raw_word(kind) {
        let end = raw_word_end(text, span.start as usize);
        if end > span.end as usize {
            lexer.bump(end - span.end as usize);
        }
        return TokenKind::Word;
    }
    if prev.takes_file_name() && kind == TokenKind::Lt {
        let start = span.start as usize;
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        match text[start..line_end].find('>') {
            Some(i) => {
                lexer.bump(i);
                return TokenKind::AngleFile;
            }
            None => {
                errors.push(LexError {
                    message: "missing '>' after file name".into(),
                    span,
                });
            }
        }
    }
    kind
}

fn starts_raw_word(kind: TokenKind) -> bool {
    matches!(
        kind,
        TokenKind::Ident
            | TokenKind::Keyword(_)
            | TokenKind::Number
            | TokenKind::Minus
            | TokenKind::Slash
    )
}

fn raw_word_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start;
    while i < bytes.len()
        && (bytes[i].is_ascii_alphanumeric()
            || matches!(bytes[i], b'-' | b'/' | b'.' | b'_' | b'$'))
    {
        i += 1;
    }
    i
}

fn directive_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            b'\\' if bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n') => i += 3,
            b'\n' => break,
            _ => i += 1,
        }
    }
    i
}

fn describe_char(ch: char) -> String {
    if ch.is_ascii_graphic() {
        format!("'{ch}'")
    } else {
        format!("U+{:04X}", ch as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        let (tokens, errors) = lex(text, LexMode::Raw);
        assert!(errors.is_empty(), "{errors:?}");
        tokens
            .into_iter()
            .filter(|t| !t.kind.is_trivia())
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn keywords_ignore_case() {
        assert_eq!(
            kinds("ROUTINE SimpleRoutine kernelserver"),
            vec![
                TokenKind::Keyword(Keyword::Routine),
                TokenKind::Keyword(Keyword::SimpleRoutine),
                TokenKind::Keyword(Keyword::KernelServer)
            ]
        );
    }

    #[test]
    fn raw_word_after_msgoption_only_at_statement_level() {
        let text = "msgoption MACH_SEND-X/y.z$;";
        let (tokens, _) = lex(text, LexMode::Unit);
        let word = tokens.iter().find(|t| t.kind == TokenKind::Word).unwrap();
        assert_eq!(&text[word.span.range()], "MACH_SEND-X/y.z$");
        assert_eq!(
            kinds("routine f(waittime t: int);")[3],
            TokenKind::Keyword(Keyword::WaitTime)
        );
        assert_eq!(kinds("routine f(waittime t: int);")[4], TokenKind::Ident);
    }

    #[test]
    fn angle_file_after_import() {
        let text = "import <mach/std_types.h>;";
        let (tokens, errors) = lex(text, LexMode::Unit);
        assert!(errors.is_empty());
        let f = tokens
            .iter()
            .find(|t| t.kind == TokenKind::AngleFile)
            .unwrap();
        assert_eq!(&text[f.span.range()], "<mach/std_types.h>");
    }

    #[test]
    fn errors_do_not_stop_lexing() {
        let (tokens, errors) = lex("type a = @ int; \"open\n/* x", LexMode::Unit);
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(tokens.iter().any(|t| t.kind == TokenKind::Semi));
    }

    #[test]
    fn directives_are_trivia_in_raw_source() {
        let (tokens, errors) = lex("#include <a.h>\\\n more\ntype", LexMode::Raw);
        assert!(errors.is_empty());
        assert_eq!(tokens[0].kind, TokenKind::Directive);
        assert_eq!(
            tokens.last().unwrap().kind,
            TokenKind::Keyword(Keyword::Type)
        );
    }
}
