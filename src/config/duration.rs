//! Durations in ohdev.yaml and in flags (`--timeout`): `90s`, `5m`, `1h30m`, `250ms`, or a bare
//! number of seconds. (`ohdev logs --since` takes kubectl's own format instead: see `logs::request`.)

use std::time::Duration;

/// `90s`, `5m`, `1h30m`, `250ms`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let mut total = Duration::ZERO;
    let mut number = String::new();
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let value: u64 = number.parse().ok()?;
        number.clear();
        let unit = match c {
            'h' => Duration::from_secs(3600),
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                Duration::from_millis(1)
            }
            'm' => Duration::from_secs(60),
            's' => Duration::from_secs(1),
            _ => return None,
        };
        total += unit * u32::try_from(value).ok()?;
        any = true;
    }
    (number.is_empty() && any).then_some(total)
}
