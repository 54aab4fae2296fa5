//! One `.dockerignore` pattern, matched the way the docker CLI matches it.
//!
//! Why not a glob crate: the docker CLI does not match with Go's `filepath.Match`. moby's
//! `patternmatcher` only uses `filepath.Match` to reject malformed patterns; it then turns each
//! pattern into a Go regular expression, or, for simple shapes, into a plain equality, prefix or
//! suffix test. Those shortcuts have quirks of their own (`**foo` also matches `barfoo`,
//! `dir/**` does not match `dir` itself) and ohdev's digest and tar must hold exactly the files
//! Docker would send. This module reproduces those rules. The few spellings whose Docker meaning
//! comes from Go's regexp engine rather than from glob rules (`*` inside `[...]`, `\b`, `\x41`,
//! `[[:alpha:]]`, reversed ranges) are refused with a [`PatternError`] instead of guessed.

use crate::image::pattern_regexp::{escape, matches_tokens, parse_class, Class, Escaped, Token};

/// A pattern that Docker would reject, or whose Docker meaning ohdev does not reproduce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid pattern `{pattern}`: {reason}")]
pub struct PatternError {
    pub pattern: String,
    pub reason: String,
}

impl PatternError {
    /// What to write instead (the `fix:` of the error ohdev stops with).
    pub fn fix(&self) -> &'static str {
        let reason = self.reason.as_str();
        if reason.starts_with("illegal exclusion pattern") {
            "a lone `!` re-includes nothing: remove the line, or write `!<pattern>`"
        } else if reason == "trailing backslash" {
            "remove the trailing `\\`, or write `\\\\` to match a backslash"
        } else if reason == "unclosed character class" {
            "close the `[` with `]` (e.g. `[abc]`, `[a-z]`), or write `\\[` to match a `[`"
        } else if reason == "bad character class" {
            "give the class at least one character and escape `-` and `]` inside it (`[\\-\\]]`), or write `\\[` to match a `[`"
        } else if reason.ends_with("is out of order") {
            "write the range from low to high, e.g. `[a-z]`"
        } else {
            "rewrite the pattern with `*`, `?`, `**`, classes like `[a-z]` and `\\` escapes only"
        }
    }
}

/// One cleaned pattern: `text` is what moby calls the cleaned pattern (no leading `!`).
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    exception: bool,
    depth: usize,
    shape: Shape,
}

/// moby's match types: exact, prefix (`dir/**`), suffix (`**/name`) or a regular expression.
#[derive(Debug, Clone)]
enum Shape {
    Exact,
    Prefix(String),
    Suffix(String),
    Tokens(Vec<Token>),
}

impl Pattern {
    /// Builds a pattern the way moby's `patternmatcher.New` does for one entry of its list:
    /// trim, skip empty, `filepath.Clean`, strip a leading `!`, check `filepath.Match` syntax.
    /// Returns `Ok(None)` for an entry that is empty after trimming.
    pub fn new(raw: &str) -> Result<Option<Pattern>, PatternError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        let cleaned = clean(trimmed);
        let (exception, text) = match cleaned.strip_prefix('!') {
            Some("") => return Err(error(&cleaned, "illegal exclusion pattern: \"!\"")),
            Some(rest) => (true, rest.to_string()),
            None => (false, cleaned.clone()),
        };
        validate(&text).map_err(|reason| error(&cleaned, reason))?;
        let shape = compile(&text).map_err(|reason| error(&cleaned, reason))?;
        let depth = text.split('/').count();
        Ok(Some(Pattern { text, exception, depth, shape }))
    }

    /// An exception that matches exactly one path, taken literally (no wildcards).
    pub fn literal_exception(path: &str) -> Pattern {
        let depth = path.split('/').count();
        Pattern { text: path.to_string(), exception: true, depth, shape: Shape::Exact }
    }

    /// The cleaned pattern text, without its `!`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the pattern started with `!` (re-includes what earlier patterns excluded).
    pub fn is_exception(&self) -> bool {
        self.exception
    }

    /// Number of `/`-separated components (moby's `len(pattern.dirs)`).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Whether this one pattern matches `path` itself (no parent-directory logic).
    pub fn matches(&self, path: &str) -> bool {
        match &self.shape {
            Shape::Exact => path == self.text,
            Shape::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Shape::Suffix(suffix) => {
                path.ends_with(suffix.as_str()) || suffix.strip_prefix('/').is_some_and(|rest| path == rest)
            }
            Shape::Tokens(tokens) => matches_tokens(tokens, path),
        }
    }
}

