//! The regular expression moby's `patternmatcher` compiles a pattern into, as tokens, and a
//! matcher for it.
//!
//! Why a matcher of our own instead of the `regex` crate: the expressions moby builds use a tiny
//! part of Go's syntax (literals, `[^/]*`, `[^/]`, `(.*/)?`, `.*` and classes), and reproducing
//! that part exactly, including Go's escapes like `\d`, is shorter than translating it into
//! another engine's dialect and auditing the differences. The set-of-states simulation never
//! backtracks, so no pattern can make matching slow.

/// The pieces of the regular expression moby builds, one per pattern element.
#[derive(Debug, Clone)]
pub(super) enum Token {
    Literal(char),
    /// `*`: `[^/]*`
    Star,
    /// `?`: `[^/]`
    Single,
    /// `**` followed by more pattern: `(.*/)?`
    AnyDirectories,
    /// `**` at the end of a pattern that is not a plain prefix: `.*`
    AnyTail,
    Class(Class),
}

#[derive(Debug, Clone)]
pub(super) struct Class {
    negated: bool,
    items: Vec<ClassItem>,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum ClassItem {
    Range(char, char),
    /// Go regexp's `\d`, `\s`, `\w` (`negated` for `\D`, `\S`, `\W`).
    Perl {
        kind: char,
        negated: bool,
    },
}

pub(super) enum Escaped {
    Char(char),
    Perl(ClassItem),
}

/// What Go's regexp makes of `\c`; escapes with a regexp-only meaning are refused.
pub(super) fn escape(escaped: char) -> Result<Escaped, String> {
    Ok(match escaped {
        'd' | 's' | 'w' => Escaped::Perl(ClassItem::Perl { kind: escaped, negated: false }),
        'D' | 'S' | 'W' => Escaped::Perl(ClassItem::Perl { kind: escaped.to_ascii_lowercase(), negated: true }),
        'a' => Escaped::Char('\u{7}'),
        'f' => Escaped::Char('\u{c}'),
        't' => Escaped::Char('\t'),
        'n' => Escaped::Char('\n'),
        'r' => Escaped::Char('\r'),
        'v' => Escaped::Char('\u{b}'),
        other if other.is_ascii() && !other.is_ascii_alphanumeric() => Escaped::Char(other),
        other => {
            return Err(format!(
                "escape `\\{other}` has a regular-expression meaning in Docker's matcher; \
                 ohdev does not support it"
            ))
        }
    })
}

/// A `[...]` class as Go's regexp reads it (`index` is just past the `[`).
pub(super) fn parse_class(chars: &[char], mut index: usize) -> Result<(Class, usize), String> {
    let negated = chars.get(index) == Some(&'^');
    if negated {
        index += 1;
    }
    let mut items = Vec::new();
    loop {
        match chars.get(index) {
            None => return Err("unclosed character class".to_string()),
            Some(']') if !items.is_empty() => return Ok((Class { negated, items }, index + 1)),
            Some(_) => {}
        }
        let low = class_atom(chars, &mut index)?;
        let is_range = chars.get(index) == Some(&'-') && chars.get(index + 1) != Some(&']');
        if !is_range {
            items.push(low);
            continue;
        }
        index += 1;
        let high = class_atom(chars, &mut index)?;
        match (low, high) {
            (ClassItem::Range(low, _), ClassItem::Range(high, _)) if low <= high => {
                items.push(ClassItem::Range(low, high));
            }
            (ClassItem::Range(low, _), ClassItem::Range(high, _)) => {
                return Err(format!("character class range `{low}-{high}` is out of order"));
            }
            _ => return Err("a class like `\\d` cannot end a range".to_string()),
        }
    }
}

fn class_atom(chars: &[char], index: &mut usize) -> Result<ClassItem, String> {
    let current = chars.get(*index).copied().ok_or("unclosed character class")?;
    *index += 1;
    match current {
        '\\' => {
            let escaped = chars.get(*index).copied().ok_or("unclosed character class")?;
            *index += 1;
            Ok(match escape(escaped)? {
                Escaped::Char(literal) => ClassItem::Range(literal, literal),
                Escaped::Perl(item) => item,
            })
        }
        '*' | '?' => {
            Err(format!("`{current}` inside [...] is mistranslated by Docker's matcher; escape it as `\\{current}`"))
        }
        '[' if chars.get(*index) == Some(&':') => Err("POSIX classes like [:alpha:] are not supported".to_string()),
        literal => Ok(ClassItem::Range(literal, literal)),
    }
}

impl Class {
    /// A class of one item, for `\d` and friends outside brackets.
    pub(super) fn single(item: ClassItem) -> Class {
        Class { negated: false, items: vec![item] }
    }

    fn contains(&self, candidate: char) -> bool {
        let found = self.items.iter().any(|item| match *item {
            ClassItem::Range(low, high) => (low..=high).contains(&candidate),
            ClassItem::Perl { kind, negated } => perl_class(kind, candidate) != negated,
        });
        found != self.negated
    }
}

fn perl_class(kind: char, candidate: char) -> bool {
    match kind {
        'd' => candidate.is_ascii_digit(),
        's' => matches!(candidate, '\t' | '\n' | '\u{c}' | '\r' | ' '),
        _ => candidate.is_ascii_alphanumeric() || candidate == '_',
    }
}

/// Runs the token sequence as the anchored regular expression moby would have compiled.
/// States: `2 * position` is "about to match token `position`"; `2 * position + 1` is "inside
/// the `.*` of an `(.*/)?` at `position`". A set-of-states simulation never backtracks.
pub(super) fn matches_tokens(tokens: &[Token], path: &str) -> bool {
    let size = 2 * (tokens.len() + 1);
    let mut current = vec![false; size];
    let mut next = vec![false; size];
    add_state(tokens, &mut current, 0);
    for character in path.chars() {
        next.iter_mut().for_each(|state| *state = false);
        for state in 0..size {
            if !current[state] {
                continue;
            }
            let position = state / 2;
            if state % 2 == 1 {
                // Inside `(.*/)?`: `.` takes anything but a newline; a `/` may also end it.
                if character != '\n' {
                    next[state] = true;
                }
                if character == '/' {
                    add_state(tokens, &mut next, position + 1);
                }
                continue;
            }
            let Some(token) = tokens.get(position) else {
                continue;
            };
            match token {
                Token::Literal(literal) if *literal == character => add_state(tokens, &mut next, position + 1),
                Token::Single if character != '/' => add_state(tokens, &mut next, position + 1),
                Token::Class(class) if class.contains(character) => add_state(tokens, &mut next, position + 1),
                Token::Star if character != '/' => add_state(tokens, &mut next, position),
                Token::AnyTail if character != '\n' => add_state(tokens, &mut next, position),
                Token::AnyDirectories => {
                    if character != '\n' {
                        next[2 * position + 1] = true;
                    }
                    if character == '/' {
                        add_state(tokens, &mut next, position + 1);
                    }
                }
                _ => {}
            }
        }
        std::mem::swap(&mut current, &mut next);
        if !current.iter().any(|state| *state) {
            return false;
        }
    }
    current[2 * tokens.len()]
}

/// Marks `position` and every position reachable from it by matching nothing.
fn add_state(tokens: &[Token], states: &mut [bool], mut position: usize) {
    loop {
        states[2 * position] = true;
        match tokens.get(position) {
            Some(Token::Star | Token::AnyTail | Token::AnyDirectories) => position += 1,
            _ => return,
        }
    }
}
