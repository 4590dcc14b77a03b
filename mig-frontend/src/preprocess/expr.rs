//! `#if` expressions: integer constant expressions over `intmax_t`/`uintmax_t` (C11 6.10.1),
//! evaluated after `defined` and macro expansion, with every C operator but assignment.

use super::lexer::Kind;
use super::Token;

/// A value: 64 bits and a signedness (C's usual arithmetic conversions apply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value {
    pub bits: u64,
    pub unsigned: bool,
}

impl Value {
    fn signed(v: i64) -> Value {
        Value {
            bits: v as u64,
            unsigned: false,
        }
    }
    fn boolean(b: bool) -> Value {
        Value::signed(b as i64)
    }
    pub fn is_true(self) -> bool {
        self.bits != 0
    }
}

/// An error in an `#if` expression, at a token index (None: at the end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub message: String,
    pub at: Option<usize>,
}

/// Evaluates a fully expanded `#if` line (identifiers left in it count as 0).
pub fn eval(toks: &[Token]) -> Result<Value, ExprError> {
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    if toks.is_empty() {
        return Err(ExprError {
            message: "#if with no expression".into(),
            at: None,
        });
    }
    let v = p.comma(true)?;
    if p.pos < toks.len() {
        let t = &toks[p.pos];
        let message = if t.text.as_ref() == ")" {
            "missing '(' in expression".to_string()
        } else {
            format!("missing binary operator before token '{}'", t.text)
        };
        return Err(p.err_at(message, p.pos));
    }
    Ok(v)
}

struct Parser<'t> {
    toks: &'t [Token],
    pos: usize,
    depth: u32,
}

const MAX_DEPTH: u32 = 256;

fn binary_prec(op: &str) -> Option<u8> {
    Some(match op {
        "*" | "/" | "%" => 10,
        "+" | "-" => 9,
        "<<" | ">>" => 8,
        "<" | ">" | "<=" | ">=" => 7,
        "==" | "!=" => 6,
        "&" => 5,
        "^" => 4,
        "|" => 3,
        "&&" => 2,
        "||" => 1,
        _ => return None,
    })
}

impl<'t> Parser<'t> {
    fn err_at(&self, message: impl Into<String>, at: usize) -> ExprError {
        ExprError {
            message: message.into(),
            at: (at < self.toks.len()).then_some(at),
        }
    }

