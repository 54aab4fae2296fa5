//! The built binary, run the way the ohdev harness runs it: linked as `kind` and `kubectl`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Bin {
    dir: PathBuf,
    state: PathBuf,
}

impl Drop for Bin {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Bin {
    fn new(tag: &str) -> Bin {
        let dir = std::env::temp_dir().join(format!("fake-kube-bin-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        for name in ["kind", "kubectl"] {
            std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_fake-kube"), dir.join("bin").join(name)).unwrap();
        }
        let state = dir.join("state");
        Bin { dir, state }
    }

    fn cmd(&self, tool: &str, args: &[&str]) -> Command {
        let mut c = Command::new(self.dir.join("bin").join(tool));
        c.args(args).env("FAKE_KUBE_STATE", &self.state).env_remove("FAKE_KUBE_HANG").env_remove("FAKE_KUBE_FAIL");
        c
    }

    fn run(&self, tool: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
        let mut child =
            self.cmd(tool, args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into(),
            String::from_utf8_lossy(&out.stderr).into(),
        )
    }
}

fn wait_for(path: &Path) -> String {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Ok(s) = std::fs::read_to_string(path) {
            if s.ends_with('\n') {
                return s;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{} never appeared", path.display());
}

#[test]
fn argv0_picks_the_personality() {
    let b = Bin::new("argv0");
    assert_eq!(b.run("kind", &["version"], "").1, "kind v0.27.0 go1.23.4 linux/amd64\n");
    let (code, out, _) = b.run("kubectl", &["version", "--client", "-o", "json"], "");
    assert_eq!(code, 0);
    assert!(out.contains("\"gitVersion\": \"v1.32.4\""));
    let direct = Command::new(env!("CARGO_BIN_EXE_fake-kube")).env("FAKE_KUBE_STATE", &b.state).output().unwrap();
    assert_eq!(direct.status.code(), Some(2));
    let no_state = b.cmd("kind", &["version"]).env_remove("FAKE_KUBE_STATE").output().unwrap();
    assert_eq!(no_state.status.code(), Some(3));
}

#[test]
fn hang_records_the_call_writes_its_pid_and_dies_on_sigterm() {
    let b = Bin::new("hang");
    let mut child = b
        .cmd("kind", &["create", "cluster", "--name", "x"])
        .env("FAKE_KUBE_HANG", "create cluster")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = wait_for(&b.state.join("hang.pid"));
    assert_eq!(pid.trim(), child.id().to_string());
    let calls = std::fs::read_to_string(b.state.join("calls.jsonl")).unwrap();
    assert!(calls.contains("\"argv\":[\"create\",\"cluster\",\"--name\",\"x\"]"), "{calls}");
    assert!(child.try_wait().unwrap().is_none(), "still hanging");
    Command::new("kill").args(["-TERM", pid.trim()]).status().unwrap();
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(15));
}

#[test]
fn parallel_kubectl_calls_do_not_lose_updates() {
    let b = Bin::new("parallel");
    let cfg = b.dir.join("kind.yaml");
    std::fs::write(&cfg, "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n").unwrap();
    let (code, _, err) = b.run("kind", &["create", "cluster", "--name", "dev", "--config", cfg.to_str().unwrap()], "");
    assert_eq!(code, 0, "{err}");
    let children: Vec<_> = (0..8)
        .map(|i| {
            let mut c = b
                .cmd("kubectl", &["apply", "--server-side", "--context", "kind-dev", "-f", "-"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            let doc = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}\n");
            c.stdin.take().unwrap().write_all(doc.as_bytes()).unwrap();
            c
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let (code, out, _) = b.run("kubectl", &["get", "cm", "-o", "name", "--context=kind-dev"], "");
    assert_eq!(code, 0);
    assert_eq!(out, (0..8).map(|i| format!("configmap/cm{i}\n")).collect::<String>());
    let calls = std::fs::read_to_string(b.state.join("calls.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = calls.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 10);
    assert_eq!(lines.iter().filter(|l| l["stdin"].as_str().is_some_and(|s| s.contains("kind: ConfigMap"))).count(), 8);
}

#[test]
fn fail_env_var_exits_with_the_given_code_and_stderr() {
    let b = Bin::new("fail");
    let out = b
        .cmd("kind", &["get", "clusters"])
        .env("FAKE_KUBE_FAIL", "get clusters=>42:ERROR: boom")
        .env("FAKE_KUBE_FAIL_TIMES", "1")
        .output()
        .unwrap();
    assert_eq!((out.status.code(), String::from_utf8_lossy(&out.stderr).as_ref()), (Some(42), "ERROR: boom\n"));
    let again = b
        .cmd("kind", &["get", "clusters"])
        .env("FAKE_KUBE_FAIL", "get clusters=>42:ERROR: boom")
        .env("FAKE_KUBE_FAIL_TIMES", "1")
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0));
}

#[test]
fn port_forward_answers_with_its_pod_and_exits_when_the_pod_is_gone() {
    use std::io::{BufRead, BufReader, Read};
    let b = Bin::new("port-forward");
    let cluster = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n";
    std::fs::create_dir_all(&b.dir).unwrap();
    std::fs::write(b.dir.join("cluster.yaml"), cluster).unwrap();
    let config = b.dir.join("cluster.yaml");
    assert_eq!(b.run("kind", &["create", "cluster", "--name", "pf", "--config", config.to_str().unwrap()], "").0, 0);
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: default}\nspec:\n  containers: [{name: main, image: docker.io/library/nginx:1.27}]\n";
    let (code, _, err) = b.run("kubectl", &["--context", "kind-pf", "apply", "-f", "-"], pod);
    assert_eq!(code, 0, "{err}");
    // A bare pod is Running once its rollout time (FAKE_KUBE_ROLLOUT_MS, 200 ms by default) passed.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, out, _) = b.run("kubectl", &["--context", "kind-pf", "get", "pod", "web", "-o", "json"], "");
        if out.contains("\"phase\": \"Running\"") {
            break;
        }
        assert!(Instant::now() < deadline, "the pod never ran: {out}");
        std::thread::sleep(Duration::from_millis(20));
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let spec = format!("{port}:8080");
    let args = ["--context", "kind-pf", "port-forward", "--address", "127.0.0.1", "pod/web", spec.as_str()];
    let mut child = b.cmd("kubectl", &args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, format!("Forwarding from 127.0.0.1:{port} -> 8080\n"));

    let mut reply = String::new();
    std::net::TcpStream::connect(("127.0.0.1", port)).unwrap().read_to_string(&mut reply).unwrap();
    assert_eq!(reply, "fake-kube web 8080\n");

    // A second forward on the same port fails as kubectl does.
    let (code, _, err) = b.run("kubectl", &args, "");
    assert_eq!(code, 1);
    assert!(err.contains(&format!("Unable to listen on port {port}")), "{err}");
    assert!(err.contains("bind: address already in use"), "{err}");

    assert_eq!(b.run("kubectl", &["--context", "kind-pf", "delete", "pod", "web"], "").0, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "port-forward outlived its pod");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(1));
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(err.ends_with("error: lost connection to pod\n"), "{err}");
}

#[test]
fn kustomize_is_recorded_and_handed_to_the_real_kubectl() {
    let bin = Bin::new("kustomize");
    let dir = bin.dir.join("overlay");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("kustomization.yaml"), "resources: [cm.yaml]\nnamespace: shop\n").unwrap();
    std::fs::write(dir.join("cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n").unwrap();
    // A "real" kubectl that proves it was called with the same arguments (the machine's own kubectl
    // may not exist everywhere this test runs).
    let real = bin.dir.join("real-kubectl");
    std::fs::write(&real, "#!/bin/sh\necho \"real: $*\"\necho to-stderr >&2\nexit 4\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir_text = dir.display().to_string();
    let output = bin
        .cmd("kubectl", &["--context", "kind-x", "kustomize", &dir_text])
        .env("FAKE_KUBE_REAL_KUBECTL", &real)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    assert_eq!(String::from_utf8_lossy(&output.stdout), format!("real: --context kind-x kustomize {dir_text}\n"));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "to-stderr\n");
    let calls = std::fs::read_to_string(bin.state.join("calls.jsonl")).unwrap();
    assert!(calls.contains("\"kustomize\""), "{calls}");

    // Without FAKE_KUBE_REAL_KUBECTL: the first kubectl on PATH that is not the stand-in, if any.
    let Some(system) = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path).map(|dir| dir.join("kubectl")).find(|candidate| {
            candidate.is_file() && !std::fs::canonicalize(candidate).is_ok_and(|real| real.ends_with("fake-kube"))
        })
    }) else {
        eprintln!("SKIPPED: no real kubectl on PATH");
        return;
    };
    let path = format!("{}:{}", bin.dir.join("bin").display(), system.parent().unwrap().display());
    let output = bin.cmd("kubectl", &["kustomize", &dir_text]).env("PATH", path).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let rendered = String::from_utf8_lossy(&output.stdout);
    assert!(rendered.contains("namespace: shop") && rendered.contains("name: settings"), "{rendered}");
}

#[test]
fn the_rollout_time_is_wall_clock_time_from_the_environment() {
    let b = Bin::new("pace");
    assert_eq!(b.run("kind", &["create", "cluster", "--name", "p"], "").0, 0);
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: main, image: nginx:1}]}\n";
    let with_rollout = |ms: &str, args: &[&str], stdin: &str| {
        let mut child = b
            .cmd("kubectl", args)
            .env("FAKE_KUBE_ROLLOUT_MS", ms)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let apply = ["apply", "--server-side", "--field-manager=ohdev", "-f", "-", "--context", "kind-p"];
    let get = ["get", "deployment", "web", "-o", "json", "--context", "kind-p"];
    let available = |text: &str| -> String {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        let conditions = v["status"]["conditions"].as_array().cloned().unwrap_or_default();
        conditions
            .iter()
            .find(|c| c["type"] == "Available")
            .map(|c| c["status"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    // An hour-long rollout: however often it is read, it is not Available.
    assert_eq!(with_rollout("3600000", &apply, deployment).0, 0);
    for _ in 0..10 {
        let (code, out, err) = with_rollout("3600000", &get, "");
        assert_eq!(code, 0, "{err}");
        assert_eq!(available(&out), "False");
    }
    // 0 ms: the same rollout is over at once.
    assert_eq!(available(&with_rollout("0", &get, "").1), "True");
    let (code, _, err) = with_rollout("soon", &get, "");
    assert_eq!(code, 3);
    assert!(err.contains("FAKE_KUBE_ROLLOUT_MS=soon: not a whole number of milliseconds"), "{err}");
}
