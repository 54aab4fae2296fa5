//! How soon the rollout reads an object's readiness again: fast at first, then backing off.
//!
//! A small workload on kind is ready a few hundred milliseconds after its apply, and a fixed
//! half-second interval spent most of a one-line edit's round trip waiting to look (watch
//! latency, BENCHMARKS.md). Polling fast for the whole wait would hammer the API server with one
//! `kubectl get` (a process start, discovery, a GET) per object every few tens of milliseconds, so
//! the wait grows by half from [`FIRST`] up to [`LONGEST`], the old fixed interval: a long rollout
//! costs at most five reads more than before, a short one is seen soon after it is ready. Growing
//! by half rather than doubling: a 200 ms rollout is seen at 237 ms instead of 350 ms, for one more
//! read in the first second.
//! Anything that becomes ready starts the next round fast again, because what depends on it is
//! applied now.
//!
//! Others: `kubectl rollout status` and Tilt watch the object (a list + watch on one name); kapp
//! polls at a fixed interval (`--wait-check-interval`, 1 s). A watch would need one long-lived
//! kubectl per object; this keeps one short `get` per read.

use std::time::Duration;

/// The wait before the second read of a round (the first comes right after the apply).
pub const FIRST: Duration = Duration::from_millis(50);
/// The longest wait between two reads: the interval ohdev used throughout before.
pub const LONGEST: Duration = Duration::from_millis(500);

/// The wait after `rounds` reads in a row in which nothing became ready.
pub fn delay(rounds: u32) -> Duration {
    let mut wait = FIRST;
    for _ in 0..rounds {
        if wait >= LONGEST {
            break;
        }
        wait = wait * 3 / 2;
    }
    wait.min(LONGEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads of one object that stays not ready for `rollout` (the first right after its apply),
    /// reading instantly: the most a rollout of that length can cost.
    fn reads_during(rollout: Duration) -> u32 {
        let (mut elapsed, mut reads, mut rounds) = (Duration::ZERO, 1, 0);
        while elapsed < rollout {
            elapsed += delay(rounds);
            rounds += 1;
            reads += 1;
        }
        reads
    }

    #[test]
    fn fast_first_reads_then_the_old_interval() {
        let waits: Vec<u128> = (0..8).map(|round| delay(round).as_millis()).collect();
        assert_eq!(waits, [50, 75, 112, 168, 253, 379, 500, 500]);
        assert_eq!(delay(u32::MAX), LONGEST);
    }

    #[test]
    fn a_rollout_costs_a_bounded_number_of_reads() {
        // A rollout ready 50 ms in is seen at 50 ms; 200 ms in, at 237 ms (reads at 0, 50, 125, 237).
        assert_eq!(reads_during(Duration::from_millis(50)), 2);
        assert_eq!(reads_during(Duration::from_millis(200)), 4);
        // A long rollout costs what the fixed 500 ms interval cost, plus a few early reads.
        let fixed = |rollout: Duration| 1 + rollout.as_millis().div_ceil(500) as u32;
        for seconds in [1, 3, 10, 60, 600] {
            let rollout = Duration::from_secs(seconds);
            assert!(reads_during(rollout) <= fixed(rollout) + 5, "{seconds} s: {} reads", reads_during(rollout));
        }
        assert_eq!(reads_during(Duration::from_secs(3)), 11);
    }
}
