//! The deploy phase end to end: `ohdev up` / `plan` / `down` on manifest sets from
//! tests/fixtures/deploy, with the kind/kubectl stand-ins on PATH. Orders are read back from the
//! stand-in's calls.jsonl (each `apply -f -` records the object it was given on stdin), results from
//! its state.json.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::ohdev_snapshot;
use crate::support::{docker, json_lines, Test};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/deploy");
const SECRET_VALUE: &str = "sk-SECRET-VALUE-123";
/// `printf sk-SECRET-VALUE-123 | base64`: how the value travels in the Secret's `data`.
const SECRET_VALUE_BASE64: &str = "c2stU0VDUkVULVZBTFVFLTEyMw==";
/// What the API server answers (server-side apply) while ingress-nginx's admission webhook has no endpoint.
const WEBHOOK_REFUSED: &str = "Error from server (InternalError): Internal error occurred: failed calling webhook \"validate.nginx.ingress.kubernetes.io\": failed to call webhook: Post \"https://ingress-nginx-controller-admission.ingress-nginx.svc:443/networking/v1/ingresses?timeout=10s\": dial tcp 10.96.1.2:443: connect: connection refused";

fn docker_or_skip() -> bool {
    docker::client().is_some()
}

fn ohdev_yaml(manifests: &str, keys: &str) -> String {
    format!("cluster:\n  name: t\nnamespace: app\nimages: {{}}\nmanifests: {manifests}\nsecrets:\n  app-secrets:\n    env_file: .env\n    keys: {keys}\n")
}

/// Copies every file of `tests/fixtures/deploy/<from>` to `<project>/<to>/<rename(file name)>`.
fn copy_fixtures(test: &Test, from: &str, to: &str, rename: impl Fn(&str) -> String) {
    let mut names: Vec<String> = std::fs::read_dir(Path::new(FIXTURES).join(from))
        .expect("fixture dir")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let text = std::fs::read_to_string(Path::new(FIXTURES).join(from).join(&name)).expect("fixture");
        test.write(&format!("{to}/{}", rename(&name)), &text);
    }
}

fn copy_fixture(test: &Test, from: &str, to: &str) {
    let text = std::fs::read_to_string(Path::new(FIXTURES).join(from)).expect("fixture");
    test.write(to, &text);
}

/// The shuffled set in `k8s/` under its own file names (`00-ingress.yaml` first), the `app-secrets`
/// Secret generated from `.env`.
fn shuffled_project() -> Test {
    let test = Test::new()
        .file("ohdev.yaml", &ohdev_yaml("[k8s]", "[API_KEY]"))
        .file(".env", &format!("# test value\nAPI_KEY={SECRET_VALUE}\n"));
    copy_fixtures(&test, "shuffled", "k8s", str::to_string);
    test
}

/// Every object of the shuffled set (16: 15 from files plus the generated Secret).
const SHUFFLED_OBJECTS: &[(&str, &str)] = &[
    ("Namespace", "app"),
    ("Namespace", "ingress-nginx"),
    ("CustomResourceDefinition", "widgets.example.com"),
    ("Widget", "blue"),
    ("ValidatingWebhookConfiguration", "ingress-nginx-admission"),
    ("Deployment", "ingress-nginx-controller"),
    ("Service", "ingress-nginx-controller-admission"),
    ("Ingress", "web"),
    ("Role", "web-reader"),
    ("RoleBinding", "web-reader"),
    ("ConfigMap", "web-config"),
    ("Secret", "app-secrets"),
    ("PersistentVolumeClaim", "web-data"),
    ("Deployment", "web"),
    ("Service", "web"),
    ("HorizontalPodAutoscaler", "web"),
];

/// One line of the stand-in's calls.jsonl, with the stdin the support harness does not keep.
#[derive(Debug, Clone)]
struct Recorded {
    tool: String,
    argv: Vec<String>,
    stdin: Option<String>,
}

impl Recorded {
    fn line(&self) -> String {
        format!("{} {}", self.tool, self.argv.join(" "))
    }

    fn is_apply(&self) -> bool {
        self.tool == "kubectl" && self.argv.iter().any(|arg| arg == "apply")
    }

    /// (kind, name) of the object an `apply -f -` was given.
    fn applied(&self) -> Option<(String, String)> {
        if !self.is_apply() {
            return None;
        }
        let object: Value = serde_json::from_str(self.stdin.as_deref()?).ok()?;
        Some((object["kind"].as_str()?.to_string(), object["metadata"]["name"].as_str()?.to_string()))
    }

    fn is_get_of(&self, resource: &str, name: &str) -> bool {
        self.tool == "kubectl"
            && self.argv.iter().any(|arg| arg == "get")
            && self.argv.iter().any(|arg| arg == resource)
            && self.argv.iter().any(|arg| arg == name)
    }
}

fn recorded(test: &Test) -> Vec<Recorded> {
    let Ok(text) = std::fs::read_to_string(test.state_dir().join("calls.jsonl")) else {
        return Vec::new();
    };
    text.lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("calls.jsonl line is JSON"))
        .map(|value| Recorded {
            tool: value["tool"].as_str().unwrap_or_default().to_string(),
            argv: value["argv"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|arg| arg.as_str().map(str::to_string))
                .collect(),
            stdin: value["stdin"].as_str().map(str::to_string),
        })
        .collect()
}

fn apply_count(test: &Test) -> usize {
    recorded(test).iter().filter(|call| call.is_apply()).count()
}

/// Positions (in all calls) of the applies of `kind/name`.
fn applies_of(calls: &[Recorded], kind: &str, name: &str) -> Vec<usize> {
    calls
        .iter()
        .enumerate()
        .filter(|(_, call)| call.applied().is_some_and(|(k, n)| k == kind && n == name))
        .map(|(position, _)| position)
        .collect()
}

#[track_caller]
fn assert_applied_before(calls: &[Recorded], first: (&str, &str), then: (&str, &str)) {
    let before = applies_of(calls, first.0, first.1);
    let after = applies_of(calls, then.0, then.1);
    assert!(!before.is_empty(), "{}/{} was never applied", first.0, first.1);
    assert!(!after.is_empty(), "{}/{} was never applied", then.0, then.1);
    assert!(
        before.iter().max() < after.iter().min(),
        "{}/{} (apply call #{before:?}) must be applied before {}/{} (#{after:?})",
        first.0,
        first.1,
        then.0,
        then.1
    );
}

/// Objects the stand-in holds for cluster `t`: (kind, namespace, name) → stored body.
fn stored(test: &Test) -> Vec<(String, String, String, Value)> {
    let text = std::fs::read_to_string(test.state_dir().join("state.json")).expect("stand-in state.json");
    let state: Value = serde_json::from_str(&text).expect("state.json is JSON");
    state["clusters"]["t"]["objects"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|object| {
            (
                object["kind"].as_str().unwrap_or_default().to_string(),
                object["namespace"].as_str().unwrap_or_default().to_string(),
                object["name"].as_str().unwrap_or_default().to_string(),
                object["body"].clone(),
            )
        })
        .collect()
}

fn stored_by_ohdev(test: &Test, kind: &str, name: &str) -> bool {
    stored(test)
        .iter()
        .any(|(k, _, n, body)| k == kind && n == name && body["metadata"]["managedFields"][0]["manager"] == "ohdev")
}

// ---------------------------------------------------------------------------------------- 1. order

