//! `ohdev logs` against the kubectl stand-in: pods are applied with the stand-in itself, their
//! logs are files under `$FAKE_KUBE_STATE/logs/<ns>/<pod>/<container>.log`.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::ohdev_snapshot;
use crate::support::{fake_kube_binary, json_lines, process_gone, Test};

const APP_IMAGE: &str = "ohdev.local/app:0123456789abcdef";

/// Pods here run at once: these tests are about log streams, not rollouts, so the stand-in's
/// rollout time (`FAKE_KUBE_ROLLOUT_MS`) is 0 for the fixture's calls and for ohdev's.
const ROLLOUT_MS: &str = "0";

fn logs_test() -> Test {
    Test::new().env("FAKE_KUBE_ROLLOUT_MS", ROLLOUT_MS)
}

/// Runs the stand-in as `kind`/`kubectl` against the test's state, the way a person would set up a cluster.
struct Cluster {
    state: PathBuf,
    bin: PathBuf,
}

impl Cluster {
    fn create(test: &Test) -> Cluster {
        let bin = test.project().join(".fixture-bin");
        std::fs::create_dir_all(&bin).unwrap();
        for tool in ["kind", "kubectl"] {
            let link = bin.join(tool);
            if !link.exists() {
                std::os::unix::fs::symlink(fake_kube_binary(), link).unwrap();
            }
        }
        let cluster = Cluster { state: test.state_dir(), bin };
        let config = test.project().join("kind/cluster.yaml");
        cluster.run("kind", &["create", "cluster", "--name", "t", "--config", config.to_str().unwrap()], "");
        cluster
    }

    #[track_caller]
    fn run(&self, tool: &str, args: &[&str], stdin: &str) -> String {
        let mut child = Command::new(self.bin.join(tool))
            .args(args)
            .env("FAKE_KUBE_STATE", &self.state)
            .env("FAKE_KUBE_ROLLOUT_MS", ROLLOUT_MS)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{tool} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    #[track_caller]
    fn kubectl(&self, args: &[&str], stdin: &str) -> String {
        let mut argv = vec!["--context", "kind-t"];
        argv.extend_from_slice(args);
        self.run("kubectl", &argv, stdin)
    }

    #[track_caller]
    fn apply(&self, yaml: &str) {
        self.kubectl(&["apply", "--server-side", "--field-manager=fixture", "-f", "-"], yaml);
    }

    /// Put an `ohdev.local` image on every node, as `kind load docker-image` would.
    fn load_image(&self, image: &str) {
        let path = self.state.join("state.json");
        let mut state: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for node in state["clusters"]["t"]["nodes"].as_array_mut().unwrap() {
            node["images"][image] = Value::String(format!("sha256:{}", "a".repeat(64)));
        }
        std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
    }

    fn pod_names(&self, namespace: &str, selector: &str) -> Vec<String> {
        let list: Value =
            serde_json::from_str(&self.kubectl(&["get", "pods", "-n", namespace, "-l", selector, "-o", "json"], ""))
                .unwrap();
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pod| pod["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    }

    fn log_path(&self, namespace: &str, pod: &str, container: &str) -> PathBuf {
        self.state.join("logs").join(namespace).join(pod).join(format!("{container}.log"))
    }

    fn write_log(&self, namespace: &str, pod: &str, container: &str, lines: &[String]) {
        let path = self.log_path(namespace, pod, container);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, lines.iter().map(|line| format!("{line}\n")).collect::<String>()).unwrap();
    }

    fn append_log(&self, namespace: &str, pod: &str, container: &str, lines: &[String]) {
        let path = self.log_path(namespace, pod, container);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
        file.write_all(lines.iter().map(|line| format!("{line}\n")).collect::<String>().as_bytes()).unwrap();
    }
}

fn bare_pod(namespace: &str, name: &str, managed: bool, containers: &[&str]) -> String {
    let label = if managed { "\n    app.kubernetes.io/managed-by: ohdev" } else { "" };
    let containers: String =
        containers.iter().map(|container| format!("  - name: {container}\n    image: busybox:1.36\n")).collect();
    format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  labels:\n    fixture: \"yes\"{label}\nspec:\n  containers:\n{containers}")
}

const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: app
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, app.kubernetes.io/managed-by: ohdev}
    spec:
      containers:
      - name: main
        image: ohdev.local/app:0123456789abcdef