fn error(pattern: &str, reason: impl Into<String>) -> PatternError {
    PatternError { pattern: pattern.to_string(), reason: reason.into() }
}

/// Go's `filepath.Clean` for `/`-separated paths.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|last| *last != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Go's `filepath.Dir` for `/`-separated paths.
pub fn parent(path: &str) -> String {
    match path.rfind('/') {
        Some(index) => clean(&path[..=index]),
        None => ".".to_string(),
    }
}

/// The syntax check of Go's `filepath.Match` (it rejects the whole pattern, not just the part
/// it needed to compare).
fn validate(pattern: &str) -> Result<(), &'static str> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut index = 0;
    while index < chars.len() {
        match chars[index] {
            '\\' if index + 1 >= chars.len() => return Err("trailing backslash"),
            '\\' => index += 2,
            '[' => {
                index += 1;
                if chars.get(index) == Some(&'^') {
                    index += 1;
                }
                let mut ranges = 0;
                loop {
                    if chars.get(index) == Some(&']') && ranges > 0 {
                        index += 1;
                        break;
                    }
                    index = class_char_end(&chars, index)?;
                    if chars.get(index) == Some(&'-') {
                        index = class_char_end(&chars, index + 1)?;
                    }
                    ranges += 1;
                }
            }
            _ => index += 1,
        }
    }
    Ok(())
}

/// Go's `getEsc`: one (possibly escaped) class character that must be followed by more pattern.
fn class_char_end(chars: &[char], mut index: usize) -> Result<usize, &'static str> {
    match chars.get(index) {
        None => return Err("unclosed character class"),
        Some('-') | Some(']') => return Err("bad character class"),
        Some('\\') => index += 1,
        Some(_) => {}
    }
    if index >= chars.len() {
        return Err("unclosed character class");
    }
    index += 1;
    if index >= chars.len() {
        return Err("unclosed character class");
    }
    Ok(index)
}

/// moby's `Pattern.compile`, producing tokens instead of a regular expression string.
fn compile(pattern: &str) -> Result<Shape, String> {
    #[derive(PartialEq)]
    enum Kind {
        Exact,
        Prefix,
        Suffix,
        Regexp,
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut kind = Kind::Exact;
    let mut tokens = Vec::new();
    let mut index = 0;
    let mut first = true;
    while index < chars.len() {
        let current = chars[index];
        index += 1;
        match current {
            '*' if chars.get(index) == Some(&'*') => {
                index += 1;
                if chars.get(index) == Some(&'/') {
                    index += 1;
                }
                if index >= chars.len() {
                    if kind == Kind::Exact {
                        kind = Kind::Prefix;
                    } else {
                        tokens.push(Token::AnyTail);
                        kind = Kind::Regexp;
                    }
                } else {
                    tokens.push(Token::AnyDirectories);
                    kind = Kind::Regexp;
                }
                if first {
                    kind = Kind::Suffix;
                }
            }
            '*' => {
                tokens.push(Token::Star);
                kind = Kind::Regexp;
            }
            '?' => {
                tokens.push(Token::Single);
                kind = Kind::Regexp;
            }
            '\\' if index < chars.len() => {
                let escaped = chars[index];
                index += 1;
                tokens.push(match escape(escaped)? {
                    Escaped::Char(literal) => Token::Literal(literal),
                    Escaped::Perl(item) => Token::Class(Class::single(item)),
                });
                kind = Kind::Regexp;
            }
            '[' => {
                let (class, next) = parse_class(&chars, index)?;
                index = next;
                tokens.push(Token::Class(class));
                kind = Kind::Regexp;
            }
            ']' => {
                tokens.push(Token::Literal(']'));
                kind = Kind::Regexp;
            }
            other => tokens.push(Token::Literal(other)),
        }
        first = false;
    }
    Ok(match kind {
        Kind::Exact => Shape::Exact,
        Kind::Prefix => Shape::Prefix(pattern[..pattern.len() - 2].to_string()),
        Kind::Suffix => Shape::Suffix(pattern[2..].to_string()),
        Kind::Regexp => Shape::Tokens(tokens),
    })
}

#[cfg(test)]
#[path = "pattern_tests.rs"]
mod tests;
