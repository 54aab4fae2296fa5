//! `ohdev up` / `status` / `down`: the cluster phase against the kind stand-in.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::ohdev_snapshot;
use crate::support::{docker, json_lines, process_gone, Output, Test};

fn docker_or_skip() -> bool {
    docker::client().is_some()
}

#[test]
fn up_creates_once_then_reuses_then_reports_drift_then_recreates() {
    if !docker_or_skip() {
        return;
    }
    let mut test = Test::new().arg("up");
    let first = test.expect(0);
    let config = test.project().join("kind/cluster.yaml");
    let creates = test.calls_matching("create cluster");
    assert_eq!(creates.len(), 1, "{:?}", test.calls());
    assert_eq!(
        creates[0].argv[..6],
        ["create", "cluster", "--name", "t", "--config", config.to_str().unwrap()],
        "{creates:?}"
    );
    assert!(first.stdout.contains("created kind cluster \"t\""), "{}", first.stdout);

    let second = test.expect(0);
    assert_eq!(test.calls_matching("create cluster").len(), 1, "second up created again");
    assert!(second.stdout.contains("reused"), "{}", second.stdout);

    test.write(
        "kind/cluster.yaml",
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n",
    );
    let drift = test.expect(0);
    assert!(drift.stdout.contains("nodes[1].role: (absent) → worker"), "{}", drift.stdout);
    assert!(drift.stdout.contains("ohdev up --recreate"), "{}", drift.stdout);
    assert!(test.calls_matching("delete cluster").is_empty(), "deleted without being asked");

    test.set_args(&["up", "--recreate"]);
    test.expect(0);
    let lines: Vec<String> = test
        .calls()
        .iter()
        .filter(|call| call.tool == "kind" && (call.argv[0] == "create" || call.argv[0] == "delete"))
        .map(|call| call.argv[..2].join(" "))
        .collect();
    assert_eq!(lines, ["create cluster", "delete cluster", "create cluster"]);

    test.set_args(&["up"]);
    let after = test.expect(0);
    assert!(!after.stdout.contains("changed since creation"), "drift persisted after recreate: {}", after.stdout);
}

#[test]
fn every_kubectl_call_names_the_context() {
    if !docker_or_skip() {
        return;
    }
    let mut test = Test::new().arg("up");
    test.expect(0);
    test.set_args(&["status"]);
    test.expect(0);
    let kubectl: Vec<_> = test.calls().into_iter().filter(|call| call.tool == "kubectl").collect();
    assert!(!kubectl.is_empty());
    for call in kubectl {
        let position =
            call.argv.iter().position(|arg| arg == "--context").unwrap_or_else(|| panic!("no --context: {call:?}"));
        assert_eq!(call.argv[position + 1], "kind-t");
    }
}