#[test]
fn up_applies_a_shuffled_set_in_dependency_order() {
    if !docker_or_skip() {
        return;
    }
    let test = shuffled_project().arg("up");
    let output = test.expect(0);
    assert!(output.stdout.contains("environment is ready"), "{}", output.stdout);
    let calls = recorded(&test);

    // Each object applied exactly once: the stand-in rejected nothing (a rejection would have been
    // retried or failed the run), and every object is stored with ohdev as field manager.
    let applied: Vec<(String, String)> = calls.iter().filter_map(Recorded::applied).collect();
    assert_eq!(applied.len(), SHUFFLED_OBJECTS.len(), "{applied:?}");
    let distinct: BTreeSet<(String, String)> = applied.iter().cloned().collect();
    let expected: BTreeSet<(String, String)> =
        SHUFFLED_OBJECTS.iter().map(|(k, n)| (k.to_string(), n.to_string())).collect();
    assert_eq!(distinct, expected);
    for (kind, name) in SHUFFLED_OBJECTS {
        assert!(stored_by_ohdev(&test, kind, name), "{kind}/{name} is not in the cluster as applied by ohdev");
    }
    for call in calls.iter().filter(|call| call.is_apply()) {
        assert!(
            call.argv.iter().any(|arg| arg == "--server-side")
                && call.argv.iter().any(|arg| arg == "--field-manager=ohdev"),
            "{}",
            call.line()
        );
    }

    // Namespaces before what lives in them.
    for (kind, name) in SHUFFLED_OBJECTS.iter().filter(|(kind, name)| {
        !matches!(*kind, "Namespace" | "CustomResourceDefinition" | "ValidatingWebhookConfiguration")
            && !name.starts_with("ingress-nginx")
    }) {
        assert_applied_before(&calls, ("Namespace", "app"), (kind, name));
    }
    assert_applied_before(&calls, ("Namespace", "ingress-nginx"), ("Deployment", "ingress-nginx-controller"));
    assert_applied_before(&calls, ("Namespace", "ingress-nginx"), ("Service", "ingress-nginx-controller-admission"));
    // The CRD before its custom resource (which sorts first by file name), and read back Established
    // in between.
    assert_applied_before(&calls, ("CustomResourceDefinition", "widgets.example.com"), ("Widget", "blue"));
    let crd = applies_of(&calls, "CustomResourceDefinition", "widgets.example.com")[0];
    let widget = applies_of(&calls, "Widget", "blue")[0];
    assert!(
        calls[crd..widget]
            .iter()
            .any(|call| call.is_get_of("customresourcedefinitions.v1.apiextensions.k8s.io", "widgets.example.com")),
        "the CRD was not read back before its custom resource was applied"
    );
    // RBAC, and what the Deployment mounts or reads.
    assert_applied_before(&calls, ("Role", "web-reader"), ("RoleBinding", "web-reader"));
    for dependency in [("ConfigMap", "web-config"), ("Secret", "app-secrets"), ("PersistentVolumeClaim", "web-data")] {
        assert_applied_before(&calls, dependency, ("Deployment", "web"));
    }
    // The Ingress waits for the admission webhook's Service and controller, and for the controller to
    // be ready: the stand-in reports a Deployment Available once its rollout time has passed, and
    // refuses an Ingress before that (so the single Ingress apply above was accepted on the first
    // try, and the controller was read back in between).
    assert_applied_before(&calls, ("Service", "ingress-nginx-controller-admission"), ("Ingress", "web"));
    assert_applied_before(&calls, ("Deployment", "ingress-nginx-controller"), ("Ingress", "web"));
    let controller = applies_of(&calls, "Deployment", "ingress-nginx-controller")[0];
    let ingress = applies_of(&calls, "Ingress", "web")[0];
    let polls = calls[controller..ingress]
        .iter()
        .filter(|call| call.is_get_of("deployments.v1.apps", "ingress-nginx-controller"))
        .count();
    assert!(polls >= 1, "the Ingress was applied without reading the controller back");
    assert!(output.stdout.contains("applied Ingress app/web"), "{}", output.stdout);
    assert!(!output.stdout.contains("waiting to apply"), "nothing should have needed a retry:\n{}", output.stdout);
}

#[test]
fn up_retries_an_ingress_while_the_admission_webhook_refuses_it() {
    if !docker_or_skip() {
        return;
    }
    // The Ingress is the last object applied (it waits for the controller's rollout, which the
    // stand-in makes take 2 s here: longer than every other object's applies together), so the 16th
    // and 17th applies are Ingress tries: both get the webhook's refusal, as while the controller's
    // endpoint is not serving yet.
    let test = shuffled_project()
        .env("FAKE_KUBE_ROLLOUT_MS", "2000")
        .env("FAKE_KUBE_FAIL", &format!("apply=>1:{WEBHOOK_REFUSED}"))
        .env("FAKE_KUBE_FAIL_AFTER", &(SHUFFLED_OBJECTS.len() - 1).to_string())
        .env("FAKE_KUBE_FAIL_TIMES", "2")
        .arg("up");
    let output = test.expect(0);
    let calls = recorded(&test);
    let applied: Vec<(String, String)> = calls.iter().filter_map(Recorded::applied).collect();
    assert_eq!(applied.len(), SHUFFLED_OBJECTS.len() + 2, "{applied:?}");
    let ingress = ("Ingress".to_string(), "web".to_string());
    assert_eq!(
        applied[SHUFFLED_OBJECTS.len() - 1..],
        [ingress.clone(), ingress.clone(), ingress],
        "the refused applies were not Ingress tries: {applied:?}"
    );
    assert!(output.stdout.contains("waiting to apply Ingress app/web"), "{}", output.stdout);
    assert!(
        output.stdout.contains("failed calling webhook \"validate.nginx.ingress.kubernetes.io\""),
        "{}",
        output.stdout
    );
    assert!(output.stdout.contains("applied Ingress app/web"), "{}", output.stdout);
    assert!(stored_by_ohdev(&test, "Ingress", "web"), "the Ingress is not in the cluster after the retries");
}

// ----------------------------------------------------------------------------------------- 2. plan

