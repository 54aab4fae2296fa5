//! The integration harness: a builder that runs the real `ohdev` binary in a temp project with the
//! kind/kubectl stand-ins first on PATH, and reads back what the stand-ins recorded.
#![allow(dead_code)]

pub mod busybox;
pub mod docker;
pub mod registry;
pub mod snapshot;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

pub const CLUSTER_YAML: &str = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n";

/// The stand-in binary, built once per test run (scripts/test.sh builds it first; this keeps `cargo test` alone working).
pub fn fake_kube_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let ohdev = PathBuf::from(env!("CARGO_BIN_EXE_ohdev"));
        let target_dir = ohdev.parent().expect("binary has a directory").to_path_buf();
        let fake = target_dir.join("fake-kube");
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "fake-kube"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the fake-kube stand-in failed");
        assert!(fake.exists(), "fake-kube not at {}", fake.display());
        fake
    })
}

/// One project directory and the next `ohdev` command to run in it. Built by value, like `just`'s
/// `tests/test.rs`: `Test::new().file("ohdev.yaml", …).args(&["up"]).expect(0)`. The same project
/// can be run again with other arguments (`set_args`) and edited between runs (`write`).
#[must_use = "a Test runs nothing until `.run()` or `.expect(code)`"]
pub struct Test {
    pub dir: tempfile::TempDir,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    tools: Vec<&'static str>,
    stdin: Option<Vec<u8>>,
    current_dir: Option<PathBuf>,
    /// Directories put on PATH after the stand-ins (e.g. a credential helper script).
    path_dirs: Vec<PathBuf>,
}

/// What one run printed, with enough context (project dir, arguments) to snapshot it
/// (`ohdev_snapshot!`, see `support/snapshot.rs`).
#[derive(Debug, Clone)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The test's project directory (redacted to `[PROJECT]` in snapshots).
    pub project: PathBuf,
    /// The arguments ohdev ran with.
    pub args: Vec<String>,
    /// False after [`Output::without_stdout`]: the snapshot leaves stdout out.
    pub snapshot_stdout: bool,
}

