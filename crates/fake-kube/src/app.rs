//! One invocation from start to end: check the state dir, read stdin if the command reads it,
//! record the call, apply injected faults, then hand over to the chosen personality.

use crate::faults::{self, Action, FaultEnv};
use crate::record::{self, Stdin};
use crate::state::{write_atomic, Store};
use std::io::{Read, Write};
use std::path::PathBuf;

/// Looks up a local Docker image's ID (`sha256:…`); `None` when it is not present.
pub type ImageLookup = Box<dyn Fn(&str) -> Option<String>>;

pub struct Env {
    pub state_dir: Option<PathBuf>,
    pub faults: FaultEnv,
    pub kind_cluster_name: Option<String>,
    /// Overrides how `kind load docker-image` asks Docker (tests); default: the real docker CLI.
    pub image_lookup: Option<ImageLookup>,
    pub docker_bin: String,
    /// `FAKE_KUBE_NODE_IMAGE`: when set, `kind create cluster` also runs one real container per node
    /// (named like kind's) on the Docker network `kind`, for tests that `docker exec` into nodes.
    pub node_image: Option<String>,
    /// `FAKE_KUBE_KIND_VERSION`: what `kind version` reports (default v0.27.0), for tests of
    /// behaviour that depends on the kind release.
    pub kind_version: Option<String>,
    /// How long a rollout takes (`FAKE_KUBE_ROLLOUT_MS`, see `pace`); `Err`: the text of a bad value.
    pub rollout_ms: Result<u64, String>,
    pub clock: crate::pace::Clock,
    /// `FAKE_KUBE_CONTEXTS`: pre-existing non-kind contexts, `name=server,name2=server2` (the
    /// server URL is optional): kubectl answers for them as for a fresh cluster with one node.
    pub contexts: Option<String>,
}

impl Env {
    pub fn from_process() -> Env {
        let var = |k: &str| std::env::var(k).ok();
        Env {
            state_dir: var("FAKE_KUBE_STATE").filter(|s| !s.is_empty()).map(PathBuf::from),
            faults: FaultEnv {
                hang: var("FAKE_KUBE_HANG"),
                fail: var("FAKE_KUBE_FAIL"),
                fail_times: var("FAKE_KUBE_FAIL_TIMES"),
                fail_after: var("FAKE_KUBE_FAIL_AFTER"),
            },
            kind_cluster_name: var("KIND_CLUSTER_NAME").filter(|s| !s.is_empty()),
            image_lookup: None,
            docker_bin: var("FAKE_KUBE_DOCKER").unwrap_or_else(|| "docker".into()),
            node_image: var("FAKE_KUBE_NODE_IMAGE").filter(|s| !s.is_empty()),
            kind_version: var("FAKE_KUBE_KIND_VERSION").filter(|s| !s.is_empty()),
            rollout_ms: crate::pace::rollout_ms(var("FAKE_KUBE_ROLLOUT_MS").as_deref()),
            clock: crate::pace::Clock::System,
            contexts: var("FAKE_KUBE_CONTEXTS").filter(|s| !s.is_empty()),
        }
    }

    #[cfg(test)]
    pub fn for_test(dir: &std::path::Path) -> Env {
        Env {
            state_dir: Some(dir.to_path_buf()),
            faults: FaultEnv::default(),
            kind_cluster_name: None,
            image_lookup: None,
            docker_bin: "docker".into(),
            node_image: None,
            kind_version: None,
            rollout_ms: Ok(crate::pace::DEFAULT_ROLLOUT_MS),
            clock: crate::pace::Clock::Manual(std::sync::Arc::new(std::sync::atomic::AtomicU64::new(1_000_000))),
            contexts: None,
        }
    }
}

/// What a personality's command needs from the world.
pub struct Ctx<'a> {
    pub store: Store,
    pub env: &'a Env,
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub stdin: Stdin,
}

impl Ctx<'_> {
    pub fn say(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }

    pub fn warn(&mut self, text: &str) {
        let _ = self.err.write_all(text.as_bytes());
        let _ = self.err.flush();
    }

    /// Prints `text` (a newline is added if missing) on stderr and returns `code`.
    pub fn fail(&mut self, code: i32, text: &str) -> i32 {
        let mut t = text.to_string();
        if !t.ends_with('\n') {
            t.push('\n');
        }
        self.warn(&t);
        code
    }
}

