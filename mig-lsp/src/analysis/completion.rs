//! Completion: what may be written at the cursor, from the tokens before it. Statement
//! keywords at the start of a statement, directions at the start of an argument, types after
//! `:`, `=`, `of` and `^`, flags after the `,` that follows an argument's type, translations
//! after a type declaration's type. Only the keywords of the file's dialect are offered.

use std::collections::BTreeSet;

use mig_frontend::dialect::Dialect;
use mig_frontend::lexer::{lex, Keyword, LexMode, TokenKind, KEYWORDS};

use super::index::SymbolKind;
use super::Unit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ItemKind {
    Keyword,
    Direction,
    Flag,
    Type,
    IpcType,
    Translation,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Item {
    pub label: String,
    pub kind: ItemKind,
    pub detail: String,
}

/// `MACH_MSG_TYPE_*` names (GNU adds `PROTECTED_PAYLOAD`, Apple `REAL_32`/`REAL_64`).
const IPC_TYPES: &[&str] = &[
    "UNSTRUCTURED",
    "BIT",
    "BOOLEAN",
    "INTEGER_8",
    "INTEGER_16",
    "INTEGER_32",
    "INTEGER_64",
    "CHAR",
    "BYTE",
    "REAL",
    "REAL_32",
    "REAL_64",
    "STRING",
    "STRING_C",
    "MOVE_RECEIVE",
    "COPY_SEND",
    "MAKE_SEND",
    "MOVE_SEND",
    "MAKE_SEND_ONCE",
    "MOVE_SEND_ONCE",
    "PORT_NAME",
    "PORT_RECEIVE",
    "PORT_SEND",
    "PORT_SEND_ONCE",
    "POLYMORPHIC",
    "PROTECTED_PAYLOAD",
];

/// Types every GNU unit has without declaring them.
const PREDEFINED: &[&str] = &["char", "short", "int", "uintptr_t", "intptr_t"];

/// What the cursor position expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Statement,
    Direction,
    Type,
    Flag,
    Translation,
    Anything,
}

fn dialect_has(k: Keyword, d: Dialect) -> bool {
    use Dialect::*;
    use Keyword::*;
    let only: &[Dialect] = match k {
        Procedure | SimpleProcedure | Function => &[Cmu],
        Error => &[Apple, Osf, Cmu],
        DImport | IImport | SendTime | NoSendTime | UseSpecialReplyPort | ConsumeOnSendError
        | UserTypeLimit | OnStackLimit | PointerTo | PointerToIfNot | ValueOf | SecToken
        | ServerSecToken | UserSecToken | AuditToken | ServerAuditToken | UserAuditToken
        | ServerContextToken => &[Apple],
        UserImpl | ServerImpl | SameCount | PhysicalCopy | Overwrite | Auto | Const => {
            &[Apple, Osf]
        }
        InTranPayload => &[Gnu],
        _ => return true,
    };
    only.contains(&d)
}

fn keyword_group(k: Keyword) -> Context {
    use Keyword::*;
    match k {
        In | Out | InOut | RequestPort | ReplyPort | SReplyPort | UReplyPort | MsgSeqno
        | SecToken | ServerSecToken | UserSecToken | AuditToken | ServerAuditToken
        | UserAuditToken | ServerContextToken | UserImpl | ServerImpl => Context::Direction,
        Dealloc | NotDealloc | ServerCopy | CountInOut | IsLong | IsNotLong | RetCode
        | SameCount | PhysicalCopy | Overwrite | Auto | Const => Context::Flag,
        Array | Of | Struct | CString | Polymorphic | PointerTo | PointerToIfNot | ValueOf => {
            Context::Type
        }
        CType | CUserType | CServerType | InTran | OutTran | Destructor | InTranPayload => {
            Context::Translation
        }
        _ => Context::Statement,
    }
}

