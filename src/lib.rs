//! ohdev: a local Kubernetes development loop for OpenHands on kind.
//!
//! Data flows one way: config → plan → engine → events → renderer. `main.rs` only calls
//! [`main_entry`]; tests drive the same code through the binary.

pub(crate) mod cli;
pub(crate) mod cluster;
mod commands;
pub(crate) mod config;
pub(crate) mod deploy;
pub(crate) mod doctor;
pub(crate) mod engine;
pub(crate) mod error;
pub(crate) mod events;
pub(crate) mod exit_status;
pub mod image;
pub(crate) mod json;
pub(crate) mod logs;
pub(crate) mod names;
pub(crate) mod project;
pub(crate) mod schedule;
pub(crate) mod state;
pub(crate) mod tools;
pub(crate) mod ui;
pub(crate) mod watch;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::cli::Cli;
use crate::error::{exit_status_of, Error};
use crate::exit_status::ExitStatus;
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
    eprintln!("{} {text}", console::style("error:").for_stderr().red().bold());
}

/// Run the command; the first Ctrl-C, SIGTERM or SIGHUP (terminal closed) cancels it, which stops
/// every child process group; a second one of any of them kills the groups at once.
async fn run_interruptible(cli: Cli, reporter: Reporter) -> anyhow::Result<ExitStatus> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    tokio::select! {
        result = commands::run(cli, reporter) => result,
        _ = tokio::signal::ctrl_c() => interrupted(),
        _ = terminate.recv() => interrupted(),
        _ = hangup.recv() => interrupted(),
    }
}

fn interrupted() -> anyhow::Result<ExitStatus> {
    use tokio::signal::unix::{signal, SignalKind};
    tools::exec::interrupt_all();
    tokio::spawn(async {
        let (Ok(mut terminate), Ok(mut hangup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) else {
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
            _ = hangup.recv() => {}
        }
        tools::exec::kill_all();
        std::process::exit(130);
    });
    Err(Error::Interrupted.into())
}