#[test]
fn plan_is_the_same_for_any_file_order_and_needs_no_cluster_nor_docker() {
    let mut first = shuffled_project()
        .env("DOCKER_HOST", "unix:///nonexistent/ohdev-test/docker.sock")
        .without_tool("kind")
        .without_tool("kubectl");
    // Second shuffle: file numbers reversed, spread over two nested directories, the CRD's file
    // renamed to sort first.
    let mut second = Test::new()
        .env("DOCKER_HOST", "unix:///nonexistent/ohdev-test/docker.sock")
        .without_tool("kind")
        .without_tool("kubectl")
        .file("ohdev.yaml", &ohdev_yaml("[manifests]", "[API_KEY]"))
        .file(".env", &format!("API_KEY={SECRET_VALUE}\n"));
    copy_fixtures(&second, "shuffled", "manifests", |name| {
        let number: u32 = name[..2].parse().expect("numbered fixture");
        let rest = &name[3..];
        if rest == "crd.yaml" {
            return "a/000-crd.yaml".to_string();
        }
        format!("{}/{:03}-{rest}", if number % 2 == 0 { "b" } else { "a/deeper" }, 99 - number)
    });

    let mut texts = Vec::new();
    let mut jsons = Vec::new();
    for test in [&mut first, &mut second] {
        test.set_args(&["plan"]);
        texts.push(test.expect(0).stdout);
        test.set_args(&["plan", "--json"]);
        jsons.push(test.expect(0).stdout);
        test.set_args(&["--json", "plan"]);
        let global = test.expect(0).stdout;
        assert_eq!(&global, jsons.last().unwrap(), "`--json plan` and `plan --json` differ");
        assert!(test.calls().is_empty(), "plan called kind or kubectl: {:?}", test.calls());
    }
    assert_eq!(texts[0], texts[1], "the plan depends on file names");
    assert_eq!(jsons[0], jsons[1], "the JSON plan depends on file names");

    let lines = json_lines(&jsons[0]);
    assert_eq!(lines.len(), SHUFFLED_OBJECTS.len(), "{}", jsons[0]);
    for line in &lines {
        for key in ["level", "kind", "namespace", "name", "after"] {
            assert!(line.get(key).is_some(), "no `{key}` in {line}");
        }
        assert!(line["level"].is_u64() && line["after"].is_array(), "{line}");
    }
    let find = |kind: &str, name: &str| {
        lines
            .iter()
            .find(|line| line["kind"] == kind && line["name"] == name)
            .unwrap_or_else(|| panic!("{kind}/{name} not in the plan"))
    };
    let after = |kind: &str, name: &str| -> Vec<(String, String, Vec<String>)> {
        find(kind, name)["after"]
            .as_array()
            .unwrap()
            .iter()
            .map(|dependency| {
                (
                    dependency["kind"].as_str().unwrap().to_string(),
                    dependency["name"].as_str().unwrap().to_string(),
                    dependency["why"].as_array().unwrap().iter().map(|why| why.as_str().unwrap().to_string()).collect(),
                )
            })
            .collect()
    };
    for (kind, name) in [
        ("Namespace", "app"),
        ("Namespace", "ingress-nginx"),
        ("CustomResourceDefinition", "widgets.example.com"),
        ("ValidatingWebhookConfiguration", "ingress-nginx-admission"),
    ] {
        assert_eq!(find(kind, name)["level"], 0, "{kind}/{name}");
        assert_eq!(find(kind, name)["namespace"], Value::Null, "{kind}/{name} is cluster-scoped");
    }
    assert_eq!(find("Secret", "app-secrets")["namespace"], "app");
    assert_eq!(find("Widget", "blue")["level"], 1);
    assert!(after("Widget", "blue").contains(&(
        "CustomResourceDefinition".into(),
        "widgets.example.com".into(),
        vec!["crd".into()]
    )));
    assert_eq!(find("RoleBinding", "web-reader")["level"], 2);
    assert!(after("RoleBinding", "web-reader").contains(&("Role".into(), "web-reader".into(), vec!["role".into()])));
    assert_eq!(find("Deployment", "web")["level"], 2);
    let web = after("Deployment", "web");
    for (kind, name, why) in [
        ("ConfigMap", "web-config", "config map"),
        ("Secret", "app-secrets", "secret"),
        ("PersistentVolumeClaim", "web-data", "pvc"),
    ] {
        assert!(
            web.contains(&(kind.into(), name.into(), vec![why.into()])),
            "Deployment/web does not wait for {kind}/{name}: {web:?}"
        );
    }
    assert_eq!(find("Ingress", "web")["level"], 2);
    let webhook = vec!["admission webhook validate.nginx.ingress.kubernetes.io".to_string()];
    let ingress = after("Ingress", "web");
    assert!(
        ingress.contains(&("Deployment".into(), "ingress-nginx-controller".into(), webhook.clone())),
        "{ingress:?}"
    );
    assert!(ingress.contains(&("Service".into(), "ingress-nginx-controller-admission".into(), webhook)), "{ingress:?}");
    let levels: Vec<u64> = lines.iter().map(|line| line["level"].as_u64().unwrap()).collect();
    assert!(levels.windows(2).all(|pair| pair[0] <= pair[1]), "lines are not in level order: {levels:?}");

    assert!(texts[0].starts_with("level 0\n"), "{}", texts[0]);
    assert!(texts[0].contains("level 2\n"), "{}", texts[0]);
    assert!(texts[0].contains("Ingress app/web"), "{}", texts[0]);
    assert!(
        !texts[0].contains(SECRET_VALUE) && !jsons[0].contains(SECRET_VALUE) && !jsons[0].contains(SECRET_VALUE_BASE64)
    );
}

// ------------------------------------------------------------------------------------- 3. failures

#[test]
fn image_never_loaded_ends_with_the_err_image_never_pull_screen() {
    if !docker_or_skip() {
        return;
    }
    let mut test = app_project().arg("up");
    copy_fixture(&test, "failures/ghost.yaml", "k8s/ghost.yaml");
    let output = test.expect(1);
    let screen = output
        .stdout
        .split("── diagnosis ──")
        .nth(1)
        .unwrap_or_else(|| panic!("no diagnosis screen:\n{}", output.stdout));
    assert!(screen.contains("Deployment app/ghost is not ready: ErrImageNeverPull"), "{screen}");
    assert!(screen.contains("  pod:        ghost-"), "{screen}");
    assert!(screen.contains("  container:  ghost"), "{screen}");
    assert!(
        screen.contains(
            "Container image \"ohdev.local/ghost:1234567890abcdef\" is not present with pull policy of Never"
        ),
        "{screen}"
    );
    // The hint names the image and the command that puts it on the node.
    let hint = screen
        .lines()
        .find(|line| line.trim_start().starts_with("hint:"))
        .unwrap_or_else(|| panic!("no hint: {screen}"));
    assert!(hint.contains("image ohdev.local/ghost:1234567890abcdef is not in the cluster"), "{hint}");
    assert!(hint.contains("`ohdev rebuild ghost`") || hint.contains("`ohdev build ghost`"), "{hint}");
    assert!(output.stderr.contains("Deployment app/ghost is not ready: ErrImageNeverPull"), "{}", output.stderr);
    // The screen was built from the pods and the namespace's events.
    assert!(!test.calls_matching("get pods --namespace app --selector app=ghost").is_empty(), "{:?}", test.calls());
    assert!(!test.calls_matching("get events --namespace app").is_empty(), "{:?}", test.calls());
    assert!(screen.contains("ErrImageNeverPull  Pod/ghost-"), "the events are not on the screen: {screen}");
    ohdev_snapshot!("err_image_never_pull", output);

    // The same failure as JSON: one diagnosis event with reason, hint and the screen.
    test.set_args(&["--json", "up"]);
    let output = test.expect(1);
    let events = json_lines(&output.stdout);
    let diagnosis = events
        .iter()
        .find(|event| event["type"] == "diagnosis")
        .unwrap_or_else(|| panic!("no diagnosis event: {}", output.stdout));
    assert_eq!(diagnosis["reason"], "ErrImageNeverPull");
    assert_eq!(diagnosis["object"], "Deployment app/ghost");
    assert!(
        diagnosis["hint"].as_str().unwrap_or_default().contains("ohdev.local/ghost:1234567890abcdef"),
        "{diagnosis}"
    );
    ohdev_snapshot!("err_image_never_pull_json", output);
}

/// `ohdev.yaml` for manifests in `k8s/` whose objects default to namespace `app`.
fn app_project() -> Test {
    Test::new().file("ohdev.yaml", "cluster:\n  name: t\nnamespace: app\nimages: {}\nmanifests: [k8s]\n")
}

/// The crash fixture with its `fake-kube/fail` annotation set to `fault`.
fn failing_workload(fault: &str) -> String {
    let crash = std::fs::read_to_string(Path::new(FIXTURES).join("failures/crash.yaml")).unwrap();
    assert!(crash.contains("fake-kube/fail: CrashLoopBackOff"));
    crash.replace("fake-kube/fail: CrashLoopBackOff", &format!("fake-kube/fail: {fault}"))
}

#[test]
fn each_pod_failure_has_a_screen_with_its_reason_and_fix() {
    if !docker_or_skip() {
        return;
    }
    let cases = [
        (
            "OOMKilled",
            "the container exited with code 137 (OOMKilled)",
            "the container ran out of memory: set or raise resources.limits.memory",
        ),
        (
            "Unschedulable",
            "0/1 nodes are available: 1 Insufficient memory.",
            "the nodes lack CPU or memory for the pod's requests",
        ),
        (
            "ImagePullBackOff",
            "Back-off pulling image \"docker.io/library/busybox:1.36\"",
            "the node cannot pull docker.io/library/busybox:1.36",
        ),
        (
            "CreateContainerConfigError",
            "secret \"fake-kube-missing\" not found",
            "Secret fake-kube-missing does not exist: add it under `secrets:`",
        ),
    ];
    for (fault, message, hint) in cases {
        let test = app_project().file("k8s/app.yaml", &failing_workload(fault)).arg("up");
        let output = test.expect(1);
        let screen = output
            .stdout
            .split("── diagnosis ──")
            .nth(1)
            .unwrap_or_else(|| panic!("{fault}: no diagnosis screen:\n{}", output.stdout));
        assert!(screen.contains(&format!("Deployment app/crash is not ready: {fault}")), "{screen}");
        assert!(screen.contains(&format!("  message:    {message}")), "{screen}");
        assert!(screen.contains(&format!("  hint: {hint}")), "{screen}");
        assert!(
            output.stderr.contains(&format!("error: Deployment app/crash is not ready: {fault}\n  next: {hint}")),
            "{}",
            output.stderr
        );
        ohdev_snapshot!(name = fault, output);
    }
}

