//! Remote targets (`targets:`, `--target`): the stand-in kubectl answers for a pre-existing
//! non-kind context (`FAKE_KUBE_CONTEXTS`), images go to a real registry on loopback, and kind is
//! never called. Also the refusals: a context that is not a local dev cluster without `allow`, an
//! unknown target, a context that does not answer.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

use crate::support::registry::{self, Containers};
use crate::support::{busybox, docker, json_lines, Test};

const CONTEXT: &str = "gke_team_europe-west1_dev";
const SERVER: &str = "https://203.0.113.7:443";

/// Removes the images ohdev built for `image` (by its label) and what it tagged for the registry.
pub(crate) struct Images(pub(crate) String);

impl Drop for Images {
    fn drop(&mut self) {
        let output = Command::new("docker")
            .args(["images", "-q", "--filter", &format!("label=dev.ohdev.image={}", self.0)])
            .output()
            .expect("docker images");
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let ids: BTreeSet<&str> = text.split_whitespace().collect();
        if !ids.is_empty() {
            let _ = Command::new("docker").args(["rmi", "-f"]).args(ids).output();
        }
    }
}

/// A project with one image `image` and two manifest sets: the kind one (`kind/manifests`: a
/// Namespace and a cluster-scoped ClusterRole) and the target's own (`remote/`: a ConfigMap and a
/// Deployment, namespaced by default into the target's namespace).
pub(crate) fn project(image: &str, base: &str, cluster: &str, registry: &str, allow: bool) -> Test {
    project_with(image, base, cluster, registry, allow, "")
}

/// [`project`] with more keys under the image (`image_extra`, indented for `images.<image>`).
fn project_with(image: &str, base: &str, cluster: &str, registry: &str, allow: bool, image_extra: &str) -> Test {
    let test = Test::new()
        .file("Dockerfile", "ARG BASE\nFROM ${BASE}\nCOPY app.txt /app/app.txt\nCMD [\"sh\", \"-c\", \"sleep 3600\"]\n")
        .file("app.txt", "hello\n")
        .file(".dockerignore", ".fake-kube\n.bin\n.ohdev\nwatch-*\n")
        .file(
            "kind/manifests/all.yaml",
            &format!(
                "apiVersion: v1\nkind: Namespace\nmetadata: {{name: local-ns}}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {image}-reader}}\nrules: []\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: local-config, namespace: local-ns}}\ndata: {{a: b}}\n"
            ),
        )
        .file(
            "remote/app.yaml",
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app-config}}\ndata: {{greeting: hi}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app}}\nspec:\n  selector: {{matchLabels: {{app: app}}}}\n  template:\n    metadata: {{labels: {{app: app}}}}\n    spec:\n      containers:\n        - name: app\n          image: {image}\n"
            ),
        )
        .file(
            "ohdev.yaml",
            &format!(
                "cluster: {{name: {cluster}}}\nnamespace: local-ns\nimages:\n  {image}:\n    context: .\n    dockerfile: Dockerfile\n    build_args: {{BASE: \"{base}\"}}\n{image_extra}manifests: [kind/manifests]\ntargets:\n  shared:\n    context: {CONTEXT}\n    registry: {registry}\n    namespace: dev-${{DEV_USER}}\n    manifests: [remote]\n{}",
                if allow { "    allow: true\n" } else { "" }
            ),
        )
        .file("kind/cluster.yaml", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n");
    test.env("FAKE_KUBE_CONTEXTS", &format!("{CONTEXT}={SERVER}")).env("DEV_USER", "ada")
}

