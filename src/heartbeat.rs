//! A long step that prints nothing looks hung: while one runs, a `still_running` event goes out every
//! [`interval`] (a terminal shows the elapsed time on the step's spinner instead; plain and JSON
//! output print the event). `OHDEV_HEARTBEAT` changes the interval (`30s` by default, e.g. `5s`).

use std::future::Future;
use std::time::{Duration, Instant};

use crate::events::{millis, Event};
use crate::ui::Reporter;

/// How often a running step says it is still running.
pub fn interval() -> Duration {
    std::env::var("OHDEV_HEARTBEAT")
        .ok()
        .and_then(|text| crate::config::parse_duration(&text))
        .filter(|duration| !duration.is_zero())
        .unwrap_or(Duration::from_secs(30))
}

/// Run `work`, emitting `still_running` for step `id` every [`interval`] until it finishes.
pub async fn beating<T>(reporter: &Reporter, id: &str, label: &str, work: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let every = interval();
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tokio::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return done,
            _ = ticks.tick() => reporter.emit(Event::StillRunning {
                id: id.to_string(),
                label: label.to_string(),
                elapsed_ms: millis(started.elapsed()),
            }),
        }
    }
}