#[test]
fn rollout_timeout_names_what_is_still_waiting() {
    if !docker_or_skip() {
        return;
    }
    // A healthy Deployment in a namespace kind creates, whose rollout takes an hour (the stand-in's
    // pace), given no time at all: one poll, not ready, its pod still being created.
    let healthy_in_default =
        healthy(&std::fs::read_to_string(Path::new(FIXTURES).join("failures/crash.yaml")).unwrap())
            .split("---\n")
            .nth(1)
            .expect("the Deployment document")
            .replace("namespace: app", "namespace: default");
    let test = Test::new()
        .file("ohdev.yaml", "cluster:\n  name: t\nimages: {}\nmanifests: [k8s]\n")
        .file("k8s/app.yaml", &healthy_in_default)
        .env("FAKE_KUBE_ROLLOUT_MS", "3600000")
        .args(&["up", "--timeout", "1ms"]);
    let output = test.expect(1);
    assert!(output.stdout.contains("Deployment default/crash is not ready: ContainerCreating"), "{}", output.stdout);
    assert!(output.stderr.contains("not ready after 1 ms: Deployment default/crash"), "{}", output.stderr);
    assert!(output.stderr.contains("ohdev up --timeout 10m"), "{}", output.stderr);
    ohdev_snapshot!(output);
}

#[test]
fn readiness_is_read_fast_first_then_backing_off_never_hammering() {
    if !docker_or_skip() {
        return;
    }
    // A rollout of known length (the stand-in's pace: 3 s, however often it is read). ohdev reads
    // the Deployment right after its apply, then after waits growing by half from 50 ms up to
    // 500 ms (src/deploy/rollout/cadence.rs): 11 reads if each took no time, fewer on a slow
    // machine. A fixed 50 ms interval would read it 60 times; with the pods and events a diagnosis
    // reads every 4th read, that is the whole of the wait's traffic.
    let test = healthy_app().env("FAKE_KUBE_ROLLOUT_MS", "3000").args(&["up"]);
    test.expect(0);
    let calls = recorded(&test);
    let apply = applies_of(&calls, "Deployment", "crash")[0];
    let wait = &calls[apply..];
    let reads = wait.iter().filter(|call| call.is_get_of("deployments.v1.apps", "crash")).count();
    assert!((2..=12).contains(&reads), "{reads} reads of a Deployment whose rollout takes 3 s");
    let gets = wait.iter().filter(|call| call.tool == "kubectl" && call.argv.iter().any(|arg| arg == "get")).count();
    assert!(gets <= 17, "{gets} kubectl get calls while waiting 3 s for one Deployment");
}

#[test]
fn the_default_namespace_is_created_when_no_manifest_creates_it() {
    if !docker_or_skip() {
        return;
    }
    // The Deployment alone, in the configured default namespace `app`, which no manifest creates:
    // ohdev adds it to the plan (like `helm --create-namespace`) and applies it first.
    let deployment =
        healthy(&failing_workload("CrashLoopBackOff")).split("---\n").nth(1).expect("the Deployment").to_string();
    let mut test = app_project().file("k8s/app.yaml", &deployment).arg("plan");
    let plan = test.expect(0);
    assert!(plan.stdout.contains("level 0\n  Namespace/app\n"), "{}", plan.stdout);
    assert!(plan.stdout.contains("Deployment app/crash  after Namespace/app (namespace)"), "{}", plan.stdout);
    test.set_args(&["up"]);
    test.expect(0);
    assert!(stored_by_ohdev(&test, "Namespace", "app"));
    let namespace =
        stored(&test).into_iter().find(|(kind, _, name, _)| kind == "Namespace" && name == "app").unwrap().3;
    assert_eq!(namespace["metadata"]["labels"]["app.kubernetes.io/managed-by"], "ohdev", "{namespace}");
    // …and `down --keep-cluster` removes it with what it holds.
    test.set_args(&["down", "--keep-cluster"]);
    let down = test.expect(0);
    assert!(down.stdout.contains("deleted 2 object(s)"), "{}", down.stdout);
}

#[test]
fn another_namespace_that_nothing_creates_is_exit_2_before_anything_changes() {
    if !docker_or_skip() {
        return;
    }
    let deployment = failing_workload("CrashLoopBackOff")
        .split("---\n")
        .nth(1)
        .expect("the Deployment document")
        .replace("namespace: app", "namespace: elsewhere");
    let test = app_project().file("k8s/app.yaml", &deployment).arg("up");
    let output = test.expect(2);
    assert!(
        output.stderr.contains("namespace `elsewhere` is used by Deployment elsewhere/crash ([PROJECT]/k8s/app.yaml:")
            || output.stderr.contains(&format!(
                "namespace `elsewhere` is used by Deployment elsewhere/crash ({}/k8s/app.yaml:",
                test.project().display()
            )),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains("add a Namespace object named `elsewhere`"), "{}", output.stderr);
    assert!(test.calls().is_empty(), "validation called kind or kubectl: {:?}", test.calls());
    ohdev_snapshot!(output);
}

#[test]
fn an_apply_kubectl_refuses_is_exit_1_with_its_error() {
    if !docker_or_skip() {
        return;
    }
    // One object per level (the Namespace, then the Deployment), so which apply fails first is fixed.
    let crash = std::fs::read_to_string(Path::new(FIXTURES).join("failures/crash.yaml")).unwrap();
    let refusal = "error: You must be logged in to the server (Unauthorized)";
    let test = app_project()
        .file("k8s/app.yaml", &healthy(&crash))
        .env("FAKE_KUBE_FAIL", &format!("apply=>1:{refusal}"))
        .arg("up");
    let output = test.expect(1);
    assert!(output.stderr.contains(refusal), "{}", output.stderr);
    assert!(output.stderr.contains("apply --server-side --field-manager=ohdev"), "{}", output.stderr);
    assert!(output.stderr.contains("applying Namespace/app from"), "{}", output.stderr);
    assert_eq!(
        test.calls_matching(" apply ").len(),
        1,
        "applied on after a refusal: {:?}",
        test.calls_matching(" apply ")
    );
    ohdev_snapshot!(output);
}

#[test]
fn crash_loop_screen_shows_the_containers_last_log_lines() {
    if !docker_or_skip() {
        return;
    }
    let test = app_project().arg("up");
    copy_fixture(&test, "failures/crash.yaml", "k8s/crash.yaml");
    let first = test.expect(1);
    assert!(first.stdout.contains("Deployment app/crash is not ready: CrashLoopBackOff"), "{}", first.stdout);
    // Pod names are derived from the pod template; an unchanged template keeps them, so the log
    // file written now belongs to the pod the next run diagnoses.
    let pod = first
        .stdout
        .lines()
        .find_map(|line| line.trim_start().strip_prefix("pod:"))
        .map(|pod| pod.trim().to_string())
        .unwrap_or_else(|| panic!("no pod on the screen:\n{}", first.stdout));
    assert!(pod.starts_with("crash-"), "{pod}");
    let log: String = (1..=25).map(|line| format!("crash-log-line-{line:02}\n")).collect();
    let log_file = test.state_dir().join(format!("logs/app/{pod}/main.log"));
    std::fs::create_dir_all(log_file.parent().unwrap()).unwrap();
    std::fs::write(&log_file, format!("{log}panic: cannot open /etc/crash.toml\n")).unwrap();

    let second = test.expect(1);
    let screen = second
        .stdout
        .split("── diagnosis ──")
        .nth(1)
        .unwrap_or_else(|| panic!("no diagnosis screen:\n{}", second.stdout));
    assert!(screen.contains("Deployment app/crash is not ready: CrashLoopBackOff"), "{screen}");
    assert!(screen.contains(&format!("  pod:        {pod}")), "{screen}");
    assert!(screen.contains("  container:  main"), "{screen}");
    assert!(screen.contains("the container exited with code 1"), "{screen}");
    assert!(screen.contains("BackOff  Pod/crash-"), "{screen}");
    let logs =
        screen.split("  last log lines:\n").nth(1).unwrap_or_else(|| panic!("no log lines on the screen:\n{screen}"));
    assert!(logs.contains("    panic: cannot open /etc/crash.toml"), "{logs}");
    assert!(logs.contains("    crash-log-line-25"), "{logs}");
    assert!(logs.contains("    crash-log-line-07"), "{logs}");
    assert!(!logs.contains("crash-log-line-06"), "more than the last 20 lines: {logs}");
    assert!(screen.contains("hint: the container keeps exiting"), "{screen}");
    let logs_calls = test.calls_matching(&format!("logs {pod} --container main --namespace app"));
    assert!(!logs_calls.is_empty(), "{:?}", test.calls());
    assert!(second.stderr.contains("CrashLoopBackOff"), "{}", second.stderr);
    ohdev_snapshot!(second);
}

