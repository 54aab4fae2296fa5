//! Expected failures, each with the exit code and the advice a person needs at 2 a.m.
//!
//! `anyhow` carries glue context; anything a user can act on is one of these variants, so
//! `main` can pick the [`ExitStatus`] (0 ok, 1 the work failed, 2 bad input or a missing prerequisite).

use std::path::PathBuf;
use std::time::Duration;

use crate::exit_status::ExitStatus;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// ohdev.yaml, cluster.yaml or a manifest is wrong.
    #[error("{}: {message}\n  fix: {fix}", location(file, *line))]
    Config { file: PathBuf, line: Option<usize>, message: String, fix: String },

    #[error("no ohdev.yaml found in {start} or any parent directory\n  fix: run ohdev inside a project (try `ohdev -C examples/demo up`), or pass --config FILE")]
    ConfigNotFound { start: PathBuf },

    #[error("`{tool}` is not installed (not found on PATH)\n  {why}\n  install it:\n{install}")]
    ToolMissing { tool: String, why: String, install: String },

    #[error("the Docker daemon at {endpoint} is not answering: {cause}\n  fix: start Docker (Linux: `sudo systemctl start docker`; macOS: start Docker Desktop, OrbStack or `colima start`), or set DOCKER_HOST to a running daemon; `ohdev doctor` checks again")]
    DockerUnreachable { endpoint: String, cause: String },

    #[error("could not start `{}`: {source}\n  fix: check that `{}` is installed and executable (`ohdev doctor`)", argv.join(" "), argv[0])]
    CommandStart {
        argv: Vec<String>,
        #[source]
        source: std::io::Error,
    },

    #[error("`{}` {}{}", argv.join(" "), status_text(*code), stderr_text(stderr))]
    CommandFailed { argv: Vec<String>, code: Option<i32>, stderr: String },

    #[error("`{}` did not finish within {} and was stopped", argv.join(" "), crate::units::human_duration(*timeout))]
    CommandTimeout { argv: Vec<String>, timeout: Duration },

    #[error("host port {address}:{port} (from {file}) is already in use by another program\n  fix: stop what listens there (`ss -ltnp 'sport = :{port}'` shows it) or change hostPort in {file}")]
    PortInUse { port: u16, address: String, file: PathBuf },

    #[error("another ohdev (pid {holder}) is changing this project ({lock})\n  fix: wait for it to finish, or stop it; if no such process runs, delete {lock}")]
    Locked { holder: String, lock: PathBuf },

    /// Bad input that is not tied to one file (flags, arguments).
    #[error("{message}\n  fix: {fix}")]
    Input { message: String, fix: String },

    /// The work itself failed; the message already explains it.
    #[error("{message}{}", hint.as_ref().map(|h| format!("\n  next: {h}")).unwrap_or_default())]
    Work { message: String, hint: Option<String> },

    #[error("interrupted; child processes were stopped")]
    Interrupted,

    /// ohdev received SIGINT, SIGTERM or SIGHUP; exits 128 + the signal number, as a shell reports it.
    #[error("{}; child processes were stopped", signal_text(*signal))]
    Terminated { signal: i32 },
}

fn location(file: &std::path::Path, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{}:{line}", file.display()),
        None => file.display().to_string(),
    }
}

fn status_text(code: Option<i32>) -> String {
    match code {
        Some(code) => format!("exited with status {code}"),
        None => "was killed by a signal".to_string(),
    }
}

fn signal_text(signal: i32) -> String {
    match signal {
        libc::SIGINT => "interrupted by SIGINT (Ctrl-C)".to_string(),
        libc::SIGTERM => "terminated by SIGTERM".to_string(),
        libc::SIGHUP => "terminated by SIGHUP (the terminal closed)".to_string(),
        other => format!("terminated by signal {other}"),
    }
}

fn stderr_text(stderr: &str) -> String {
    let trimmed = stderr.trim();
    if trimmed.is_empty() {
        String::new()
    } else {
        let lines: Vec<&str> = trimmed.lines().collect();
        let tail = &lines[lines.len().saturating_sub(20)..];
        format!(":\n    {}", tail.join("\n    "))
    }
}

impl Error {
    /// How ohdev ends when this error stops it (see [`ExitStatus`] for the table).
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::Config { .. }
            | Error::ConfigNotFound { .. }
            | Error::ToolMissing { .. }
            | Error::DockerUnreachable { .. }
            | Error::PortInUse { .. }
            | Error::Locked { .. }
            | Error::Input { .. } => ExitStatus::BadInput,
            Error::CommandStart { .. }
            | Error::CommandFailed { .. }
            | Error::CommandTimeout { .. }
            | Error::Work { .. } => ExitStatus::Failure,
            Error::Interrupted => ExitStatus::Interrupted,
            Error::Terminated { signal } if *signal == libc::SIGINT => ExitStatus::Interrupted,
            Error::Terminated { signal } => ExitStatus::Terminated { signal: *signal },
        }
    }

    pub fn exit_code(&self) -> u8 {
        self.exit_status().code()
    }

    pub fn config(
        file: impl Into<PathBuf>,
        line: Option<usize>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Error::Config { file: file.into(), line, message: message.into(), fix: fix.into() }
    }

    pub fn work(message: impl Into<String>, hint: Option<String>) -> Self {
        Error::Work { message: message.into(), hint }
    }
}

/// The exit status for any error chain: the first typed [`Error`] decides, anything else is a failure of the work.
pub fn exit_status_of(error: &anyhow::Error) -> ExitStatus {
    error.chain().find_map(|cause| cause.downcast_ref::<Error>()).map(Error::exit_status).unwrap_or(ExitStatus::Failure)
}
