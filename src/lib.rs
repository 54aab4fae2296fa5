//! ohdev: a local Kubernetes development loop for OpenHands on kind.
//!
//! Data flows one way: config → plan → engine → events → renderer. `main.rs` only calls
//! [`main_entry`]; tests drive the same code through the binary.

pub mod build;
pub mod cli;
pub mod cluster;
mod commands;
pub mod config;
pub mod deploy;
pub mod doctor;
pub mod error;
pub mod events;
pub mod pipeline;
pub mod session;
pub mod logs;
pub mod state;
pub mod tools;
pub mod ui;
pub mod watch;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::cli::Cli;
use crate::error::{exit_code_of, Error};
use crate::events::Event;
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
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            let code = exit_code_of(&error);
            report_error(&reporter, &error, code);
            ExitCode::from(code)
        }
    }
}

fn report_error(reporter: &Reporter, error: &anyhow::Error, code: u8) {
    let text = match error.downcast_ref::<Error>() {
        Some(typed) => typed.to_string(),
        None => format!("{error:#}"),
    };
    if reporter.is_json() {
        reporter.emit(Event::Error { message: text.clone(), exit_code: code });
    }
    eprintln!("{} {text}", console::style("error:").for_stderr().red().bold());
}

/// Run the command; the first SIGINT (Ctrl-C), SIGTERM or SIGHUP (terminal closed) stops it: the
/// signal is forwarded to every child process group, the root token is cancelled, and the command
/// is dropped, which hands each running child to a termination task (grace period, then SIGKILL).
/// ohdev waits for those, then fails with 128 + the signal. A second signal of any of the three
/// kills the groups at once and exits with the same code.
async fn run_interruptible(cli: Cli, reporter: Reporter) -> anyhow::Result<u8> {
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
        let code = exit_code_of(&error);
        reporter.finish();
        report_error(&reporter, &error, code);
        std::process::exit(i32::from(code));
    });
    Error::Terminated { signal: received }.into()
}
