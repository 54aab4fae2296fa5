//! Turn serde_yaml's errors into messages that name the file, the line and the fix.

use std::path::Path;

use crate::error::Error;
pub use crate::suggest::nearest;

/// Parse `text` as YAML into `T`, refusing duplicate keys (which a map would silently keep the last
/// of) with an error naming every line, and turning any other error into one naming the file and line.
pub fn from_str_strict<T: serde::de::DeserializeOwned>(file: &Path, text: &str) -> Result<T, Error> {
    if let Err(error) = serde_yaml::from_str::<serde_yaml::Value>(text) {
        if let Some((key, lines)) = duplicate_key(text, &error) {
            return Err(duplicate_key_error(file, &key, &lines));
        }
    }
    serde_yaml::from_str(text).map_err(|error| to_config_error(file, &error))
}

/// Build a config error from a serde_yaml error, suggesting the nearest valid key for unknown fields.
pub fn to_config_error(file: &Path, error: &serde_yaml::Error) -> Error {
    let line = error.location().map(|location| location.line());
    let text = error.to_string();
    // serde_yaml appends " at line L column C"; the location is reported separately.
    let text = match text.find(" at line ") {
        Some(position) => text[..position].to_string(),
        None => text,
    };
    let text = plain_words(&text);
    if let Some((path, unknown, expected)) = parse_unknown_field(&text) {
        let nearest = nearest(&unknown, &expected);
        let place = if path.is_empty() { String::from("top level") } else { format!("`{path}`") };
        let fix = match nearest {
            Some(candidate) => format!("did you mean `{candidate}`? valid keys here: {}", expected.join(", ")),
            None => format!("valid keys here: {}", expected.join(", ")),
        };
        return Error::config(file, line, format!("unknown key `{unknown}` at {place}"), fix);
    }
    Error::config(
        file,
        line,
        text,
        "correct the YAML at that line (indentation uses spaces; strings with `:` or `#` need quotes)",
    )
}

/// serde names Rust types (`expected struct RawConfig`, `expected u16`); say what to write instead.
fn plain_words(text: &str) -> String {
    let mut text = text.to_string();
    if let Some(position) = text.find("expected struct ") {
        let rest = &text[position + "expected struct ".len()..];
        let end = rest.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(rest.len());
        text = format!("{}expected a mapping (`key: value` lines){}", &text[..position], &rest[end..]);
    }
    for (rust, plain) in [
        ("expected u16", "expected a number from 0 to 65535"),
        ("expected u32", "expected a whole number"),
        ("expected u64", "expected a whole number"),
    ] {
        text = text.replace(rust, plain);
    }
    text
}

/// A duplicate key anywhere in a YAML document: serde_yaml refuses it when reading a generic value
/// (and silently keeps the last one when reading into a map), naming the key and where its mapping
/// starts. Returns the key and every line (1-based) that sets it in that mapping.
pub fn duplicate_key(text: &str, error: &serde_yaml::Error) -> Option<(String, Vec<usize>)> {
    let message = error.to_string();
    let marker = "duplicate entry with key ";
    let start = message.find(marker)? + marker.len();
    let rest = &message[start..];
    let key = rest.strip_prefix('"').and_then(|quoted| quoted.split_once('"')).map(|(key, _)| key.to_string())?;
    let location = error.location()?;
    Some((key.clone(), key_lines(text, location.line(), location.column(), &key)))
}

