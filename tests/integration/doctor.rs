//! `ohdev doctor`: one line per check, snapshot-tested with machine-specific values redacted.

use crate::ohdev_snapshot;
use crate::support::{json_lines, Test};

#[test]
fn doctor_reports_each_check() {
    if crate::support::docker::client().is_none() {
        return;
    }
    let output = Test::new().arg("doctor").run();
    // Disk or inotify may legitimately warn on a given machine; a failure must match the exit code.
    let failed = output.stdout.lines().any(|line| line.starts_with("fail"));
    assert_eq!(output.code, if failed { 1 } else { 0 }, "{}", output.stdout);
    let checks: Vec<&str> = output
        .stdout
        .lines()
        .filter(|line| !line.starts_with(' '))
        .map(|line| line[6..].split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(
        checks,
        ["kind", "kubectl", "docker", "docker", "buildkit", "host", "inotify", "registry", "disk"],
        "{}",
        output.stdout
    );
    let first_lines: String = output
        .stdout
        .lines()
        .filter(|line| line.starts_with("ok") && !line.contains("disk") && !line.contains("inotify"))
        .map(|line| format!("{line}\n"))
        .collect();
    insta::with_settings!({filters => vec![
        (r"v\d+\.\d+\.\d+(-[\w.]+)?", "vX.Y.Z"),
        (r"Docker \S+ \(API [\d.]+ ", "Docker X (API X "),
        (r"docker cli(\s+)\S+ \(kind uses it\)", "docker cli${1}PATH (kind uses it)"),
    ]}, {
        insta::assert_snapshot!("doctor_ok_lines", first_lines);
    });
}

#[test]
fn doctor_fails_with_fix_hints_when_tools_are_missing() {
    let mut test = Test::new().without_tool("kind").env("DOCKER_HOST", "unix:///nonexistent/docker.sock").arg("doctor");
    let output = test.expect(1);
    assert!(output.stdout.contains("fail  kind"), "{}", output.stdout);
    assert!(output.stdout.contains("brew install kind"), "{}", output.stdout);
    assert!(output.stdout.contains("fail  docker daemon"), "{}", output.stdout);
    assert!(output.stdout.contains("not answering at unix:///nonexistent/docker.sock"), "{}", output.stdout);
    // What this machine has: the docker CLI's path and the inotify limit.
    let docker_cli =
        which::which("docker").map(|path| path.display().to_string()).unwrap_or_else(|_| "(no docker CLI)".to_string());
    let inotify_limit =
        std::fs::read_to_string("/proc/sys/fs/inotify/max_user_watches").unwrap_or_default().trim().to_string();
    ohdev_snapshot!(output, [(docker_cli, "[DOCKER_CLI]"), (format!("limit {inotify_limit}"), "limit [LIMIT]")]);

    test.set_args(&["--json", "doctor"]);
    let output = test.expect(1);
    let events = json_lines(&output.stdout);
    let kind = events.iter().find(|event| event["check"] == "kind").expect("kind check");
    assert_eq!(kind["type"], "doctor_check");
    assert_eq!(kind["status"], "fail");
    assert!(kind["hint"].as_str().unwrap().contains("brew install kind"));
}

#[test]
fn doctor_reports_a_busy_port() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let test = Test::new()
        .file(
            "kind/cluster.yaml",
            &format!("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: {port}\n    listenAddress: 127.0.0.1\n"),
        )
        .arg("doctor");
    let output = test.run();
    assert!(
        output.stdout.contains(&format!("warn  host ports         127.0.0.1:{port} is in use")),
        "{}",
        output.stdout
    );
}

#[test]
fn doctor_checks_the_registry_and_suggests_one_once() {
    if crate::support::docker::client().is_none() {
        return;
    }
    let test = Test::new()
        .file("ohdev.yaml", "cluster:\n  name: t\nimages:\n  app: {}\nmanifests: []\n")
        .file("Dockerfile", "FROM scratch\n")
        .arg("doctor");
    let first = test.run();
    assert!(
        first.stdout.contains("ok    registry           none: images reach kind with `kind load`"),
        "{}",
        first.stdout
    );
    assert!(first.stdout.contains("a local registry ships only the changed layers"), "{}", first.stdout);
    assert!(first.stdout.contains("registry:\n      host: localhost:5001"), "{}", first.stdout);
    let second = test.run();
    assert!(!second.stdout.contains("a local registry ships only the changed layers"), "said twice: {}", second.stdout);

    // With `registry:` on a port where nothing answers: ohdev up would start it.
    let port = crate::support::registry::free_port();
    test.write(
        "ohdev.yaml",
        &format!("cluster:\n  name: t\nimages: {{}}\nmanifests: []\nregistry:\n  host: localhost:{port}\n"),
    );
    let configured = test.run();
    assert!(
        configured.stdout.contains(&format!(
            "ok    registry           nothing answers at localhost:{port} yet: `ohdev up` starts ohdev-registry-{port}"
        )),
        "{}",
        configured.stdout
    );
}
