//! A Dockerfile read far enough to refuse, before anything changes, what BuildKit would refuse
//! only after `kind create cluster` had run: an unknown instruction, no `FROM`, an instruction
//! before the first `FROM`, a malformed `FROM` or `--platform`, a heredoc that never ends.
//!
//! The reading follows BuildKit's own parser (`frontend/dockerfile/parser`): a UTF-8 BOM is
//! dropped; parser directives (`# escape=`, `# syntax=`, `# check=`) count only before the first
//! other line; a line whose first non-blank character is `#` is a comment, also inside a
//! continuation; the escape character (`\`, or `` ` `` after `# escape=``) at the end of a line
//! continues the instruction on the next one, skipping blank lines; `<<WORD` (`<<-WORD`,
//! `<<"WORD"`) at the start of a word of a RUN, COPY or ADD in shell form opens a heredoc whose
//! body runs to a line holding only `WORD` and is not read as instructions. Instruction names are
//! case-insensitive. A `# syntax=` naming another frontend than Docker's own
//! (`docker/dockerfile…`) means another grammar: nothing is checked then.
//!
//! What is not checked here (the builder still finds it, and its message reaches stderr): the
//! arguments of instructions other than FROM, and anything that needs ARG values.
//!
//! (Over 400 lines on purpose: one reader of one grammar, whose parts — directives, continuations,
//! heredocs, FROM — only make sense together; platforms live in `platform.rs`.)

use crate::config::yaml_error::nearest;
pub use crate::platform::{check_platform, check_platform_reference, PlatformProblem};

/// Every instruction Docker knows, as written in Docker's documentation.
pub const INSTRUCTIONS: [&str; 18] = [
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

/// Instructions whose shell form may open heredocs (BuildKit's `heredocDirectives`).
const HEREDOC_INSTRUCTIONS: [&str; 3] = ["RUN", "COPY", "ADD"];

/// The parser directives BuildKit knows; any other `# key=value` line ends the directives.
const DIRECTIVES: [&str; 3] = ["escape", "syntax", "check"];

/// What validation needs from a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The build stages, in order.
    pub stages: Vec<Stage>,
    /// The `# syntax=` frontend when it is not Docker's own: its grammar is unknown, so nothing
    /// was checked and `stages` is empty.
    pub custom_frontend: Option<String>,
}

/// One `FROM [--platform=…] image [AS name]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// 1-based line of the `FROM`.
    pub line: usize,
    pub base: String,
    /// Lowercased, as BuildKit stores it.
    pub name: Option<String>,
    pub platform: Option<String>,
}

/// Why a Dockerfile would be refused: where, what, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {}: {message}", line.map(|line| line.to_string()).unwrap_or_else(|| "-".to_string()))]
pub struct DockerfileError {
    /// 1-based; `None` for a problem of the whole file (no `FROM`).
    pub line: Option<usize>,
    pub message: String,
    pub fix: String,
}

fn error(line: Option<usize>, message: impl Into<String>, fix: impl Into<String>) -> DockerfileError {
    DockerfileError { line, message: message.into(), fix: fix.into() }
}

impl Dockerfile {
    /// The stage `target` names (case-insensitive, as Docker compares them).
    pub fn stage(&self, target: &str) -> Option<&Stage> {
        self.stages.iter().find(|stage| stage.name.as_deref().is_some_and(|name| name.eq_ignore_ascii_case(target)))
    }

    /// The named stages, as `name (line N)`, for messages.
    pub fn stage_list(&self) -> Vec<String> {
        self.stages
            .iter()
            .filter_map(|stage| stage.name.as_ref().map(|name| format!("{name} (line {})", stage.line)))
            .collect()
    }
}