#[derive(Debug, PartialEq)]
pub enum StdinMode {
    None,
    Text,
    Binary,
}

pub const USAGE: &str = "fake-kube: a test-only stand-in for kind and kubectl.\n\
Link or copy this binary as `kind` or `kubectl`; the file name of argv[0] picks the personality.\n\
State lives in the directory named by FAKE_KUBE_STATE. See crates/fake-kube/README.md.\n";

pub fn run(
    tool: &str,
    args: Vec<String>,
    env: &Env,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let mode = match tool {
        "kind" => crate::kind::stdin_mode(&args),
        "kubectl" => crate::kubectl::stdin_mode(&args),
        _ => {
            let _ = err.write_all(USAGE.as_bytes());
            return 2;
        }
    };
    let Some(dir) = env.state_dir.clone() else {
        let _ = err.write_all(
            b"fake-kube: FAKE_KUBE_STATE is not set; it must name the directory that holds the simulated clusters\n",
        );
        return 3;
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        let _ = writeln!(err, "fake-kube: cannot create FAKE_KUBE_STATE {}: {e}", dir.display());
        return 3;
    }
    if let Err(message) = &env.rollout_ms {
        let _ = writeln!(err, "{message}");
        return 3;
    }
    let store = Store::new(&dir);
    let input = match mode {
        StdinMode::None => Stdin::NotRead,
        StdinMode::Text => {
            let mut s = String::new();
            let _ = stdin.read_to_string(&mut s);
            Stdin::Text(s)
        }
        StdinMode::Binary => {
            let mut b = Vec::new();
            let _ = stdin.read_to_end(&mut b);
            Stdin::Binary(b)
        }
    };
    if let Err(e) = record::append(&store, tool, &args, &input) {
        let _ = writeln!(err, "fake-kube: cannot record the call in calls.jsonl: {e}");
        return 3;
    }
    let joined = std::iter::once(tool.to_string()).chain(args.iter().cloned()).collect::<Vec<_>>().join(" ");
    match faults::decide(&store, &env.faults, &joined) {
        Err(msg) => {
            let _ = writeln!(err, "{msg}");
            return 2;
        }
        Ok(Action::Hang) => hang(&store, out, err),
        Ok(Action::Fail { code, stdout, stderr }) => {
            let _ = out.write_all(stdout.as_bytes());
            let _ = err.write_all(stderr.as_bytes());
            return code;
        }
        Ok(Action::Continue) => {}
    }
    let mut ctx = Ctx { store, env, out, err, stdin: input };
    match tool {
        "kind" => crate::kind::run(&args, &mut ctx),
        _ => crate::kubectl::run(&args, &mut ctx),
    }
}

