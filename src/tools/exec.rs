//! The one place ohdev starts processes.
//!
//! argv is data (never a shell string); every child gets its own process group so that a timeout,
//! a dropped future or Ctrl-C stops the child *and* whatever it started (kind starts docker, kubectl
//! starts plugins). Stopping is SIGTERM to the group, a grace period, then SIGKILL. A global
//! registry of live groups lets a second Ctrl-C kill everything at once.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use crate::error::Error;

/// How long a child may take to exit after SIGTERM before it gets SIGKILL.
const GRACE: Duration = Duration::from_millis(1500);

static LIVE_GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

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
            Err(Error::CommandFailed {
                argv,
                code: output.code,
                stderr: output.stderr,
            })
        }
    }

    /// Run to completion and return the output whatever the exit status.
    pub async fn run_unchecked(self) -> Result<Output, Error> {
        let mut command = self.command(self.stdin.is_some());
        let mut child = command.spawn().map_err(|source| Error::CommandStart {
            argv: self.argv.clone(),
            source,
        })?;
        let guard = GroupGuard::register(child.id());
        if let (Some(bytes), Some(mut pipe)) = (self.stdin, child.stdin.take()) {
            tokio::spawn(async move {
                // A child that exits without reading all of stdin closes the pipe: not our error.
                let _ = pipe.write_all(&bytes).await;
                let _ = pipe.shutdown().await;
            });
        }
        match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Ok(Ok(output)) => {
                guard.exited();
                Ok(Output {
                    code: output.status.code(),
                    stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                    stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
                })
            }
            Ok(Err(source)) => Err(Error::CommandStart {
                argv: self.argv,
                source,
            }),
            Err(_elapsed) => {
                drop(guard);
                Err(Error::CommandTimeout {
                    argv: self.argv,
                    timeout: self.timeout,
                })
            }
        }
    }
}

/// A long-running child whose stdout is read as it comes (`kubectl logs -f`, `kubectl exec -i`).
/// Dropping it stops the child's whole process group.
pub struct StreamingChild {
    pub argv: Vec<String>,
    pub stdout: tokio::process::ChildStdout,
    pub stdin: Option<tokio::process::ChildStdin>,
    stderr: Option<tokio::process::ChildStderr>,
    child: tokio::process::Child,
    guard: GroupGuard,
}

impl StreamingChild {
    /// Wait for the child to exit; returns its exit code and what it wrote to stderr.
    pub async fn wait(mut self) -> Result<(Option<i32>, String), Error> {
        drop(self.stdin.take());
        let mut stderr = String::new();
        if let Some(mut pipe) = self.stderr.take() {
            use tokio::io::AsyncReadExt;
            let _ = pipe.read_to_string(&mut stderr).await;
        }
        let status = self.child.wait().await.map_err(|source| Error::CommandStart {
            argv: self.argv.clone(),
            source,
        })?;
        self.guard.exited();
        Ok((status.code(), stderr))
    }

    /// Take stderr to read it concurrently with stdout.
    pub fn take_stderr(&mut self) -> Option<tokio::process::ChildStderr> {
        self.stderr.take()
    }
}

impl Invocation {
    /// Start the child with piped stdout (and stdin when `with_stdin`), without waiting for it.
    pub fn spawn_streaming(self, with_stdin: bool) -> Result<StreamingChild, Error> {
        let mut command = self.command(with_stdin);
        let mut child = command.spawn().map_err(|source| Error::CommandStart {
            argv: self.argv.clone(),
            source,
        })?;
        let guard = GroupGuard::register(child.id());
        let stdout = child.stdout.take().ok_or_else(|| Error::CommandStart {
            argv: self.argv.clone(),
            source: std::io::Error::other("stdout was not piped"),
        })?;
        Ok(StreamingChild {
            argv: self.argv,
            stdout,
            stdin: child.stdin.take(),
            stderr: child.stderr.take(),
            child,
            guard,
        })
    }
}

/// Owns a child's process group until the child has exited; dropping it early stops the group.
pub struct GroupGuard {
    pgid: Option<i32>,
}

