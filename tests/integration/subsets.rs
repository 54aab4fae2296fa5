//! A part of the environment (issue 14, part 3): `ohdev up|rebuild|plan NAME…` with images or
//! workloads. Two images (`web-…`, `worker-…`), each run by its own Deployment with its own
//! ConfigMap in namespace `app`, and a Service for web.
//!
//! Asserted on the real Docker engine (which images exist) and the stand-in's calls (which objects
//! were applied): only the named images build, only the named objects and what they need are
//! applied, what lies outside is neither applied, pruned nor called an orphan; `plan NAME…` shows
//! the subset; unknown names are exit 2 with a suggestion.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::ohdev_snapshot;
use crate::support::docker::{unique, with_docker};
use crate::support::{busybox, docker, Test};

fn manifests(web: &str, worker: &str) -> String {
    let deployment = |name: &str, image: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers:\n        - name: main\n          image: {image}\n          envFrom: [{{configMapRef: {{name: {name}-config}}}}]\n"
        )
    };
    let config = |name: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}-config}}\ndata: {{who: {name}}}\n")
    };
    [
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n".to_string(),
        config("web"),
        config("worker"),
        deployment("web", web),
        deployment("worker", worker),
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n"
            .to_string(),
    ]
    .join("---\n")
}

fn project(web: &str, worker: &str, base: &str) -> Test {
    let image = |name: &str| format!("  {name}:\n    context: {name}\n    build_args: {{BASE: \"{base}\"}}\n");
    let config =
        format!("cluster:\n  name: t\nnamespace: app\nimages:\n{}{}manifests: [k8s]\n", image(web), image(worker));
    let dockerfile = "ARG BASE\nFROM ${BASE}\nCOPY id.txt /id.txt\nCMD [\"sleep\", \"3600\"]\n";
    Test::new()
        .file("ohdev.yaml", &config)
        .file("k8s/all.yaml", &manifests(web, worker))
        .file(&format!("{web}/Dockerfile"), dockerfile)
        .file(&format!("{web}/id.txt"), web)
        .file(&format!("{worker}/Dockerfile"), dockerfile)
        .file(&format!("{worker}/id.txt"), worker)
}

/// Image IDs Docker holds for ohdev image `name`.
fn images_of(name: &str) -> Vec<String> {
    let name = name.to_string();
    with_docker(|docker| async move {
        let mut filters = std::collections::HashMap::new();
        filters.insert("label", vec![format!("dev.ohdev.image={name}")]);
        let options = bollard::query_parameters::ListImagesOptionsBuilder::default().filters(&filters).build();
        docker
            .list_images(Some(options))
            .await
            .map(|images| images.into_iter().map(|image| image.id).collect())
            .unwrap_or_default()
    })
}

/// Removes every image built for these names, also when the test panics.
struct Cleanup(Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let names = self.0.clone();
        let _ = std::thread::spawn(move || {
            for name in names {
                let ids = images_of(&name);
                with_docker(|docker| async move {
                    for id in ids {
                        let options =
                            bollard::query_parameters::RemoveImageOptionsBuilder::default().force(true).build();
                        let _ = docker.remove_image(&id, Some(options), None).await;
                    }
                });
            }
        })
        .join();
    }
}

