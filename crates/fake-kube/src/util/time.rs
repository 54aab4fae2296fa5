//! RFC 3339 timestamps without a date crate (only used for display fields: creationTimestamp,
//! event times, `logs --timestamps`; no simulated behaviour depends on the wall clock).

use std::time::{SystemTime, UNIX_EPOCH};

fn since_epoch() -> (u64, u32) {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    (d.as_secs(), d.subsec_nanos())
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's civil_from_days).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub fn format(secs: u64, nanos: Option<u32>) -> String {
    let (y, mo, d) = civil((secs / 86_400) as i64);
    let rem = secs % 86_400;
    let base = format!("{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60);
    match nanos {
        Some(n) => format!("{base}.{n:09}Z"),
        None => format!("{base}Z"),
    }
}

/// Seconds precision, like metadata timestamps: `2025-01-02T03:04:05Z`.
pub fn now() -> String {
    format(since_epoch().0, None)
}

/// Nanosecond precision, like `kubectl logs --timestamps`.
pub fn now_nanos() -> String {
    let (s, n) = since_epoch();
    format(s, Some(n))
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_known_instants() {
        assert_eq!(super::format(0, None), "1970-01-01T00:00:00Z");
        assert_eq!(super::format(951_782_400, None), "2000-02-29T00:00:00Z");
        assert_eq!(super::format(1_735_787_045, Some(5)), "2025-01-02T03:04:05.000000005Z");
    }
}
