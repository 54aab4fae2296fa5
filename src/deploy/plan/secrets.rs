//! Secret objects generated from the `secrets:` entries of ohdev.yaml, so that API keys live in a
//! git-ignored `.env` (or the environment) and never in a manifest.
//!
//! Why so careful: a value must never appear in output, errors, `--json` or state. Errors name the key
//! and the file, and the env file parser reports line numbers, never line contents.
//!
//! Precedence: a non-empty environment variable wins over the env file, like docker compose (which this
//! repository also uses) and most dotenv loaders: `LLM_API_KEY=… ohdev up` works without editing `.env`.
//! An empty environment variable does not hide a value from the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::manifest::{Object, SourceRef};
use super::substitute::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{}", describe_missing(secret, keys, env_file.as_deref(), *env_file_exists))]
    MissingKeys { secret: String, keys: Vec<String>, env_file: Option<PathBuf>, env_file_exists: bool },
    #[error("secrets.{secret} in ohdev.yaml: cannot read {}: {error}", env_file.display())]
    EnvFileUnreadable { secret: String, env_file: PathBuf, error: std::io::Error },
    #[error("{}:{line}: {problem} (env files hold `KEY=value` lines; `#` starts a comment)", env_file.display())]
    EnvFileSyntax { env_file: PathBuf, line: usize, problem: &'static str },
    #[error(
        "secrets.{secret} in ohdev.yaml: `{key}` cannot be a Secret key: use letters, digits, `-`, `_` and `.` only"
    )]
    InvalidKey { secret: String, key: String },
}

fn describe_missing(secret: &str, keys: &[String], env_file: Option<&Path>, env_file_exists: bool) -> String {
    let (subject, lines) = match keys {
        [key] => (format!("key {key} is"), format!("a line `{key}=<value>`")),
        _ => (format!("keys {} are", keys.join(", ")), "a line `KEY=<value>` for each".to_string()),
    };
    let exports = keys.join(" and ");
    let prefix = format!("secrets.{secret} in ohdev.yaml: {subject}");
    match (env_file, env_file_exists) {
        (Some(file), true) => format!(
            "{prefix} set neither in {file} nor in the environment: add {lines} to {file}, or export {exports}",
            file = file.display()
        ),
        (Some(file), false) => format!(
            "{prefix} set neither in {file} (which does not exist) nor in the environment: create {file} with {lines}, or export {exports}",
            file = file.display()
        ),
        (None, _) => format!("{prefix} not set in the environment and the entry names no env_file: export {exports}, or add `env_file:`"),
    }
}

/// Every value `keys` would take (environment or env file), for hiding them in a renderer's error
/// output. What cannot be read is left out: `generate` reports it.
pub fn values(env_file: Option<&Path>, keys: &[String], env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let file_values = env_file
        .and_then(|file| std::fs::read_to_string(file).ok().map(|text| (file, text)))
        .and_then(|(file, text)| parse_env_file(file, &text).ok())
        .unwrap_or_default();
    keys.iter()
        .flat_map(|key| [env(key), file_values.get(key).cloned()])
        .flatten()
        .filter(|value| !value.is_empty())
        .collect()
}

/// Builds the Secret `name` in `namespace` with exactly `keys`, values taken from the environment
/// (`env`, non-empty wins) or `env_file`. The object's source is `ohdev.yaml`, document 0; the caller may
/// replace it with the config file's real path.
pub fn generate(
    name: &str,
    namespace: &str,
    env_file: Option<&Path>,
    keys: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Object, SecretError> {
    if let Some(key) =
        keys.iter().find(|key| key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
    {
        return Err(SecretError::InvalidKey { secret: name.to_string(), key: key.clone() });
    }
    let (file_values, env_file_exists) = match env_file {
        Some(file) => match std::fs::read_to_string(file) {
            Ok(text) => (parse_env_file(file, &text)?, true),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => (BTreeMap::new(), false),
            Err(error) => {
                return Err(SecretError::EnvFileUnreadable {
                    secret: name.to_string(),
                    env_file: file.to_path_buf(),
                    error,
                })
            }
        },
        None => (BTreeMap::new(), false),
    };
    let mut data = Map::new();
    let mut missing = Vec::new();
    for key in keys {
        let from_environment = env(key);
        let value = match (from_environment, file_values.get(key)) {
            (Some(value), _) if !value.is_empty() => Some(value),
            (_, Some(value)) => Some(value.clone()),
            (other, None) => other,
        };
        match value {
            Some(value) => {
                data.insert(key.clone(), Value::from(base64_encode(value.as_bytes())));
            }
            None => missing.push(key.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(SecretError::MissingKeys {
            secret: name.to_string(),
            keys: missing,
            env_file: env_file.map(Path::to_path_buf),
            env_file_exists,
        });
    }
    let value = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE}},
        "type": "Opaque",
        "data": data,
    });
    Ok(Object::new(SourceRef { file: PathBuf::from("ohdev.yaml"), doc_index: 0, line: None }, value))
}

