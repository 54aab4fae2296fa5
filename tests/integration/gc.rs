//! Garbage collection of old content tags (issue 11, part 4): `ohdev gc`, and the automatic run
//! after a rollout in `ohdev rebuild`.
//!
//! - N+2 builds (a one-line change each) and `ohdev gc` leave exactly the newest N tags in Docker;
//!   an image tagged like ohdev's but without its labels survives; `--dry-run` prints the same
//!   removals and changes nothing; the bytes freed are the removed layers' bytes.
//! - A tag a running pod uses survives however old; the tag state.json records as current too.
//! - `ohdev rebuild` runs gc after its rollout once, not again within the hour (state.json `gc`),
//!   and again once the recorded time is an hour old.
//! - Bad `keep` values (ohdev.yaml, `--keep`) are exit 2 and remove nothing.
//! - On kind nodes (real node containers, fake-kube's `FAKE_KUBE_NODE_IMAGE`), `crictl rmi` runs for
//!   the removed tags the node holds, and for nothing else.
//!
//! Every test uses image names of its own and removes what it created.

use serde_json::Value;

use crate::support::docker::{base_or_skip, ohdev_images, unique, with_docker};
use crate::support::registry::{node_image, Containers};
use crate::support::{json_lines, Output, Test};

/// A layer each build adds: large enough that the bytes freed are unmistakable.
const PAYLOAD_BYTES: usize = 200_000;

fn image_exists(reference: &str) -> bool {
    let reference = reference.to_string();
    with_docker(|docker| async move { docker.inspect_image(&reference).await.is_ok() })
}

fn docker_cli(args: &[&str]) -> String {
    let output = std::process::Command::new("docker").args(args).output().expect("docker runs");
    assert!(output.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Removes every image built for the image name and the extra references, also on panic.
struct Cleanup {
    name: String,
    references: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let name = self.name.clone();
        let references = std::mem::take(&mut self.references);
        let _ = std::thread::spawn(move || {
            let mut doomed: Vec<String> = ohdev_images(&name).into_keys().collect();
            doomed.extend(references);
            with_docker(|docker| async move {
                for reference in doomed {
                    let options = bollard::query_parameters::RemoveImageOptionsBuilder::default().force(true).build();
                    let _ = docker.remove_image(&reference, Some(options), None).await;
                }
            });
        })
        .join();
    }
}

/// A project with one image `gc-<random>` (a payload file per build, so every change is a new
/// layer of [`PAYLOAD_BYTES`]), `gc:` lines `gc_yaml`, and with `manifests` a Deployment using it.
fn project(base: &str, gc_yaml: &str, manifests: bool, cluster: &str) -> (Test, String, Cleanup) {
    let name = format!("gc-{}", unique());
    let cleanup = Cleanup { name: name.clone(), references: Vec::new() };
    let manifest_list = if manifests { "[k8s]" } else { "[]" };
    let config = format!(
        "cluster:\n  name: {cluster}\nnamespace: app\nimages:\n  {name}:\n    context: app\n    build_args: {{BASE: \"{base}\"}}\nmanifests: {manifest_list}\n{gc_yaml}"
    );
    let deployment = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: app}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: app}}\nspec:\n  replicas: 1\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers:\n      - {{name: main, image: {name}}}\n"
    );
    let mut test = Test::new()
        .file("ohdev.yaml", &config)
        .file("app/Dockerfile", "ARG BASE\nFROM ${BASE}\nCOPY payload /payload\nCOPY version /version\n");
    if manifests {
        test = test.file("k8s/app.yaml", &deployment);
    }
    edit(&test, 0);
    (test, name, cleanup)
}

/// The one-line change of build `n`: a new version line and a new payload.
fn edit(test: &Test, n: usize) {
    test.write("app/version", &format!("version {n}\n"));
    // Unique to this project: a layer another test built from the same bytes would be shared
    // with it, and rightly not counted as freed.
    let line = format!("{} build {n}\n", test.project().display());
    test.write("app/payload", &line.repeat(PAYLOAD_BYTES / line.len() + 1)[..PAYLOAD_BYTES]);
}