    fn peek(&self) -> Option<&'t str> {
        self.toks
            .get(self.pos)
            .filter(|t| t.kind == Kind::Punct)
            .map(|t| t.text.as_ref())
    }

    fn expect(&mut self, what: &str) -> Result<(), ExprError> {
        if self.peek() == Some(what) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err_at(format!("expected '{what}' in expression"), self.pos))
        }
    }

    fn enter(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err_at("#if expression nested too deeply", self.pos));
        }
        Ok(())
    }

    /// expr , expr
    fn comma(&mut self, eval: bool) -> Result<Value, ExprError> {
        let mut v = self.conditional(eval)?;
        while self.peek() == Some(",") {
            self.pos += 1;
            v = self.conditional(eval)?;
        }
        Ok(v)
    }

    fn conditional(&mut self, eval: bool) -> Result<Value, ExprError> {
        self.enter()?;
        let c = self.binary(0, eval)?;
        let r = if self.peek() == Some("?") {
            self.pos += 1;
            let a = self.comma(eval && c.is_true())?;
            self.expect(":")?;
            let b = self.conditional(eval && !c.is_true())?;
            let unsigned = a.unsigned || b.unsigned;
            let bits = if c.is_true() { a.bits } else { b.bits };
            Value { bits, unsigned }
        } else {
            c
        };
        self.depth -= 1;
        Ok(r)
    }

    /// Precedence climbing over the binary operators above `min`.
    fn binary(&mut self, min: u8, eval: bool) -> Result<Value, ExprError> {
        let mut lhs = self.unary(eval)?;
        while let Some(op) = self.peek() {
            let Some(prec) = binary_prec(op) else { break };
            if prec <= min {
                break;
            }
            let at = self.pos;
            self.pos += 1;
            let rhs_eval = match op {
                "&&" => eval && lhs.is_true(),
                "||" => eval && !lhs.is_true(),
                _ => eval,
            };
            self.enter()?;
            let rhs = self.binary(prec, rhs_eval)?;
            self.depth -= 1;
            lhs = self.apply(op, lhs, rhs, eval, at)?;
        }
        Ok(lhs)
    }

    fn apply(
        &self,
        op: &str,
        a: Value,
        b: Value,
        eval: bool,
        at: usize,
    ) -> Result<Value, ExprError> {
        let unsigned = a.unsigned || b.unsigned;
        let arith = |bits: u64| Value { bits, unsigned };
        let (x, y) = (a.bits, b.bits);
        let cmp = |lt: bool, eq: bool| {
            let ord = if unsigned {
                x.cmp(&y)
            } else {
                (x as i64).cmp(&(y as i64))
            };
            Value::boolean(match ord {
                std::cmp::Ordering::Less => lt,
                std::cmp::Ordering::Equal => eq,
                std::cmp::Ordering::Greater => !lt && !eq,
            })
        };
        Ok(match op {
            "*" => arith(x.wrapping_mul(y)),
            "/" | "%" => {
                if y == 0 {
                    if eval {
                        return Err(self.err_at("division by zero in #if", at));
                    }
                    return Ok(arith(0));
                }
                let r = if unsigned {
                    if op == "/" {
                        x / y
                    } else {
                        x % y
                    }
                } else if op == "/" {
                    (x as i64).wrapping_div(y as i64) as u64
                } else {
                    (x as i64).wrapping_rem(y as i64) as u64
                };
                arith(r)
            }
            "+" => arith(x.wrapping_add(y)),
            "-" => arith(x.wrapping_sub(y)),
            "<<" | ">>" => {
                // The result has the left operand's type; a negative count shifts the other way.
                let left = op == "<<";
                let (left, n) = if !b.unsigned && (y as i64) < 0 {
                    (!left, (y as i64).unsigned_abs())
                } else {
                    (left, y)
                };
                let v = if left {
                    if n >= 64 {
                        0
                    } else {
                        x << n
                    }
                } else if a.unsigned {
                    if n >= 64 {
                        0
                    } else {
                        x >> n
                    }
                } else {
                    ((x as i64) >> n.min(63)) as u64
                };
                Value {
                    bits: v,
                    unsigned: a.unsigned,
                }
            }
            "<" => cmp(true, false),
            ">" => cmp(false, false),
            "<=" => cmp(true, true),
            ">=" => Value::boolean(!cmp(true, false).is_true()),
            "==" => Value::boolean(x == y),
            "!=" => Value::boolean(x != y),
            "&" => arith(x & y),
            "^" => arith(x ^ y),
            "|" => arith(x | y),
            "&&" => Value::boolean(a.is_true() && b.is_true()),
            "||" => Value::boolean(a.is_true() || b.is_true()),
            _ => return Err(self.err_at(format!("unknown operator '{op}'"), at)),
        })
    }

    fn unary(&mut self, eval: bool) -> Result<Value, ExprError> {
        self.enter()?;
        let r = self.unary_inner(eval);
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self, eval: bool) -> Result<Value, ExprError> {
        let Some(t) = self.toks.get(self.pos) else {
            return Err(self.err_at("#if expression ends too early", self.pos));
        };
        let at = self.pos;
        self.pos += 1;
        match t.kind {
            Kind::Number => number(&t.text).map_err(|m| self.err_at(m, at)),
            Kind::Char => char_value(&t.text).map_err(|m| self.err_at(m, at)),
            Kind::Ident => Ok(Value::signed(0)),
            Kind::Punct => match t.text.as_ref() {
                "(" => {
                    let v = self.comma(eval)?;
                    if self.peek() != Some(")") {
                        return Err(self.err_at("missing ')' in expression", self.pos));
                    }
                    self.pos += 1;
                    Ok(v)
                }
                "+" => self.unary(eval),
                "-" => {
                    let v = self.unary(eval)?;
                    Ok(Value {
                        bits: v.bits.wrapping_neg(),
                        ..v
                    })
                }
                "~" => {
                    let v = self.unary(eval)?;
                    Ok(Value { bits: !v.bits, ..v })
                }
                "!" => Ok(Value::boolean(!self.unary(eval)?.is_true())),
                other => Err(self.err_at(format!("token '{other}' is not valid in #if"), at)),
            },
            Kind::Str => Err(self.err_at("string literal in #if expression", at)),
            _ => Err(self.err_at(format!("token '{}' is not valid in #if", t.text), at)),
        }
    }
}