/// Parses `text` (a whole Dockerfile) far enough to validate it.
pub fn parse(text: &str) -> Result<Dockerfile, DockerfileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.split('\n').map(|line| line.trim_end_matches(['\r', '\n'])).collect();
    let directives = read_directives(&lines)?;
    if let Some(syntax) = directives.syntax.as_deref().filter(|syntax| !is_docker_frontend(syntax)) {
        return Ok(Dockerfile { stages: Vec::new(), custom_frontend: Some(syntax.to_string()) });
    }
    let mut stages: Vec<Stage> = Vec::new();
    let mut any_instruction = false;
    for instruction in logical_lines(&lines, directives.escape) {
        let instruction = instruction?;
        any_instruction = true;
        let keyword = instruction.keyword.to_ascii_uppercase();
        if !INSTRUCTIONS.contains(&keyword.as_str()) {
            return Err(unknown_instruction(&instruction, directives.escape));
        }
        if keyword == "FROM" {
            stages.push(parse_from(&instruction)?);
        } else if stages.is_empty() && keyword != "ARG" {
            return Err(error(
                Some(instruction.line),
                format!("`{}` comes before the first `FROM`", instruction.keyword),
                "move it below a `FROM <image>` line: only ARG, comments and parser directives may come before the first FROM",
            ));
        }
    }
    if stages.is_empty() {
        return Err(if any_instruction {
            error(None, "the Dockerfile has no `FROM` instruction", "add `FROM <image>` to start a build stage")
        } else {
            error(None, "the Dockerfile has no instructions", "start it with `FROM <image>`")
        });
    }
    Ok(Dockerfile { stages, custom_frontend: None })
}

/// `docker/dockerfile:1`, `docker.io/docker/dockerfile-upstream:master`, … (Docker's own
/// frontend, whose grammar this module knows).
fn is_docker_frontend(syntax: &str) -> bool {
    let image = syntax.strip_prefix("docker.io/").unwrap_or(syntax);
    image.starts_with("docker/dockerfile")
}

#[derive(Debug)]
struct Directives {
    escape: char,
    syntax: Option<String>,
}

/// BuildKit's `possibleParserDirective`, run over the leading lines: `# key=value` lines with a
/// known key, until any other line (blank lines and plain comments included).
fn read_directives(lines: &[&str]) -> Result<Directives, DockerfileError> {
    let mut directives = Directives { escape: '\\', syntax: None };
    let mut seen: Vec<String> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some((key, value)) = directive(line.trim_start()) else { break };
        if !DIRECTIVES.contains(&key.as_str()) {
            break;
        }
        if seen.contains(&key) {
            return Err(error(
                Some(index + 1),
                format!("only one `# {key}=` parser directive can be used"),
                "remove the repeated directive",
            ));
        }
        match key.as_str() {
            "escape" => {
                directives.escape = match value {
                    "\\" => '\\',
                    "`" => '`',
                    other => {
                        return Err(error(
                            Some(index + 1),
                            format!("invalid escape character `{other}` in the `# escape=` directive"),
                            "write `# escape=\\` (the default) or `# escape=` followed by a backtick",
                        ))
                    }
                }
            }
            "syntax" => directives.syntax = Some(value.to_string()),
            _ => {}
        }
        seen.push(key);
    }
    Ok(directives)
}

/// `#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*` as (lowercased key, value).
fn directive(line: &str) -> Option<(String, &str)> {
    let rest = line.strip_prefix('#')?.trim_start();
    let key_length = rest.find(|character: char| !character.is_ascii_alphanumeric()).unwrap_or(rest.len());
    let key = &rest[..key_length];
    if !key.starts_with(|character: char| character.is_ascii_alphabetic()) {
        return None;
    }
    let value = rest[key_length..].trim_start().strip_prefix('=')?.trim();
    (!value.is_empty()).then(|| (key.to_ascii_lowercase(), value))
}

/// One instruction: its first line and its text with continuations joined.
#[derive(Debug)]
struct Instruction {
    line: usize,
    keyword: String,
    /// Everything after the keyword, trimmed.
    arguments: String,
}

