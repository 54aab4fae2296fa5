//! The test infrastructure for registries is real where it matters: the registry fixture is the
//! CNCF distribution registry answering its HTTP API, fake-kube's node containers are real Docker
//! containers on the `kind` network, and a pod's registry image is pulled only when the registry
//! has it and the node is wired (`hosts.toml`), like on a kind node.

use std::process::Command;

use serde_json::Value;

use crate::support::registry::{self, Containers};
use crate::support::{busybox, Test};

fn run(command: &mut Command) -> String {
    let output = command.output().expect("command runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn docker(args: &[&str]) -> String {
    run(Command::new("docker").args(args))
}

/// The first container's waiting reason of the deployment's pod after a few polls, or "ready".
fn pod_state(test: &Test, context: &str) -> String {
    let mut last = String::new();
    for _ in 0..12 {
        let pods: Value = serde_json::from_str(&run(test.tool("kubectl").args([
            "--context",
            context,
            "get",
            "pods",
            "-n",
            "default",
            "-l",
            "app=probe",
            "-o",
            "json",
        ])))
        .expect("pods json");
        let status = &pods["items"][0]["status"];
        if status["containerStatuses"][0]["ready"] == true {
            return "ready".to_string();
        }
        last = status["containerStatuses"][0]["state"]["waiting"]["reason"].as_str().unwrap_or("").to_string();
        if last == "ImagePullBackOff" {
            return last;
        }
    }
    last
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: probe, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: probe}}
  template:
    metadata: {labels: {app: probe}}
    spec:
      containers:
      - name: probe
        image: IMAGE
";

#[test]
fn registry_images_are_pulled_only_when_the_registry_has_them_and_the_node_is_wired() {
    let (Some(base), Some(node_image)) = (busybox::base_image(), registry::node_image()) else { return };
    let Some(_) = registry::registry_image() else { return };
    let suffix = crate::support::docker::unique();
    let cluster = format!("reg-{suffix}");
    let port = registry::free_port();
    let mut guard = Containers::default();
    let api = registry::start_registry(&format!("ohdev-test-registry-{suffix}"), port, &mut guard);
    assert!(api.catalog().is_empty(), "a new registry is empty");

    let test = Test::new().env("FAKE_KUBE_NODE_IMAGE", &node_image);
    let node = format!("{cluster}-control-plane");
    guard.add(&node);
    run(test.tool("kind").args(["create", "cluster", "--name", &cluster]));
    let inspect = docker(&["inspect", &node]);
    assert!(inspect.contains(&format!("\"io.x-k8s.kind.cluster\": \"{cluster}\"")), "{inspect}");
    assert!(inspect.contains("\"kind\""), "the node container is on the kind network: {inspect}");

    let context = format!("kind-{cluster}");
    let image = format!("localhost:{port}/probe:1");
    let manifest = DEPLOYMENT.replace("IMAGE", &image);
    let apply = |test: &Test| {
        let mut command = test.tool("kubectl");
        command.args(["--context", &context, "apply", "-f", "-"]).stdin(std::process::Stdio::piped());
        let mut child = command.stdout(std::process::Stdio::null()).spawn().expect("kubectl apply");
        use std::io::Write;
        child.stdin.take().expect("stdin").write_all(manifest.as_bytes()).expect("write manifest");
        assert!(child.wait().expect("apply").success());
    };
    apply(&test);
    assert_eq!(pod_state(&test, &context), "ImagePullBackOff", "the registry does not have the image yet");

    let pushed = format!("127.0.0.1:{port}/probe:1");
    docker(&["tag", &base, &pushed]);
    docker(&["push", &pushed]);
    docker(&["rmi", &pushed]);
    assert_eq!(api.tags("probe"), ["1"]);
    assert!(!api.layers("probe", "1").is_empty());
    assert_eq!(pod_state(&test, &context), "ImagePullBackOff", "the node has no hosts.toml for localhost:{port}");

    let dir = format!("/etc/containerd/certs.d/localhost:{port}");
    docker(&[
        "exec",
        &node,
        "sh",
        "-c",
        &format!("mkdir -p '{dir}' && echo '[host.\"http://r:5000\"]' > '{dir}/hosts.toml'"),
    ]);
    assert_eq!(pod_state(&test, &context), "ready");
    let images = docker(&["exec", &node, "crictl", "images", "-o", "json"]);
    let images: Value = serde_json::from_str(&images).expect("crictl json");
    assert_eq!(images["images"][0]["repoTags"][0], format!("localhost:{port}/probe:1"), "the pull shows in crictl");
    docker(&["exec", &node, "crictl", "rmi", &image]);
    assert!(docker(&["exec", &node, "cat", "/var/log/crictl.calls"]).contains(&format!("rmi {image}")));

    run(test.tool("kind").args(["delete", "cluster", "--name", &cluster]));
    let gone = Command::new("docker").args(["inspect", &node]).output().expect("docker inspect");
    assert!(!gone.status.success(), "kind delete removed the node container");
}