/// The value of an integer constant (decimal, octal, hex, binary; u/l suffixes).
pub fn number(text: &str) -> Result<Value, String> {
    let lower = text.to_ascii_lowercase();
    let (digits, radix) = if let Some(h) = lower.strip_prefix("0x") {
        (h, 16)
    } else if let Some(b) = lower.strip_prefix("0b") {
        (b, 2)
    } else if lower.starts_with('0') {
        (&lower[..], 8)
    } else {
        (&lower[..], 10)
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    let (body, suffix) = digits.split_at(end);
    if radix != 16 && (suffix.starts_with('.') || suffix.starts_with('e'))
        || (radix == 16 && suffix.starts_with(['.', 'p']))
    {
        return Err(format!(
            "floating constant '{text}' in preprocessor expression"
        ));
    }
    let unsigned_suffix = match suffix {
        "" | "l" | "ll" => false,
        "u" | "ul" | "lu" | "ull" | "llu" => true,
        _ => {
            if radix == 8 && suffix.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(format!("invalid digit in octal constant '{text}'"));
            }
            return Err(format!("invalid suffix '{suffix}' on integer constant"));
        }
    };
    if body.is_empty() && radix != 8 {
        return Err(format!("invalid integer constant '{text}'"));
    }
    let bits = if body.is_empty() {
        0
    } else {
        u64::from_str_radix(body, radix)
            .map_err(|_| format!("integer constant '{text}' is too large for its type"))?
    };
    // A decimal constant too large for intmax_t is unsigned (GCC warns); so is any other
    // constant that only fits in uintmax_t.
    Ok(Value {
        bits,
        unsigned: unsigned_suffix || bits > i64::MAX as u64,
    })
}