/// The instructions of the file, with comments, blank lines, continuations and heredoc bodies
/// handled as BuildKit's `Parse` does.
fn logical_lines<'a>(
    lines: &'a [&'a str],
    escape: char,
) -> impl Iterator<Item = Result<Instruction, DockerfileError>> + 'a {
    let mut index = 0;
    std::iter::from_fn(move || loop {
        let first = lines.get(index)?.trim_start();
        index += 1;
        let line_number = index;
        let first = if first.starts_with('#') { "" } else { first };
        let (mut text, mut ended) = trim_continuation(first, escape);
        if ended && text.is_empty() {
            continue;
        }
        while !ended && index < lines.len() {
            let next = lines[index];
            index += 1;
            let trimmed = next.trim_start();
            if trimmed.starts_with('#') || trimmed.is_empty() {
                continue;
            }
            let (part, part_ended) = trim_continuation(next, escape);
            text.push_str(&part);
            ended = part_ended;
        }
        let text = text.trim();
        let (keyword, arguments) = match text.split_once(char::is_whitespace) {
            Some((keyword, arguments)) => (keyword, arguments.trim()),
            None => (text, ""),
        };
        let instruction =
            Instruction { line: line_number, keyword: keyword.to_string(), arguments: arguments.to_string() };
        for (name, chomp) in heredocs(&instruction) {
            let mut closed = false;
            while index < lines.len() {
                let body = lines[index];
                index += 1;
                let candidate = if chomp { body.trim_start_matches('\t') } else { body };
                if candidate == name {
                    closed = true;
                    break;
                }
            }
            if !closed {
                return Some(Err(error(
                    Some(line_number),
                    format!("the heredoc `<<{name}` is never closed: no line holding only `{name}` follows"),
                    format!("end the heredoc's text with a line holding only `{name}`"),
                )));
            }
        }
        return Some(Ok(instruction));
    })
}

/// BuildKit's continuation rule: the escape character, then only blanks, at the end of a line,
/// and not itself escaped. Returns the line without it, and whether the instruction ends here.
fn trim_continuation(line: &str, escape: char) -> (String, bool) {
    let stripped = line.trim_end_matches([' ', '\t']);
    if let Some(before) = stripped.strip_suffix(escape) {
        if before.is_empty() || !before.ends_with(escape) {
            return (before.to_string(), false);
        }
    }
    (line.to_string(), true)
}

/// The heredocs an instruction opens, in order: (terminating word, `<<-` strips leading tabs).
/// Only RUN, COPY and ADD in shell form (also as an ONBUILD trigger) can open one, and only a
/// word that starts with `<<` (after an optional file descriptor number) does.
fn heredocs(instruction: &Instruction) -> Vec<(String, bool)> {
    let mut keyword = instruction.keyword.to_ascii_uppercase();
    let mut arguments = instruction.arguments.as_str();
    if keyword == "ONBUILD" {
        let (sub, rest) = arguments.split_once(char::is_whitespace).unwrap_or((arguments, ""));
        keyword = sub.to_ascii_uppercase();
        arguments = rest.trim();
    }
    if !HEREDOC_INSTRUCTIONS.contains(&keyword.as_str()) || is_json_form(strip_flags(arguments)) {
        return Vec::new();
    }
    words(arguments)
        .into_iter()
        .filter_map(|word| {
            let rest = word.trim_start_matches(|character: char| character.is_ascii_digit());
            let rest = rest.strip_prefix("<<")?;
            let (chomp, rest) = match rest.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, rest),
            };
            if rest.is_empty() || rest.contains('<') {
                return None;
            }
            let name = unquote(rest);
            (!name.is_empty()).then_some((name, chomp))
        })
        .collect()
}

/// The arguments after any leading `--flag[=value]` words.
fn strip_flags(arguments: &str) -> &str {
    let mut rest = arguments.trim_start();
    while rest.starts_with("--") {
        let end = word_end(rest);
        rest = rest[end..].trim_start();
    }
    rest
}

/// The exec (JSON) form: `["executable", "param"]`.
fn is_json_form(arguments: &str) -> bool {
    arguments.starts_with('[') && serde_json::from_str::<Vec<String>>(arguments).is_ok()
}

/// Byte index where the word at the start of `text` ends (quotes and backslashes group).
fn word_end(text: &str) -> usize {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (index, character) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match (quote, character) {
            (_, '\\') if quote != Some('\'') => escaped = true,
            (None, '\'' | '"') => quote = Some(character),
            (Some(open), _) if character == open => quote = None,
            (None, _) if character.is_whitespace() => return index,
            _ => {}
        }
    }
    text.len()
}

/// Whitespace-separated words, quotes and escapes kept as written (BuildKit lexes heredoc words
/// with `RawQuotes` and `RawEscapes`).
fn words(text: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let end = word_end(rest);
        words.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    words
}