/// kubectl of the stand-in against `context`, for the test's own seeding and reading.
fn kubectl(test: &Test, context: &str, args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    let mut command = test.tool("kubectl");
    command.args(["--context", context]).args(args);
    command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("kubectl");
    if let Some(text) = stdin {
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write");
    }
    drop(child.stdin.take());
    let output = child.wait_with_output().expect("kubectl");
    assert!(output.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `kind/namespace/name` of every object in the stand-in's cluster behind `context`.
fn objects(test: &Test, context: &str) -> BTreeSet<String> {
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(test.state_dir().join("state.json")).expect("state"))
            .expect("json");
    let cluster = match context.strip_prefix("kind-") {
        Some(name) => &state["clusters"][name],
        None => &state["contexts"][context],
    };
    cluster["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|object| {
            let body = &object["body"];
            format!(
                "{}/{}/{}",
                body["kind"].as_str().unwrap_or(""),
                body["metadata"]["namespace"].as_str().unwrap_or(""),
                body["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// The target's kubectl calls all carry `--context <target>`; none is a kind call.
#[track_caller]
fn only_target_calls(test: &Test, from: usize) {
    let calls = test.calls();
    for call in &calls[from..] {
        assert_eq!(call.tool, "kubectl", "a kind call on a target: {}", call.line());
        let at = call
            .argv
            .iter()
            .position(|arg| arg == "--context")
            .unwrap_or_else(|| panic!("no --context: {}", call.line()));
        assert_eq!(call.argv.get(at + 1).map(String::as_str), Some(CONTEXT), "{}", call.line());
    }
}

#[test]
fn a_context_that_is_not_a_dev_cluster_is_refused_without_allow() {
    let test = project("refused", "unused", "refused", "127.0.0.1:5999", false).args(&["up", "--target", "shared"]);
    let output = test.expect(2);
    assert!(
        output.stderr.contains(&format!("context \"{CONTEXT}\", which is not a local development cluster")),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains("add `allow: true` under `targets.shared`"), "{}", output.stderr);
    assert!(test.calls().is_empty(), "nothing may be called: {:?}", test.calls());
    // OHDEV_TARGET selects the same way.
    let test =
        project("refused", "unused", "refused", "127.0.0.1:5999", false).env("OHDEV_TARGET", "shared").args(&["down"]);
    test.expect(2);
    assert!(test.calls().is_empty());
}

#[test]
fn an_unknown_target_or_an_unreachable_context_is_bad_input() {
    let test = project("unknown", "unused", "unknown", "127.0.0.1:5999", true).args(&["status", "--target", "prod"]);
    let output = test.expect(2);
    assert!(output.stderr.contains("ohdev.yaml has no target `prod`"), "{}", output.stderr);
    assert!(output.stderr.contains("use one of: shared"), "{}", output.stderr);
    // The context is not known to kubectl: said before anything changes, and kind is never called.
    let test = project("unreach", "unused", "unreach", "127.0.0.1:5999", true)
        .env("FAKE_KUBE_CONTEXTS", "")
        .args(&["down", "--yes", "--target", "shared"]);
    let output = test.expect(2);
    assert!(
        output.stderr.contains(&format!("kubectl cannot reach the cluster of context \"{CONTEXT}\"")),
        "{}",
        output.stderr
    );
    assert!(test.calls().iter().all(|call| call.tool == "kubectl"), "{:?}", test.calls());
}

#[test]
fn up_and_down_on_a_target_push_rewrite_and_delete_only_what_was_applied_there() {
    let Some(_) = docker::client() else { return };
    let Some(base) = busybox::base_image() else { return };
    if registry::registry_image().is_none() {
        return;
    }
    let suffix = std::process::id();
    let image = format!("tgt{suffix}");
    let cluster = format!("tgt{suffix}");
    let port = registry::free_port();
    let mut guard = Containers::default();
    let _images = Images(image.clone());
    let api = registry::start_registry(&format!("ohdev-test-target-registry-{port}"), port, &mut guard);
    let registry = format!("127.0.0.1:{port}/team/dev");
    let base_test = project(&image, &base, &cluster, &registry, true);

    // What the cluster holds before ohdev: the developer's namespace (made by an admin) and an
    // object ohdev never applied.
    kubectl(&base_test, CONTEXT, &["apply", "-f", "-"], Some("apiVersion: v1\nkind: Namespace\nmetadata: {name: dev-ada}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: not-ohdevs, namespace: dev-ada}\ndata: {x: y}\n"));
    let seeded = objects(&base_test, CONTEXT);

    // The kind cluster first (the default target), so both have state.
    let mut test = base_test;
    test.set_args(&["--json", "up"]);
    test.expect(0);
    let kind_objects = objects(&test, &format!("kind-{cluster}"));
    assert!(kind_objects.contains("ConfigMap/local-ns/local-config"), "{kind_objects:?}");

    let from = test.calls().len();
    test.set_args(&["--json", "up", "--target", "shared"]);
    let up = test.expect(0);
    only_target_calls(&test, from);
    let events = json_lines(&up.stdout);
    let banner = events.iter().find(|event| event["type"] == "remote_target").expect("the pre-change banner");
    assert_eq!(banner["context"], CONTEXT);
    assert_eq!(banner["server"], SERVER);
    assert_eq!(banner["namespace"], "dev-ada");
    // The banner comes before the first change: before any apply.
    let banner_at = events.iter().position(|event| event["type"] == "remote_target").unwrap();
    let first_push = events.iter().position(|event| event["type"] == "image" && event["state"] == "pushing");
    assert!(first_push.is_none_or(|at| at > banner_at), "pushed before the banner");
    let first_apply =
        test.calls()[from..].iter().position(|call| call.argv.contains(&"apply".to_string())).expect("an apply");
    let first_config_view =
        test.calls()[from..].iter().position(|call| call.argv.contains(&"config".to_string())).expect("config view");
    assert!(first_config_view < first_apply);
    assert!(
        !events.iter().any(|event| event["type"] == "orphans"),
        "the kind cluster's objects are not the target's orphans"
    );

    // Again: the registry has the tag, so nothing is pushed.
    test.set_args(&["--json", "up", "--target", "shared"]);
    let again = test.expect(0);
    let states: Vec<String> = json_lines(&again.stdout)
        .iter()
        .filter(|event| event["type"] == "image")
        .filter_map(|event| event["state"].as_str().map(str::to_string))
        .collect();
    assert!(states.contains(&"already_pushed".to_string()) && !states.contains(&"pushing".to_string()), "{states:?}");

    // The image went to the registry under the target's path, and that is what was applied.
    let tags = api.tags(&format!("team/dev/{image}"));
    assert_eq!(tags.len(), 1, "{tags:?}");
    let expected = format!("127.0.0.1:{port}/team/dev/{image}:{}", tags[0]);
    let deployment: Value = serde_json::from_str(&kubectl(
        &test,
        CONTEXT,
        &["get", "deployment", "app", "-n", "dev-ada", "-o", "json"],
        None,
    ))
    .expect("json");
    assert_eq!(deployment["spec"]["template"]["spec"]["containers"][0]["image"], expected.as_str());
    // The target's own manifests only: no ClusterRole, no Namespace of the kind manifests.
    let on_target = objects(&test, CONTEXT);
    // (Pods and ReplicaSets are the stand-in's own, made for the Deployment.)
    let applied: BTreeSet<String> = on_target
        .difference(&seeded)
        .filter(|object| !object.starts_with("Pod/") && !object.starts_with("ReplicaSet/"))
        .cloned()
        .collect();
    let expected_objects: BTreeSet<String> =
        ["ConfigMap/dev-ada/app-config", "Deployment/dev-ada/app"].into_iter().map(String::from).collect();
    assert_eq!(applied, expected_objects);
    assert!(!test.calls()[from..]
        .iter()
        .any(|call| call.line().contains("local-registry-hosting") && call.argv.contains(&"apply".to_string())));

    // A change rebuilds, pushes the new tag and rolls it out on the target; status reads it: still
    // no kind call, and every call names the target's context.
    test.write("app.txt", "hello again\n");
    let from = test.calls().len();
    test.set_args(&["--json", "rebuild", "--target", "shared"]);
    test.expect(0);
    test.set_args(&["--json", "status", "--target", "shared"]);
    let status = test.expect(0);
    only_target_calls(&test, from);
    let tags = api.tags(&format!("team/dev/{image}"));
    assert_eq!(tags.len(), 2, "{tags:?}");
    let deployment: Value = serde_json::from_str(&kubectl(
        &test,
        CONTEXT,
        &["get", "deployment", "app", "-n", "dev-ada", "-o", "json"],
        None,
    ))
    .expect("json");
    let rolled = deployment["spec"]["template"]["spec"]["containers"][0]["image"].as_str().expect("image").to_string();
    assert!(rolled.starts_with(&format!("127.0.0.1:{port}/team/dev/{image}:")) && rolled != expected, "{rolled}");
    let cluster_status =
        json_lines(&status.stdout).into_iter().find(|event| event["type"] == "cluster_status").expect("cluster_status");
    assert_eq!(cluster_status["context"], CONTEXT);

    // Logs come from the target's pods, through its context.
    let pods: Value =
        serde_json::from_str(&kubectl(&test, CONTEXT, &["get", "pods", "-n", "dev-ada", "-o", "json"], None))
            .expect("json");
    let pod = pods["items"]
        .as_array()
        .expect("pods")
        .iter()
        .filter_map(|pod| pod["metadata"]["name"].as_str())
        .find(|name| name.starts_with("app-"))
        .expect("a pod of Deployment app")
        .to_string();
    test.write(&format!(".fake-kube/logs/dev-ada/{pod}/app.log"), "hello from the shared cluster\n");
    let from = test.calls().len();
    test.set_args(&["--json", "logs", "--target", "shared", "--no-follow"]);
    let logs = test.expect(0);
    only_target_calls(&test, from);
    assert!(
        json_lines(&logs.stdout)
            .iter()
            .any(|event| event["type"] == "log" && event["line"] == "hello from the shared cluster"),
        "{}",
        logs.stdout
    );

    // Up on kind again: the target's objects are not its orphans either.
    test.set_args(&["--json", "up"]);
    let again = test.expect(0);
    assert!(!json_lines(&again.stdout).iter().any(|event| event["type"] == "orphans"), "{}", again.stdout);

    // Down on the target: exactly what was applied there, in reverse order; the namespace and the
    // foreign ConfigMap stay, the kind cluster is untouched, no kind call.
    let from = test.calls().len();
    test.set_args(&["--json", "down", "--yes", "--target", "shared"]);
    test.expect(0);
    only_target_calls(&test, from);
    let deletes: BTreeSet<String> = test.calls()[from..]
        .iter()
        .filter(|call| call.argv.contains(&"delete".to_string()))
        .map(|call| call.argv[2..5].join(" "))
        .collect();
    let expected_deletes: BTreeSet<String> =
        ["delete configmaps app-config", "delete deployments.v1.apps app"].into_iter().map(String::from).collect();
    assert_eq!(deletes, expected_deletes, "only what ohdev applied there; never the namespace it did not create");
    let left = objects(&test, CONTEXT);
    assert!(left.contains("Namespace//dev-ada") && left.contains("ConfigMap/dev-ada/not-ohdevs"), "{left:?}");
    assert!(!left.contains("Deployment/dev-ada/app") && !left.contains("ConfigMap/dev-ada/app-config"), "{left:?}");
    let kind_after = objects(&test, &format!("kind-{cluster}"));
    assert!(kind_objects.is_subset(&kind_after), "the kind cluster lost objects: {kind_objects:?} → {kind_after:?}");

    // Clean up the kind cluster's side.
    test.set_args(&["down", "--yes"]);
    test.expect(0);
}

/// `ohdev watch --target`: an edit under a sync rule is copied into the target's pod with
/// `kubectl exec` carrying the target's context; no build, no kind call.
#[test]
fn watch_on_a_target_live_syncs_with_the_targets_context() {
    let Some(_) = docker::client() else { return };
    let Some(base) = busybox::base_image() else { return };
    if registry::registry_image().is_none() {
        return;
    }
    let suffix = std::process::id();
    let image = format!("tgs{suffix}");
    let port = registry::free_port();
    let mut guard = Containers::default();
    let _images = Images(image.clone());
    let _api = registry::start_registry(&format!("ohdev-test-target-sync-{port}"), port, &mut guard);
    let mut test = project_with(
        &image,
        &base,
        &format!("tgs{suffix}"),
        &format!("127.0.0.1:{port}/team/dev"),
        true,
        "    sync: [{src: app.txt, dest: /app}]\n",
    );
    // A checkout for a target needs no kind cluster file.
    std::fs::remove_file(test.project().join("kind/cluster.yaml")).expect("remove cluster.yaml");
    test.set_args(&["--json", "up", "--target", "shared"]);
    test.expect(0);

    let from = test.calls().len();
    let events_path = test.project().join("watch-events.jsonl");
    test.set_args(&["--json", "watch", "--target", "shared"]);
    let mut child = test
        .command()
        .stdout(std::fs::File::create(&events_path).expect("events file"))
        .stderr(std::fs::File::create(test.project().join("watch-stderr.txt")).expect("stderr file"))
        .spawn()
        .expect("ohdev watch starts");
    let wait_for = |what: &str, done: &dyn Fn(&str) -> bool| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let text = std::fs::read_to_string(&events_path).unwrap_or_default();
            if done(&text) {
                return text;
            }
            assert!(std::time::Instant::now() < deadline, "waited for {what}:\n{text}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    wait_for("watching", &|text| text.contains("\"message\":\"watching "));
    test.write("app.txt", "synced\n");
    wait_for("the sync", &|text| text.contains("synced 1 file(s)"));
    // SAFETY: signalling the child this test spawned.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let _ = child.wait();

    only_target_calls(&test, from);
    let calls = test.calls();
    let execs: Vec<_> = calls[from..].iter().filter(|call| call.argv.contains(&"exec".to_string())).collect();
    assert_eq!(execs.len(), 1, "{execs:?}");
    assert!(execs[0].argv.iter().any(|arg| arg == "dev-ada"), "{:?}", execs[0].argv);
    assert!(!calls[from..].iter().any(|call| call.argv.contains(&"apply".to_string())), "a sync applies nothing");
    // The stand-in unpacked it in the target's pod, in the target's namespace.
    let mut found = Vec::new();
    let mut dirs = vec![test.state_dir().join("fs/dev-ada")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.ends_with("app/app.txt") {
                found.push(std::fs::read_to_string(&path).expect("synced file"));
            }
        }
    }
    assert_eq!(found, ["synced\n"]);
}

/// `ohdev plan --target` orders the target's own manifests, in the target's namespace; no tool runs.
#[test]
fn plan_on_a_target_shows_its_manifests_in_its_namespace() {
    let test =
        project("planned", "unused", "planned", "127.0.0.1:5999", true).args(&["--json", "plan", "--target", "shared"]);
    let output = test.expect(0);
    let lines = json_lines(&output.stdout);
    let names: BTreeSet<String> = lines
        .iter()
        .map(|line| {
            format!(
                "{}/{}/{}",
                line["kind"].as_str().unwrap_or(""),
                line["namespace"].as_str().unwrap_or(""),
                line["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(names.contains("ConfigMap/dev-ada/app-config") && names.contains("Deployment/dev-ada/app"), "{names:?}");
    assert!(!names.iter().any(|name| name.contains("local-config") || name.starts_with("ClusterRole/")), "{names:?}");
    assert!(test.calls().is_empty(), "{:?}", test.calls());
}
