//! Lexical layer of the mapping language: logical lines with indentation,
//! comments, and a character cursor with `line:col` positions used by the
//! expression and path parsers.

use std::fmt;

/// A position in a mapping file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Loc {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

/// A compile error: `file:line:col: message`.
#[derive(Debug, Clone, thiserror::Error)]
pub struct CompileError {
    /// File name as given to the compiler.
    pub file: String,
    /// Where.
    pub loc: Loc,
    /// What is wrong and, where possible, how to fix it.
    pub message: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.loc.line, self.loc.col, self.message
        )
    }
}

/// One non-blank, non-comment line.
#[derive(Debug, Clone)]
pub struct Line<'s> {
    /// Indentation in spaces.
    pub indent: usize,
    /// Content without indentation and trailing comment.
    pub text: &'s str,
    /// Position of the first content character.
    pub loc: Loc,
}

/// Split a mapping file into logical lines. Tabs in indentation are errors
/// (indentation is significant and tab width is ambiguous).
pub fn lines<'s>(file: &str, src: &'s str) -> Result<Vec<Line<'s>>, CompileError> {
    let mut out = Vec::new();
    for (i, raw) in src.lines().enumerate() {
        let line_no = i as u32 + 1;
        let trimmed_start = raw.trim_start_matches(' ');
        let indent = raw.len() - trimmed_start.len();
        if trimmed_start.starts_with('\t') {
            return Err(CompileError {
                file: file.into(),
                loc: Loc {
                    line: line_no,
                    col: indent as u32 + 1,
                },
                message: "tab in indentation: indent with spaces".into(),
            });
        }
        let content = strip_comment(trimmed_start).trim_end();
        if content.is_empty() {
            continue;
        }
        out.push(Line {
            indent,
            text: content,
            loc: Loc {
                line: line_no,
                col: indent as u32 + 1,
            },
        });
    }
    Ok(out)
}

/// Remove a `#` comment that is not inside a quoted string.
fn strip_comment(s: &str) -> &str {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' => return &s[..i],
            None => {}
        }
    }
    s
}

/// A cursor over one line's content, tracking the column.
pub struct Cursor<'s> {
    pub(crate) s: &'s str,
    pub(crate) pos: usize,
    pub(crate) base: Loc,
    pub(crate) file: &'s str,
}

impl<'s> Cursor<'s> {
    /// New cursor over `s`, whose first character is at `base`.
    pub fn new(file: &'s str, s: &'s str, base: Loc) -> Self {
        Cursor {
            s,
            pos: 0,
            base,
            file,
        }
    }

    /// Current location.
    pub fn loc(&self) -> Loc {
        Loc {
            line: self.base.line,
            col: self.base.col + self.s[..self.pos].chars().count() as u32,
        }
    }

    /// An error at the current location.
    pub fn err(&self, msg: impl Into<String>) -> CompileError {
        CompileError {
            file: self.file.to_string(),
            loc: self.loc(),
            message: msg.into(),
        }
    }

    /// Rest of the line.
    pub fn rest(&self) -> &'s str {
        &self.s[self.pos..]
    }

    /// Skip spaces.
    pub fn ws(&mut self) {
        while self.rest().starts_with(' ') {
            self.pos += 1;
        }
    }

    /// At end (after spaces)?
    pub fn at_end(&mut self) -> bool {
        self.ws();
        self.pos >= self.s.len()
    }

    /// Next char without consuming.
    pub fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Consume `t` if the rest starts with it.
    pub fn eat(&mut self, t: &str) -> bool {
        if self.rest().starts_with(t) {
            self.pos += t.len();
            true
        } else {
            false
        }
    }

    /// Consume a keyword `kw` followed by a space or end.
    pub fn eat_kw(&mut self, kw: &str) -> bool {
        if let Some(after) = self.rest().strip_prefix(kw) {
            if after.is_empty() || after.starts_with(' ') || after.starts_with('(') {
                self.pos += kw.len();
                return true;
            }
        }
        false
    }

    /// Expect `t`.
    pub fn expect(&mut self, t: &str) -> Result<(), CompileError> {
        self.ws();
        if self.eat(t) {
            Ok(())
        } else {
            Err(self.err(format!("expected '{t}'")))
        }
    }

    /// An identifier: letters, digits, `_`, `-`, `.` (not starting with a digit).
    pub fn ident(&mut self) -> Option<&'s str> {
        let r = self.rest();
        let mut end = 0;
        for (i, c) in r.char_indices() {
            let ok = c.is_ascii_alphabetic()
                || c == '_'
                || (i > 0 && (c.is_ascii_digit() || c == '-' || c == '.'));
            if !ok {
                break;
            }
            end = i + c.len_utf8();
        }
        if end == 0 {
            return None;
        }
        self.pos += end;
        Some(&r[..end])
    }

    /// A word up to the next space.
    pub fn word(&mut self) -> Option<&'s str> {
        self.ws();
        let r = self.rest();
        let end = r.find(' ').unwrap_or(r.len());
        if end == 0 {
            return None;
        }
        self.pos += end;
        Some(&r[..end])
    }

    /// A quoted string ('…' or "…"); `\\` escapes the next character.
    pub fn string(&mut self) -> Result<Option<String>, CompileError> {
        self.ws();
        let q = match self.peek() {
            Some(c @ ('"' | '\'')) => c,
            _ => return Ok(None),
        };
        let start = self.loc();
        self.pos += 1;
        let mut out = String::new();
        let mut esc = false;
        for (i, c) in self.rest().char_indices() {
            if esc {
                out.push(c);
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == q {
                self.pos += i + 1;
                return Ok(Some(out));
            } else {
                out.push(c);
            }
        }
        Err(CompileError {
            file: self.file.to_string(),
            loc: start,
            message: "unterminated string".into(),
        })
    }
}