/// A shell word without its quotes and backslash escapes.
fn unquote(word: &str) -> String {
    let mut result = String::new();
    let mut quote: Option<char> = None;
    let mut characters = word.chars();
    while let Some(character) = characters.next() {
        match (quote, character) {
            (Some('\''), '\'') | (Some('"'), '"') => quote = None,
            (Some('\''), _) => result.push(character),
            (_, '\\') => result.extend(characters.next()),
            (None, '\'' | '"') => quote = Some(character),
            _ => result.push(character),
        }
    }
    result
}

fn unknown_instruction(instruction: &Instruction, escape: char) -> DockerfileError {
    let known: Vec<String> = INSTRUCTIONS.iter().map(|name| name.to_string()).collect();
    let escape = if escape == '`' { "a backtick".to_string() } else { format!("`{escape}`") };
    let fix = match nearest(&instruction.keyword.to_ascii_uppercase(), &known) {
        Some(candidate) => format!("did you mean `{candidate}`?"),
        None => format!(
            "Dockerfile instructions are {}; a line that continues the previous instruction needs {escape} at the end of the line before it",
            INSTRUCTIONS.join(", ")
        ),
    };
    error(Some(instruction.line), format!("unknown instruction `{}`", instruction.keyword), fix)
}

const FROM_SYNTAX: &str = "write `FROM [--platform=<os>/<arch>] <image> [AS <name>]`";

/// `FROM [--platform=<platform>] <image> [AS <name>]`, as BuildKit's `parseFrom` reads it.
fn parse_from(instruction: &Instruction) -> Result<Stage, DockerfileError> {
    let line = Some(instruction.line);
    let mut rest = instruction.arguments.as_str();
    let mut platform: Option<String> = None;
    while rest.starts_with("--") {
        let end = word_end(rest);
        let flag = &rest[2..end];
        rest = rest[end..].trim_start();
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(unquote(value))),
            None => (flag, None),
        };
        if name != "platform" {
            let fix = match nearest(name, &["platform".to_string()]) {
                Some(_) => "did you mean `--platform`?".to_string(),
                None => "`FROM` takes only `--platform=<os>/<arch>`".to_string(),
            };
            return Err(error(line, format!("unknown flag `--{name}` in `FROM`"), fix));
        }
        if platform.is_some() {
            return Err(error(line, "`--platform` is given twice in `FROM`", "keep one `--platform`"));
        }
        let Some(value) = value else {
            return Err(error(
                line,
                "`--platform` in `FROM` has no value",
                "write `--platform=linux/amd64`, or `--platform=$BUILDPLATFORM`",
            ));
        };
        if let Err(problem) = check_platform_reference(&value) {
            return Err(error(
                line,
                format!("invalid `--platform={value}` in `FROM`: {}", problem.reason),
                format!("{}; or an ARG, like `$BUILDPLATFORM`", problem.fix()),
            ));
        }
        platform = Some(value);
    }
    let arguments: Vec<&str> = rest.split_whitespace().collect();
    let name = match arguments.as_slice() {
        [_] => None,
        [_, keyword, name] if keyword.eq_ignore_ascii_case("as") => Some(stage_name(name, instruction.line)?),
        [] => return Err(error(line, "`FROM` has no image", FROM_SYNTAX)),
        _ => {
            return Err(error(
                line,
                format!("`FROM` takes an image and optionally `AS <name>`, not `{}`", arguments.join(" ")),
                FROM_SYNTAX,
            ))
        }
    };
    Ok(Stage { line: instruction.line, base: arguments[0].to_string(), name, platform })
}

/// A stage name: `^[a-z][a-z0-9-_.]*$` once lowercased.
fn stage_name(name: &str, line: usize) -> Result<String, DockerfileError> {
    let lowered = name.to_ascii_lowercase();
    let valid = lowered.starts_with(|character: char| character.is_ascii_lowercase())
        && lowered.chars().all(|character| {
            character.is_ascii_lowercase() || character.is_ascii_digit() || matches!(character, '-' | '_' | '.')
        });
    if valid {
        Ok(lowered)
    } else {
        Err(error(
            Some(line),
            format!("invalid stage name `{name}`: it must start with a letter and hold only letters, digits, `-`, `_` and `.`"),
            "rename the stage, e.g. `AS build`",
        ))
    }
}

#[cfg(test)]
#[path = "dockerfile_tests.rs"]
mod tests;