";

/// Lines that make tearing visible: each names its container and number, some are long (one far
/// longer than a pipe buffer), some hold the separator, one holds non-ASCII text.
fn lines_for(pod: &str, container: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|number| {
            let padding = match number % 50 {
                7 => "x".repeat(9_000),
                13 => " │ not a prefix │ ".to_string(),
                21 => "grüße ✓".to_string(),
                _ => String::new(),
            };
            let huge = if number == count / 2 { "y".repeat(200_000) } else { String::new() };
            format!("{pod}/{container} line {number:05} {padding}{huge}end")
        })
        .collect()
}

/// The environment of most tests: namespace `app` with bare pods alpha (2 containers), beta (3),
/// gamma (1), Deployment web (2 pods running the `app` image), and an unlabelled pod stranger.
struct Fixture {
    expected: BTreeMap<String, Vec<String>>,
    web_pods: Vec<String>,
}

fn environment(test: &Test) -> (Cluster, Fixture) {
    let cluster = Cluster::create(test);
    cluster.apply("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n");
    cluster.load_image(APP_IMAGE);
    let pods: [(&str, &[&str], usize); 3] = [
        ("alpha", &["main", "sidecar"], 400),
        ("beta", &["main", "worker", "metrics"], 250),
        ("gamma", &["main"], 120),
    ];
    let mut yaml: Vec<String> =
        pods.iter().map(|(name, containers, _)| bare_pod("app", name, true, containers)).collect();
    yaml.push(bare_pod("app", "stranger", false, &["main"]));
    yaml.push(WEB.to_string());
    cluster.apply(&yaml.join("---\n"));
    let mut expected = BTreeMap::new();
    for (pod, containers, count) in pods {
        for container in containers {
            let lines = lines_for(pod, container, count);
            cluster.write_log("app", pod, container, &lines);
            expected.insert(format!("{pod}/{container}"), lines);
        }
    }
    cluster.write_log("app", "stranger", "main", &["not part of the environment".to_string()]);
    let web_pods = cluster.pod_names("app", "app=web");
    assert_eq!(web_pods.len(), 2);
    for pod in &web_pods {
        let lines = lines_for(pod, "main", 30);
        cluster.write_log("app", pod, "main", &lines);
        expected.insert(format!("{pod}/main"), lines);
    }
    (cluster, Fixture { expected, web_pods })
}

/// Split text output into (pod/container, line), asserting every output line has the prefix form.
#[track_caller]
fn parse_text(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .map(|line| {
            let (prefix, rest) =
                line.split_once(" │ ").unwrap_or_else(|| panic!("not `pod/container │ line`: {:.200}", line));
            (prefix.to_string(), rest.to_string())
        })
        .collect()
}

/// Group lines by their pod/container prefix, keeping their order.
fn by_source(lines: &[(String, String)]) -> BTreeMap<String, Vec<String>> {
    let mut grouped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (source, line) in lines {
        grouped.entry(source.clone()).or_default().push(line.clone());
    }
    grouped
}