/// The value of a character constant (`int`; multi-character constants as GCC computes them).
pub fn char_value(text: &str) -> Result<Value, String> {
    let (prefix, rest) = match text.find('\'') {
        Some(i) => text.split_at(i),
        None => return Err(format!("invalid character constant {text}")),
    };
    let inner = rest
        .strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .ok_or_else(|| format!("missing terminating ' character in {text}"))?;
    let mut chars = Vec::new();
    let mut it = inner.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            chars.push(c as u32);
            continue;
        }
        let Some(e) = it.next() else {
            return Err("unterminated escape sequence in character constant".into());
        };
        let v = match e {
            'n' => 10,
            't' => 9,
            'r' => 13,
            'a' => 7,
            'b' => 8,
            'f' => 12,
            'v' => 11,
            'e' | 'E' => 27,
            '0'..='7' => {
                let mut v = e as u32 - '0' as u32;
                for _ in 0..2 {
                    match it.peek() {
                        Some(&d @ '0'..='7') => {
                            v = v * 8 + (d as u32 - '0' as u32);
                            it.next();
                        }
                        _ => break,
                    }
                }
                v
            }
            'x' => {
                let mut v: u32 = 0;
                let mut any = false;
                while let Some(d) = it.peek().and_then(|c| c.to_digit(16)) {
                    v = v.wrapping_mul(16).wrapping_add(d);
                    any = true;
                    it.next();
                }
                if !any {
                    return Err("\\x used with no following hex digits".into());
                }
                v
            }
            other => other as u32,
        };
        chars.push(v);
    }
    if chars.is_empty() {
        return Err("empty character constant".into());
    }
    let wide = !prefix.is_empty();
    let v: i64 = if wide {
        // wchar_t / char16_t / char32_t: the last character.
        *chars.last().unwrap_or(&0) as i64
    } else if chars.len() == 1 {
        // Plain char is signed on x86.
        chars[0] as u8 as i8 as i64
    } else {
        let mut v: u32 = 0;
        for c in &chars {
            v = (v << 8) | (*c & 0xff);
        }
        v as i32 as i64
    };
    Ok(Value::signed(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preprocess::lexer::{lex_all, spelling};

    fn ev(s: &str) -> Result<i64, String> {
        let toks: Vec<Token> = lex_all(s)
            .iter()
            .map(|t| Token::new(t.kind, &spelling(s, t), t.ws))
            .collect();
        eval(&toks).map(|v| v.bits as i64).map_err(|e| e.message)
    }

    #[test]
    fn arithmetic_and_precedence() {
        assert_eq!(ev("1 + 2 * 3"), Ok(7));
        assert_eq!(ev("(1 + 2) * 3"), Ok(9));
        assert_eq!(ev("1 << 4 >> 2"), Ok(4));
        assert_eq!(ev("7 % 4 - -1"), Ok(4));
        assert_eq!(ev("~0 == -1"), Ok(1));
        assert_eq!(ev("1 ? 2 : 3"), Ok(2));
        assert_eq!(ev("0 ? 2 : 0 ? 3 : 4"), Ok(4));
        assert_eq!(ev("1, 2"), Ok(2));
        assert_eq!(ev("3 > 2 && 2 >= 2 && 1 < 2 && 2 <= 2 && 1 != 2"), Ok(1));
        assert_eq!(ev("0x10 | 010 ^ 0b1"), Ok(16 | (8 ^ 1)));
        assert_eq!(ev("undefined_name + 1"), Ok(1));
    }

    #[test]
    fn signedness() {
        assert_eq!(ev("-1 < 0"), Ok(1));
        assert_eq!(ev("-1 < 0u"), Ok(0));
        assert_eq!(ev("-1 > 0U"), Ok(1));
        assert_eq!(ev("0xffffffffffffffff > 0"), Ok(1));
        assert_eq!(ev("-1 >> 1"), Ok(-1));
        assert_eq!(ev("10UL / 3"), Ok(3));
    }

    #[test]
    fn char_constants() {
        assert_eq!(ev("'a'"), Ok(97));
        assert_eq!(ev("'\\n'"), Ok(10));
        assert_eq!(ev("'\\377'"), Ok(-1));
        assert_eq!(ev("'\\x41'"), Ok(65));
        assert_eq!(ev("'ab'"), Ok(97 * 256 + 98));
        assert_eq!(ev("L'\\377'"), Ok(255));
    }

    #[test]
    fn errors() {
        assert!(ev("1 / 0").unwrap_err().contains("division by zero"));
        assert_eq!(ev("0 && 1 / 0"), Ok(0));
        assert_eq!(ev("1 || 1 % 0"), Ok(1));
        assert_eq!(ev("0 ? 1 / 0 : 2"), Ok(2));
        assert!(ev("1 +").is_err());
        assert!(ev("(1").is_err());
        assert!(ev("1 2").is_err());
        assert!(ev("1.0").is_err());
        assert!(ev("1zz").is_err());
        assert!(ev("\"s\"").is_err());
        assert!(ev("").is_err());
        let deep = "(".repeat(10_000) + "1" + &")".repeat(10_000);
        assert!(ev(&deep).unwrap_err().contains("too deeply"));
    }
}