fn built_tag(output: &Output, name: &str) -> String {
    json_lines(&output.stdout)
        .into_iter()
        .find(|event| event["type"] == "image" && event["image"] == name && event["tag"].is_string())
        .and_then(|event| event["tag"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no image event for {name}:\n{}", output.stdout))
}

fn events_of(output: &Output, kind: &str) -> Vec<Value> {
    json_lines(&output.stdout).into_iter().filter(|event| event["type"] == kind).collect()
}

/// (place, reference) of each `gc_removed` event.
fn removals(output: &Output) -> Vec<(String, String)> {
    let mut removed: Vec<(String, String)> = events_of(output, "gc_removed")
        .iter()
        .map(|event| {
            (
                event["place"].as_str().unwrap_or_default().to_string(),
                event["reference"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    removed.sort();
    removed
}

fn sorted(mut list: Vec<String>) -> Vec<String> {
    list.sort();
    list
}

// ------------------------------------------------------------------------------------------
// Docker: N+2 builds leave N; foreign images survive; --dry-run changes nothing

#[test]
fn n_plus_two_builds_leave_the_newest_n_and_an_image_ohdev_did_not_build_survives() {
    let Some(base) = base_or_skip() else { return };
    let (mut test, name, mut cleanup) = project(&base, "gc:\n  keep: 2\n", false, "t");
    let mut tags = Vec::new();
    for n in 1..=4 {
        edit(&test, n);
        test.set_args(&["--json", "build"]);
        tags.push(built_tag(&test.expect(0), &name));
    }
    assert_eq!(sorted(ohdev_images(&name).into_keys().collect()), sorted(tags.clone()));
    // Tagged exactly like ohdev's, older than all of them, but without ohdev's labels.
    let foreign = format!("ohdev.local/{name}:ffffffffffffffff");
    docker_cli(&["tag", &base, &foreign]);
    cleanup.references.push(foreign.clone());

    test.set_args(&["--json", "gc", "--dry-run"]);
    let dry = test.expect(0);
    let planned = removals(&dry);
    assert_eq!(
        planned,
        sorted(tags[..2].to_vec()).into_iter().map(|tag| ("docker".to_string(), tag)).collect::<Vec<_>>(),
        "{}",
        dry.stdout
    );
    assert!(events_of(&dry, "gc_removed").iter().all(|event| event["dry_run"] == true));
    let done = &events_of(&dry, "gc_done")[0];
    assert_eq!(
        (done["dry_run"].as_bool(), done["removed"].as_u64(), done["kept"].as_u64()),
        (Some(true), Some(2), Some(2))
    );
    let estimate = done["docker_bytes"].as_u64().expect("docker bytes measured");
    assert!(estimate >= 2 * PAYLOAD_BYTES as u64, "two payload layers at least: {estimate}");
    assert_eq!(ohdev_images(&name).len(), 4, "--dry-run removed something");

    test.set_args(&["--json", "gc"]);
    let run = test.expect(0);
    let removed: Vec<(String, String)> = removals(&run);
    assert_eq!(removed, planned.clone(), "a run does what the dry run said");
    let done = &events_of(&run, "gc_done")[0];
    assert_eq!((done["dry_run"].as_bool(), done["removed"].as_u64()), (Some(false), Some(2)));
    assert_eq!(done["docker_bytes"].as_u64(), Some(estimate), "freed what the plan measured");
    assert_eq!(sorted(ohdev_images(&name).into_keys().collect()), sorted(tags[2..].to_vec()));
    assert!(image_exists(&foreign), "an image ohdev did not build was removed");

    // The text a person reads, and a second run that finds nothing.
    test.set_args(&["gc"]);
    let again = test.expect(0);
    assert!(again.stdout.contains("gc: nothing to remove (2 tag(s) kept)"), "{}", again.stdout);
}

#[test]
fn gc_prints_what_it_removed_and_the_bytes_freed() {
    let Some(base) = base_or_skip() else { return };
    let (mut test, name, _cleanup) = project(&base, "", false, "t");
    let mut tags = Vec::new();
    for n in 1..=2 {
        edit(&test, n);
        test.set_args(&["--json", "build"]);
        tags.push(built_tag(&test.expect(0), &name));
    }
    test.set_args(&["gc", "--keep", "1"]);
    let output = test.expect(0);
    assert!(output.stdout.contains(&format!("✓ removed {} from Docker", tags[0])), "{}", output.stdout);
    assert!(output.stdout.contains("✓ gc removed 1 tag(s), kept 1: freed "), "{}", output.stdout);
    assert!(output.stdout.contains(" kB in Docker"), "{}", output.stdout);
    assert_eq!(ohdev_images(&name).into_keys().collect::<Vec<_>>(), [tags[1].clone()]);
}

#[test]
fn an_image_a_container_uses_stays_in_docker_with_a_warning_and_the_rest_goes() {
    let Some(base) = base_or_skip() else { return };
    let (mut test, name, _cleanup) = project(&base, "", false, "t");
    let mut tags = Vec::new();
    for n in 1..=3 {
        edit(&test, n);
        test.set_args(&["--json", "build"]);
        tags.push(built_tag(&test.expect(0), &name));
    }
    let mut containers = Containers::default();
    let container = format!("gc-user-{}", unique());
    containers.add(container.clone());
    docker_cli(&["create", "--name", &container, &tags[0], "true"]);
    test.set_args(&["gc", "--keep", "1"]);
    let output = test.expect(0);
    assert!(output.stdout.contains(&format!("warning: Docker kept {}: ", tags[0])), "{}", output.stdout);
    assert!(output.stdout.contains(&format!("✓ removed {} from Docker", tags[1])), "{}", output.stdout);
    assert!(!output.stdout.contains(&format!("✓ removed {} from Docker", tags[0])), "{}", output.stdout);
    assert!(output.stdout.contains("✓ gc removed 1 tag(s), kept 2: freed "), "{}", output.stdout);
    assert_eq!(sorted(ohdev_images(&name).into_keys().collect()), sorted(vec![tags[0].clone(), tags[2].clone()]));
}

// ------------------------------------------------------------------------------------------
// What runs, and what state says is current, survives

#[test]
fn a_tag_a_running_pod_uses_survives_however_old() {
    let Some(base) = base_or_skip() else { return };
    let (mut test, name, _cleanup) = project(&base, "", true, "t");
    test.set_args(&["--json", "up"]);
    let running = built_tag(&test.expect(0), &name);
    // Three more builds the cluster never runs: the pod keeps the first tag.
    let mut tags = Vec::new();
    for n in 1..=3 {
        edit(&test, n);
        test.set_args(&["--json", "build"]);
        tags.push(built_tag(&test.expect(0), &name));
    }
    test.set_args(&["--json", "gc", "--keep", "1"]);
    let output = test.expect(0);
    assert_eq!(
        removals(&output),
        sorted(vec![tags[0].clone(), tags[1].clone()])
            .into_iter()
            .map(|tag| ("docker".to_string(), tag))
            .collect::<Vec<_>>(),
        "{}",
        output.stdout
    );
    assert!(
        test.calls().iter().any(|call| call.line().starts_with("kubectl --context kind-t get pods -A -o json")),
        "gc asked the cluster what runs: {:?}",
        test.calls()
    );
    assert_eq!(sorted(ohdev_images(&name).into_keys().collect()), sorted(vec![running, tags[2].clone()]));
}

#[test]
fn the_tag_state_records_as_current_survives_even_when_older_ones_are_newer_in_docker() {
    let Some(base) = base_or_skip() else { return };
    let (mut test, name, _cleanup) = project(&base, "gc:\n  keep: 1\n", false, "t");
    let mut tags = Vec::new();
    for n in [1, 2, 1] {
        // Back to the first content: its tag exists, nothing is built, state records it as current.
        edit(&test, n);
        test.set_args(&["--json", "build"]);
        tags.push(built_tag(&test.expect(0), &name));
    }
    assert_eq!(tags[0], tags[2]);
    test.set_args(&["--json", "gc"]);
    let output = test.expect(0);
    // The newest build (tags[1]) is the newest, tags[0] is current: both stay.
    assert_eq!(removals(&output), Vec::<(String, String)>::new(), "{}", output.stdout);
    assert_eq!(sorted(ohdev_images(&name).into_keys().collect()), sorted(vec![tags[0].clone(), tags[1].clone()]));
}

// ------------------------------------------------------------------------------------------
// Automatic gc after a rollout, at most once an hour

#[test]
fn rebuild_collects_once_and_not_again_within_the_hour() {
    let Some(base) = base_or_skip() else { return };
    let (mut test, name, _cleanup) = project(&base, "gc:\n  keep: 1\n", true, "t");
    test.set_args(&["--json", "up"]);
    let first = built_tag(&test.expect(0), &name);

    edit(&test, 1);
    test.set_args(&["--json", "rebuild"]);
    let rebuilt = test.expect(0);
    let second = built_tag(&rebuilt, &name);
    assert_eq!(removals(&rebuilt), [("docker".to_string(), first.clone())], "{}", rebuilt.stdout);
    assert_eq!(events_of(&rebuilt, "gc_done").len(), 1, "{}", rebuilt.stdout);
    assert_eq!(ohdev_images(&name).into_keys().collect::<Vec<_>>(), std::slice::from_ref(&second));
    let state_file = test.project().join(".ohdev/state.json");
    let state =
        || -> Value { serde_json::from_str(&std::fs::read_to_string(&state_file).expect("state")).expect("JSON") };
    let recorded = state()["gc"]["last_run"].as_str().expect("gc.last_run recorded").to_string();

    // Within the hour: no gc, however many tags pile up; and nothing said about it.
    edit(&test, 2);
    let quiet = test.expect(0);
    let third = built_tag(&quiet, &name);
    assert!(events_of(&quiet, "gc_done").is_empty() && removals(&quiet).is_empty(), "{}", quiet.stdout);
    assert_eq!(sorted(ohdev_images(&name).into_keys().collect()), sorted(vec![second.clone(), third.clone()]));
    assert_eq!(state()["gc"]["last_run"].as_str(), Some(recorded.as_str()));

    // An hour later (the record says so): the next rollout collects again.
    let mut record = state();
    record["gc"]["last_run"] = Value::String("2000-01-01T00:00:00Z".to_string());
    std::fs::write(&state_file, record.to_string()).expect("write state");
    edit(&test, 3);
    let later = test.expect(0);
    let fourth = built_tag(&later, &name);
    assert_eq!(
        removals(&later),
        sorted(vec![second, third]).into_iter().map(|tag| ("docker".to_string(), tag)).collect::<Vec<_>>()
    );
    assert_eq!(ohdev_images(&name).into_keys().collect::<Vec<_>>(), [fourth]);
    assert_ne!(state()["gc"]["last_run"].as_str(), Some("2000-01-01T00:00:00Z"));
}

// ------------------------------------------------------------------------------------------
// Bad input

#[test]
fn bad_keep_values_are_exit_2_and_remove_nothing() {
    let Some(base) = base_or_skip() else { return };
    let (mut test, name, _cleanup) = project(&base, "", false, "t");
    for n in 1..=2 {
        edit(&test, n);
        test.set_args(&["build"]);
        test.expect(0);
    }
    let before = ohdev_images(&name);
    for (gc_yaml, expected) in [
        ("gc:\n  keep: 0\n", "`gc.keep` is 0: ohdev gc would keep no earlier tag to go back to"),
        ("gc:\n  keep: -2\n", "`gc.keep` is `-2`, which is not a number of tags"),
        ("gc:\n  keep: lots\n", "`gc.keep` is `lots`, which is not a number of tags"),
    ] {
        let config = std::fs::read_to_string(test.project().join("ohdev.yaml")).expect("config");
        let config = config.split("gc:\n").next().expect("text").to_string();
        test.write("ohdev.yaml", &format!("{config}{gc_yaml}"));
        test.set_args(&["gc", "--keep", "1"]);
        let output = test.expect(2);
        assert!(output.stderr.contains(expected), "{gc_yaml}: {}", output.stderr);
        assert!(output.stderr.contains("ohdev.yaml:10:"), "{gc_yaml}: {}", output.stderr);
        assert_eq!(ohdev_images(&name), before, "{gc_yaml}: removed something");
    }
    let config = std::fs::read_to_string(test.project().join("ohdev.yaml")).expect("config");
    test.write("ohdev.yaml", config.split("gc:\n").next().expect("text"));
    for keep in ["0", "1001", "x"] {
        test.set_args(&["gc", "--keep", keep]);
        let output = test.expect(2);
        assert!(output.stderr.contains("--keep"), "--keep {keep}: {}", output.stderr);
        assert_eq!(ohdev_images(&name), before, "--keep {keep}: removed something");
    }
}

// ------------------------------------------------------------------------------------------
// kind nodes

/// The lines of the node's crictl image list (`ref size`).
fn node_images(node: &str) -> Vec<String> {
    sorted(docker_cli(&["exec", node, "cat", "/var/lib/crictl-images"]).lines().map(str::to_string).collect())
}

#[test]
fn nodes_lose_the_removed_tags_through_crictl_and_nothing_else() {
    let Some(base) = base_or_skip() else { return };
    let Some(node_image) = node_image() else { return };
    let cluster = format!("gc-{}", unique());
    let node = format!("{cluster}-control-plane");
    let mut containers = Containers::default();
    containers.add(node.clone());
    let (test, name, _cleanup) = project(&base, "", false, &cluster);
    let mut test = test.env("FAKE_KUBE_NODE_IMAGE", &node_image);
    test.set_args(&["--json", "up"]);
    let mut tags = vec![built_tag(&test.expect(0), &name)];
    for n in 1..=2 {
        edit(&test, n);
        test.set_args(&["--json", "build"]);
        tags.push(built_tag(&test.expect(0), &name));
    }
    // What the node holds: every tag as containerd names what kind loaded, and a foreign image
    // whose name merely resembles one of ohdev's.
    let lines: Vec<String> = tags
        .iter()
        .enumerate()
        .map(|(index, tag)| format!("docker.io/{tag} {}", 1_000_000 * (index + 1)))
        .chain([format!("docker.io/example/{name}:{} 5", tags[0].rsplit(':').next().expect("tag"))])
        .collect();
    docker_cli(&[
        "exec",
        &node,
        "sh",
        "-c",
        &format!(
            "printf '%s\\n' {} > /var/lib/crictl-images",
            lines.iter().map(|line| format!("'{line}'")).collect::<Vec<_>>().join(" ")
        ),
    ]);

    test.set_args(&["--json", "gc", "--keep", "1", "--dry-run"]);
    let dry = test.expect(0);
    assert!(removals(&dry).contains(&("node".to_string(), format!("docker.io/{}", tags[0]))), "{}", dry.stdout);
    assert_eq!(node_images(&node).len(), 4, "--dry-run changed the node");
    let calls = docker_cli(&["exec", &node, "cat", "/var/log/crictl.calls"]);
    assert!(!calls.contains("rmi"), "{calls}");

    test.set_args(&["--json", "gc", "--keep", "1"]);
    let output = test.expect(0);
    let node_removals: Vec<Value> =
        events_of(&output, "gc_removed").into_iter().filter(|event| event["place"] == "node").collect();
    let references: Vec<&str> = node_removals.iter().filter_map(|event| event["reference"].as_str()).collect();
    assert_eq!(
        sorted(references.iter().map(|r| r.to_string()).collect()),
        sorted(vec![format!("docker.io/{}", tags[0]), format!("docker.io/{}", tags[1])])
    );
    assert!(node_removals.iter().all(|event| event["node"] == node.as_str()));
    let done = &events_of(&output, "gc_done")[0];
    assert_eq!(done["node_bytes"].as_u64(), Some(3_000_000), "crictl's sizes of the two removed images");
    let calls = docker_cli(&["exec", &node, "cat", "/var/log/crictl.calls"]);
    let rmis: Vec<&str> = calls.lines().filter(|line| line.starts_with("rmi")).collect();
    assert_eq!(
        sorted(rmis.iter().map(|r| r.to_string()).collect()),
        sorted(vec![format!("rmi docker.io/{}", tags[0]), format!("rmi docker.io/{}", tags[1])])
    );
    assert_eq!(node_images(&node), sorted(vec![lines[2].clone(), lines[3].clone()]));

    test.set_args(&["down", "--yes"]);
    test.expect(0);
}

// ------------------------------------------------------------------------------------------
// The registry

#[test]
fn with_a_registry_n_plus_two_builds_leave_n_tags_there_and_its_blobs_are_collected() {
    let Some(base) = base_or_skip() else { return };
    let Some(registry_image) = crate::support::registry::registry_image() else { return };
    let port = crate::support::registry::free_port();
    let container = format!("ohdev-registry-{port}");
    let mut containers = Containers::default();
    containers.add(container.clone());
    let registry_yaml = format!("registry:\n  host: localhost:{port}\n  image: {registry_image}\ngc:\n  keep: 2\n");
    let (mut test, name, mut cleanup) = project(&base, &registry_yaml, false, "t");
    let mut tags = Vec::new();
    for n in 1..=4 {
        edit(&test, n);
        test.set_args(&["--json", "build"]);
        let tag = built_tag(&test.expect(0), &name);
        tags.push(tag.rsplit_once(':').expect("tag").1.to_string());
    }
    let api = crate::support::registry::Api::new(port);
    assert_eq!(api.tags(&name), sorted(tags.clone()), "every build pushed");
    // Pushed by someone else under ohdev's repository, without ohdev's labels: never collected.
    let foreign = format!("localhost:{port}/{name}:ffffffffffffffff");
    docker_cli(&["tag", &base, &foreign]);
    cleanup.references.push(foreign.clone());
    docker_cli(&["push", &foreign]);
    let storage_before = crate::support::registry::storage_bytes(&container);

    test.set_args(&["--json", "gc", "--dry-run"]);
    let dry = test.expect(0);
    let in_registry: Vec<String> =
        removals(&dry).into_iter().filter(|(place, _)| place == "registry").map(|(_, reference)| reference).collect();
    assert_eq!(in_registry, sorted(tags[..2].iter().map(|tag| format!("localhost:{port}/{name}:{tag}")).collect()));
    assert_eq!(api.tags(&name).len(), 5, "--dry-run deleted a tag");

    test.set_args(&["--json", "gc"]);
    let run = test.expect(0);
    assert_eq!(removals(&run), removals(&dry), "{}", run.stdout);
    let mut expected = tags[2..].to_vec();
    expected.push("ffffffffffffffff".to_string());
    assert_eq!(api.tags(&name), sorted(expected), "the registry keeps the newest 2 and the foreign tag");
    // Docker lost both references of each removed image (ohdev.local/… and the registry's).
    let remaining = ohdev_images(&name);
    for tag in &tags[..2] {
        assert!(!remaining.contains_key(&format!("ohdev.local/{name}:{tag}")), "{remaining:?}");
        assert!(!remaining.contains_key(&format!("localhost:{port}/{name}:{tag}")), "{remaining:?}");
    }
    assert!(remaining.contains_key(&format!("localhost:{port}/{name}:{}", tags[3])), "{remaining:?}");
    assert!(image_exists(&foreign));
    let done = &events_of(&run, "gc_done")[0];
    let registry_bytes = done["registry_bytes"].as_u64().expect("registry bytes");
    assert!(registry_bytes > 0, "{done}");
    // `registry garbage-collect` ran in ohdev's container: the blobs are gone from its disk.
    let storage_after = crate::support::registry::storage_bytes(&container);
    assert!(
        storage_before >= storage_after + registry_bytes,
        "storage {storage_before} → {storage_after}, reported {registry_bytes} freed"
    );
}

#[test]
fn after_a_rebuild_through_a_registry_the_old_tag_leaves_docker_the_registry_and_the_nodes() {
    let Some(base) = base_or_skip() else { return };
    let Some(registry_image) = crate::support::registry::registry_image() else { return };
    let Some(node_image) = node_image() else { return };
    let port = crate::support::registry::free_port();
    let cluster = format!("gc-{}", unique());
    let node = format!("{cluster}-control-plane");
    let mut containers = Containers::default();
    containers.add(format!("ohdev-registry-{port}"));
    containers.add(node.clone());
    let registry_yaml = format!("registry:\n  host: localhost:{port}\n  image: {registry_image}\ngc:\n  keep: 1\n");
    let (test, name, _cleanup) = project(&base, &registry_yaml, true, &cluster);
    let mut test = test.env("FAKE_KUBE_NODE_IMAGE", &node_image);
    test.set_args(&["--json", "up"]);
    let first = built_tag(&test.expect(0), &name);
    let first = first.rsplit_once(':').expect("tag").1.to_string();
    let pulled = format!("localhost:{port}/{name}:{first}");
    assert!(node_images(&node).iter().any(|line| line.starts_with(&format!("{pulled} "))), "{:?}", node_images(&node));

    edit(&test, 1);
    test.set_args(&["--json", "rebuild"]);
    let rebuilt = test.expect(0);
    let second = built_tag(&rebuilt, &name);
    let second = second.rsplit_once(':').expect("tag").1.to_string();
    let places: Vec<String> = removals(&rebuilt)
        .into_iter()
        .filter(|(_, reference)| reference.ends_with(&first))
        .map(|(place, reference)| format!("{place} {reference}"))
        .collect();
    assert_eq!(
        places,
        [
            format!("docker localhost:{port}/{name}:{first}"),
            format!("docker ohdev.local/{name}:{first}"),
            format!("node {pulled}"),
            format!("registry {pulled}"),
        ],
        "{}",
        rebuilt.stdout
    );
    assert_eq!(crate::support::registry::Api::new(port).tags(&name), std::slice::from_ref(&second));
    let calls = docker_cli(&["exec", &node, "cat", "/var/log/crictl.calls"]);
    assert!(calls.lines().any(|line| line == format!("rmi {pulled}")), "{calls}");
    assert!(!node_images(&node).iter().any(|line| line.contains(&first)), "{:?}", node_images(&node));
    assert!(
        node_images(&node).iter().any(|line| line.contains(&second)),
        "the running tag stays: {:?}",
        node_images(&node)
    );

    test.set_args(&["down", "--yes"]);
    test.expect(0);
}
