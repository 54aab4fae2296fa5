//! Port-forwards that survive restarts (`ports:`), against the kubectl stand-in, whose
//! `port-forward` listens on the local port, answers every connection with `fake-kube <pod>
//! <remote>`, and exits with `error: lost connection to pod` once its pod is gone.
//!
//! - `ohdev forward` answers from the Deployment's pod; after `kubectl delete pod` it answers from
//!   the replacement, and after its kubectl is killed it answers again, with `reconnecting` events
//!   whose `backoff_ms` follows the schedule; `ohdev status` shows the forward; Ctrl-C leaves no
//!   kubectl running and the port free, and the record says `stopped`.
//! - `ohdev up --watch` lists the forward's URL and forwards while it watches.
//! - A busy local port is exit 2 before any tool is called; bad `ports:` entries are exit 2 naming
//!   the line.
//!
//! Results are awaited by polling the events with a generous deadline; nothing asserts on timing.

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{docker, process_gone, Test};

/// How long any awaited event may take on a loaded machine; never a measurement.
const DEADLINE: Duration = Duration::from_secs(60);

const MANIFESTS: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: app
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: app
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: main
          image: docker.io/library/nginx:1.27
          ports:
            - containerPort: 8080
";

/// A port nothing listens on now (the system's choice, released at once).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn project(port: u16) -> Test {
    project_with(port, "")
}

/// The project, with more `ports:` entries after the first.
fn project_with(port: u16, more_ports: &str) -> Test {
    Test::new()
        .file(
            "ohdev.yaml",
            &format!(
                "cluster:\n  name: t\nnamespace: app\nimages: {{}}\nmanifests: [k8s]\nports:\n  - {{to: Deployment/web, local: {port}, remote: 8080}}\n{more_ports}"
            ),
        )
        .file("k8s/web.yaml", MANIFESTS)
}

/// A running `ohdev --json …` whose events are collected as they come.
struct Running {
    child: Child,
    events: Arc<Mutex<Vec<Value>>>,
}

impl Running {
    fn start(test: &Test) -> Running {
        let mut command = test.command();
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("ohdev starts");
        let stdout = child.stdout.take().expect("stdout");
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value = serde_json::from_str(&line).unwrap_or(Value::String(line));
                sink.lock().unwrap().push(value);
            }
        });
        Running { child, events }
    }

    fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    /// The forward events so far.
    fn forwards(&self) -> Vec<Value> {
        self.events().into_iter().filter(|event| event["type"] == "forward").collect()
    }

    /// Wait until the `n`-th (from 1) forward event in `state` has arrived, and return it.
    #[track_caller]
    fn nth_forward(&mut self, state: &str, n: usize) -> Value {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let found: Vec<Value> = self.forwards().into_iter().filter(|event| event["state"] == state).collect();
            if found.len() >= n {
                return found[n - 1].clone();
            }
            if Instant::now() > deadline || self.child.try_wait().ok().flatten().is_some() {
                let _ = self.child.kill();
                let mut stderr = String::new();
                let _ = self.child.stderr.take().map(|mut pipe| pipe.read_to_string(&mut stderr));
                panic!("no forward event #{n} in state {state}; events:\n{:#?}\nstderr:\n{stderr}", self.events());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGINT, as Ctrl-C sends it; returns the exit code and stderr (the events stay readable).
    fn interrupt(&mut self) -> (Option<i32>, String) {
        // SAFETY: kill(2) on the pid of a child this test spawned and has not waited for.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        let deadline = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            assert!(Instant::now() < deadline, "ohdev did not exit after SIGINT");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        let _ = self.child.stderr.take().map(|mut pipe| pipe.read_to_string(&mut stderr));
        (status.code(), stderr)
    }
}

/// What the forward on `port` answers.
#[track_caller]
fn ask(port: u16) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|error| panic!("connect :{port}: {error}"));
    stream.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("read the reply");
    reply
}

/// The record ohdev keeps of its forwards.
fn record(test: &Test) -> Value {
    let text = std::fs::read_to_string(test.project().join(".ohdev/forwards.json")).expect("forwards.json");
    serde_json::from_str(&text).expect("forwards.json is JSON")
}

fn status_forwards(test: &mut Test) -> Vec<Value> {
    test.set_args(&["--json", "status"]);
    let output = test.expect(0);
    crate::support::json_lines(&output.stdout).into_iter().filter(|event| event["type"] == "forward_status").collect()
}

/// Every reconnect waits what the schedule says for its attempt: 50 ms, doubling, at most 15 s.
#[track_caller]
fn assert_backoff_follows_the_schedule(event: &Value) {
    let attempt = event["attempt"].as_u64().expect("attempt");
    let backoff = event["backoff_ms"].as_u64().expect("backoff_ms on a reconnect");
    assert!(attempt >= 2, "a reconnect is the second try at least: {event}");
    assert_eq!(backoff, (50u64 << (attempt - 2).min(20)).min(15_000), "{event}");
}