/// Parses `KEY=value` lines: `export ` prefixes, `#` comments, blank lines, single quotes (literal) and
/// double quotes (`\n`, `\t`, `\"`, `\\` escapes); quoted values may span lines. No `${VAR}` expansion.
pub fn parse_env_file(file: &Path, text: &str) -> Result<BTreeMap<String, String>, SecretError> {
    let syntax =
        |line: usize, problem: &'static str| SecretError::EnvFileSyntax { env_file: file.to_path_buf(), line, problem };
    let mut values = BTreeMap::new();
    let mut characters = text.chars().peekable();
    let mut line = 1;
    loop {
        while characters.next_if(|c| *c == ' ' || *c == '\t' || *c == '\r').is_some() {}
        let Some(&first) = characters.peek() else {
            break;
        };
        if first == '\n' || first == '#' {
            for c in characters.by_ref() {
                if c == '\n' {
                    line += 1;
                    break;
                }
            }
            continue;
        }
        let key_line = line;
        let mut head = String::new();
        while let Some(c) = characters.next_if(|c| *c != '=' && *c != '\n') {
            head.push(c);
        }
        if characters.next_if_eq(&'=').is_none() {
            return Err(syntax(key_line, "this line has no `=`"));
        }
        let key = head.trim().strip_prefix("export ").unwrap_or(head.trim()).trim().to_string();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(syntax(key_line, "the name before `=` is empty or has spaces"));
        }
        while characters.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        let mut value = String::new();
        match characters.peek().copied() {
            Some(quote @ ('"' | '\'')) => {
                characters.next();
                let mut closed = false;
                while let Some(c) = characters.next() {
                    match c {
                        c if c == quote => {
                            closed = true;
                            break;
                        }
                        '\\' if quote == '"' => match characters.next() {
                            Some('n') => value.push('\n'),
                            Some('t') => value.push('\t'),
                            Some(other) => value.push(other),
                            None => break,
                        },
                        c => {
                            line += usize::from(c == '\n');
                            value.push(c);
                        }
                    }
                }
                if !closed {
                    return Err(syntax(key_line, "a quoted value is never closed"));
                }
                let mut rest = String::new();
                while let Some(c) = characters.next_if(|c| *c != '\n') {
                    rest.push(c);
                }
                let rest = rest.trim();
                if !rest.is_empty() && !rest.starts_with('#') {
                    return Err(syntax(line, "text follows the closing quote"));
                }
            }
            _ => {
                while let Some(c) = characters.next_if(|c| *c != '\n') {
                    value.push(c);
                }
                if let Some(comment) = value.find(" #").or_else(|| value.find("\t#")) {
                    value.truncate(comment);
                }
                value = value.trim_end().to_string();
            }
        }
        values.insert(key, value);
    }
    Ok(values)
}

/// Standard base64 with padding (RFC 4648 §4), as Secret `data` expects.
pub fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let triple = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for position in 0..4 {
            if position <= chunk.len() {
                encoded.push(char::from(ALPHABET[((triple >> (18 - 6 * position)) & 0x3f) as usize]));
            } else {
                encoded.push('=');
            }
        }
    }
    encoded
}

#[cfg(test)]
#[path = "secrets_tests.rs"]
mod tests;
