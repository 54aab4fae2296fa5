//! Numbers as people read them: byte counts and durations. Events carry the raw numbers and the
//! renderers format them with these; error messages (written where the error is raised) use them too,
//! so this module depends on nothing.

use std::time::Duration;

pub fn human_bytes(bytes: u64) -> String {
    match bytes {
        0..=9_999 => format!("{bytes} B"),
        10_000..=9_999_999 => format!("{:.1} kB", bytes as f64 / 1000.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_000_000.0),
    }
}

/// Under a second in milliseconds (`350 ms`), under a minute in seconds with one decimal (`12.4s`),
/// else minutes and whole seconds (`12m`, `1m30s`).
pub fn human_duration(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{} ms", duration.as_millis())
    } else if duration < Duration::from_secs(60) {
        format!("{:.1}s", duration.as_secs_f64())
    } else {
        let (minutes, seconds) = (duration.as_secs() / 60, duration.as_secs() % 60);
        if seconds == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{seconds}s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_and_durations() {
        let bytes =
            [(0, "0 B"), (9_999, "9999 B"), (10_000, "10.0 kB"), (2_500_000, "2500.0 kB"), (10_000_000, "10.0 MB")];
        for (value, text) in bytes {
            assert_eq!(human_bytes(value), text);
        }
        assert_eq!(human_duration(Duration::from_millis(350)), "350 ms");
        assert_eq!(human_duration(Duration::from_millis(12_440)), "12.4s");
        assert_eq!(human_duration(Duration::from_secs(720)), "12m");
        assert_eq!(human_duration(Duration::from_secs(90)), "1m30s");
    }
}