/// Input errors end `up` (and `plan`) with exit 2 before any kind or kubectl call.
/// `name` names the two snapshots (`up`, then `plan`).
#[track_caller]
fn assert_input_error(test: &mut Test, name: &str, expected: &[&str]) {
    test.set_args(&["up"]);
    let output = test.expect(2);
    for text in expected {
        assert!(output.stderr.contains(text), "`{text}` not in:\n{}", output.stderr);
    }
    assert!(output.stderr.contains("nothing was applied"), "{}", output.stderr);
    assert!(test.calls().is_empty(), "kind or kubectl was called: {:?}", test.calls());
    ohdev_snapshot!(name = name, output);
    test.set_args(&["plan"]);
    let plan = test.expect(2);
    for text in expected {
        assert!(plan.stderr.contains(text), "plan: `{text}` not in:\n{}", plan.stderr);
    }
    assert!(test.calls().is_empty());
    ohdev_snapshot!(name = format!("{name}_plan"), plan);
}

fn invalid_project(files: &[&str]) -> Test {
    let test = Test::new()
        .file("ohdev.yaml", &ohdev_yaml("[k8s]", "[API_KEY]"))
        .file(".env", &format!("API_KEY={SECRET_VALUE}\n"));
    copy_fixture(&test, "invalid/namespace.yaml", "k8s/namespace.yaml");
    for file in files {
        copy_fixture(&test, &format!("invalid/{file}"), &format!("k8s/{file}"));
    }
    test
}

#[test]
fn invalid_yaml_is_exit_2_and_nothing_is_applied() {
    let mut test = invalid_project(&["bad-yaml.yaml"]);
    assert_input_error(&mut test, "invalid_yaml", &["bad-yaml.yaml", "invalid YAML"]);
}

#[test]
fn duplicate_object_is_exit_2_naming_both_files() {
    // duplicate-b.yaml names no namespace: the default `app` makes it the same object.
    let mut test = invalid_project(&["duplicate-a.yaml", "duplicate-b.yaml"]);
    assert_input_error(
        &mut test,
        "duplicate_object",
        &["ConfigMap app/twice is defined twice", "duplicate-a.yaml", "duplicate-b.yaml"],
    );
}

#[test]
fn dependency_cycle_is_exit_2_naming_the_cycle() {
    let mut test = invalid_project(&["cycle.yaml"]);
    assert_input_error(
        &mut test,
        "dependency_cycle",
        &["dependency cycle", "ConfigMap app/chicken", "ConfigMap app/egg", "depends-on annotation", "cycle.yaml"],
    );
}

#[test]
fn missing_secret_key_is_exit_2_without_the_other_values() {
    let mut test = invalid_project(&[]);
    test.write("ohdev.yaml", &ohdev_yaml("[k8s]", "[API_KEY, OTHER_KEY]"));
    assert_input_error(
        &mut test,
        "missing_secret_key",
        &["secrets.app-secrets", "key OTHER_KEY is set neither in", ".env"],
    );
    test.set_args(&["--json", "up"]);
    let output = test.expect(2);
    for text in [&output.stdout, &output.stderr] {
        assert!(!text.contains(SECRET_VALUE) && !text.contains(SECRET_VALUE_BASE64), "a secret value leaked:\n{text}");
    }
    assert!(test.calls().is_empty());
    ohdev_snapshot!("missing_secret_key_json", output);
}

#[test]
fn a_broken_edit_to_a_running_environment_applies_nothing() {
    if !docker_or_skip() {
        return;
    }
    let test = shuffled_project().arg("up");
    test.expect(0);
    let calls = recorded(&test).len();
    // Each breakage sits next to 15 valid objects: none of them may be applied either.
    for (files, expected) in [
        (&["bad-yaml.yaml"][..], "invalid YAML"),
        (&["duplicate-a.yaml", "duplicate-b.yaml"][..], "is defined twice"),
        (&["cycle.yaml"][..], "dependency cycle"),
    ] {
        for file in files {
            copy_fixture(&test, &format!("invalid/{file}"), &format!("k8s/zz-{file}"));
        }
        let output = test.expect(2);
        assert!(output.stderr.contains(expected), "{}", output.stderr);
        assert_eq!(recorded(&test).len(), calls, "a call was made after `{expected}`: {:?}", &recorded(&test)[calls..]);
        ohdev_snapshot!(output);
        for file in files {
            std::fs::remove_file(test.project().join(format!("k8s/zz-{file}"))).unwrap();
        }
    }
    test.write("ohdev.yaml", &ohdev_yaml("[k8s]", "[API_KEY, OTHER_KEY]"));
    let output = test.expect(2);
    assert!(output.stderr.contains("key OTHER_KEY is set neither in"), "{}", output.stderr);
    assert_eq!(recorded(&test).len(), calls);
    ohdev_snapshot!(output);
}

// -------------------------------------------------------------------------------------- 4. secrets

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return files };
    for entry in entries {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn secret_values_appear_in_no_output_nor_state() {
    if !docker_or_skip() {
        return;
    }
    let mut test = shuffled_project();
    let mut outputs = Vec::new();
    for args in [&["up"][..], &["--json", "up"], &["status"], &["--json", "status"], &["plan"]] {
        test.set_args(args);
        let output = test.expect(0);
        outputs.push((args.join(" "), output.stdout, output.stderr));
    }
    // The value did reach the cluster (else this test proves nothing): the stand-in holds it, encoded.
    let secret = stored(&test)
        .into_iter()
        .find(|(kind, _, name, _)| kind == "Secret" && name == "app-secrets")
        .expect("Secret app-secrets applied");
    assert_eq!(secret.3["data"]["API_KEY"], SECRET_VALUE_BASE64);
    for (args, stdout, stderr) in &outputs {
        for (stream, text) in [("stdout", stdout), ("stderr", stderr)] {
            assert!(!text.contains(SECRET_VALUE), "`ohdev {args}` printed the secret value on {stream}:\n{text}");
            assert!(
                !text.contains(SECRET_VALUE_BASE64),
                "`ohdev {args}` printed the encoded secret on {stream}:\n{text}"
            );
        }
    }
    let state = files_under(&test.project().join(".ohdev"));
    assert!(!state.is_empty(), "no .ohdev state written");
    for file in state {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(SECRET_VALUE) && !text.contains(SECRET_VALUE_BASE64),
            "{} holds the secret value",
            file.display()
        );
    }

    // A failing render (another key missing) names the missing key only.
    test.write("ohdev.yaml", &ohdev_yaml("[k8s]", "[API_KEY, OTHER_KEY]"));
    test.set_args(&["up"]);
    let failed = test.expect(2);
    assert!(failed.stderr.contains("OTHER_KEY"), "{}", failed.stderr);
    for text in [&failed.stdout, &failed.stderr] {
        assert!(!text.contains(SECRET_VALUE) && !text.contains(SECRET_VALUE_BASE64), "{text}");
    }
    ohdev_snapshot!(failed);
}