/// Works out the context from the tokens before `offset`.
fn context(text: &str, offset: usize) -> Context {
    let (tokens, _) = lex(text.get(..offset).unwrap_or(text), LexMode::Raw);
    let sig: Vec<_> = tokens
        .iter()
        .filter(|t| !t.kind.is_trivia() && t.kind != TokenKind::Error)
        // A word being typed is not context.
        .filter(|t| {
            (t.span.end as usize) < offset
                || !matches!(t.kind, TokenKind::Ident | TokenKind::Keyword(_))
        })
        .collect();
    let mut depth = 0u32;
    let mut stmt_start = 0;
    for (i, t) in sig.iter().enumerate() {
        match t.kind {
            TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => depth += 1,
            TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                depth = depth.saturating_sub(1)
            }
            TokenKind::Semi if depth == 0 => stmt_start = i + 1,
            _ => {}
        }
    }
    let stmt = &sig[stmt_start..];
    let Some(last) = stmt.last() else {
        return Context::Statement;
    };
    let first = stmt.first().map(|t| t.kind);
    let in_routine = matches!(
        first,
        Some(TokenKind::Keyword(
            Keyword::Routine
                | Keyword::SimpleRoutine
                | Keyword::Procedure
                | Keyword::SimpleProcedure
                | Keyword::Function
        ))
    );
    match last.kind {
        TokenKind::Colon | TokenKind::Eq | TokenKind::Caret => Context::Type,
        TokenKind::Keyword(Keyword::Of) => Context::Type,
        TokenKind::LParen | TokenKind::Semi if in_routine && depth == 1 => Context::Direction,
        TokenKind::Comma if in_routine && depth == 1 => Context::Flag,
        TokenKind::Keyword(k)
            if in_routine && depth == 1 && keyword_group(k) == Context::Direction =>
        {
            Context::Anything
        }
        TokenKind::Ident | TokenKind::Number | TokenKind::RParen | TokenKind::RBracket
            if first == Some(TokenKind::Keyword(Keyword::Type)) && depth == 0 =>
        {
            Context::Translation
        }
        _ => Context::Anything,
    }
}

/// Completions at `offset` of `text`, with the unit for the types in scope.
pub fn complete(unit: Option<&Unit>, dialect: Dialect, text: &str, offset: usize) -> Vec<Item> {
    let ctx = context(text, offset);
    let mut out = BTreeSet::new();
    for &(spelling, k) in KEYWORDS {
        if !dialect_has(k, dialect) {
            continue;
        }
        let group = keyword_group(k);
        if ctx != Context::Anything && group != ctx {
            continue;
        }
        let kind = match group {
            Context::Direction => ItemKind::Direction,
            Context::Flag => ItemKind::Flag,
            Context::Translation => ItemKind::Translation,
            _ => ItemKind::Keyword,
        };
        out.insert(Item {
            label: spelling.to_string(),
            kind,
            detail: format!("{} keyword", dialect.title()),
        });
    }
    if matches!(ctx, Context::Type | Context::Anything) {
        for p in PREDEFINED {
            out.insert(Item {
                label: p.to_string(),
                kind: ItemKind::Type,
                detail: "predefined type".into(),
            });
        }
        for t in IPC_TYPES {
            out.insert(Item {
                label: format!("MACH_MSG_TYPE_{t}"),
                kind: ItemKind::IpcType,
                detail: "IPC type".into(),
            });
        }
        if let Some(unit) = unit {
            for s in &unit.index.symbols {
                if s.kind == SymbolKind::Type {
                    out.insert(Item {
                        label: s.name.clone(),
                        kind: ItemKind::Type,
                        detail: format!(
                            "type from {}",
                            s.def.file.file_name().unwrap_or_default().to_string_lossy()
                        ),
                    });
                }
            }
        }
    }
    // One item per label (a type declared in two files is offered once).
    let mut seen = BTreeSet::new();
    let mut items: Vec<Item> = out
        .into_iter()
        .filter(|i| seen.insert(i.label.clone()))
        .collect();
    items.sort_by(|a, b| (a.kind, &a.label).cmp(&(b.kind, &b.label)));
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts() {
        assert_eq!(context("", 0), Context::Statement);
        assert_eq!(context("skip; ", 6), Context::Statement);
        assert_eq!(context("routine f(", 10), Context::Direction);
        assert_eq!(context("routine f(a : int; ", 19), Context::Direction);
        assert_eq!(context("routine f(a : ", 14), Context::Type);
        assert_eq!(context("routine f(a : int, ", 19), Context::Flag);
        assert_eq!(context("type a = ", 9), Context::Type);
        assert_eq!(context("type a = int ", 13), Context::Translation);
        assert_eq!(context("type a = array[] of ", 20), Context::Type);
        assert_eq!(context("routine f(a : in", 16), Context::Type);
    }

    #[test]
    fn dialect_keywords_only() {
        let gnu = complete(None, Dialect::Gnu, "", 0);
        assert!(gnu.iter().any(|i| i.label == "routine"));
        assert!(!gnu.iter().any(|i| i.label == "procedure"));
        let cmu = complete(None, Dialect::Cmu, "", 0);
        assert!(cmu.iter().any(|i| i.label == "procedure"));
    }
}
