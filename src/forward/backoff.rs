//! How long a forward waits before it tries again: 50 ms after the first failure, doubling with
//! each failure in a row, never more than 15 s; a connection that lasted (10 s or more) starts the
//! count again, so a pod replaced once an hour is reconnected at once every time, while a target
//! with no ready pod is asked about every 15 s at most. Pure, so the schedule is tested as data.

use std::time::Duration;

/// The wait after the first failure.
pub const INITIAL: Duration = Duration::from_millis(50);
/// The longest wait.
pub const MAX: Duration = Duration::from_secs(15);
/// A connection that lasted this long was a success: the next failure waits [`INITIAL`] again.
pub const STABLE: Duration = Duration::from_secs(10);

/// The wait before the next try after `failures` failures in a row (`failures` ≥ 1).
pub fn delay(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(20);
    INITIAL.saturating_mul(1 << doublings).min(MAX)
}

/// Failures in a row, and therefore the next wait.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// A try ended (the pod went away, kubectl exited, no pod was ready); `lasted` is how long it
    /// forwarded, if it did. Returns the wait before the next try.
    pub fn failed(&mut self, lasted: Option<Duration>) -> Duration {
        if lasted.is_some_and(|lasted| lasted >= STABLE) {
            self.failures = 0;
        }
        self.failures = self.failures.saturating_add(1);
        delay(self.failures)
    }

    /// The number of the next try since the last connection that lasted (1 for the first).
    pub fn attempt(&self) -> u32 {
        self.failures.saturating_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn the_wait_starts_at_50_ms_doubles_and_stops_at_15_s() {
        let schedule: Vec<Duration> = (1..=12).map(delay).collect();
        assert_eq!(
            schedule,
            [
                ms(50),
                ms(100),
                ms(200),
                ms(400),
                ms(800),
                ms(1600),
                ms(3200),
                ms(6400),
                ms(12800),
                ms(15000),
                ms(15000),
                ms(15000)
            ]
        );
        assert_eq!(delay(u32::MAX), MAX, "no overflow however long it fails");
    }

    #[test]
    fn failures_in_a_row_back_off_and_a_connection_that_lasted_starts_again() {
        let mut backoff = Backoff::default();
        assert_eq!(backoff.attempt(), 1);
        assert_eq!(backoff.failed(None), ms(50));
        assert_eq!(backoff.failed(Some(ms(300))), ms(100), "a short connection is still a failure in a row");
        assert_eq!(backoff.failed(None), ms(200));
        assert_eq!(backoff.attempt(), 4);
        assert_eq!(backoff.failed(Some(STABLE)), ms(50), "a connection that lasted resets the wait");
        assert_eq!(backoff.attempt(), 2);
        assert_eq!(backoff.failed(Some(Duration::from_secs(3600))), ms(50));
    }
}