/// Lines of the block mapping that starts at (`line`, `column`) whose key is `key`. A flow mapping
/// (`{a: 1, a: 2}`) has only its own line.
fn key_lines(text: &str, line: usize, column: usize, key: &str) -> Vec<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(first) = lines.get(line.saturating_sub(1)) else { return vec![line] };
    let indent = column.saturating_sub(1);
    if first.chars().skip(indent).collect::<String>().trim_start().starts_with('{') {
        return vec![line];
    }
    let names_key = |content: &str| {
        [format!("{key}:"), format!("\"{key}\":"), format!("'{key}':")]
            .iter()
            .any(|prefix| content.starts_with(prefix.as_str()))
    };
    // The mapping's first key stands at its column (after `- ` in a list item).
    let mut found = Vec::new();
    if names_key(&first.chars().skip(indent).collect::<String>()) {
        found.push(line);
    }
    for (index, text_line) in lines.iter().enumerate().skip(line) {
        let content = text_line.trim_start();
        let own_indent = text_line.len() - content.len();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if own_indent < indent || (own_indent == indent && content.starts_with("- ")) {
            break;
        }
        if own_indent == indent && names_key(content) {
            found.push(index + 1);
        }
    }
    if found.len() < 2 {
        vec![line]
    } else {
        found
    }
}

/// The config error for a duplicate key, naming every line that sets it.
pub fn duplicate_key_error(file: &Path, key: &str, lines: &[usize]) -> Error {
    let shown: Vec<String> = lines.iter().map(ToString::to_string).collect();
    Error::config(
        file,
        lines.last().copied(),
        format!("`{key}` is set more than once in the same mapping (lines {})", shown.join(" and ")),
        "keep one of them: YAML would silently use only the last",
    )
}

/// serde's text: "[path: ]unknown field `x`, expected one of `a`, `b`" or "expected `a` or `b`".
fn parse_unknown_field(text: &str) -> Option<(String, String, Vec<String>)> {
    let marker = "unknown field `";
    let start = text.find(marker)?;
    let path = text[..start].trim_end().trim_end_matches(':').to_string();
    let after = &text[start + marker.len()..];
    let end = after.find('`')?;
    let unknown = after[..end].to_string();
    let expected: Vec<String> = after[end + 1..].split('`').skip(1).step_by(2).map(str::to_string).collect();
    Some((path, unknown, expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_serde_unknown_field_text() {
        let (path, unknown, expected) =
            parse_unknown_field("cluster: unknown field `nmae`, expected one of `name`, `config`, `wait`").unwrap();
        assert_eq!(path, "cluster");
        assert_eq!(unknown, "nmae");
        assert_eq!(expected, ["name", "config", "wait"]);
        assert_eq!(nearest(&unknown, &expected), Some("name"));
    }

    #[test]
    fn duplicate_keys_name_every_line() {
        let cases = [
            ("images:\n  app:\n    context: a\n  other: {}\n  app:\n    context: b\n", "app", vec![2, 5]),
            ("a: 1\nb:\n  c: 1\n  d:\n    c: 9\n  c: 3\n", "c", vec![3, 6]),
            ("x: {a: 1, a: 2}\n", "a", vec![1]),
            ("- name: x\n  name: y\n", "name", vec![1, 2]),
        ];
        for (text, key, lines) in cases {
            let error = serde_yaml::from_str::<serde_yaml::Value>(text).unwrap_err();
            assert_eq!(duplicate_key(text, &error), Some((key.to_string(), lines)), "{text}");
        }
    }

    #[test]
    fn rust_type_names_become_what_to_write() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct RawInner {
            port: u16,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct RawOuter {
            inner: RawInner,
        }
        let file = Path::new("f.yaml");
        let cases = [
            ("- a\n", "f.yaml:1: invalid type: sequence, expected a mapping (`key: value` lines)\n"),
            ("inner: 5\n", "f.yaml:1: inner: invalid type: integer `5`, expected a mapping (`key: value` lines)\n"),
            (
                "inner:\n  port: 70000\n",
                "f.yaml:2: inner.port: invalid value: integer `70000`, expected a number from 0 to 65535\n",
            ),
        ];
        for (text, shown) in cases {
            let error = from_str_strict::<RawOuter>(file, text).unwrap_err().to_string();
            assert!(error.starts_with(shown), "{text:?}: {error}");
            assert!(!error.contains("struct") && !error.contains("u16"), "{error}");
        }
    }

    #[test]
    fn nothing_near_means_no_suggestion() {
        let candidates = vec!["name".to_string(), "config".to_string()];
        assert_eq!(nearest("zzzzzzzzzz", &candidates), None);
    }
}
