//! What the text of one file says by itself, read with the raw lexer (comments and
//! preprocessor lines kept): `#include` lines and where they lead, the class of every token
//! for highlighting, and the regions that fold.

use std::ops::Range;
use std::path::{Path, PathBuf};

use mig_frontend::lexer::{lex, Keyword, LexMode, Token, TokenKind};

use super::config::Config;
use super::index::{Index, SymbolKind};

/// An `#include` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludeLine {
    /// The whole directive.
    pub range: Range<usize>,
    /// The file name as written, without delimiters.
    pub name: String,
    /// Written `<...>` (searched in the include roots only).
    pub angle: bool,
}

/// Every `#include "..."` and `#include <...>` line of a text (and `#include_next`).
pub fn include_lines(text: &str) -> Vec<IncludeLine> {
    let (tokens, _) = lex(text, LexMode::Raw);
    tokens
        .iter()
        .filter(|t| t.kind == TokenKind::Directive)
        .filter_map(|t| {
            let d = &text[t.span.range()];
            let rest = d.strip_prefix('#')?.trim_start();
            let rest = rest
                .strip_prefix("include_next")
                .or_else(|| rest.strip_prefix("include"))?
                .trim_start();
            let (close, angle) = match rest.chars().next()? {
                '"' => ('"', false),
                '<' => ('>', true),
                _ => return None,
            };
            let inner = &rest[1..];
            let end = inner.find(close)?;
            Some(IncludeLine {
                range: t.span.range(),
                name: inner[..end].to_string(),
                angle,
            })
        })
        .collect()
}

/// The file an include line of `from` names, searched as the preprocessor does: the
/// includer's directory (for `"..."`), the include roots, the system roots.
pub fn resolve_include(from: &Path, line: &IncludeLine, config: &Config) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if !line.angle {
        dirs.extend(from.parent().map(Path::to_path_buf));
    }
    dirs.extend(config.include_dirs.iter().cloned());
    dirs.extend(config.system_dirs.iter().cloned());
    let name = Path::new(&line.name);
    if name.is_absolute() {
        return name.is_file().then(|| name.to_path_buf());
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// Token classes for highlighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Keyword,
    /// Directions (`in`, `out` ...) and argument flags (`dealloc` ...).
    Modifier,
    Type,
    Routine,
    Parameter,
    Subsystem,
    /// `MACH_MSG_TYPE_*` names.
    IpcType,
    Number,
    String,
    Comment,
    /// Preprocessor lines.
    Directive,
}

/// A classified token: byte range, class, and whether it declares its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlight {
    pub range: Range<usize>,
    pub class: Class,
    pub declaration: bool,
}

fn keyword_class(k: Keyword) -> Class {
    use Keyword::*;
    match k {
        In | Out | InOut | RequestPort | ReplyPort | SReplyPort | UReplyPort | MsgSeqno
        | SecToken | ServerSecToken | UserSecToken | AuditToken | ServerAuditToken
        | UserAuditToken | ServerContextToken | UserImpl | ServerImpl | Dealloc | NotDealloc
        | ServerCopy | CountInOut | IsLong | IsNotLong | RetCode | SameCount | PhysicalCopy
        | Overwrite | Auto | Const => Class::Modifier,
        _ => Class::Keyword,
    }
}

