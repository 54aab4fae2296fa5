//! Image pulls as a real cluster shows them: a slow pull is progress ("pulling <image>" on the
//! object's line), then the workload is ready. The stand-in's `fake-kube/pulling` fixture keeps the
//! pod in ContainerCreating with a `Pulling` event for a number of polls.

use std::path::Path;

use crate::support::{docker, json_lines, Test};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/deploy");

/// The crash fixture, healthy, whose image the node pulls for `polls` polls.
fn slow_pull(polls: u32) -> String {
    let crash = std::fs::read_to_string(Path::new(FIXTURES).join("failures/crash.yaml")).expect("fixture");
    assert!(crash.contains("fake-kube/fail: CrashLoopBackOff"));
    crash.replace("fake-kube/fail: CrashLoopBackOff", &format!("fake-kube/pulling: \"{polls}\""))
}

#[test]
fn a_slow_pull_is_shown_as_pulling_then_the_workload_is_ready() {
    if docker::client().is_none() {
        return;
    }
    let test = Test::new()
        .file("ohdev.yaml", "cluster:\n  name: t\nnamespace: app\nimages: {}\nmanifests: [k8s]\n")
        .file("k8s/app.yaml", &slow_pull(9))
        .args(&["--json", "up"]);
    let output = test.expect(0);
    let events = json_lines(&output.stdout);
    let pulling: Vec<&str> = events
        .iter()
        .filter(|event| event["type"] == "progress" && event["id"] == "deploy")
        .filter_map(|event| event["text"].as_str())
        .filter(|text| text.contains("pulling"))
        .collect();
    assert!(!pulling.is_empty(), "no pulling progress: {}", output.stdout);
    assert!(
        pulling.iter().all(|text| text.contains("Deployment app/crash (pulling docker.io/library/busybox:1.36)")),
        "{pulling:?}"
    );
    assert!(!events.iter().any(|event| event["type"] == "diagnosis"), "a pull is not a failure: {}", output.stdout);
    let deploy = events.iter().rfind(|event| event["type"] == "step" && event["id"] == "deploy").expect("deploy step");
    assert_eq!(deploy["state"], "done", "{deploy}");
    // It was judged from the pods and their events, as on a real cluster.
    assert!(!test.calls_matching("get pods --namespace app --selector app=crash").is_empty());
    assert!(!test.calls_matching("get events --namespace app").is_empty());
}