#[test]
fn busy_host_port_stops_before_any_kind_call() {
    if !docker_or_skip() {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let test = Test::new().file("kind/cluster.yaml", &mapped_port(port, true)).arg("up");
    let output = test.expect(2);
    assert!(output.stderr.contains(&format!("127.0.0.1:{port}")), "{}", output.stderr);
    assert!(output.stderr.contains("already in use"), "{}", output.stderr);
    assert!(test.calls().iter().all(|call| call.tool != "kind"), "{:?}", test.calls());
    ohdev_snapshot!(output, [(port, "[PORT]")]);
}

/// A cluster.yaml mapping host port `port` (on 127.0.0.1 when `loopback`, else on every address).
fn mapped_port(port: u16, loopback: bool) -> String {
    let listen = if loopback { "\n    listenAddress: 127.0.0.1" } else { "" };
    format!("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: {port}{listen}\n")
}

#[test]
fn public_port_mapping_is_warned_about() {
    if !docker_or_skip() {
        return;
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let test = Test::new().file("kind/cluster.yaml", &mapped_port(port, false)).arg("up");
    let output = test.expect(0);
    assert!(output.stdout.contains(&format!("maps host port {port} on 0.0.0.0")), "{}", output.stdout);
    assert!(output.stdout.contains("listenAddress: 127.0.0.1"), "{}", output.stdout);
}

#[test]
fn kind_missing_is_exit_2_with_install_advice() {
    let test = Test::new().without_tool("kind").arg("up");
    let output = test.expect(2);
    assert!(output.stderr.contains("`kind` is not installed"), "{}", output.stderr);
    assert!(output.stderr.contains("brew install kind"), "{}", output.stderr);
    assert!(output.stderr.contains("go install sigs.k8s.io/kind"), "{}", output.stderr);
    assert!(test.calls().is_empty());
    ohdev_snapshot!(output);
}

#[test]
fn kubectl_missing_is_exit_2_with_install_advice() {
    // kubectl is looked for after Docker answers (kind before): without Docker this is another error.
    if !docker_or_skip() {
        return;
    }
    let test = Test::new().without_tool("kubectl").arg("up");
    let output = test.expect(2);
    assert!(output.stderr.contains("`kubectl` is not installed"), "{}", output.stderr);
    assert!(test.calls().is_empty(), "{:?}", test.calls());
    ohdev_snapshot!(output);
}

#[test]
fn kind_create_failure_is_exit_1_with_kinds_error() {
    if !docker_or_skip() {
        return;
    }
    let error = "ERROR: failed to create cluster: failed to ensure docker network: command \"docker network create -d=bridge kind\" failed with error: exit status 1";
    let test = Test::new().env("FAKE_KUBE_FAIL", &format!("create cluster=>1:{error}")).arg("up");
    let output = test.expect(1);
    assert!(output.stderr.contains("`kind create cluster --name t"), "{}", output.stderr);
    assert!(output.stderr.contains(error), "{}", output.stderr);
    assert!(test.calls().iter().all(|call| call.tool == "kind"), "kubectl after a failed create: {:?}", test.calls());
    ohdev_snapshot!(output);
}

#[test]
fn docker_unreachable_is_exit_2_with_advice() {
    let test = Test::new().env("DOCKER_HOST", "unix:///nonexistent/docker.sock").arg("up");
    let output = test.expect(2);
    assert!(
        output.stderr.contains("Docker daemon at unix:///nonexistent/docker.sock is not answering"),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains("systemctl start docker"), "{}", output.stderr);
    assert!(test.calls().iter().all(|call| call.tool != "kind"), "{:?}", test.calls());
    ohdev_snapshot!(output);
}

#[test]
fn json_up_prints_only_json_lines() {
    if !docker_or_skip() {
        return;
    }
    let output = Test::new().args(&["--json", "up"]).expect(0);
    let events = json_lines(&output.stdout);
    assert!(!events.is_empty());
    for event in &events {
        assert!(event["type"].is_string(), "{event}");
        assert!(event["ts"].as_str().is_some_and(|ts| ts.ends_with('Z')), "{event}");
    }
    assert!(events.iter().any(|event| event["type"] == "step" && event["state"] == "done"));
    assert!(events.iter().any(|event| event["type"] == "ready"));

    // Failures are JSON too.
    let failing = Test::new().env("DOCKER_HOST", "unix:///nonexistent/docker.sock").args(&["--json", "up"]);
    let output = failing.expect(2);
    let events = json_lines(&output.stdout);
    assert_eq!(events.last().unwrap()["type"], "error");
    assert_eq!(events.last().unwrap()["exit_code"], 2);
    ohdev_snapshot!(output);
}

#[test]
fn status_and_down() {
    if !docker_or_skip() {
        return;
    }
    let mut test = Test::new().arg("status");
    let before = test.expect(0);
    assert!(before.stdout.contains("not created"), "{}", before.stdout);

    test.set_args(&["up"]);
    test.expect(0);
    test.set_args(&["--json", "status"]);
    let status = test.expect(0);
    let events = json_lines(&status.stdout);
    let cluster = events.iter().find(|event| event["type"] == "cluster_status").expect("cluster_status");
    assert_eq!(cluster["exists"], true);
    assert_eq!(cluster["nodes"][0]["name"], "t-control-plane");
    assert_eq!(cluster["nodes"][0]["ready"], true);

    test.set_args(&["down"]);
    let down = test.expect(0);
    assert!(down.stdout.contains("deleted kind cluster \"t\""), "{}", down.stdout);
    assert_eq!(test.calls_matching("delete cluster --name t").len(), 1);
    test.set_args(&["status"]);
    assert!(test.expect(0).stdout.contains("not created"));
    test.set_args(&["down"]);
    assert!(test.expect(0).stdout.contains("does not exist"));
}

#[test]
fn kind_delete_failure_is_exit_1_with_kinds_error() {
    if !docker_or_skip() {
        return;
    }
    let test = Test::new().arg("up");
    test.expect(0);
    let error = "ERROR: failed to delete cluster \"t\": failed to delete nodes: command \"docker rm -f -v t-control-plane\" failed with error: exit status 1";
    let mut test = test.env("FAKE_KUBE_FAIL", &format!("delete cluster=>1:{error}"));
    test.set_args(&["down", "--yes"]);
    let output = test.expect(1);
    assert!(output.stderr.contains("`kind delete cluster --name t` exited with status 1"), "{}", output.stderr);
    assert!(output.stderr.contains(error), "{}", output.stderr);
    assert!(!output.stdout.contains("deleted kind cluster"), "{}", output.stdout);
    ohdev_snapshot!(output);
}

#[test]
fn sigint_during_create_leaves_no_child() {
    if !docker_or_skip() {
        return;
    }
    let test = Test::new().arg("up").env("FAKE_KUBE_HANG", "create cluster");
    let child =
        test.command().stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let hang_file = test.state_dir().join("hang.pid");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !hang_file.exists() {
        assert!(Instant::now() < deadline, "stand-in never started hanging");
        std::thread::sleep(Duration::from_millis(50));
    }
    let hung: i32 = std::fs::read_to_string(&hang_file).unwrap().trim().parse().unwrap();
    assert!(!process_gone(hung));
    // SAFETY: signalling the child we spawned.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let output = Output::from_process(&test, child.wait_with_output().unwrap());
    assert_eq!(output.code, 130, "{output:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !process_gone(hung) {
        assert!(Instant::now() < deadline, "kind stand-in {hung} outlived ohdev");
        std::thread::sleep(Duration::from_millis(20));
    }
    ohdev_snapshot!(output);
}

#[test]
fn second_ohdev_waits_then_names_the_lock_holder() {
    if !docker_or_skip() {
        return;
    }
    let test = Test::new().arg("up").env("FAKE_KUBE_HANG", "create cluster");
    let mut first =
        test.command().stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let hang_file = test.state_dir().join("hang.pid");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !hang_file.exists() {
        assert!(Instant::now() < deadline, "stand-in never started hanging");
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = test.expect(2);
    assert!(output.stderr.contains(&format!("another ohdev (pid {}", first.id())), "{}", output.stderr);
    ohdev_snapshot!(output);
    // SAFETY: signalling the child we spawned.
    unsafe {
        libc::kill(first.id() as i32, libc::SIGINT);
    }
    first.wait().unwrap();
}

#[test]
fn default_cluster_is_local_hands_created_from_the_absolute_config_path() {
    if !docker_or_skip() {
        return;
    }
    let test = Test::new().file("ohdev.yaml", "images: {}\nmanifests: []\n").arg("up");
    test.expect(0);
    let config = test.project().join("kind/cluster.yaml");
    let creates = test.calls_matching("create cluster");
    assert_eq!(creates.len(), 1, "{:?}", test.calls());
    assert_eq!(
        creates[0].argv[..6],
        ["create", "cluster", "--name", "local-hands", "--config", config.to_str().unwrap()]
    );
    let kubectl: Vec<_> = test.calls().into_iter().filter(|call| call.tool == "kubectl").collect();
    assert!(
        kubectl.iter().all(|call| call.argv.windows(2).any(|pair| pair == ["--context", "kind-local-hands"])),
        "{kubectl:?}"
    );
}

#[test]
fn recreate_with_a_newly_busy_port_refuses_before_deleting() {
    if !docker_or_skip() {
        return;
    }
    let mut test = Test::new().arg("up");
    test.expect(0);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    test.write("kind/cluster.yaml", &mapped_port(port, true));
    test.set_args(&["up", "--recreate"]);
    let output = test.expect(2);
    assert!(output.stderr.contains(&format!("127.0.0.1:{port}")), "{}", output.stderr);
    assert!(test.calls_matching("delete cluster").is_empty(), "the cluster was deleted: {:?}", test.calls());
    ohdev_snapshot!(output, [(port, "[PORT]")]);
    drop(listener);
}