impl GroupGuard {
    pub fn register(pid: Option<u32>) -> GroupGuard {
        let pgid = pid.and_then(|pid| i32::try_from(pid).ok());
        if let Some(pgid) = pgid {
            lock_groups().insert(pgid);
        }
        GroupGuard { pgid }
    }

    /// The leader exited normally; still make sure nothing it started lingers in the group.
    pub fn exited(mut self) {
        if let Some(pgid) = self.pgid.take() {
            lock_groups().remove(&pgid);
            signal_group(pgid, libc::SIGKILL);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            terminate_group(pgid);
            lock_groups().remove(&pgid);
        }
    }
}

fn lock_groups() -> std::sync::MutexGuard<'static, BTreeSet<i32>> {
    LIVE_GROUPS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn signal_group(pgid: i32, signal: i32) {
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is touched.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

/// SIGTERM the group, wait up to [`GRACE`] for its leader, then SIGKILL whatever is left.
fn terminate_group(pgid: i32) {
    signal_group(pgid, libc::SIGTERM);
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        let mut status = 0;
        // SAFETY: waitpid on our own child's pid with WNOHANG; status is a valid out-pointer.
        let reaped = unsafe { libc::waitpid(pgid, &mut status, libc::WNOHANG) };
        if reaped == pgid || reaped == -1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    signal_group(pgid, libc::SIGKILL);
    let mut status = 0;
    // SAFETY: as above; reaps the leader if SIGKILL was needed (ECHILD if already reaped).
    unsafe {
        libc::waitpid(pgid, &mut status, libc::WNOHANG);
    }
}

/// Forward an interrupt to every live child group (first Ctrl-C).
pub fn interrupt_all() {
    let groups: Vec<i32> = lock_groups().iter().copied().collect();
    for pgid in groups {
        signal_group(pgid, libc::SIGINT);
    }
}

/// Kill every live child group at once (second Ctrl-C, or exiting with children still registered).
pub fn kill_all() {
    let groups: Vec<i32> = lock_groups().iter().copied().collect();
    for pgid in groups {
        signal_group(pgid, libc::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn captures_output_and_status() {
        let output = Invocation::new("sh", "sh")
            .args(["-c", "echo out; echo err >&2; exit 3"])
            .run_unchecked()
            .await
            .unwrap();
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
        let child = Invocation::new("sh", "sh")
            .args(["-c", "echo first; echo $$ ; sleep 30"])
            .spawn_streaming(false)
            .unwrap();
        let mut lines = tokio::io::BufReader::new(child.stdout).lines();
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("first"));
        let pid: i32 = lines.next_line().await.unwrap().unwrap().parse().unwrap();
        drop(lines);
        assert!(!process_alive(pid) || pid > 0);
    }

    #[tokio::test]
    async fn dropping_a_streaming_child_kills_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let script = format!("echo $$ > {}; sleep 30", pid_file.display());
        let child = Invocation::new("sh", "sh").args(["-c", script.as_str()]).spawn_streaming(false).unwrap();
        for _ in 0..200 {
            if pid_file.exists() && !std::fs::read_to_string(&pid_file).unwrap().trim().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        drop(child);
        assert!(!process_alive(pid), "child {pid} survived drop");
    }

    #[tokio::test]
    async fn timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("grandchild.pid");
        let script = format!("sleep 30 & echo $! > {}; wait", pid_file.display());
        let error = Invocation::new("sh", "sh")
            .args(["-c", script.as_str()])
            .timeout(Duration::from_millis(300))
            .run()
            .await
            .unwrap_err();
        assert!(matches!(error, Error::CommandTimeout { .. }), "{error}");
        let grandchild: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        assert!(!process_alive(grandchild), "grandchild {grandchild} survived");
    }

    fn process_alive(pid: i32) -> bool {
        for _ in 0..100 {
            match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                Err(_) => return false,
                Ok(stat) if stat.split_whitespace().nth(2) == Some("Z") => return false,
                Ok(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        true
    }
}