impl Output {
    /// The output of a child started from [`Test::command`] (exit code -1 when killed by a signal).
    pub fn from_process(test: &Test, output: std::process::Output) -> Output {
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            project: test.project().to_path_buf(),
            args: test.args.clone(),
            snapshot_stdout: true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Call {
    pub tool: String,
    pub argv: Vec<String>,
}

impl Call {
    pub fn line(&self) -> String {
        format!("{} {}", self.tool, self.argv.join(" "))
    }
}

impl Test {
    /// A project with ohdev.yaml (cluster `t`, no images, no manifests) and a port-free cluster.yaml.
    pub fn new() -> Self {
        let test = Test {
            dir: tempfile::tempdir().expect("temp dir"),
            args: Vec::new(),
            env: BTreeMap::new(),
            tools: vec!["kind", "kubectl"],
            stdin: None,
            current_dir: None,
            path_dirs: Vec::new(),
        };
        std::fs::create_dir_all(test.state_dir()).expect("state dir");
        test.file("ohdev.yaml", "cluster:\n  name: t\nimages: {}\nmanifests: []\n")
            .file("kind/cluster.yaml", CLUSTER_YAML)
    }

    pub fn project(&self) -> &Path {
        self.dir.path()
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join(".fake-kube")
    }

    /// Write a project file (relative path, parents created): the builder form of [`Test::write`].
    pub fn file(self, relative: &str, content: &str) -> Self {
        self.write(relative, content);
        self
    }

    /// Write (or overwrite) a project file, also between runs and while ohdev runs.
    pub fn write(&self, relative: &str, content: &str) {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_string());
        self
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|arg| arg.to_string()));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.insert(key.to_string(), value.to_string());
        self
    }

    /// Put `dir` on ohdev's PATH, after the stand-ins and before the system's directories.
    pub fn path_dir(mut self, dir: &Path) -> Self {
        self.path_dirs.push(dir.to_path_buf());
        self
    }

    /// Run without this stand-in on PATH (e.g. "kind" to test the missing-tool error).
    pub fn without_tool(mut self, tool: &str) -> Self {
        self.tools.retain(|name| *name != tool);
        self
    }

    pub fn stdin(mut self, bytes: &[u8]) -> Self {
        self.stdin = Some(bytes.to_vec());
        self
    }

    pub fn in_dir(mut self, relative: &str) -> Self {
        self.current_dir = Some(self.dir.path().join(relative));
        self
    }

    /// Replace the arguments for the next run of the same project (files and stand-in state kept).
    /// Like [`Test::env`], on a test already built.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.insert(key.to_string(), value.to_string());
    }

    pub fn set_args(&mut self, args: &[&str]) {
        self.args = args.iter().map(|arg| arg.to_string()).collect();
    }

    /// The stand-in itself as `kind` or `kubectl`, with this test's state dir and environment
    /// (for a test that sets up or inspects the simulated cluster directly).
    pub fn tool(&self, name: &str) -> Command {
        let mut command = Command::new(self.bin_dir().join(name));
        command.env("FAKE_KUBE_STATE", self.state_dir()).current_dir(self.dir.path()).stdin(Stdio::null());
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    fn bin_dir(&self) -> PathBuf {
        let bin = self.dir.path().join(".bin");
        let _ = std::fs::remove_dir_all(&bin);
        std::fs::create_dir_all(&bin).expect("bin dir");
        for tool in &self.tools {
            std::os::unix::fs::symlink(fake_kube_binary(), bin.join(tool)).expect("symlink stand-in");
        }
        bin
    }

    pub fn command(&self) -> Command {
        let bin = self.bin_dir();
        let system_path = std::env::var("PATH").unwrap_or_default();
        // The stand-ins come first, so they answer for kind and kubectl. A tool removed with
        // `without_tool` must not be found further down either: drop directories that hold it.
        let removed: Vec<&str> = ["kind", "kubectl"].into_iter().filter(|tool| !self.tools.contains(tool)).collect();
        let kept: Vec<&str> = system_path
            .split(':')
            .filter(|dir| !removed.iter().any(|tool| Path::new(dir).join(tool).exists()))
            .collect();
        let mut command = Command::new(env!("CARGO_BIN_EXE_ohdev"));
        command
            .args(&self.args)
            .current_dir(self.current_dir.as_deref().unwrap_or(self.dir.path()))
            .env("PATH", {
                let mut dirs = vec![bin.display().to_string()];
                dirs.extend(self.path_dirs.iter().map(|dir| dir.display().to_string()));
                dirs.extend(kept.iter().map(|dir| dir.to_string()));
                dirs.join(":")
            })
            .env("FAKE_KUBE_STATE", self.state_dir())
            .env("NO_COLOR", "1")
            .env_remove("OPENHANDS_ROOT")
            // No dashboard unless a test asks for one (`.env("OHDEV_NO_UI", "0")`): it polls the
            // stand-in, adding calls the other tests count.
            .env("OHDEV_NO_UI", "1")
            .stdin(Stdio::null());
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    #[track_caller]
    pub fn run(&self) -> Output {
        let mut command = self.command();
        if self.stdin.is_some() {
            command.stdin(Stdio::piped());
        }
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().expect("ohdev starts");
        if let Some(bytes) = &self.stdin {
            use std::io::Write;
            let mut pipe = child.stdin.take().expect("stdin");
            pipe.write_all(bytes).expect("write stdin");
        }
        let output = child.wait_with_output().expect("ohdev runs");
        let result = Output::from_process(self, output);
        self.record_kubectl_argvs();
        result
    }

    /// Run and assert the exit code, showing all output when it differs.
    #[track_caller]
    pub fn expect(&self, code: i32) -> Output {
        let output = self.run();
        assert_eq!(output.code, code, "args {:?}\nstdout:\n{}\nstderr:\n{}", self.args, output.stdout, output.stderr);
        output
    }

    /// Every call the stand-ins recorded, in order.
    pub fn calls(&self) -> Vec<Call> {
        let Ok(text) = std::fs::read_to_string(self.state_dir().join("calls.jsonl")) else {
            return Vec::new();
        };
        text.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .map(|value| Call {
                tool: value["tool"].as_str().unwrap_or_default().to_string(),
                argv: value["argv"]
                    .as_array()
                    .map(|items| items.iter().filter_map(|item| item.as_str().map(str::to_string)).collect())
                    .unwrap_or_default(),
            })
            .collect()
    }

    pub fn calls_matching(&self, needle: &str) -> Vec<Call> {
        self.calls().into_iter().filter(|call| call.line().contains(needle)).collect()
    }

    /// Collect kubectl argvs for the real-kubectl flag check (tests/integration/kubectl_args.rs).
    pub fn record_kubectl_argvs(&self) {
        let calls: Vec<Call> = self.calls().into_iter().filter(|call| call.tool == "kubectl").collect();
        if calls.is_empty() {
            return;
        }
        let path = kubectl_argv_log();
        let mut text = String::new();
        for call in calls {
            text.push_str(&serde_json::to_string(&call.argv).expect("json"));
            text.push('\n');
        }
        use std::io::Write;
        if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = file.write_all(text.as_bytes());
        }
    }
}

/// Where every test appends the kubectl argvs ohdev produced.
pub fn kubectl_argv_log() -> PathBuf {
    let ohdev = PathBuf::from(env!("CARGO_BIN_EXE_ohdev"));
    ohdev.parent().expect("dir").join("ohdev-kubectl-argvs.jsonl")
}

/// True when the process is gone or a zombie (waiting to be reaped is not running).
pub fn process_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().next()) == Some("Z"),
    }
}

/// Lines of stdout parsed as JSON; panics on any line that is not.
#[track_caller]
pub fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("not a JSON line ({error}): {line}")))
        .collect()
}