#[test]
fn a_forward_follows_its_pod_across_a_replacement_and_a_killed_kubectl_and_stops_with_ctrl_c() {
    if docker::client().is_none() {
        return;
    }
    let port = free_port();
    let mut test = project(port).arg("up");
    test.expect(0);

    test.set_args(&["--json", "forward"]);
    let mut running = Running::start(&test);
    let first = running.nth_forward("forwarding", 1);
    let first_pod = first["pod"].as_str().expect("pod").to_string();
    assert!(first_pod.starts_with("web-"), "{first}");
    assert_eq!((first["local"].as_u64(), first["remote"].as_u64()), (Some(u64::from(port)), Some(8080)));
    assert_eq!(first["target"], "Deployment/web");
    assert_eq!(ask(port), format!("fake-kube {first_pod} 8080\n"));

    // The pod is replaced: the workload starts another under a new name.
    let deleted = test.tool("kubectl").args(["--context", "kind-t", "delete", "pod", &first_pod, "-n", "app"]).output();
    assert!(deleted.expect("kubectl runs").status.success());
    let reconnect = running.nth_forward("reconnecting", 1);
    assert_eq!(reconnect["pod"], first_pod.as_str(), "{reconnect}");
    let why = reconnect["detail"].as_str().unwrap_or_default();
    assert!(
        why.contains("lost connection to pod") || why.contains(&format!("pod {first_pod} was deleted")),
        "{reconnect}"
    );
    assert_backoff_follows_the_schedule(&reconnect);
    let second = running.nth_forward("forwarding", 2);
    let second_pod = second["pod"].as_str().expect("pod").to_string();
    assert_ne!(second_pod, first_pod, "the forward went to the replacement");
    assert_eq!(ask(port), format!("fake-kube {second_pod} 8080\n"));

    // `ohdev status` (another process) shows it, with the kubectl that serves it.
    let statuses = status_forwards(&mut test);
    assert_eq!(statuses.len(), 1, "{statuses:?}");
    assert_eq!((statuses[0]["state"].as_str(), statuses[0]["pod"].as_str()), (Some("forwarding"), Some(&*second_pod)));
    let kubectl_pid = record(&test)["forwards"][0]["kubectl_pid"].as_u64().expect("a kubectl pid") as i32;

    // kubectl itself dies (a dropped connection): the forward comes back to the same pod.
    // SAFETY: kill(2) on the stand-in process the record names.
    unsafe {
        libc::kill(kubectl_pid, libc::SIGKILL);
    }
    let reconnect = running.nth_forward("reconnecting", 2);
    assert!(reconnect["detail"].as_str().unwrap_or_default().contains("kubectl port-forward"), "{reconnect}");
    assert_backoff_follows_the_schedule(&reconnect);
    let third = running.nth_forward("forwarding", 3);
    assert_eq!(third["pod"], second_pod.as_str());
    assert_eq!(ask(port), format!("fake-kube {second_pod} 8080\n"));
    let last_kubectl = record(&test)["forwards"][0]["kubectl_pid"].as_u64().expect("a kubectl pid") as i32;
    assert_ne!(last_kubectl, kubectl_pid);

    let (code, stderr) = running.interrupt();
    assert_eq!(code, Some(130), "stderr:\n{stderr}");
    assert!(stderr.contains("stopped forwarding (Ctrl-C)"), "{stderr}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !running.forwards().iter().any(|event| event["state"] == "stopped") {
        assert!(Instant::now() < deadline, "no `stopped` event: {:#?}", running.forwards());
        std::thread::sleep(Duration::from_millis(20));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !process_gone(last_kubectl) {
        assert!(Instant::now() < deadline, "kubectl port-forward {last_kubectl} outlived ohdev");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(TcpListener::bind(("127.0.0.1", port)).is_ok(), "port {port} is still held");
    let statuses = status_forwards(&mut test);
    assert_eq!(statuses[0]["state"], "stopped", "{statuses:?}");

    let forwards = test.calls_matching("port-forward");
    assert_eq!(forwards.len(), 3, "three connections, three kubectl port-forward calls");
    assert_eq!(
        forwards[0].argv,
        [
            "--context",
            "kind-t",
            "port-forward",
            "--address",
            "127.0.0.1",
            &format!("pod/{first_pod}"),
            &format!("{port}:8080"),
            "-n",
            "app"
        ]
    );
    test.record_kubectl_argvs();
}

#[test]
fn up_watch_lists_the_forward_and_keeps_it_while_watching() {
    if docker::client().is_none() {
        return;
    }
    let port = free_port();
    let other = free_port();
    let missing = format!("  - {{to: Service/api, local: {other}, remote: 80}}\n");
    let test = project_with(port, &missing).args(&["--json", "up", "--watch"]);
    let mut running = Running::start(&test);
    let forwarding = running.nth_forward("forwarding", 1);
    let pod = forwarding["pod"].as_str().expect("pod").to_string();
    let ready: Vec<Value> = running.events().into_iter().filter(|event| event["type"] == "ready").collect();
    assert_eq!(ready.len(), 1);
    let url = format!("http://127.0.0.1:{port}");
    assert!(ready[0]["urls"].as_array().unwrap().iter().any(|listed| listed == url.as_str()), "{}", ready[0]);
    assert_eq!(ask(port), format!("fake-kube {pod} 8080\n"));
    // The forward to a Service the manifests do not have is named, and waits for it.
    let warned = running.events().into_iter().any(|event| {
        event["type"] == "message"
            && event["message"]
                .as_str()
                .unwrap_or_default()
                .contains("`ports[1]` forwards to Service/api in namespace app, which is not in the manifests")
    });
    assert!(warned, "{:#?}", running.events());
    let waiting = running.nth_forward("reconnecting", 1);
    assert_eq!(waiting["target"], "Service/api");
    assert!(waiting["detail"].as_str().unwrap_or_default().contains("services \"api\" not found"), "{waiting}");
    let (code, stderr) = running.interrupt();
    assert_eq!(code, Some(130), "stderr:\n{stderr}");
    assert!(TcpListener::bind(("127.0.0.1", port)).is_ok(), "port {port} is still held");
    test.record_kubectl_argvs();
}

#[test]
fn a_busy_local_port_is_exit_2_before_any_tool_runs() {
    let holder = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = holder.local_addr().expect("addr").port();
    for args in [&["forward"][..], &["up", "--watch"], &["watch"]] {
        if args[0] == "up" && docker::client().is_none() {
            continue;
        }
        let test = project(port).args(args);
        let output = test.expect(2);
        assert!(
            output.stderr.contains(&format!(
                "ohdev.yaml:7: `ports[0]` (Deployment/web → 127.0.0.1:{port}) cannot listen: 127.0.0.1:{port} is already in use by another program"
            )),
            "{args:?}: {}",
            output.stderr
        );
        assert!(output.stderr.contains("choose another `local:` port"), "{}", output.stderr);
        let calls: Vec<String> = test.calls().iter().map(|call| call.line()).collect();
        assert!(calls.is_empty(), "{args:?}: nothing may run before the check: {calls:?}");
    }
}

#[test]
fn bad_ports_entries_are_exit_2_naming_the_line() {
    let cases = [
        ("  - {to: Deploymnt/web, local: 3000, remote: 80}\n", "ohdev.yaml:7: `ports[0].to` is `Deploymnt/web`"),
        ("  - {to: Deployment/web, local: 65536, remote: 80}\n", "ohdev.yaml:7: `ports[0].local` is 65536"),
        (
            "  - {to: Deployment/web, local: 3000, remote: 80}\n  - {to: Service/db, local: 3000, remote: 5432}\n",
            "ohdev.yaml:8: `ports[1].local` is 3000, which `ports[0]` (Deployment/web) already uses",
        ),
    ];
    for (entries, message) in cases {
        let test = Test::new()
            .file(
                "ohdev.yaml",
                &format!("cluster:\n  name: t\nnamespace: app\nimages: {{}}\nmanifests: []\nports:\n{entries}"),
            )
            .arg("forward");
        let output = test.expect(2);
        assert!(output.stderr.contains(message), "{entries}: {}", output.stderr);
        assert!(test.calls().is_empty());
    }
    let nothing = Test::new().arg("forward");
    let output = nothing.expect(2);
    assert!(output.stderr.contains("there is nothing to forward: ohdev.yaml has no `ports:`"), "{}", output.stderr);
}

#[test]
fn a_rollout_by_another_ohdev_up_moves_the_forward_to_the_new_pod() {
    if docker::client().is_none() {
        return;
    }
    let port = free_port();
    let mut test = project(port).arg("up");
    test.expect(0);
    test.set_args(&["--json", "forward"]);
    let mut running = Running::start(&test);
    let first = running.nth_forward("forwarding", 1)["pod"].as_str().expect("pod").to_string();

    // `ohdev forward` holds no lock: `ohdev up` runs beside it and rolls the Deployment out.
    test.write("k8s/web.yaml", &MANIFESTS.replace("nginx:1.27", "nginx:1.28"));
    test.set_args(&["up"]);
    test.expect(0);
    let reconnect = running.nth_forward("reconnecting", 1);
    assert_eq!(reconnect["pod"], first.as_str(), "{reconnect}");
    assert_backoff_follows_the_schedule(&reconnect);
    let second = running.nth_forward("forwarding", 2)["pod"].as_str().expect("pod").to_string();
    assert_ne!(second, first, "a new template, a new pod");
    assert_eq!(ask(port), format!("fake-kube {second} 8080\n"));
    let (code, stderr) = running.interrupt();
    assert_eq!(code, Some(130), "stderr:\n{stderr}");
    test.record_kubectl_argvs();
}