#[test]
fn without_follow_every_line_is_whole_and_in_order() {
    let test = logs_test().args(&["logs", "--no-follow"]);
    let (_cluster, fixture) = environment(&test);
    let output = test.expect(0);
    let lines = parse_text(&output.stdout);
    let grouped = by_source(&lines);
    assert_eq!(
        grouped.keys().collect::<Vec<_>>(),
        fixture.expected.keys().collect::<Vec<_>>(),
        "stranger is not labelled; everything else is there"
    );
    for (source, expected) in &fixture.expected {
        // Equal sequences: nothing missing, nothing torn (a torn line would not equal its original), order kept.
        assert!(
            grouped[source] == *expected,
            "{source}: {} lines printed, {} expected, or differing",
            grouped[source].len(),
            expected.len()
        );
    }
    let pods_queried = test.calls_matching("get pods");
    assert!(
        pods_queried.iter().any(|call| call.line().contains("-A -l app.kubernetes.io/managed-by=ohdev")),
        "{pods_queried:?}"
    );
    for call in test.calls_matching("logs ") {
        let at =
            call.argv.iter().position(|arg| arg == "--context").unwrap_or_else(|| panic!("no --context: {call:?}"));
        assert_eq!(call.argv[at + 1], "kind-t");
    }
}

#[test]
fn tail_container_grep_and_json() {
    let mut test = logs_test();
    let (_cluster, fixture) = environment(&test);

    test.set_args(&["logs", "--no-follow", "--tail", "3"]);
    let grouped = by_source(&parse_text(&test.expect(0).stdout));
    for (source, expected) in &fixture.expected {
        assert_eq!(grouped[source], expected[expected.len() - 3..], "{source}");
    }

    test.set_args(&["logs", "--no-follow", "-c", "worker"]);
    let grouped = by_source(&parse_text(&test.expect(0).stdout));
    assert_eq!(grouped.keys().collect::<Vec<_>>(), ["beta/worker"]);
    assert_eq!(grouped["beta/worker"], fixture.expected["beta/worker"]);

    test.set_args(&["logs", "--no-follow", "--grep", "line 00013", "--container", "main"]);
    let lines = parse_text(&test.expect(0).stdout);
    let mut sources: Vec<&str> = lines.iter().map(|(source, _)| source.as_str()).collect();
    sources.sort();
    let mut want: Vec<String> = ["alpha/main", "beta/main", "gamma/main"]
        .iter()
        .map(|s| s.to_string())
        .chain(fixture.web_pods.iter().map(|pod| format!("{pod}/main")))
        .collect();
    want.sort();
    assert_eq!(sources, want);
    for (source, line) in &lines {
        assert!(line.ends_with("line 00013  │ not a prefix │ end"), "{source}: {line}");
    }

    test.set_args(&["--json", "logs", "--no-follow", "--tail", "2", "gamma"]);
    let events = json_lines(&test.expect(0).stdout);
    assert_eq!(events.len(), 2, "{events:?}");
    for (event, expected) in events.iter().zip(&fixture.expected["gamma/main"][118..]) {
        assert_eq!(event["type"], "log");
        assert_eq!(event["pod"], "gamma");
        assert_eq!(event["container"], "main");
        assert_eq!(event["namespace"], "app");
        assert_eq!(event["line"].as_str(), Some(expected.as_str()));
        assert!(event["ts"].as_str().is_some_and(|ts| ts.ends_with('Z')), "{event}");
    }

    test.set_args(&["logs", "--no-follow", "--since", "5 minutes"]);
    let output = test.expect(2);
    assert!(output.stderr.contains("--since 5 minutes"), "{}", output.stderr);
    ohdev_snapshot!("bad_since", output);
}