// ---------------------------------------------------------------------------- 5. down and orphans

#[test]
fn down_keep_cluster_deletes_in_reverse_dependency_order() {
    if !docker_or_skip() {
        return;
    }
    let mut test = shuffled_project().arg("up");
    test.expect(0);
    let before = recorded(&test).len();
    test.set_args(&["down", "--keep-cluster"]);
    let output = test.expect(0);
    assert!(output.stdout.contains("deleted 16 object(s); the cluster keeps running"), "{}", output.stdout);
    let calls = recorded(&test)[before..].to_vec();
    assert!(
        calls.iter().all(|call| !(call.tool == "kind" && call.argv.starts_with(&["delete".to_string()]))),
        "kind delete was called: {calls:?}"
    );
    let deletes: Vec<(String, String)> = calls
        .iter()
        .filter(|call| call.tool == "kubectl" && call.argv.iter().any(|arg| arg == "delete"))
        .map(|call| {
            let position = call.argv.iter().position(|arg| arg == "delete").unwrap();
            (call.argv[position + 1].clone(), call.argv[position + 2].clone())
        })
        .collect();
    assert_eq!(deletes.len(), SHUFFLED_OBJECTS.len(), "{deletes:?}");
    let at = |resource: &str, name: &str| {
        deletes
            .iter()
            .position(|(r, n)| r == resource && n == name)
            .unwrap_or_else(|| panic!("{resource} {name} not deleted: {deletes:?}"))
    };
    assert!(at("deployments.v1.apps", "web") < at("namespaces", "app"));
    assert!(at("ingresses.v1.networking.k8s.io", "web") < at("deployments.v1.apps", "ingress-nginx-controller"));
    assert!(at("deployments.v1.apps", "ingress-nginx-controller") < at("namespaces", "ingress-nginx"));
    assert!(
        at("widgets.v1.example.com", "blue")
            < at("customresourcedefinitions.v1.apiextensions.k8s.io", "widgets.example.com")
    );
    assert!(
        at("rolebindings.v1.rbac.authorization.k8s.io", "web-reader")
            < at("roles.v1.rbac.authorization.k8s.io", "web-reader")
    );
    assert!(at("deployments.v1.apps", "web") < at("configmaps", "web-config"));
    for call in calls.iter().filter(|call| call.argv.iter().any(|arg| arg == "delete")) {
        assert!(call.argv.iter().any(|arg| arg == "--ignore-not-found"), "{}", call.line());
    }
    // Everything ohdev applied is gone; the cluster and its own objects are not.
    let left = stored(&test);
    for (kind, name) in SHUFFLED_OBJECTS {
        assert!(!left.iter().any(|(k, _, n, _)| k == kind && n == name), "{kind}/{name} is still in the cluster");
    }
    assert!(left.iter().any(|(kind, _, name, _)| kind == "Namespace" && name == "kube-system"));
    // ohdev forgot what it applied: a second teardown deletes nothing.
    let again = test.expect(0);
    assert!(again.stdout.contains("deleted 0 object(s)"), "{}", again.stdout);
}

#[test]
fn a_delete_kubectl_refuses_stops_down_keep_cluster_with_its_error() {
    if !docker_or_skip() {
        return;
    }
    let test = shuffled_project().arg("up");
    test.expect(0);
    let refusal = "Error from server (Forbidden): deployments.apps \"web\" is forbidden: User \"dev\" cannot delete resource \"deployments\" in API group \"apps\" in the namespace \"app\"";
    let mut test = test.env("FAKE_KUBE_FAIL", &format!(" delete =>1:{refusal}"));
    test.set_args(&["down", "--keep-cluster"]);
    let output = test.expect(1);
    assert!(output.stderr.contains(refusal), "{}", output.stderr);
    assert_eq!(
        test.calls_matching(" delete ").len(),
        1,
        "down went on after a refused delete: {:?}",
        test.calls_matching(" delete ")
    );
    assert!(stored_by_ohdev(&test, "Deployment", "web"), "objects after the refused delete were deleted");
    ohdev_snapshot!(output);
}

#[test]
fn up_lists_an_orphan_and_up_prune_deletes_it() {
    if !docker_or_skip() {
        return;
    }
    let mut test = shuffled_project().arg("up");
    test.expect(0);
    std::fs::remove_file(test.project().join("k8s/02-hpa.yaml")).unwrap();

    let listed = test.expect(0);
    assert!(
        listed
            .stdout
            .contains("1 object(s) applied earlier are no longer in the manifests: HorizontalPodAutoscaler app/web"),
        "{}",
        listed.stdout
    );
    assert!(listed.stdout.contains("ohdev up --prune"), "{}", listed.stdout);
    assert!(
        test.calls_matching(" delete ").is_empty(),
        "deleted without --prune: {:?}",
        test.calls_matching(" delete ")
    );
    assert!(stored_by_ohdev(&test, "HorizontalPodAutoscaler", "web"));

    test.set_args(&["up", "--prune"]);
    let pruned = test.expect(0);
    assert!(
        pruned.stdout.contains("pruned 1 object(s) no longer in the manifests: HorizontalPodAutoscaler app/web"),
        "{}",
        pruned.stdout
    );
    let deletes = test.calls_matching(" delete ");
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert!(
        deletes[0].line().contains("delete horizontalpodautoscalers.v2.autoscaling web --namespace app"),
        "{deletes:?}"
    );
    assert!(!stored(&test).iter().any(|(kind, _, _, _)| kind == "HorizontalPodAutoscaler"));

    test.set_args(&["up"]);
    let after = test.expect(0);
    assert!(!after.stdout.contains("no longer in the manifests"), "{}", after.stdout);
    assert_eq!(test.calls_matching(" delete ").len(), 1);
}

/// The crash fixture without its fault annotation: a Deployment the stand-in makes Available.
fn healthy(crash: &str) -> String {
    crash.replace("      annotations:\n        fake-kube/fail: CrashLoopBackOff\n", "")
}

#[test]
fn a_failed_up_prune_keeps_the_orphan_for_the_next_one() {
    if !docker_or_skip() {
        return;
    }
    let crash = std::fs::read_to_string(Path::new(FIXTURES).join("failures/crash.yaml")).unwrap();
    assert_ne!(healthy(&crash), crash);
    let mut test = app_project().file("k8s/app.yaml", &healthy(&crash)).arg("up");
    copy_fixture(&test, "failures/leftover-configmap.yaml", "k8s/leftover.yaml");
    test.expect(0);
    assert!(stored_by_ohdev(&test, "ConfigMap", "leftover"));

    // The leftover leaves the manifests while the workload breaks: the deploy fails before pruning.
    std::fs::remove_file(test.project().join("k8s/leftover.yaml")).unwrap();
    test.write("k8s/app.yaml", &crash);
    test.set_args(&["up", "--prune"]);
    test.expect(1);
    assert!(test.calls_matching(" delete ").is_empty(), "{:?}", test.calls_matching(" delete "));

    // Fixed: the next `up --prune` still knows the orphan and deletes it.
    test.write("k8s/app.yaml", &healthy(&crash));
    let pruned = test.expect(0);
    assert!(
        pruned.stdout.contains("pruned 1 object(s) no longer in the manifests: ConfigMap app/leftover"),
        "{}",
        pruned.stdout
    );
    let deletes = test.calls_matching(" delete ");
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert!(deletes[0].line().contains("delete configmaps leftover --namespace app"), "{deletes:?}");
    assert!(!stored(&test).iter().any(|(kind, _, name, _)| kind == "ConfigMap" && name == "leftover"));
    // …and then forgets it: `down --keep-cluster` deletes only what is still in the manifests.
    test.set_args(&["down", "--keep-cluster"]);
    let down = test.expect(0);
    assert!(down.stdout.contains("deleted 2 object(s)"), "{}", down.stdout);
}

