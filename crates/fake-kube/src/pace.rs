//! The rollout clock: how far a rollout has come is wall-clock time since it started (the
//! workload's spec last changed), never how often it was read. A stand-in whose rollouts advanced
//! one step per `kubectl get` rewarded a caller for polling faster, so it could not tell a fast
//! caller from one that hammers the API server; with time, reading more often only shows the same
//! state more often.
//!
//! A rollout takes `FAKE_KUBE_ROLLOUT_MS` (default [`DEFAULT_ROLLOUT_MS`]), in [`STEPS`] steps: its
//! pods are ContainerCreating for the first half and Running, not ready, for the second; then
//! Ready (and the workload Available). Reads are still counted (`Obj::polls`): restart and event
//! counts grow with them, and a failing Deployment reports ProgressDeadlineExceeded after
//! `PROGRESS_DEADLINE_POLLS` reads, so diagnosis output does not depend on the machine's speed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A small workload on a kind node: image present, no probes.
pub const DEFAULT_ROLLOUT_MS: u64 = 200;
/// Steps of a rollout: 1 = pods Running (not ready), `STEPS` = ready.
pub const STEPS: u64 = 2;

/// Where "now" comes from: the system clock, or (in-process tests) one they move by hand.
#[derive(Clone, Debug)]
pub enum Clock {
    System,
    #[allow(dead_code)] // only built by the in-process tests
    Manual(Arc<AtomicU64>),
}

impl Clock {
    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        match self {
            Clock::System => {
                SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as u64)
            }
            Clock::Manual(now) => now.load(Ordering::SeqCst),
        }
    }
}

/// `FAKE_KUBE_ROLLOUT_MS`: unset → the default; a whole number of milliseconds (0: ready at once).
pub fn rollout_ms(value: Option<&str>) -> Result<u64, String> {
    match value.map(str::trim).filter(|value| !value.is_empty()) {
        None => Ok(DEFAULT_ROLLOUT_MS),
        Some(text) => text.parse().map_err(|_| {
            format!("fake-kube: FAKE_KUBE_ROLLOUT_MS={text}: not a whole number of milliseconds (e.g. 200, or 0 for ready at once)")
        }),
    }
}

/// Steps done by a rollout that started at `started_ms`, at `now_ms`.
pub fn steps(started_ms: u64, now_ms: u64, rollout_ms: u64) -> u64 {
    if rollout_ms == 0 {
        return u64::MAX;
    }
    let elapsed = u128::from(now_ms.saturating_sub(started_ms));
    u64::try_from(elapsed * u128::from(STEPS) / u128::from(rollout_ms)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_follow_the_clock() {
        let at = |elapsed: u64| steps(1_000, 1_000 + elapsed, 200);
        assert_eq!([at(0), at(99), at(100), at(199), at(200), at(10_000)], [0, 0, 1, 1, 2, 100]);
        assert_eq!(steps(1_000, 1_000, 0), u64::MAX, "0 ms: ready at once");
        assert_eq!(steps(5_000, 1_000, 200), 0, "a clock that went back is no progress");
    }

    #[test]
    fn the_rollout_time_comes_from_the_environment() {
        assert_eq!(rollout_ms(None), Ok(DEFAULT_ROLLOUT_MS));
        assert_eq!(rollout_ms(Some("")), Ok(DEFAULT_ROLLOUT_MS));
        assert_eq!(rollout_ms(Some("0")), Ok(0));
        assert_eq!(rollout_ms(Some("3000")), Ok(3000));
        assert!(rollout_ms(Some("2s")).unwrap_err().contains("FAKE_KUBE_ROLLOUT_MS=2s"));
    }
}