/// Writes our pid to `hang.pid` and sleeps until a signal ends the process.
fn hang(store: &Store, out: &mut dyn Write, err: &mut dyn Write) -> ! {
    let _ = out.flush();
    let _ = err.flush();
    let _ = write_atomic(&store.path("hang.pid"), format!("{}\n", std::process::id()).as_bytes());
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

#[cfg(test)]
pub mod testing {
    //! Runs a personality in-process against a temp state dir and captures its output.
    use super::*;

    pub struct Outcome {
        pub code: i32,
        pub stdout: String,
        pub stderr: String,
    }

    pub fn call(env: &Env, tool: &str, args: &[&str], stdin: &[u8]) -> Outcome {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut input = stdin;
        let code = run(tool, args.iter().map(|s| s.to_string()).collect(), env, &mut input, &mut out, &mut err);
        Outcome { code, stdout: String::from_utf8_lossy(&out).into(), stderr: String::from_utf8_lossy(&err).into() }
    }

    /// A state dir with a fake Docker that has `ohdev.local/app:1`, `ohdev.local/app:2` and
    /// `ohdev.local/app:1-alias` (same ID as `:1`).
    pub struct World {
        pub dir: crate::state::testutil::TempDir,
        pub env: Env,
    }

    pub fn image_id(image: &str) -> Option<String> {
        match image {
            "ohdev.local/app:1" | "ohdev.local/app:1-alias" => Some(format!("sha256:{}", "1".repeat(64))),
            "ohdev.local/app:2" => Some(format!("sha256:{}", "2".repeat(64))),
            _ => None,
        }
    }

    impl World {
        pub fn new(tag: &str) -> World {
            let dir = crate::state::testutil::temp_dir(tag);
            let mut env = Env::for_test(&dir);
            env.image_lookup = Some(Box::new(image_id));
            World { dir, env }
        }

        pub fn kind(&self, args: &str) -> Outcome {
            call(&self.env, "kind", &args.split_whitespace().collect::<Vec<_>>(), b"")
        }

        /// kubectl against the `dev` cluster (`--context kind-dev` appended).
        pub fn kubectl(&self, args: &str, stdin: &str) -> Outcome {
            let mut v: Vec<&str> = args.split_whitespace().collect();
            v.extend(["--context", "kind-dev"]);
            call(&self.env, "kubectl", &v, stdin.as_bytes())
        }

        #[track_caller]
        pub fn apply(&self, yaml: &str) -> Outcome {
            self.kubectl("apply --server-side --field-manager=ohdev -f -", yaml)
        }

        /// Moves the test clock (`pace::Clock::Manual`) on by `ms`.
        pub fn advance(&self, ms: u64) {
            match &self.env.clock {
                crate::pace::Clock::Manual(now) => {
                    now.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
                }
                crate::pace::Clock::System => unreachable!("World uses a manual clock"),
            }
        }

        /// `kubectl get ARGS -o json`, which must succeed; then the clock moves on one rollout
        /// step (half the default rollout time): a poller at the stand-in's own pace, so a
        /// Deployment applied just before is Available from the third `get` on.
        #[track_caller]
        pub fn get(&self, args: &str) -> serde_json::Value {
            let read = self.get_now(args);
            self.advance(crate::pace::DEFAULT_ROLLOUT_MS / crate::pace::STEPS);
            read
        }

        /// `kubectl get ARGS -o json`, which must succeed, with no time passing.
        #[track_caller]
        pub fn get_now(&self, args: &str) -> serde_json::Value {
            let o = self.kubectl(&format!("get {args} -o json"), "");
            assert_eq!(o.code, 0, "get {args}: {}", o.stderr);
            serde_json::from_str(&o.stdout).expect("json")
        }

        /// Creates cluster `dev` from a kind config.
        #[track_caller]
        pub fn cluster(&self, config: &str) {
            let path = self.dir.join("kind.yaml");
            std::fs::write(&path, config).unwrap();
            let o = self.kind(&format!("create cluster --name dev --config {}", path.display()));
            assert_eq!(o.code, 0, "{}", o.stderr);
        }
    }

    pub const ONE_NODE: &str = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n";
}

#[cfg(test)]
mod tests {
    use super::testing::call;
    use super::*;
    use crate::state::testutil::temp_dir;

    #[test]
    fn missing_state_dir_exits_3_and_other_names_print_usage() {
        let mut env = Env::for_test(&temp_dir("app"));
        assert_eq!(call(&env, "fake-kube", &[], b"").code, 2);
        env.state_dir = None;
        let o = call(&env, "kubectl", &["version", "--client"], b"");
        assert_eq!(o.code, 3);
        assert!(o.stderr.contains("FAKE_KUBE_STATE"));
    }

    #[test]
    fn every_call_is_recorded_before_faults_apply() {
        let dir = temp_dir("app-record");
        let mut env = Env::for_test(&dir);
        env.faults.fail = Some("get clusters=>4:ERROR: injected".into());
        let o = call(&env, "kind", &["get", "clusters"], b"");
        assert_eq!((o.code, o.stderr.as_str()), (4, "ERROR: injected\n"));
        call(&env, "kubectl", &["apply", "--context", "kind-x", "-f", "-"], b"kind: Namespace\n");
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("calls.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["tool"], "kind");
        assert_eq!(lines[0]["argv"], serde_json::json!(["get", "clusters"]));
        assert_eq!(lines[0]["stdin"], serde_json::Value::Null);
        assert_eq!(lines[1]["stdin"], "kind: Namespace\n");
        assert_eq!(lines[1]["pid"], std::process::id());
    }
}