/// (kind, name) of every object applied by the calls from `from` on.
fn applied_since(test: &Test, from: usize) -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(test.state_dir().join("calls.jsonl")).unwrap_or_default();
    text.lines()
        .skip(from)
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|call| call["argv"].as_array().is_some_and(|argv| argv.iter().any(|arg| arg == "apply")))
        .filter_map(|call| serde_json::from_str::<Value>(call["stdin"].as_str()?).ok())
        .map(|object| {
            (
                object["kind"].as_str().unwrap_or("").to_string(),
                object["metadata"]["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn call_count(test: &Test) -> usize {
    test.calls().len()
}

fn set(pairs: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    pairs.iter().map(|(kind, name)| (kind.to_string(), name.to_string())).collect()
}

#[test]
fn plan_shows_the_subset_and_unknown_names_are_exit_2() {
    let mut test = project("web", "worker", "unused").args(&["plan", "Deployment/worker"]);
    let output = test.expect(0);
    ohdev_snapshot!("plan_of_a_workload", output);
    assert!(!output.stdout.contains("web"), "{}", output.stdout);

    // An image: the objects that run it and what they need (the Service selects web, it does not run it).
    test.set_args(&["plan", "web"]);
    let output = test.expect(0);
    assert!(output.stdout.contains("Deployment app/web"), "{}", output.stdout);
    assert!(output.stdout.contains("ConfigMap app/web-config"), "{}", output.stdout);
    assert!(!output.stdout.contains("worker"), "{}", output.stdout);

    test.set_args(&["plan", "wroker"]);
    let output = test.expect(2);
    assert!(
        output.stderr.contains("`wroker` is neither an image in ohdev.yaml nor an object of the manifests"),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains("did you mean `worker`?"), "{}", output.stderr);
    ohdev_snapshot!("plan_of_an_unknown_name", output);

    for args in [["up", "wroker"], ["rebuild", "Deployment/wbe"]] {
        test.set_args(&args);
        let output = test.expect(2);
        assert!(output.stderr.contains("did you mean `"), "{args:?}: {}", output.stderr);
        assert!(test.calls().is_empty(), "{args:?}: nothing may run before the names are checked: {:?}", test.calls());
    }
    test.set_args(&["up", "--prune", "worker"]);
    let output = test.expect(2);
    assert!(output.stderr.contains("`--prune`"), "{}", output.stderr);
}

#[test]
fn up_and_rebuild_of_a_subset_build_and_apply_only_it() {
    let Some(base) = docker::client().and_then(|_| busybox::base_image()) else { return };
    let id = unique();
    let (web, worker) = (format!("web-{id}"), format!("worker-{id}"));
    let _cleanup = Cleanup(vec![web.clone(), worker.clone()]);
    let mut test = project(&web, &worker, &base).args(&["up", "worker"]);

    // `up worker`: only the worker image builds; only its Deployment, ConfigMap and Namespace apply.
    let output = test.expect(0);
    assert!(!images_of(&worker).is_empty(), "worker was not built\n{}", output.stdout);
    assert!(images_of(&web).is_empty(), "web was built though not named");
    assert_eq!(
        applied_since(&test, 0),
        set(&[("Namespace", "app"), ("ConfigMap", "worker-config"), ("Deployment", "worker")])
    );
    assert!(test.calls_matching(&format!("load docker-image ohdev.local/{web}:")).is_empty(), "{:?}", test.calls());

    // Everything, then a subset again: nothing outside it is pruned or called an orphan.
    test.set_args(&["up"]);
    test.expect(0);
    assert!(!images_of(&web).is_empty());
    let before = call_count(&test);
    test.set_args(&["up", "--force", "Deployment/web"]);
    let output = test.expect(0);
    assert!(!output.stdout.contains("orphan") && !output.stderr.contains("orphan"), "{}", output.stdout);
    assert!(test.calls()[before..].iter().all(|call| !call.argv.contains(&"delete".to_string())), "{:?}", test.calls());
    let loads: Vec<String> = test.calls()[before..]
        .iter()
        .filter(|call| call.tool == "kind" && call.argv.iter().any(|arg| arg == "load"))
        .map(|call| call.line())
        .collect();
    assert!(loads.iter().all(|line| line.contains(&web) && !line.contains(&worker)), "{loads:?}");
    assert!(!loads.is_empty(), "--force loads the named workload's image again");

    // `rebuild Deployment/worker` after a change to its image and one to web's ConfigMap: the
    // workload's image is built again and the worker rolled out; web's change is left for later.
    test.write(&format!("{worker}/id.txt"), "changed");
    let manifests = std::fs::read_to_string(test.project().join("k8s/all.yaml")).expect("manifests");
    test.write("k8s/all.yaml", &manifests.replace("data: {who: web}", "data: {who: changed}"));
    let before = call_count(&test);
    test.set_args(&["--json", "rebuild", "Deployment/worker"]);
    let output = test.expect(0);
    let built: BTreeSet<String> = output
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["type"] == "image")
        .filter_map(|event| event["image"].as_str().map(str::to_string))
        .collect();
    assert_eq!(built, BTreeSet::from([worker.clone()]), "{}", output.stdout);
    assert_eq!(applied_since(&test, before), set(&[("Deployment", "worker")]));
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(test.state_dir().join("state.json")).expect("stand-in state"))
            .expect("JSON");
    let web_config = state["clusters"]["t"]["objects"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|object| object["kind"] == "ConfigMap" && object["name"] == "web-config")
        .expect("ConfigMap web-config in the stand-in");
    assert_eq!(web_config["body"]["data"]["who"], "web", "web's ConfigMap was applied by a rebuild of the worker");
}

/// The stand-in's stored object `kind/name` in namespace `app`.
fn stored(test: &Test, kind: &str, name: &str) -> Option<Value> {
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(test.state_dir().join("state.json")).ok()?).ok()?;
    state["clusters"]["t"]["objects"]
        .as_array()?
        .iter()
        .find(|object| object["kind"] == kind && object["name"] == name)
        .map(|object| object["body"].clone())
}

#[test]
fn watch_of_a_workload_reapplies_only_it_and_what_it_needs_now() {
    let Some(base) = docker::client().and_then(|_| busybox::base_image()) else { return };
    let id = unique();
    let (web, worker) = (format!("web-{id}"), format!("worker-{id}"));
    let _cleanup = Cleanup(vec![web.clone(), worker.clone()]);
    let mut test = project(&web, &worker, &base).arg("up");
    test.expect(0);

    let events = test.project().join("watch-events.jsonl");
    test.set_args(&["--json", "watch", "Deployment/worker"]);
    let mut child = test
        .command()
        .stdout(std::fs::File::create(&events).expect("events file"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ohdev watch starts");
    let dump = || std::fs::read_to_string(&events).unwrap_or_default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let wait = |what: &str, done: &dyn Fn() -> bool| {
        while !done() {
            assert!(std::time::Instant::now() < deadline, "waited for {what}\n{}", dump());
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    wait("the watch loop", &|| dump().contains("\"watching "));
    // The worker now also reads a new ConfigMap, and web's ConfigMap changes: the subset is
    // resolved again on the new manifests, so `extra` is applied and web's change is not.
    let manifests = std::fs::read_to_string(test.project().join("k8s/all.yaml")).expect("manifests");
    let edited = manifests.replace("data: {who: web}", "data: {who: changed}").replace(
        "envFrom: [{configMapRef: {name: worker-config}}]",
        "envFrom: [{configMapRef: {name: worker-config}}, {configMapRef: {name: extra}}]",
    );
    assert_ne!(edited, manifests);
    test.write(
        "k8s/all.yaml",
        &format!("{edited}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: extra}}\ndata: {{a: b}}\n"),
    );
    wait("ConfigMap extra and the worker's new envFrom in the cluster", &|| {
        stored(&test, "ConfigMap", "extra").is_some()
            && stored(&test, "Deployment", "worker").is_some_and(|worker| worker.to_string().contains("\"extra\""))
    });
    // SAFETY: signalling the child this test spawned.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    child.wait().expect("ohdev watch exits");
    assert_eq!(stored(&test, "ConfigMap", "web-config").expect("web-config")["data"]["who"], "web");
}