#[test]
fn images_and_workloads_select_pods_and_unknown_names_list_what_exists() {
    let mut test = logs_test();
    let (cluster, fixture) = environment(&test);
    let web: Vec<String> = fixture.web_pods.iter().map(|pod| format!("{pod}/main")).collect();

    for selector in ["app", "Deployment/web", "deploy/web", "web"] {
        test.set_args(&["logs", "--no-follow", selector]);
        let grouped = by_source(&parse_text(&test.expect(0).stdout));
        assert_eq!(grouped.keys().cloned().collect::<Vec<_>>(), web, "{selector}");
    }

    test.set_args(&["logs", "--no-follow", "alpha", "pod/gamma"]);
    let grouped = by_source(&parse_text(&test.expect(0).stdout));
    assert_eq!(grouped.keys().collect::<Vec<_>>(), ["alpha/main", "alpha/sidecar", "gamma/main"]);

    // A workload named on the command line counts without ohdev's label (kind's own CoreDNS).
    let coredns = cluster.pod_names("kube-system", "k8s-app=kube-dns");
    cluster.write_log(
        "kube-system",
        &coredns[0],
        "coredns",
        &["[INFO] plugin/reload: Running configuration".to_string()],
    );
    test.set_args(&["logs", "--no-follow", "deploy/coredns"]);
    let lines = parse_text(&test.expect(0).stdout);
    assert_eq!(lines, [(format!("{}/coredns", coredns[0]), "[INFO] plugin/reload: Running configuration".to_string())]);

    test.set_args(&["logs", "--no-follow", "app", "nope"]);
    let output = test.expect(2);
    assert!(output.stdout.is_empty(), "{}", output.stdout);
    assert!(output.stderr.contains("no pod matches `nope`"), "{}", output.stderr);
    assert!(output.stderr.contains("images:    app"), "{}", output.stderr);
    assert!(output.stderr.contains("Deployment/web") && output.stderr.contains("Pod/alpha"), "{}", output.stderr);
    assert!(!output.stderr.contains("stranger"), "only the environment is listed: {}", output.stderr);
    assert!(test.calls_matching("logs ").iter().all(|call| !call.line().contains("nope")));
    ohdev_snapshot!("unknown_selector", output);

    test.set_args(&["logs", "--no-follow", "--container", "nope"]);
    let output = test.expect(2);
    assert!(output.stderr.contains("main, metrics, sidecar, worker"), "{}", output.stderr);
    ohdev_snapshot!("unknown_container", output);
}

#[test]
fn without_a_cluster_it_says_to_run_up() {
    let output = logs_test().args(&["logs", "--no-follow"]).expect(1);
    assert!(output.stderr.contains("ohdev up"), "{}", output.stderr);
    ohdev_snapshot!(output);
}

