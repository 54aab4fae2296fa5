//! The one place ohdev starts processes.
//!
//! argv is data (never a shell string); every child gets its own process group so that a timeout,
//! a dropped future or Ctrl-C stops the child *and* whatever it started (kind starts docker, kubectl
//! starts plugins). How a group is stopped, and the process-wide cancellation token, live in
//! [`supervise`]: SIGTERM, a grace period, then SIGKILL, as a task that nobody blocks on.

mod supervise;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::error::Error;
use supervise::Supervised;
pub use supervise::{cancelled, is_cancelled, kill_all, root_token, settle, shutdown, shutdown_signal, GRACE};

#[derive(Debug, Clone)]
pub struct Invocation {
    program: PathBuf,
    argv: Vec<String>,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
    env: Vec<(String, String)>,
    cwd: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

impl Invocation {
    /// `program` is the resolved executable; `name` is how the user knows it (argv[0] in messages).
    pub fn new(program: impl Into<PathBuf>, name: &str) -> Invocation {
        Invocation {
            program: program.into(),
            argv: vec![name.to_string()],
            stdin: None,
            timeout: Duration::from_secs(60),
            env: Vec::new(),
            cwd: None,
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Invocation {
        self.argv.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Invocation
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.argv.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn stdin(mut self, bytes: Vec<u8>) -> Invocation {
        self.stdin = Some(bytes);
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Invocation {
        self.timeout = timeout;
        self
    }

    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Invocation {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Invocation {
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }

    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// The child in its own process group, output piped, environment and directory applied.
    fn command(&self, stdin_piped: bool) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(&self.argv[1..])
            .stdin(if stdin_piped { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        for (key, value) in &self.env {
            command.env(key, value);
        }
        if let Some(cwd) = &self.cwd {
            command.current_dir(cwd);
        }
        command
    }

    /// Run to completion; a non-zero exit is an error carrying argv and stderr.
    pub async fn run(self) -> Result<Output, Error> {
        let argv = self.argv.clone();
        let output = self.run_unchecked().await?;
        if output.success() {
            Ok(output)
        } else {
            Err(Error::CommandFailed { argv, code: output.code, stderr: output.stderr })
        }
    }

    /// Run to completion and return the output whatever the exit status.
    pub async fn run_unchecked(self) -> Result<Output, Error> {
        let mut child = self.spawn(self.stdin.is_some())?;
        if let (Some(bytes), Some(mut pipe)) = (self.stdin, child.stdin.take()) {
            tokio::spawn(async move {
                // A child that exits without reading all of stdin closes the pipe: not our error.
                let _ = pipe.write_all(&bytes).await;
                let _ = pipe.shutdown().await;
            });
        }
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let mut child = Supervised::new(child);
        // Read both pipes to their end, then reap: what wait_with_output does, but the child stays
        // ours, so a timeout or ohdev's shutdown hands it to a termination task (dropping it).
        let finish = async {
            let (stdout, stderr) = tokio::join!(read_all(stdout), read_all(stderr));
            let status = child.wait().await?;
            Ok::<_, std::io::Error>(Output {
                code: status.code(),
                stdout: String::from_utf8_lossy(&stdout).into_owned(),
                stderr: String::from_utf8_lossy(&stderr).into_owned(),
            })
        };
        tokio::select! {
            finished = tokio::time::timeout(self.timeout, finish) => match finished {
                Ok(Ok(output)) => Ok(output),
                Ok(Err(source)) => Err(Error::CommandStart { argv: self.argv, source }),
                Err(_elapsed) => Err(Error::CommandTimeout { argv: self.argv, timeout: self.timeout }),
            },
            () = cancelled() => Err(stopped()),
        }
    }

    /// Start the child in its own group, unless ohdev is already stopping.
    fn spawn(&self, stdin_piped: bool) -> Result<tokio::process::Child, Error> {
        if is_cancelled() {
            return Err(stopped());
        }
        self.command(stdin_piped).spawn().map_err(|source| Error::CommandStart { argv: self.argv.clone(), source })
    }
}

/// Why a child was not started or not waited for: ohdev itself is stopping.
fn stopped() -> Error {
    match shutdown_signal() {
        Some(signal) => Error::Terminated { signal },
        None => Error::Interrupted,
    }
}

async fn read_all(pipe: Option<impl AsyncRead + Unpin>) -> Vec<u8> {
    let mut bytes = Vec::new();
    if let Some(mut pipe) = pipe {
        let _ = pipe.read_to_end(&mut bytes).await;
    }
    bytes
}

/// A long-running child whose stdout is read as it comes (`kubectl logs -f`, `kubectl exec -i`).
/// Dropping it stops the child's whole process group (in the background).
pub struct StreamingChild {
    pub argv: Vec<String>,
    pub stdout: tokio::process::ChildStdout,
    pub stdin: Option<tokio::process::ChildStdin>,
    stderr: Option<tokio::process::ChildStderr>,
    child: Supervised,
}

impl StreamingChild {
    /// The child's process id (its process group's id too), while it runs.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Take the child's stderr to read it while the child runs (a long-running child that writes
    /// much to stderr would otherwise block on a full pipe); [`StreamingChild::wait`] then returns
    /// no stderr.
    pub fn take_stderr(&mut self) -> Option<tokio::process::ChildStderr> {
        self.stderr.take()
    }

    /// Wait for the child to exit; returns its exit code and what it wrote to stderr.
    pub async fn wait(mut self) -> Result<(Option<i32>, String), Error> {
        drop(self.stdin.take());
        let stderr = String::from_utf8_lossy(&read_all(self.stderr.take()).await).into_owned();
        let status =
            self.child.wait().await.map_err(|source| Error::CommandStart { argv: self.argv.clone(), source })?;
        Ok((status.code(), stderr))
    }
}

impl Invocation {
    /// Start the child with piped stdout (and stdin when `with_stdin`), without waiting for it.
    pub fn spawn_streaming(self, with_stdin: bool) -> Result<StreamingChild, Error> {
        let mut child = self.spawn(with_stdin)?;
        let (stdout, stdin, stderr) = (child.stdout.take(), child.stdin.take(), child.stderr.take());
        let child = Supervised::new(child);
        let stdout = stdout.ok_or_else(|| Error::CommandStart {
            argv: self.argv.clone(),
            source: std::io::Error::other("stdout was not piped"),
        })?;
        Ok(StreamingChild { argv: self.argv, stdout, stdin, stderr, child })
    }
}

#[cfg(test)]
mod tests {
    use super::supervise::tests::{group_empties, group_members, LIMIT};
    use super::*;

    #[tokio::test]
    async fn captures_output_and_status() {
        let output =
            Invocation::new("sh", "sh").args(["-c", "echo out; echo err >&2; exit 3"]).run_unchecked().await.unwrap();
        assert_eq!(output.code, Some(3));
        assert_eq!(output.stdout, "out\n");
        assert_eq!(output.stderr, "err\n");
    }

    #[tokio::test]
    async fn failure_carries_argv_and_stderr() {
        let error = Invocation::new("sh", "sh").args(["-c", "echo boom >&2; exit 1"]).run().await.unwrap_err();
        let text = error.to_string();
        assert!(text.contains("`sh -c echo boom >&2; exit 1` exited with status 1"), "{text}");
        assert!(text.contains("boom"), "{text}");
        assert_eq!(error.exit_code(), 1);
    }

    #[tokio::test]
    async fn missing_program_is_a_start_error() {
        let error = Invocation::new("/nonexistent/kind", "kind").arg("version").run().await.unwrap_err();
        assert!(matches!(error, Error::CommandStart { .. }), "{error}");
        assert!(error.to_string().contains("could not start `kind version`"));
    }

    #[tokio::test]
    async fn stdin_is_passed() {
        let output = Invocation::new("cat", "cat").stdin(b"hello".to_vec()).run().await.unwrap();
        assert_eq!(output.stdout, "hello");
    }

    #[tokio::test]
    async fn streaming_child_reads_lines_and_stops_on_drop() {
        use tokio::io::AsyncBufReadExt;
        let mut child = Invocation::new("sh", "sh")
            .args(["-c", "echo $$; echo first; exec sleep 30"])
            .spawn_streaming(false)
            .unwrap();
        let mut lines = tokio::io::BufReader::new(&mut child.stdout).lines();
        let pgid: i32 = lines.next_line().await.unwrap().unwrap().parse().unwrap();
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("first"));
        drop(lines);
        assert_eq!(group_members(pgid), [pgid]);
        drop(child);
        assert!(group_empties(pgid, LIMIT).await, "left in group {pgid}: {:?}", group_members(pgid));
    }

    #[tokio::test]
    async fn a_streaming_child_that_exits_is_reaped_with_its_stderr() {
        let mut child =
            Invocation::new("sh", "sh").args(["-c", "echo out; echo err >&2; exit 4"]).spawn_streaming(false).unwrap();
        let mut stdout = String::new();
        child.stdout.read_to_string(&mut stdout).await.unwrap();
        assert_eq!(stdout, "out\n");
        assert_eq!(child.wait().await.unwrap(), (Some(4), "err\n".to_string()));
    }

    #[tokio::test]
    async fn what_a_finished_child_left_running_is_killed() {
        let output =
            Invocation::new("sh", "sh").args(["-c", "sleep 30 >/dev/null 2>&1 & echo $$"]).run().await.unwrap();
        let pgid: i32 = output.stdout.trim().parse().unwrap();
        assert!(group_empties(pgid, LIMIT).await, "left in group {pgid}: {:?}", group_members(pgid));
    }

    #[tokio::test]
    async fn timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pgid");
        let script = format!("echo $$ > {}; sleep 30 & wait", pid_file.display());
        let error = Invocation::new("sh", "sh")
            .args(["-c", script.as_str()])
            .timeout(Duration::from_millis(300))
            .run()
            .await
            .unwrap_err();
        assert!(matches!(error, Error::CommandTimeout { .. }), "{error}");
        let pgid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        assert!(group_empties(pgid, LIMIT).await, "left in group {pgid}: {:?}", group_members(pgid));
    }

    #[test]
    fn a_signal_exits_with_128_plus_its_number() {
        let cases = [
            (libc::SIGINT, 130, "interrupted by SIGINT (Ctrl-C); child processes were stopped"),
            (libc::SIGTERM, 143, "terminated by SIGTERM; child processes were stopped"),
            (libc::SIGHUP, 129, "terminated by SIGHUP (the terminal closed); child processes were stopped"),
        ];
        for (signal, code, text) in cases {
            let error = Error::Terminated { signal };
            assert_eq!((error.exit_code(), error.to_string()), (code, text.to_string()), "signal {signal}");
        }
    }
}
