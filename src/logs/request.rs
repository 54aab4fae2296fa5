//! A validated `ohdev logs` request: raw flags become checked values before anything runs.

use std::time::Duration;

use super::select::Target;
use crate::error::Error;

#[derive(Debug, Clone)]
pub struct LogsRequest {
    /// The arguments as typed (for messages) and as parsed.
    pub args: Vec<String>,
    pub targets: Vec<Target>,
    pub follow: bool,
    /// Passed to kubectl as typed, after checking it is a duration kubectl accepts.
    pub since: Option<String>,
    pub tail: Option<u64>,
    pub container: Option<String>,
    pub grep: Option<String>,
}

impl LogsRequest {
    pub fn new(
        args: Vec<String>,
        follow: bool,
        since: Option<String>,
        tail: Option<u64>,
        container: Option<String>,
        grep: Option<String>,
    ) -> Result<LogsRequest, Error> {
        let targets = args.iter().map(|arg| Target::parse(arg)).collect::<Result<Vec<_>, _>>()?;
        if let Some(since) = &since {
            parse_duration(since).ok_or_else(|| Error::Input {
                message: format!("--since {since}: not a duration"),
                fix: "use a number with a unit, like 30s, 5m, 2h or 1h30m".into(),
            })?;
        }
        if container.as_deref() == Some("") {
            return Err(Error::Input {
                message: "--container needs a container name".into(),
                fix: "pass a container name, or leave --container out to stream every container".into(),
            });
        }
        Ok(LogsRequest {
            args,
            targets,
            follow,
            since,
            tail,
            container,
            grep: grep.filter(|needle| !needle.is_empty()),
        })
    }
}

/// A Go duration as kubectl's `--since` takes it: `30s`, `5m`, `1h30m`, `1.5h`, `250ms`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut rest = text;
    let mut total = 0.0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number: f64 = rest[..number_end].parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let seconds = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += number * seconds;
    }
    Some(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_kubectl() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        for bad in ["", "5", "m", "5 m", "5d", "-5m", "1h 2m"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn bad_flags_are_input_errors() {
        let error = LogsRequest::new(vec![], false, Some("5 minutes".into()), None, None, None).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("--since 5 minutes"), "{error}");
        assert!(LogsRequest::new(vec!["service/x".into()], false, None, None, None, None).is_err());
        let request = LogsRequest::new(
            vec!["app".into()],
            true,
            Some("5m".into()),
            Some(3),
            Some("main".into()),
            Some(String::new()),
        )
        .unwrap();
        assert_eq!(request.grep, None, "an empty --grep filters nothing");
        assert_eq!(request.targets, [Target::Name("app".into())]);
    }
}