/// Lines of a running ohdev, read on a thread.
struct Running {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    /// Wait until a line satisfying `predicate` arrives (the deadline only bounds a hung test).
    #[track_caller]
    fn wait_for(&mut self, what: &str, predicate: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        if self.seen.iter().any(|line| predicate(line)) {
            return;
        }
        while Instant::now() < deadline {
            match self.lines.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => {
                    let found = predicate(&line);
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let _ = self.child.kill();
        panic!(
            "never saw {what}; output so far:\n{}",
            self.seen.iter().map(|line| format!("{line:.200}")).collect::<Vec<_>>().join("\n")
        );
    }

    fn has(&self, line: &str) -> bool {
        self.seen.iter().any(|seen| seen == line)
    }
}

#[test]
fn follow_picks_up_new_lines_and_pods_and_leaves_no_kubectl_behind() {
    let test = logs_test().args(&["logs", "-f", "--tail", "5"]);
    let (cluster, fixture) = environment(&test);
    let mut child = test.command().stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("ohdev starts");
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut running = Running { child, lines: receiver, seen: Vec::new() };

    let last_alpha = format!("alpha/main │ {}", fixture.expected["alpha/main"].last().unwrap());
    running.wait_for("the tail of alpha/main", |line| line == last_alpha);

    let last_worker = format!("beta/worker │ {}", fixture.expected["beta/worker"].last().unwrap());
    running.wait_for("the tail of beta/worker (its stream is running)", |line| line == last_worker);
    let appended: Vec<String> = (0..20).map(|number| format!("appended {number:02}")).collect();
    cluster.append_log("app", "beta", "worker", &appended);
    running.wait_for("the appended lines", |line| line == "beta/worker │ appended 19");

    cluster.apply(&bare_pod("app", "delta", true, &["main", "side"]));
    cluster.write_log("app", "delta", "main", &["delta says hello".to_string()]);
    cluster.write_log("app", "delta", "side", &["delta side".to_string()]);
    running.wait_for("the new pod's lines", |line| line == "delta/main │ delta says hello");
    running.wait_for("the new pod's second container", |line| line == "delta/side │ delta side");
    cluster.append_log("app", "delta", "main", &["delta again".to_string()]);
    running.wait_for("a line appended to the new pod", |line| line == "delta/main │ delta again");
    assert!(running.seen.iter().any(|line| line.starts_with("── pod delta (app) started")), "{:?}", running.seen);

    cluster.kubectl(&["delete", "pod", "gamma", "-n", "app"], "");
    running.wait_for("gamma going away", |line| line.starts_with("── pod gamma (app) went away"));

    // Lines of one container stay in order and whole; with --tail 5 the pods of the start show
    // their last five lines, the new pod shows everything.
    let text: String =
        running.seen.iter().filter(|line| !line.starts_with("── ")).map(|line| format!("{line}\n")).collect();
    let grouped = by_source(&parse_text(&text));
    let mut beta_worker = fixture.expected["beta/worker"][245..].to_vec();
    beta_worker.extend(appended);
    assert_eq!(grouped["beta/worker"], beta_worker);
    assert_eq!(grouped["delta/main"], ["delta says hello", "delta again"]);
    assert!(running.has(&format!(
        "{}/main │ {}",
        fixture.web_pods[0],
        fixture.expected[&format!("{}/main", fixture.web_pods[0])][29]
    )));

    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(running.child.id() as i32, libc::SIGINT);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = running.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "ohdev did not exit after SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success(), "interrupted is not success: {status:?}");

    let followers: Vec<i32> = std::fs::read_to_string(test.state_dir().join("calls.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|call| {
            let argv = call["argv"].as_array().unwrap();
            call["tool"] == "kubectl" && argv.iter().any(|arg| arg == "logs") && argv.iter().any(|arg| arg == "-f")
        })
        .map(|call| call["pid"].as_i64().unwrap() as i32)
        .collect();
    assert!(followers.len() >= 9, "one `kubectl logs -f` per container: {followers:?}");
    // ohdev stops each group before it exits; give a SIGKILLed process a moment to be reaped.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !followers.iter().all(|pid| process_gone(*pid)) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<i32> = followers.into_iter().filter(|pid| !process_gone(*pid)).collect();
    assert!(left.is_empty(), "kubectl logs -f still running after ohdev exited: {left:?}");
}

#[test]
fn a_closed_pipe_ends_logs_quietly_with_exit_0_and_no_kubectl_behind() {
    // `ohdev logs -f | head -n 1`: once the reader has gone, ohdev stops its streams and exits 0,
    // as a command in a pipeline does.
    let test = logs_test();
    let (cluster, fixture) = environment(&test);
    let mut child = {
        let mut command = test.command();
        command.args(["logs", "-f", "--tail", "5"]).stdout(Stdio::piped()).stderr(Stdio::piped());
        command.spawn().expect("ohdev starts")
    };
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).expect("a first line");
    assert!(first.contains(" │ "), "{first}");
    drop(stdout);
    // More output makes ohdev write into the closed pipe.
    let more: Vec<String> = (0..50).map(|number| format!("after the reader left {number:02}")).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "ohdev kept running after its stdout was closed");
        cluster.append_log("app", "beta", "worker", &more);
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert!(!stderr.contains("error"), "a closed pipe is not an error: {stderr}");
    assert!(!fixture.expected.is_empty());

    let followers: Vec<i32> = std::fs::read_to_string(test.state_dir().join("calls.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|call| call["tool"] == "kubectl" && call["argv"].as_array().unwrap().iter().any(|arg| arg == "-f"))
        .map(|call| call["pid"].as_i64().unwrap() as i32)
        .collect();
    assert!(!followers.is_empty(), "no `kubectl logs -f` was started");
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !followers.iter().all(|pid| process_gone(*pid)) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<i32> = followers.into_iter().filter(|pid| !process_gone(*pid)).collect();
    assert!(left.is_empty(), "kubectl logs -f still running after ohdev exited: {left:?}");
}