#[test]
fn changed_selector_is_refused_then_replaced_with_replace_immutable() {
    if !docker_or_skip() {
        return;
    }
    let crash = std::fs::read_to_string(Path::new(FIXTURES).join("failures/crash.yaml")).unwrap();
    let mut test = app_project().file("k8s/app.yaml", &healthy(&crash)).arg("up");
    test.expect(0);
    test.write("k8s/app.yaml", &healthy(&crash).replace("app: crash", "app: crash-v2"));
    let refused = test.expect(1);
    assert!(refused.stderr.contains("Deployment app/crash from"), "{}", refused.stderr);
    assert!(refused.stderr.contains("refuses to change `spec.selector`"), "{}", refused.stderr);
    assert!(refused.stderr.contains("ohdev up --replace-immutable"), "{}", refused.stderr);
    assert!(test.calls_matching(" delete ").is_empty());
    ohdev_snapshot!(refused);

    test.set_args(&["up", "--replace-immutable"]);
    let replaced = test.expect(0);
    assert!(replaced.stdout.contains("cannot change in place; deleting and recreating it"), "{}", replaced.stdout);
    let deletes = test.calls_matching(" delete ");
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert!(
        deletes[0].line().contains("delete deployments.v1.apps crash --namespace app --ignore-not-found --wait=true"),
        "{deletes:?}"
    );
    let deployment = stored(&test)
        .into_iter()
        .find(|(kind, _, name, _)| kind == "Deployment" && name == "crash")
        .expect("recreated");
    assert_eq!(deployment.3["spec"]["selector"]["matchLabels"]["app"], "crash-v2");
}

// ------------------------------------------------------------------------------- 6. remote bundles

/// A loopback HTTP server answering exactly `requests` GETs with `body`, then closing its socket.
/// Joining it gives the request lines it saw.
struct BundleServer {
    port: u16,
    thread: JoinHandle<Vec<String>>,
}

impl BundleServer {
    fn start(body: Vec<u8>, requests: usize) -> BundleServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().unwrap().port();
        // Non-blocking accept with a deadline, so a run that never asks cannot hang the test.
        listener.set_nonblocking(true).expect("non-blocking listener");
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            let mut seen = Vec::new();
            while seen.len() < requests && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(false).expect("blocking stream");
                        seen.push(answer(stream, &body));
                    }
                    Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(10))
                    }
                    Err(error) => panic!("accept: {error}"),
                }
            }
            seen
        });
        BundleServer { port, thread }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/bundle.yaml", self.port)
    }

    fn stop(self) -> Vec<String> {
        self.thread.join().expect("server thread")
    }
}

fn answer(stream: TcpStream, body: &[u8]) -> String {
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("read timeout");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut request_line = String::new();
    reader.read_line(&mut request_line).expect("request line");
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).expect("header") == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    let mut stream = stream;
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/yaml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = reader.read_to_end(&mut Vec::new());
    request_line.trim_end().to_string()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The harness keeps the system PATH minus directories holding a real kind or kubectl, which here
/// may also be where curl lives: give ohdev the stand-ins, then curl, then that PATH.
fn path_with_curl(test: &Test) -> String {
    let system_path = std::env::var("PATH").unwrap_or_default();
    let curl = which::which("curl").expect("remote bundles need curl on PATH");
    let curl_dir = test.project().join(".curl-bin");
    std::fs::create_dir_all(&curl_dir).unwrap();
    let _ = std::os::unix::fs::symlink(&curl, curl_dir.join("curl"));
    let kept: Vec<&str> = system_path
        .split(':')
        .filter(|dir| !Path::new(dir).join("kind").exists() && !Path::new(dir).join("kubectl").exists())
        .collect();
    format!("{}:{}:{}", test.project().join(".bin").display(), curl_dir.display(), kept.join(":"))
}

fn remote_project(url: &str, sha256: Option<&str>, cache: &Path) -> Test {
    let pin = sha256.map(|sha| format!("\n    sha256: {sha}")).unwrap_or_default();
    let test = Test::new()
        .file("ohdev.yaml", &format!("cluster:\n  name: t\nimages: {{}}\nmanifests:\n  - url: {url}{pin}\n"));
    let path = path_with_curl(&test);
    test.env("PATH", &path)
        .env("OHDEV_CACHE_DIR", cache.to_str().unwrap())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
}

#[test]
fn remote_bundle_is_fetched_once_pinned_in_the_lock_and_verified() {
    if !docker_or_skip() {
        return;
    }
    let body = std::fs::read(Path::new(FIXTURES).join("remote/bundle.yaml")).unwrap();
    let digest = sha256_hex(&body);
    let cache = tempfile::tempdir().unwrap();
    let server = BundleServer::start(body.clone(), 1);
    let url = server.url();
    let mut test = remote_project(&url, None, cache.path()).arg("up");
    let first = test.expect(0);
    assert!(first.stdout.contains("applied ConfigMap remote/from-bundle"), "{}", first.stdout);
    assert_eq!(server.stop(), ["GET /bundle.yaml HTTP/1.1"]);
    let lock = std::fs::read_to_string(test.project().join("ohdev.lock")).expect("ohdev.lock written");
    let pinned: Value =
        serde_json::to_value(serde_yaml::from_str::<serde_yaml::Value>(&lock).expect("lock is YAML")).unwrap();
    assert_eq!(pinned["bundles"][url.as_str()], digest.as_str(), "{lock}");
    let cached = files_under(&cache.path().join("bundles"));
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert_eq!(std::fs::read(&cached[0]).unwrap(), body);
    assert!(stored_by_ohdev(&test, "ConfigMap", "from-bundle"));
    assert!(stored_by_ohdev(&test, "Namespace", "remote"));

    // The server is gone: the cached copy, checked against the lock, is enough.
    assert!(TcpStream::connect(("127.0.0.1", test_port(&url))).is_err(), "the server still listens");
    let applies = apply_count(&test);
    let second = test.expect(0);
    assert!(second.stdout.contains("environment is ready"), "{}", second.stdout);
    assert_eq!(apply_count(&test), applies + 2);
    assert_eq!(
        std::fs::read_to_string(test.project().join("ohdev.lock")).unwrap(),
        lock,
        "the lock changed on a cache hit"
    );

    // The lock pins another digest: exit 2 naming both, nothing called.
    let other = sha256_hex(b"an upstream change");
    test.write("ohdev.lock", &lock.replace(&digest, &other));
    let calls = recorded(&test).len();
    let refused = test.expect(2);
    assert!(refused.stderr.contains(&digest) && refused.stderr.contains(&other), "{}", refused.stderr);
    assert!(refused.stderr.contains("ohdev.lock") && refused.stderr.contains(&url), "{}", refused.stderr);
    assert_eq!(recorded(&test).len(), calls, "kind or kubectl was called after the digest mismatch");
    ohdev_snapshot!("cached_bundle_differs_from_the_lock", refused, [(&url, "[URL]")]);

    // A wrong `sha256:` in ohdev.yaml wins over the lock: exit 2 naming both digests, nothing applied.
    test.write("ohdev.lock", &lock);
    let wrong = sha256_hex(b"not the bundle");
    test.write(
        "ohdev.yaml",
        &format!("cluster:\n  name: t\nimages: {{}}\nmanifests:\n  - url: {url}\n    sha256: {wrong}\n"),
    );
    let refused = test.expect(2);
    assert!(
        refused.stderr.contains(&digest) && refused.stderr.contains(&wrong) && refused.stderr.contains("ohdev.yaml"),
        "{}",
        refused.stderr
    );
    assert_eq!(recorded(&test).len(), calls);
    ohdev_snapshot!("cached_bundle_differs_from_ohdev_yaml", refused, [(&url, "[URL]")]);
    test.set_args(&["plan"]);
    let plan = test.expect(2);
    assert!(plan.stderr.contains(&wrong), "{}", plan.stderr);
    ohdev_snapshot!("cached_bundle_differs_from_ohdev_yaml_plan", plan, [(&url, "[URL]")]);

    // The right one works (from the cache, offline).
    test.write(
        "ohdev.yaml",
        &format!(
            "cluster:\n  name: t\nimages: {{}}\nmanifests:\n  - url: {url}\n    sha256: {}\n",
            digest.to_uppercase()
        ),
    );
    test.set_args(&["up"]);
    test.expect(0);
}