/// Classifies the tokens of `text` (the file `path`), names by what `index` says they are.
pub fn highlights(path: &Path, text: &str, index: Option<&Index>) -> Vec<Highlight> {
    let mut names = std::collections::HashMap::new();
    if let Some(index) = index {
        for o in &index.occurrences {
            if o.loc.file == path && !o.expanded {
                let class = match index.symbols[o.symbol].kind {
                    SymbolKind::Type => Class::Type,
                    SymbolKind::Routine => Class::Routine,
                    SymbolKind::Argument => Class::Parameter,
                    SymbolKind::Subsystem => Class::Subsystem,
                };
                names.insert(o.loc.range.start, (class, o.is_def));
            }
        }
        for (_, loc) in &index.unresolved {
            if loc.file == path {
                names.entry(loc.range.start).or_insert((Class::Type, false));
            }
        }
    }
    let (tokens, _) = lex(text, LexMode::Raw);
    tokens
        .iter()
        .filter_map(|t: &Token| {
            let range = t.span.range();
            let (class, declaration) = match t.kind {
                TokenKind::Keyword(k) => (keyword_class(k), false),
                TokenKind::Comment => (Class::Comment, false),
                TokenKind::Directive => (Class::Directive, false),
                TokenKind::Number => (Class::Number, false),
                TokenKind::String | TokenKind::AngleFile | TokenKind::Word => {
                    (Class::String, false)
                }
                TokenKind::Ident if text[range.clone()].starts_with("MACH_MSG_TYPE_") => {
                    (Class::IpcType, false)
                }
                TokenKind::Ident => *names.get(&range.start)?,
                _ => return None,
            };
            Some(Highlight {
                range,
                class,
                declaration,
            })
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldKind {
    Comment,
    Region,
}

/// Regions that fold: statements over several lines, block comments over several lines,
/// and `#if` ... `#endif` groups. Byte ranges; callers fold by lines.
pub fn folding(text: &str) -> Vec<(Range<usize>, FoldKind)> {
    let (tokens, _) = lex(text, LexMode::Raw);
    let multiline = |r: &Range<usize>| text[r.clone()].contains('\n');
    let mut out = Vec::new();
    let mut conds: Vec<usize> = Vec::new();
    let mut stmt_start: Option<usize> = None;
    let mut depth = 0u32;
    for t in &tokens {
        let r = t.span.range();
        match t.kind {
            TokenKind::Comment if multiline(&r) => out.push((r, FoldKind::Comment)),
            TokenKind::Directive => {
                let d = text[r.clone()].trim_start_matches('#').trim_start();
                if d.starts_with("if") {
                    conds.push(r.start);
                } else if d.starts_with("else") || d.starts_with("elif") {
                    if let Some(start) = conds.pop() {
                        out.push((start..r.start.saturating_sub(1), FoldKind::Region));
                    }
                    conds.push(r.start);
                } else if d.starts_with("endif") {
                    if let Some(start) = conds.pop() {
                        out.push((start..r.start.saturating_sub(1), FoldKind::Region));
                    }
                }
            }
            k if k.is_trivia() => {}
            TokenKind::LParen | TokenKind::LBrace | TokenKind::LBracket => {
                stmt_start.get_or_insert(r.start);
                depth += 1;
            }
            TokenKind::RParen | TokenKind::RBrace | TokenKind::RBracket => {
                depth = depth.saturating_sub(1)
            }
            TokenKind::Semi if depth == 0 => {
                if let Some(start) = stmt_start.take() {
                    let range = start..r.end;
                    if multiline(&range) {
                        out.push((range, FoldKind::Region));
                    }
                }
            }
            _ => {
                stmt_start.get_or_insert(r.start);
            }
        }
    }
    out.retain(|(r, _)| r.start < r.end && multiline(r));
    out.sort_by_key(|(r, _)| (r.start, r.end));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_lines_are_found() {
        let text =
            "#include <mach/std_types.defs>\n# include \"local.defs\"\n#define X\n#include FOO\n";
        let got = include_lines(text);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].name, "mach/std_types.defs");
        assert!(got[0].angle);
        assert_eq!(got[1].name, "local.defs");
        assert!(!got[1].angle);
    }

    #[test]
    fn folds_statements_comments_and_conditionals() {
        let text = "/* a\n b */\nroutine f(\n a : int);\n#if X\nskip;\n#endif\nskip;\n";
        let kinds: Vec<FoldKind> = folding(text).into_iter().map(|(_, k)| k).collect();
        assert_eq!(
            kinds,
            vec![FoldKind::Comment, FoldKind::Region, FoldKind::Region]
        );
    }
}
