//! Manifest sources that are programs (issue 14, part 1): `- kustomize: DIR`, rendered by the REAL
//! kubectl's built-in kustomize (the stand-in hands `kubectl kustomize` to it and records the call),
//! and `- command: [argv…]`, a script printing YAML. Fixtures in tests/fixtures/sources: a base and an
//! overlay with an `images:` transformer and a `namespace:`, and `render.sh` (RENDER_MODE=fail or
//! broken for its failures).
//!
//! Asserted: the objects in the stand-in after `up` (namespace from the overlay, image tags
//! substituted into kustomize's and the script's output alike, `${image:X}` too), sources named in
//! `plan` and in errors (snapshots), a failing or broken renderer is exit 2 with its stderr (a
//! Secret's value hidden) and nothing applied or created.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::Value;

use crate::ohdev_snapshot;
use crate::support::docker::{unique, with_docker};
use crate::support::{busybox, docker, Test};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sources");
const SECRET_VALUE: &str = "sk-SECRET-VALUE-123";

/// Copies tests/fixtures/sources/<from> to <project>/<to>, `IMAGE` replaced by `image`.
fn copy_fixture(test: &Test, from: &str, to: &str, image: &str) {
    let source = Path::new(FIXTURES).join(from);
    if source.is_dir() {
        for entry in std::fs::read_dir(&source).expect("fixture dir") {
            let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
            copy_fixture(test, &format!("{from}/{name}"), &format!("{to}/{name}"), image);
        }
        return;
    }
    let text = std::fs::read_to_string(&source).expect("fixture file").replace("IMAGE", image);
    test.write(to, &text);
    let mode = std::fs::metadata(&source).expect("fixture").permissions().mode();
    std::fs::set_permissions(test.project().join(to), std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A project with image `image` (a busybox-based context), the kustomize overlay in `overlay/` (its
/// base in `base/`) and render.sh, `manifests:` as given.
fn project(image: &str, base: &str, manifests: &str) -> Test {
    let config = format!(
        "cluster:\n  name: t\nnamespace: app\nimages:\n  {image}:\n    context: app\n    build_args: {{BASE: \"{base}\"}}\nmanifests:\n{manifests}secrets:\n  app-secrets:\n    env_file: .env\n    keys: [API_KEY]\n    namespace: shop\n"
    );
    let test = Test::new()
        .file("ohdev.yaml", &config)
        .file(".env", &format!("API_KEY={SECRET_VALUE}\n"))
        .file("app/Dockerfile", "ARG BASE\nFROM ${BASE}\nCOPY id.txt /id.txt\nCMD [\"sleep\", \"3600\"]\n")
        .file("app/id.txt", &format!("{image}\n"));
    copy_fixture(&test, "base", "base", image);
    copy_fixture(&test, "overlay", "overlay", image);
    copy_fixture(&test, "render.sh", "render.sh", image);
    test
}

const BOTH: &str = "  - kustomize: overlay\n  - command: [./render.sh, helper]\n";

/// Removes every image built for `name`, also when the test panics.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let name = self.0.clone();
        let _ = std::thread::spawn(move || {
            with_docker(|docker| async move {
                let mut filters = std::collections::HashMap::new();
                filters.insert("label", vec![format!("dev.ohdev.image={name}")]);
                let options = bollard::query_parameters::ListImagesOptionsBuilder::default().filters(&filters).build();
                for image in docker.list_images(Some(options)).await.unwrap_or_default() {
                    let options = bollard::query_parameters::RemoveImageOptionsBuilder::default().force(true).build();
                    let _ = docker.remove_image(&image.id, Some(options), None).await;
                }
            });
        })
        .join();
    }
}

fn stored_object(test: &Test, kind: &str, namespace: &str, name: &str) -> Option<Value> {
    let text = std::fs::read_to_string(test.state_dir().join("state.json")).ok()?;
    let state: Value = serde_json::from_str(&text).ok()?;
    state["clusters"]["t"]["objects"]
        .as_array()?
        .iter()
        .find(|object| object["kind"] == kind && object["namespace"] == namespace && object["name"] == name)
        .map(|object| object["body"].clone())
}

fn applies(test: &Test) -> usize {
    test.calls().iter().filter(|call| call.tool == "kubectl" && call.argv.iter().any(|arg| arg == "apply")).count()
}

#[test]
fn plan_names_each_objects_renderer() {
    let mut test = project("app", "unused", BOTH).arg("plan");
    let output = test.expect(0);
    assert!(output.stdout.contains("Deployment shop/web [kustomize:overlay]"), "{}", output.stdout);
    assert!(output.stdout.contains("Deployment tools/helper [command:render.sh]"), "{}", output.stdout);
    assert!(output.stdout.contains("Namespace/shop [kustomize:overlay]"), "{}", output.stdout);
    // The Secret from ohdev.yaml is in the overlay's namespace, which kustomize's output creates.
    assert!(output.stdout.contains("Secret shop/app-secrets "), "{}", output.stdout);
    // kustomize ran through the stand-in, which handed it to the real kubectl (offline, no cluster).
    let kustomize = test.calls_matching(" kustomize ");
    assert_eq!(kustomize.len(), 1, "{:?}", test.calls());
    assert!(kustomize[0].argv.ends_with(&[test.project().join("overlay").display().to_string()]), "{kustomize:?}");
    ohdev_snapshot!(output);

    test.set_args(&["--json", "plan"]);
    let output = test.expect(0);
    let helper = output.stdout.lines().find(|line| line.contains("\"name\":\"helper\"")).expect("helper in the plan");
    let helper: Value = serde_json::from_str(helper).expect("JSON line");
    assert_eq!(helper["source"], "command:render.sh");
    let file_secret = output.stdout.lines().find(|line| line.contains("\"name\":\"app-secrets\"")).expect("secret");
    assert!(!file_secret.contains("\"source\""), "{file_secret}");
}

#[test]
fn up_applies_rendered_objects_with_image_tags_substituted() {
    let Some(base) = docker::client().and_then(|_| busybox::base_image()) else { return };
    let image = format!("src-{}", unique());
    let _cleanup = Cleanup(image.clone());
    let test = project(&image, &base, BOTH).arg("up");
    let output = test.expect(0);
    // The overlay's namespace and image transformer, then ohdev's tag, in what the cluster holds.
    let web = stored_object(&test, "Deployment", "shop", "web")
        .unwrap_or_else(|| panic!("no Deployment shop/web\n{}", output.stdout));
    let tag = web["spec"]["template"]["spec"]["containers"][0]["image"].as_str().expect("image").to_string();
    assert!(tag.starts_with(&format!("ohdev.local/{image}:")), "{tag}");
    let config = stored_object(&test, "ConfigMap", "shop", "web-config").expect("ConfigMap shop/web-config");
    assert_eq!(config["data"]["built"], tag.as_str(), "${{image:X}} in kustomize's output");
    assert_eq!(config["metadata"]["labels"]["app.kubernetes.io/managed-by"], "ohdev");
    // The script's output: the same substitutions.
    let helper = stored_object(&test, "Deployment", "tools", "helper").expect("Deployment tools/helper");
    assert_eq!(helper["spec"]["template"]["spec"]["containers"][0]["image"], tag.as_str());
    let settings = stored_object(&test, "ConfigMap", "tools", "helper-settings").expect("ConfigMap");
    assert_eq!(settings["data"]["image"], tag.as_str());
    assert_eq!(settings["data"]["mode"], "rendered");
    assert!(stored_object(&test, "Secret", "shop", "app-secrets").is_some());
}

#[test]
fn a_failing_renderer_is_exit_2_with_its_stderr_and_nothing_changes() {
    let mut test = project("app", "unused", BOTH).arg("up").env("RENDER_MODE", "fail");
    let output = test.expect(2);
    assert!(output.stderr.contains("the manifests of command:render.sh cannot be rendered"), "{}", output.stderr);
    assert!(output.stderr.contains("exited with status 3"), "{}", output.stderr);
    assert!(output.stderr.contains("key 'replicas' is not a number"), "its stderr is shown: {}", output.stderr);
    assert!(!output.stderr.contains(SECRET_VALUE) && !output.stdout.contains(SECRET_VALUE), "a Secret's value leaked");
    assert!(output.stderr.contains("(token <redacted>)"), "{}", output.stderr);
    // Validated before the Session: no cluster created, nothing applied, no image built.
    let calls = test.calls();
    assert!(
        calls.iter().all(|call| call.tool == "kubectl" && call.argv.contains(&"kustomize".to_string())),
        "{calls:?}"
    );
    assert_eq!(applies(&test), 0);
    ohdev_snapshot!("renderer_fails", output);

    // Output that is not YAML: named by its source, document and line of the output.
    test = test.env("RENDER_MODE", "broken");
    test.set_args(&["plan"]);
    let output = test.expect(2);
    assert!(
        output.stderr.contains("command:render.sh (document 2, line 8 of its output): invalid YAML"),
        "{}",
        output.stderr
    );
    ohdev_snapshot!("renderer_prints_broken_yaml", output);
}

#[test]
fn a_broken_kustomization_is_exit_2_with_kustomizes_own_error() {
    let test = project("app", "unused", "  - kustomize: overlay\n")
        .file("overlay/kustomization.yaml", "resources: [../base, missing.yaml]\nnamespace: shop\n")
        .arg("plan");
    let output = test.expect(2);
    assert!(output.stderr.contains("the manifests of kustomize:overlay cannot be rendered"), "{}", output.stderr);
    assert!(output.stderr.contains("missing.yaml"), "kustomize's own words: {}", output.stderr);
    assert!(output.stderr.contains("run `kubectl kustomize overlay` to see the same error"), "{}", output.stderr);
    ohdev_snapshot!(output);

    let test = project("app", "unused", "  - kustomize: nowhere\n").arg("plan");
    let output = test.expect(2);
    assert!(output.stderr.contains("holds no kustomization.yaml"), "{}", output.stderr);
    assert!(test.calls().is_empty(), "{:?}", test.calls());
}

#[test]
fn manifest_entries_with_wrong_keys_are_named() {
    for (entry, expected) in [
        ("  - kustomise: overlay\n", "has `kustomise`, which is not a kind of entry: did you mean `kustomize`?"),
        (
            "  - {command: [./render.sh], wach: [values.yaml]}\n",
            "unknown key `wach` at `manifests`\n  fix: did you mean `watch`?",
        ),
        ("  - {kustomize: overlay, command: [x]}\n", "has both `kustomize` and `command`"),
        ("  - {command: []}\n", "`manifests.command` is empty"),
        ("  - {command: [no-such-renderer-here]}\n", "the renderer `no-such-renderer-here` is neither on PATH"),
        ("  - {kustomize: overlay, timeout: soon}\n", "`manifests.timeout` is `soon`, which is not a duration"),
    ] {
        let test = project("app", "unused", entry).arg("plan");
        let output = test.expect(2);
        assert!(output.stderr.contains(expected), "{entry}: {}", output.stderr);
    }
}

/// Polls `done` every 50 ms until it holds; panics after a generous deadline (never a measurement).
#[track_caller]
fn wait_until(what: &str, dump: impl Fn() -> String, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "waited for {what}\n{}", dump());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn watch_re_renders_when_a_file_of_the_kustomization_changes() {
    let Some(base) = docker::client().and_then(|_| busybox::base_image()) else { return };
    let image = format!("src-{}", unique());
    let _cleanup = Cleanup(image.clone());
    let mut test = project(&image, &base, "  - kustomize: overlay\n").arg("up");
    test.expect(0);
    let greeting = |test: &Test| {
        stored_object(test, "ConfigMap", "shop", "web-config").map(|config| config["data"]["greeting"].clone())
    };
    assert_eq!(greeting(&test), Some(Value::from("hello")));
    let renders_before = test.calls_matching(" kustomize ").len();
    let calls_before = raw_calls(&test).len();

    let events = test.project().join("watch-events.jsonl");
    test.set_args(&["--json", "watch"]);
    let mut child = test
        .command()
        .stdout(std::fs::File::create(&events).expect("events file"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ohdev watch starts");
    let dump = || std::fs::read_to_string(&events).unwrap_or_default();
    wait_until("the watch loop to start", dump, || dump().contains("\"watching "));
    // The base, outside the overlay's directory: the overlay names it under `resources:`.
    let config = std::fs::read_to_string(test.project().join("base/config.yaml")).expect("base config");
    test.write("base/config.yaml", &config.replace("greeting: hello", "greeting: bonjour"));
    wait_until("the re-rendered ConfigMap in the cluster", dump, || greeting(&test) == Some(Value::from("bonjour")));
    // SAFETY: signalling the child this test spawned.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().expect("ohdev watch exits");
    assert!(status.code().is_some(), "{status:?}");
    assert!(test.calls_matching(" kustomize ").len() > renders_before, "the overlay was not rendered again");
    // Only what changed was applied again: the ConfigMap, not the Deployment (its content is the same).
    let applied_after: Vec<String> = raw_calls(&test)[calls_before..]
        .iter()
        .filter(|call| call["argv"].as_array().is_some_and(|argv| argv.iter().any(|arg| arg == "apply")))
        .filter_map(|call| call["stdin"].as_str().map(str::to_string))
        .collect();
    assert!(applied_after.iter().any(|stdin| stdin.contains("bonjour")), "{applied_after:?}");
    assert!(!applied_after.iter().any(|stdin| stdin.contains("\"kind\":\"Deployment\"")), "{applied_after:?}");
}

fn raw_calls(test: &Test) -> Vec<Value> {
    let text = std::fs::read_to_string(test.state_dir().join("calls.jsonl")).unwrap_or_default();
    text.lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
}

#[test]
fn a_rendered_workload_that_fails_is_diagnosed_with_its_source() {
    if docker::client().is_none() {
        return;
    }
    let test = Test::new()
        .file(
            "ohdev.yaml",
            "cluster:\n  name: t\nnamespace: app\nimages: {}\nmanifests:\n  - command: [./render.sh, x]\n",
        )
        .env("RENDER_MODE", "ghost")
        .arg("up");
    copy_fixture(&test, "render.sh", "render.sh", "unused");
    let output = test.expect(1);
    let screen =
        output.stdout.split("── diagnosis ──").nth(1).unwrap_or_else(|| panic!("no diagnosis:\n{}", output.stdout));
    assert!(
        screen.contains("Deployment tools/ghost is not ready: ImagePullBackOff\n  from:       command:render.sh"),
        "{screen}"
    );
    assert!(screen.contains("  from:       command:render.sh (document 2, line 5 of its output)\n"), "{screen}");
}

#[test]
fn a_renderer_that_runs_too_long_is_stopped_and_exit_2() {
    let test = Test::new()
        .file(
            "ohdev.yaml",
            "cluster:\n  name: t\nnamespace: app\nimages: {}\nmanifests:\n  - {command: [./render.sh, x], timeout: 1s}\n",
        )
        .env("RENDER_MODE", "slow")
        .arg("up");
    copy_fixture(&test, "render.sh", "render.sh", "unused");
    let output = test.expect(2);
    assert!(output.stderr.contains("`./render.sh x` did not finish within 1.0s and was stopped"), "{}", output.stderr);
    assert!(output.stderr.contains("allow more time with `timeout: 2s`"), "{}", output.stderr);
    assert!(test.calls().is_empty(), "nothing may run after a renderer failed: {:?}", test.calls());
    let pid: i32 =
        std::fs::read_to_string(test.project().join("render.pid")).expect("pid").trim().parse().expect("pid");
    // The renderer's process group is stopped (SIGTERM, then SIGKILL after the grace period).
    wait_until("the renderer to be stopped", || format!("pid {pid}"), || crate::support::process_gone(pid));
}
