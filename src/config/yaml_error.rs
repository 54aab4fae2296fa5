//! Turn serde_yaml's errors into messages that name the file, the line and the fix.

use std::path::Path;

use crate::error::Error;

/// Build a config error from a serde_yaml error, suggesting the nearest valid key for unknown fields.
pub fn to_config_error(file: &Path, error: &serde_yaml::Error) -> Error {
    let line = error.location().map(|location| location.line());
    let text = error.to_string();
    // serde_yaml appends " at line L column C"; the location is reported separately.
    let text = match text.find(" at line ") {
        Some(position) => text[..position].to_string(),
        None => text,
    };
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

pub fn nearest<'a>(word: &str, candidates: &'a [String]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|candidate| (strsim::damerau_levenshtein(word, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len().max(word.len()) / 2).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate.as_str())
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
    fn nothing_near_means_no_suggestion() {
        let candidates = vec!["name".to_string(), "config".to_string()];
        assert_eq!(nearest("zzzzzzzzzz", &candidates), None);
    }
}
