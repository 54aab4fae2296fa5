//! ohdev: a local Kubernetes development loop for OpenHands on kind.
//!
//! Data flows one way: config → plan → engine → events → renderer. `main.rs` only calls
//! [`main_entry`]; tests drive the same code through the binary.

pub(crate) mod cli;
pub(crate) mod cluster;
mod commands;
pub(crate) mod config;
pub(crate) mod dashboard;
pub(crate) mod deploy;
pub(crate) mod doctor;
pub(crate) mod engine;
pub(crate) mod error;
pub(crate) mod events;
pub(crate) mod exit_status;
pub(crate) mod forward;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzz_api;
pub(crate) mod heartbeat;
pub mod image;
pub(crate) mod json;
pub(crate) mod logs;
pub(crate) mod names;
pub(crate) mod platform;
pub(crate) mod project;
pub(crate) mod registry;
pub(crate) mod schedule;
pub(crate) mod state;
pub(crate) mod suggest;
pub(crate) mod tools;
pub(crate) mod ui;
pub(crate) mod units;
pub(crate) mod watch;

/// For `crates/ohdev-bench` only; not an API. Runs the pure half of `deploy::render` on one
/// manifest file, as `render` calls it: `manifest::load`, `manifest::normalize`,
/// `namespaces::ensure_namespaces`, `substitute::substitute_images` (no images) and
/// `label_managed_by`, then `graph::plan`. Returns the number of planned objects.
#[doc(hidden)]
pub mod bench_api {
    use std::path::Path;

    pub use crate::dashboard::bench::DashboardBench;

    use crate::deploy::plan::{graph, manifest, namespaces, substitute};

    pub fn parse_and_plan(file: &Path) -> Result<usize, String> {
        let objects = manifest::load(&[file.to_path_buf()]).map_err(|errors| errors.to_string())?;
        let mut objects = manifest::normalize(objects, "default").map_err(|errors| errors.to_string())?;
        namespaces::ensure_namespaces(&mut objects, "default", Path::new("ohdev.yaml"))
            .map_err(|missing| missing.to_string())?;
        substitute::substitute_images(&mut objects, &Default::default()).map_err(|error| error.to_string())?;
        substitute::label_managed_by(&mut objects);
        let plan = graph::plan(&objects).map_err(|error| error.to_string())?;
        Ok(plan.objects().count())
    }
}

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::cli::Cli;
use crate::error::{exit_status_of, Error};
use crate::events::Event;
use crate::exit_status::ExitStatus;
use crate::ui::Reporter;

pub fn main_entry() -> ExitCode {
    let cli = Cli::parse();
    let reporter = ui::reporter(cli.json, cli.color);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(run_interruptible(cli, reporter.clone()));
    runtime.shutdown_timeout(Duration::from_secs(2));
    // Whatever child a leaked owner still held: no process outlives ohdev.
    tools::exec::kill_all();
    reporter.finish();
    match result {
        Ok(status) => status.into(),
        Err(error) => {
            let status = exit_status_of(&error);
            report_error(&reporter, &error, status);
            status.into()
        }
    }
}

fn report_error(reporter: &Reporter, error: &anyhow::Error, status: ExitStatus) {
    let text = match error.downcast_ref::<Error>() {
        Some(typed) => typed.to_string(),
        None => format!("{error:#}"),
    };
    if reporter.is_json() {
        reporter.emit(Event::Error { message: text.clone(), exit_code: status.code() });
    }
    // Ctrl-C is how a person stops watching: say so, without calling it an error (exit 130 still
    // tells a script that ohdev was interrupted).
    if status == ExitStatus::Interrupted && watch::was_watching() {
        eprintln!("stopped watching (Ctrl-C); child processes were stopped");
        return;
    }
    if status == ExitStatus::Interrupted && forward::was_forwarding() {
        eprintln!("stopped forwarding (Ctrl-C); the kubectl port-forward processes were stopped");
        return;
    }
    eprintln!("{} {text}", console::style("error:").for_stderr().red().bold());
}

/// Run the command; the first SIGINT (Ctrl-C), SIGTERM or SIGHUP (terminal closed) stops it: the
/// signal is forwarded to every child process group, the root token is cancelled, and the command
/// is dropped, which hands each running child to a termination task (grace period, then SIGKILL).
/// ohdev waits for those, then fails with 128 + the signal. A second signal of any of the three
/// kills the groups at once and exits with the same code. When stdout is closed (`ohdev logs -f |
/// head`), the command stops the same way and ohdev exits 0, as a command in a pipeline does.
async fn run_interruptible(cli: Cli, reporter: Reporter) -> anyhow::Result<ExitStatus> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut signals = Signals {
        interrupt: signal(SignalKind::interrupt())?,
        terminate: signal(SignalKind::terminate())?,
        hangup: signal(SignalKind::hangup())?,
    };
    let mut command = Box::pin(commands::run(cli, reporter.clone()));
    let received = tokio::select! {
        result = &mut command => {
            tools::exec::settle(SETTLE).await;
            return result;
        }
        received = signals.next() => received,
        _ = ui::stdout_closed() => {
            drop(command);
            tools::exec::settle(SETTLE).await;
            return Ok(ExitStatus::Success);
        }
    };
    let error = interrupted(received, signals, reporter);
    drop(command);
    tools::exec::settle(SETTLE).await;
    Err(error)
}

/// Children dropped at the end of a run get their grace period, and a little more, before ohdev exits.
const SETTLE: Duration = tools::exec::GRACE.saturating_add(Duration::from_millis(500));

/// The signals that stop ohdev, registered once so that one arriving while the first is handled is
/// not lost.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    /// The next of the three signals to arrive.
    async fn next(&mut self) -> i32 {
        tokio::select! {
            _ = self.interrupt.recv() => libc::SIGINT,
            _ = self.terminate.recv() => libc::SIGTERM,
            _ = self.hangup.recv() => libc::SIGHUP,
        }
    }
}

/// The first signal: forward it to the children, cancel the root token, and arm the second one,
/// which kills every group at once and exits with the first signal's code.
fn interrupted(received: i32, mut signals: Signals, reporter: Reporter) -> anyhow::Error {
    tools::exec::shutdown(received);
    tokio::spawn(async move {
        signals.next().await;
        tools::exec::kill_all();
        let error = anyhow::Error::from(Error::Terminated { signal: received });
        let status = exit_status_of(&error);
        reporter.finish();
        report_error(&reporter, &error, status);
        std::process::exit(i32::from(status.code()));
    });
    Error::Terminated { signal: received }.into()
}