fn test_port(url: &str) -> u16 {
    url.trim_start_matches("http://127.0.0.1:").split('/').next().unwrap().parse().unwrap()
}

#[test]
fn remote_bundle_download_that_differs_from_its_pin_is_refused_and_not_kept() {
    if !docker_or_skip() {
        return;
    }
    let body = std::fs::read(Path::new(FIXTURES).join("remote/bundle.yaml")).unwrap();
    let digest = sha256_hex(&body);
    let cache = tempfile::tempdir().unwrap();
    let server = BundleServer::start(body.clone(), 2);
    let url = server.url();
    let wrong = sha256_hex(b"not the bundle");

    // Pinned by `sha256:` in ohdev.yaml.
    let test = remote_project(&url, Some(&wrong), cache.path()).arg("up");
    let refused = test.expect(2);
    assert!(
        refused.stderr.contains(&digest)
            && refused.stderr.contains(&wrong)
            && refused.stderr.contains("ohdev.yaml pins"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("nothing was applied"), "{}", refused.stderr);
    ohdev_snapshot!("download_differs_from_ohdev_yaml", refused, [(&url, "[URL]")]);
    assert!(recorded(&test).is_empty(), "{:?}", test.calls());
    assert!(files_under(&cache.path().join("bundles")).is_empty(), "a download that failed verification was kept");
    assert!(!test.project().join("ohdev.lock").exists(), "a refused download was pinned");

    // Pinned by a committed ohdev.lock, on a machine that never fetched it.
    test.write("ohdev.yaml", &format!("cluster:\n  name: t\nimages: {{}}\nmanifests:\n  - url: {url}\n"));
    let lock = format!("bundles:\n  {url}: {wrong}\n");
    test.write("ohdev.lock", &lock);
    let refused = test.expect(2);
    assert!(
        refused.stderr.contains(&digest)
            && refused.stderr.contains(&wrong)
            && refused.stderr.contains("ohdev.lock pins"),
        "{}",
        refused.stderr
    );
    assert!(recorded(&test).is_empty(), "{:?}", test.calls());
    ohdev_snapshot!("download_differs_from_the_lock", refused, [(&url, "[URL]")]);
    assert!(files_under(&cache.path().join("bundles")).is_empty());
    assert_eq!(std::fs::read_to_string(test.project().join("ohdev.lock")).unwrap(), lock, "the lock was rewritten");
    assert_eq!(server.stop(), ["GET /bundle.yaml HTTP/1.1", "GET /bundle.yaml HTTP/1.1"]);
}

#[test]
fn a_custom_resource_whose_crd_is_nowhere_fails_after_discovery_not_at_the_deadline() {
    if !docker_or_skip() {
        return;
    }
    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: app\nspec: {size: 1}\n";
    let test = app_project().file("k8s/widget.yaml", widget).args(&["up", "--timeout", "10m"]);
    let output = test.expect(1);
    assert!(
        output.stderr.contains("Widget app/w from [PROJECT]/k8s/widget.yaml")
            || output.stderr.contains(&format!("Widget app/w from {}/k8s/widget.yaml", test.project().display())),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("no CRD for kind Widget (example.com/v1) in the manifests or in the cluster"),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains("add the CustomResourceDefinition for Widget"), "{}", output.stderr);
    // A few tries after discovery, not ten minutes of them.
    let applies = test.calls_matching(" apply ").len();
    assert!((2..=5).contains(&applies), "{applies} applies: {:?}", test.calls_matching(" apply "));
    ohdev_snapshot!(output);
}

// ---------------------------------------------------------------------------------------- faults

/// kubectl's own text when the API server does not answer.
const API_REFUSED: &str =
    "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?";

fn healthy_app() -> Test {
    let crash = std::fs::read_to_string(Path::new(FIXTURES).join("failures/crash.yaml")).unwrap();
    app_project().file("k8s/app.yaml", &healthy(&crash))
}

#[test]
fn a_refused_api_during_the_readiness_wait_is_shown_at_once_not_after_the_deadline() {
    if !docker_or_skip() {
        return;
    }
    let test = healthy_app()
        .args(&["up", "--timeout", "10m"])
        .env("FAKE_KUBE_FAIL", &format!("get deployments=>1:{API_REFUSED}"));
    let output = test.expect(1);
    assert!(
        output.stderr.contains("cannot read the status of Deployment app/crash (1 failed read(s) in a row)"),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains(API_REFUSED), "{}", output.stderr);
    assert!(!output.stderr.contains("not ready after"), "{}", output.stderr);
    assert_eq!(test.calls_matching("get deployments").len(), 1, "one refused read is enough");
    ohdev_snapshot!(output);
}

#[test]
fn readiness_reads_that_keep_failing_stop_the_wait_with_the_error() {
    if !docker_or_skip() {
        return;
    }
    let odd = "error: an unexpected answer from the server (kubectl crashed)";
    let test =
        healthy_app().args(&["up", "--timeout", "10m"]).env("FAKE_KUBE_FAIL", &format!("get deployments=>1:{odd}"));
    let output = test.expect(1);
    assert!(output.stderr.contains("(3 failed read(s) in a row)"), "{}", output.stderr);
    assert!(output.stderr.contains(odd), "{}", output.stderr);
    assert_eq!(test.calls_matching("get deployments").len(), 3);
}

#[test]
fn a_refused_api_during_apply_is_exit_1_with_kubectls_error() {
    if !docker_or_skip() {
        return;
    }
    let test = healthy_app().arg("up").env("FAKE_KUBE_FAIL", &format!("apply=>1:{API_REFUSED}"));
    let output = test.expect(1);
    assert!(output.stderr.contains(API_REFUSED), "{}", output.stderr);
    assert!(output.stderr.contains("applying Namespace/app from"), "{}", output.stderr);
    // state.json stays valid and keeps what may have been created, for the next run.
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(test.project().join(".ohdev/state.json")).unwrap()).unwrap();
    assert!(state["deploy"]["objects"].as_array().is_some_and(|objects| !objects.is_empty()), "{state}");
}

#[test]
fn a_cluster_deleted_outside_ohdev_leaves_no_phantom_orphans() {
    if !docker_or_skip() {
        return;
    }
    let crash = std::fs::read_to_string(Path::new(FIXTURES).join("failures/crash.yaml")).unwrap();
    let mut test = app_project().file("k8s/app.yaml", &healthy(&crash));
    copy_fixture(&test, "failures/leftover-configmap.yaml", "k8s/leftover.yaml");
    test.set_args(&["up"]);
    test.expect(0);
    // Someone deletes the cluster with kind itself, and the leftover leaves the manifests.
    use std::os::unix::process::CommandExt;
    let deleted = std::process::Command::new(crate::support::fake_kube_binary())
        .arg0("kind")
        .args(["delete", "cluster", "--name", "t"])
        .env("FAKE_KUBE_STATE", test.state_dir())
        .output()
        .expect("the kind stand-in runs");
    assert!(deleted.status.success(), "{}", String::from_utf8_lossy(&deleted.stderr));
    std::fs::remove_file(test.project().join("k8s/leftover.yaml")).unwrap();
    let output = test.expect(0);
    assert!(output.stdout.contains("created kind cluster \"t\""), "{}", output.stdout);
    // The old cluster's objects went with it: nothing to call an orphan, nothing to prune.
    assert!(!output.stdout.contains("no longer in the manifests"), "{}", output.stdout);
    test.set_args(&["up", "--prune"]);
    let pruned = test.expect(0);
    let deletes: Vec<_> = test.calls_matching(" delete ").into_iter().filter(|call| call.tool == "kubectl").collect();
    assert!(deletes.is_empty(), "{deletes:?}\n{}", pruned.stdout);
}
