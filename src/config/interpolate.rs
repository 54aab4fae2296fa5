//! `${VAR}` and `${VAR:-default}` in string values, the way compose files and shells read them.
//!
//! `$$` is a literal `$`. `${image:NAME}` is left alone: it belongs to manifests, resolved at deploy time.

/// Why a string could not be interpolated.
#[derive(Debug, PartialEq, Eq)]
pub enum InterpolateError {
    Unset {
        variable: String,
    },
    Unterminated,
    /// `${}`, `${:-x}`, `${A B}`: not a variable name.
    BadName {
        written: String,
    },
}

pub fn interpolate(input: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, InterpolateError> {
    let mut output = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(position) = rest.find('$') {
        output.push_str(&rest[..position]);
        let after = &rest[position + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            output.push('$');
            rest = tail;
            continue;
        }
        let Some(body_start) = after.strip_prefix('{') else {
            output.push('$');
            rest = after;
            continue;
        };
        let Some(end) = body_start.find('}') else {
            return Err(InterpolateError::Unterminated);
        };
        let body = &body_start[..end];
        rest = &body_start[end + 1..];
        if body.starts_with("image:") {
            output.push_str("${");
            output.push_str(body);
            output.push('}');
            continue;
        }
        let (name, default) = match body.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (body, None),
        };
        let valid = name.chars().next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(InterpolateError::BadName { written: format!("${{{body}}}") });
        }
        match (lookup(name).filter(|value| !value.is_empty() || default.is_none()), default) {
            (Some(value), _) => output.push_str(&value),
            (None, Some(default)) => output.push_str(default),
            (None, None) => return Err(InterpolateError::Unset { variable: name.to_string() }),
        }
    }
    output.push_str(rest);
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_variable_name_is_named() {
        for (input, written) in [("a${}b", "${}"), ("${:-x}", "${:-x}"), ("${A B}", "${A B}"), ("${1X}", "${1X}")] {
            assert_eq!(
                interpolate(input, &env),
                Err(InterpolateError::BadName { written: written.to_string() }),
                "{input}"
            );
        }
    }

    fn env(name: &str) -> Option<String> {
        match name {
            "ROOT" => Some("/src/openhands".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn table() {
        let cases: &[(&str, Result<&str, InterpolateError>)] = &[
            ("plain", Ok("plain")),
            ("${ROOT}", Ok("/src/openhands")),
            ("${ROOT}/containers", Ok("/src/openhands/containers")),
            ("${MISSING:-.}", Ok(".")),
            ("${ROOT:-.}", Ok("/src/openhands")),
            ("${EMPTY:-fallback}", Ok("fallback")),
            ("${EMPTY}", Ok("")),
            ("cost $$5", Ok("cost $5")),
            ("a $b c", Ok("a $b c")),
            ("${image:runtime}", Ok("${image:runtime}")),
            ("${MISSING}", Err(InterpolateError::Unset { variable: "MISSING".into() })),
            ("${ROOT", Err(InterpolateError::Unterminated)),
        ];
        for (input, expected) in cases {
            let got = interpolate(input, &env);
            match expected {
                Ok(text) => assert_eq!(got.as_deref(), Ok(*text), "input {input}"),
                Err(error) => assert_eq!(got.as_ref().err(), Some(error), "input {input}"),
            }
        }
    }
}
