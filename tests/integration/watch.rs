//! The dev loop (issue "dev loop"): `ohdev --json watch` spawned against the kind/kubectl
//! stand-ins and the real Docker engine, after an `ohdev up` of the fixture in
//! tests/fixtures/watch (an image whose Dockerfile runs `build.sh`, and a Namespace, ConfigMap,
//! Service and Deployment that names the image).
//!
//! - An edit to a context file rebuilds that image once, loads it once and re-applies only the
//!   Deployment, which then names the new tag; an ignored file changes nothing; a burst of 20 edits
//!   is one build (two at most).
//! - A broken build shows `error` and keeps the old tag deployed; the fixing edit rolls out a new one.
//! - A build that writes into its own context (a `prebuild`) is stopped after more than
//!   LOOP_LIMIT (3) rebuilds in a row, naming the file and the .dockerignore fix; edits made as
//!   soon as `idle` shows are never taken for such a loop.
//! - A file under a `sync` rule is copied with `kubectl exec -i … -- tar -x -C DEST`, not built;
//!   without `tar` in the container, it is a rebuild with a notice.
//! - `ohdev rebuild` without a change builds, loads and applies nothing; after one, exactly one of each.
//! - SIGINT during a rollout: exit 130 and no stand-in process left.
//! - The first rollout runs gc (`keep: 1` leaves only the running tag); the next, within the hour, does not.
//! - With `registry:`, an edit is pushed to the registry and rolled out with the registry
//!   reference; nothing is `kind load`ed.
//! - Dev mode (ohdev.yaml `dev:`): `up --dev` and `up --watch` apply the dev patches, `up` and
//!   `up --watch --no-dev` do not, and switching re-applies the Deployment; `rebuild` and `watch`
//!   keep the mode `up` deployed. A file under a dev sync rule is synced (then the rule's `run:`)
//!   in dev mode and rebuilt in production mode.
//!
//! Results are waited for by polling the events file and calls.jsonl with a generous deadline;
//! nothing asserts on timing. Every test uses an image name of its own and removes its images.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::ohdev_snapshot;
use crate::support::docker::{base_or_skip, ohdev_image_ids, unique, with_docker};
use crate::support::{docker, json_lines, process_gone, Test};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/watch");
/// How long any awaited result may take (builds on a loaded 2-core machine); never a measurement.
const DEADLINE: Duration = Duration::from_secs(180);
/// A pause with no new event or call after which the loop is taken to be at rest: far longer than
/// the watch window (50 ms) and the stand-in's calls, so that work caused by an edit has begun.
const QUIET: Duration = Duration::from_millis(1500);

// ------------------------------------------------------------------------------------------
// Helpers

/// Removes every image built for this test's image name, also when the test panics.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let name = self.0.clone();
        let _ = std::thread::spawn(move || {
            let ids = ohdev_image_ids(&name);
            with_docker(|docker| async move {
                for id in ids {
                    let options = bollard::query_parameters::RemoveImageOptionsBuilder::default().force(true).build();
                    let _ = docker.remove_image(&id, Some(options), None).await;
                }
            });
        })
        .join();
    }
}

/// Copies tests/fixtures/watch/<from> (recursively, dotfiles too) to <project>/<to>.
fn copy_fixture_dir(test: &Test, from: &Path, to: &str) {
    for entry in std::fs::read_dir(from).expect("fixture dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        let target = format!("{to}/{name}");
        if entry.file_type().expect("type").is_dir() {
            copy_fixture_dir(test, &entry.path(), &target);
        } else {
            test.write(&target, &std::fs::read_to_string(entry.path()).expect("fixture file"));
        }
    }
}

/// The fixture project: image `<name>` (context `app/`) with `extra` YAML lines under it,
/// manifests `k8s/` naming it, the pod template's annotations set to `annotations`.
pub(crate) struct Project {
    pub(crate) test: Test,
    pub(crate) image: String,
    _cleanup: Cleanup,
}

pub(crate) fn project(base: &str, extra: &str, annotations: &str) -> Project {
    let image = format!("watch-{}", unique());
    let cleanup = Cleanup(image.clone());
    let manifest = std::fs::read_to_string(Path::new(FIXTURES).join("k8s/app.yaml")).expect("manifest fixture");
    let manifest = manifest
        .replace("image: IMAGE", &format!("image: {image}"))
        .replace("annotations: {}", &format!("annotations: {annotations}"));
    let mut config = format!(
        "cluster:\n  name: t\nnamespace: app\nimages:\n  {image}:\n    context: app\n    dockerfile: Dockerfile\n    build_args: {{BASE: \"{base}\"}}\n"
    );
    for line in extra.lines() {
        config.push_str(&format!("    {line}\n"));
    }
    config.push_str("manifests: [k8s]\n");
    let test = Test::new().file("k8s/app.yaml", &manifest).file("ohdev.yaml", &config);
    copy_fixture_dir(&test, &Path::new(FIXTURES).join("app"), "app");
    Project { test, image, _cleanup: cleanup }
}

impl Project {
    pub(crate) fn up(&mut self) {
        self.test.set_args(&["--json", "up"]);
        self.test.expect(0);
    }

    pub(crate) fn tag_prefix(&self) -> String {
        format!("ohdev.local/{}:", self.image)
    }

    /// The image the stand-in's Deployment `app/web` names (its stored state).
    fn deployed_image(&self) -> String {
        let deployment =
            stored_object(&self.test, "Deployment", "app", "web").expect("Deployment app/web in the stand-in");
        deployment["spec"]["template"]["spec"]["containers"][0]["image"].as_str().expect("container image").to_string()
    }

    /// Images the stand-in's node holds (what `kind load` put there).
    fn node_images(&self) -> Vec<String> {
        let state = stand_in_state(&self.test);
        state["clusters"]["t"]["nodes"][0]["images"]
            .as_object()
            .map(|images| images.keys().cloned().collect())
            .unwrap_or_default()
    }
}

fn stand_in_state(test: &Test) -> Value {
    let text = std::fs::read_to_string(test.state_dir().join("state.json")).expect("stand-in state.json");
    serde_json::from_str(&text).expect("state.json is JSON")
}

fn stored_object(test: &Test, kind: &str, namespace: &str, name: &str) -> Option<Value> {
    let state = stand_in_state(test);
    state["clusters"]["t"]["objects"]
        .as_array()?
        .iter()
        .find(|object| object["kind"] == kind && object["namespace"] == namespace && object["name"] == name)
        .map(|object| object["body"].clone())
}

/// calls.jsonl as JSON values (complete lines only: a call may be being appended).
fn raw_calls(test: &Test) -> Vec<Value> {
    let text = std::fs::read_to_string(test.state_dir().join("calls.jsonl")).unwrap_or_default();
    complete_lines(&text).filter_map(|line| serde_json::from_str(line).ok()).collect()
}

fn complete_lines(text: &str) -> impl Iterator<Item = &str> {
    let end = text.rfind('\n').map_or(0, |position| position + 1);
    text[..end].lines()
}

fn line_of(call: &Value) -> String {
    let argv: Vec<&str> = call["argv"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    format!("{} {}", call["tool"].as_str().unwrap_or_default(), argv.join(" "))
}

fn argv_of(call: &Value) -> Vec<String> {
    call["argv"].as_array().into_iter().flatten().filter_map(|arg| arg.as_str().map(str::to_string)).collect()
}

fn is_load(call: &Value) -> bool {
    call["tool"] == "kind" && line_of(call).contains("load docker-image")
}

fn is_apply(call: &Value) -> bool {
    call["tool"] == "kubectl" && argv_of(call).iter().any(|arg| arg == "apply")
}

/// (kind, name) of each object an `apply -f -` call was given (one JSON object or a List).
fn applied_objects(call: &Value) -> Vec<(String, String)> {
    let Some(stdin) = call["stdin"].as_str() else { return Vec::new() };
    let Ok(value) = serde_json::from_str::<Value>(stdin) else { return Vec::new() };
    let items =
        if value["kind"] == "List" { value["items"].as_array().cloned().unwrap_or_default() } else { vec![value] };
    items
        .iter()
        .map(|object| {
            (
                object["kind"].as_str().unwrap_or_default().to_string(),
                object["metadata"]["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// A running `ohdev --json watch`: stdout (the events) and stderr go to files in the project
/// (outside every watched root).
pub(crate) struct Watch {
    child: Option<Child>,
    events: PathBuf,
    stderr: PathBuf,
}

impl Watch {
    fn start(test: &mut Test) -> Watch {
        Watch::start_with(test, &["--json", "watch"])
    }

    /// Like [`Watch::start`] with other arguments (`--json up --watch`).
    pub(crate) fn start_with(test: &mut Test, args: &[&str]) -> Watch {
        let events = test.project().join("watch-events.jsonl");
        let stderr = test.project().join("watch-stderr.txt");
        test.set_args(args);
        let child = test
            .command()
            .stdout(std::fs::File::create(&events).expect("events file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("ohdev watch starts");
        let watch = Watch { child: Some(child), events, stderr };
        // The watches are in place once the loop says so.
        watch.wait_for("the `watching … for changes` message", |events| {
            events.iter().any(|event| {
                event["type"] == "message"
                    && event["message"].as_str().is_some_and(|text| text.starts_with("watching "))
            })
        });
        watch
    }

    pub(crate) fn events(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.events).unwrap_or_default();
        let complete: String = complete_lines(&text).map(|line| format!("{line}\n")).collect();
        json_lines(&complete)
    }

    pub(crate) fn dump(&self) -> String {
        format!(
            "events:\n{}\nstderr:\n{}",
            std::fs::read_to_string(&self.events).unwrap_or_default(),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }

    /// Polls the events until `done` holds; panics with every event after [`DEADLINE`] or if ohdev exits.
    #[track_caller]
    pub(crate) fn wait_for(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let events = self.events();
            if done(&events) {
                return events;
            }
            assert!(Instant::now() < deadline, "waited {DEADLINE:?} for {what}\n{}", self.dump());
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Waits until `done` holds for the events after `from`, then until neither the events nor
    /// calls.jsonl grew for [`QUIET`]; returns the events after `from`.
    #[track_caller]
    fn settle_after(&self, test: &Test, from: usize, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        self.wait_for(what, |events| events.len() >= from && done(&events[from..]));
        let deadline = Instant::now() + DEADLINE;
        let mut seen = (self.events().len(), raw_calls(test).len());
        let mut since = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(50));
            let now = (self.events().len(), raw_calls(test).len());
            if now != seen {
                seen = now;
                since = Instant::now();
            } else if since.elapsed() >= QUIET {
                break;
            }
            assert!(Instant::now() < deadline, "the watch loop never came to rest after {what}\n{}", self.dump());
        }
        let events = self.events();
        events[from..].to_vec()
    }

    pub(crate) fn interrupt(&mut self) -> i32 {
        let child = self.child.as_mut().expect("running");
        // SAFETY: signalling the child this test spawned.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGINT);
        }
        let status = self.child.take().expect("running").wait().expect("ohdev watch exits");
        status.code().unwrap_or(-1)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            unsafe {
                libc::kill(child.id() as i32, libc::SIGINT);
            }
            let _ = child.wait();
        }
    }
}

fn watch_statuses<'a>(events: &'a [Value], image: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    events.iter().filter(move |event| event["type"] == "watch_status" && event["image"] == image)
}

fn count_status(events: &[Value], image: &str, state: &str) -> usize {
    watch_statuses(events, image).filter(|event| event["state"] == state).count()
}

/// The last watch_status of the image is `state` (and there is one after `from`).
fn last_status_is(events: &[Value], image: &str, state: &str) -> bool {
    watch_statuses(events, image).last().is_some_and(|event| event["state"] == state)
}

/// Tags of the `image` events of `image` in `state`.
fn image_tags(events: &[Value], image: &str, state: &str) -> Vec<String> {
    events
        .iter()
        .filter(|event| event["type"] == "image" && event["image"] == image && event["state"] == state)
        .map(|event| event["tag"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Ids of the `apply:<object>` steps that finished.
fn applied_steps(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|event| {
            event["type"] == "step"
                && event["state"] == "done"
                && event["id"].as_str().is_some_and(|id| id.starts_with("apply:"))
        })
        .map(|event| event["id"].as_str().unwrap().to_string())
        .collect()
}

/// Every stand-in process recorded in calls.jsonl after the first `from` calls is gone (or a
/// zombie), waiting a little for the ones being stopped.
#[track_caller]
fn assert_stand_ins_gone(test: &Test, from: usize) -> Vec<i32> {
    let pids: Vec<i32> =
        raw_calls(test)[from..].iter().filter_map(|call| call["pid"].as_i64()).map(|pid| pid as i32).collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    for pid in &pids {
        while !process_gone(*pid) {
            assert!(Instant::now() < deadline, "stand-in pid {pid} outlived `ohdev watch`");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    pids
}

/// Standard base64 (what the stand-in writes as `stdin_b64`).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |byte: u8| -> u32 {
        match byte {
            b'A'..=b'Z' => (byte - b'A') as u32,
            b'a'..=b'z' => (byte - b'a' + 26) as u32,
            b'0'..=b'9' => (byte - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            other => panic!("not base64: {:?}", other as char),
        }
    };
    let bytes: Vec<u8> = text.bytes().filter(|byte| !byte.is_ascii_whitespace()).collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let data: Vec<u8> = chunk.iter().copied().filter(|byte| *byte != b'=').collect();
        let mut accumulator = 0u32;
        for byte in &data {
            accumulator = (accumulator << 6) | value(*byte);
        }
        accumulator <<= 6 * (4 - data.len() as u32);
        let produced = data.len().saturating_sub(1);
        for index in 0..produced {
            out.push((accumulator >> (16 - 8 * index)) as u8);
        }
    }
    out
}

/// (path, content) of every regular file in a tar stream.
fn tar_files(bytes: &[u8]) -> Vec<(String, String)> {
    let mut archive = tar::Archive::new(bytes);
    let mut files = Vec::new();
    for entry in archive.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry.path().expect("entry path").display().to_string();
        let mut content = String::new();
        std::io::Read::read_to_string(&mut entry, &mut content).expect("entry content");
        files.push((path, content));
    }
    files
}

/// Every file under `dir` whose path ends with `suffix`.
fn files_ending_with(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_ending_with(&path, suffix));
        } else if path.to_string_lossy().ends_with(suffix) {
            found.push(path);
        }
    }
    found
}

// ------------------------------------------------------------------------------------------
// 1. Edit → one build, one load, one apply; ignored file → nothing; a burst → one build

#[test]
fn an_edit_rebuilds_loads_and_rolls_out_once_and_an_ignored_file_does_nothing() {
    let Some(base) = base_or_skip() else { return };
    let mut project = project(&base, "", "{}");
    project.up();
    let first_tag = project.deployed_image();
    assert!(first_tag.starts_with(&project.tag_prefix()), "{first_tag}");
    let image = project.image.clone();
    let calls_at_start = raw_calls(&project.test).len();
    let mut watch = Watch::start(&mut project.test);
    let test = &project.test;

    // One edit to a context file.
    let (from, calls_from) = (watch.events().len(), raw_calls(test).len());
    test.write("app/main.txt", "v2\n");
    let after = watch.settle_after(test, from, "the rebuild after editing main.txt", |events| {
        count_status(events, &image, "building") >= 1 && last_status_is(events, &image, "idle")
    });
    let calls: Vec<Value> = raw_calls(test)[calls_from..].to_vec();
    assert_eq!(count_status(&after, &image, "building"), 1, "{after:#?}");
    let building = watch_statuses(&after, &image).find(|event| event["state"] == "building").unwrap();
    assert!(building["detail"].as_str().unwrap_or_default().ends_with("main.txt"), "{building}");
    let built = image_tags(&after, &image, "built");
    assert_eq!(built.len(), 1, "exactly one build: {after:#?}");
    let new_tag = built[0].clone();
    assert_ne!(new_tag, first_tag);
    let loads: Vec<&Value> = calls.iter().filter(|call| is_load(call)).collect();
    assert_eq!(loads.len(), 1, "exactly one `kind load`: {calls:#?}");
    assert!(argv_of(loads[0]).contains(&new_tag), "{}", line_of(loads[0]));
    let applies: Vec<&Value> = calls.iter().filter(|call| is_apply(call)).collect();
    assert_eq!(
        applies.len(),
        1,
        "only the changed object is applied: {:#?}",
        applies.iter().map(|call| line_of(call)).collect::<Vec<_>>()
    );
    assert_eq!(applied_objects(applies[0]), [("Deployment".to_string(), "web".to_string())]);
    assert_eq!(applied_steps(&after), ["apply:Deployment app/web"], "{after:#?}");
    assert_eq!(project.deployed_image(), new_tag, "the stand-in's Deployment names the new tag");
    assert!(project.node_images().contains(&new_tag), "{:?}", project.node_images());
    assert!(!after.iter().any(|event| event["type"] == "watch_status" && event["state"] == "error"), "{after:#?}");

    // Ignored files (.dockerignore: *.log, scratch/) open no window at all.
    let (from, calls_from) = (watch.events().len(), raw_calls(test).len());
    test.write("app/debug.log", "noise\n");
    test.write("app/scratch/notes.txt", "noise\n");
    let after = watch.settle_after(test, from, "ignored edits", |_| true);
    assert!(after.is_empty(), "an ignored file caused: {after:#?}");
    assert_eq!(raw_calls(test).len(), calls_from, "an ignored file caused stand-in calls");
    assert_eq!(project.deployed_image(), new_tag);

    // 20 edits in a burst: one build (two if the window closed while the burst went on).
    let (from, calls_from) = (watch.events().len(), raw_calls(test).len());
    for edit in 0..20 {
        test.write("app/main.txt", &format!("burst {edit}\n"));
    }
    let after = watch.settle_after(test, from, "the rebuild after the burst", |events| {
        count_status(events, &image, "building") >= 1 && last_status_is(events, &image, "idle")
    });
    let builds = count_status(&after, &image, "building");
    assert!((1..=2).contains(&builds), "{builds} builds for one burst: {after:#?}");
    // A second window that opened while the first build already read the burst's last content
    // finds that tag built: `up_to_date`, nothing loaded again.
    let built = image_tags(&after, &image, "built");
    let up_to_date = image_tags(&after, &image, "up_to_date");
    assert!(!built.is_empty(), "{after:#?}");
    assert_eq!(built.len() + up_to_date.len(), builds, "{after:#?}");
    let calls: Vec<Value> = raw_calls(test)[calls_from..].to_vec();
    assert_eq!(calls.iter().filter(|call| is_load(call)).count(), built.len(), "{calls:#?}");
    for building in watch_statuses(&after, &image).filter(|event| event["state"] == "building") {
        let detail = building["detail"].as_str().unwrap_or_default();
        assert!(!detail.contains("debug.log") && !detail.contains("scratch"), "an ignored path was routed: {detail}");
    }
    assert_eq!(&project.deployed_image(), built.last().unwrap());

    // Ctrl-C while idle: exit 130, and no stand-in this watch started is left. It is how a person
    // stops watching, so stderr says so without an `error:` line.
    assert_eq!(watch.interrupt(), 130, "{}", watch.dump());
    let stderr = std::fs::read_to_string(&watch.stderr).unwrap();
    assert!(stderr.contains("stopped watching (Ctrl-C)"), "{stderr}");
    assert!(!stderr.contains("error:"), "{stderr}");
    assert_stand_ins_gone(test, calls_at_start);
}

// ------------------------------------------------------------------------------------------
// 2. A broken build keeps the previous tag deployed; the fix rolls out

#[test]
fn a_broken_build_keeps_the_previous_tag_and_the_fix_rolls_out() {
    let Some(base) = base_or_skip() else { return };
    let mut project = project(&base, "", "{}");
    project.up();
    let first_tag = project.deployed_image();
    let image = project.image.clone();
    let watch = Watch::start(&mut project.test);
    let test = &project.test;

    let (from, calls_from) = (watch.events().len(), raw_calls(test).len());
    test.write("app/build.sh", "echo \"about to fail\"\nexit 3\n");
    let after = watch.settle_after(test, from, "the failed build", |events| last_status_is(events, &image, "error"));
    let error = watch_statuses(&after, &image).last().unwrap();
    let detail = error["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("build failed") && detail.contains("previous version keeps running"), "{error}");
    let failed = after
        .iter()
        .find(|event| event["type"] == "build_failed" && event["image"] == image.as_str())
        .unwrap_or_else(|| panic!("no build_failed event: {after:#?}"));
    assert!(failed["step"].as_str().unwrap_or_default().contains("build.sh"), "{failed}");
    assert!(image_tags(&after, &image, "built").is_empty(), "{after:#?}");
    let calls: Vec<Value> = raw_calls(test)[calls_from..].to_vec();
    assert!(!calls.iter().any(is_load), "a failed build was loaded: {calls:#?}");
    assert!(!calls.iter().any(is_apply), "a failed build was applied: {calls:#?}");
    assert_eq!(project.deployed_image(), first_tag, "the previous tag must stay deployed");

    // The fixing edit (not the original text: a new tag) rebuilds and rolls out.
    let (from, calls_from) = (watch.events().len(), raw_calls(test).len());
    test.write("app/build.sh", "echo \"fixed\"\n");
    let after = watch.settle_after(test, from, "the fixed build", |events| {
        count_status(events, &image, "building") >= 1 && last_status_is(events, &image, "idle")
    });
    assert_eq!(count_status(&after, &image, "building"), 1, "{after:#?}");
    assert_eq!(count_status(&after, &image, "rolling_out"), 1, "{after:#?}");
    let built = image_tags(&after, &image, "built");
    assert_eq!(built.len(), 1, "{after:#?}");
    assert_ne!(built[0], first_tag);
    let calls: Vec<Value> = raw_calls(test)[calls_from..].to_vec();
    assert_eq!(calls.iter().filter(|call| is_load(call)).count(), 1, "{calls:#?}");
    assert_eq!(project.deployed_image(), built[0]);
}

// ------------------------------------------------------------------------------------------
// 3. A build that changes its own context is stopped

#[test]
fn a_build_that_writes_into_its_context_is_stopped_naming_the_file() {
    let Some(base) = base_or_skip() else { return };
    // Every build's prebuild (run in the context) rewrites generated.txt, which is not ignored: each
    // build triggers the next.
    let mut project = project(&base, "prebuild: [sh, -c, \"date +%s%N > generated.txt\"]", "{}");
    project.up();
    let image = project.image.clone();
    let watch = Watch::start(&mut project.test);
    let test = &project.test;

    let from = watch.events().len();
    test.write("app/main.txt", "v2\n");
    let after = watch.settle_after(test, from, "the loop guard", |events| last_status_is(events, &image, "stopped"));
    let stopped = watch_statuses(&after, &image).last().unwrap();
    let detail = stopped["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("generated.txt"), "{stopped}");
    assert!(detail.contains("Add `generated.txt` to .dockerignore"), "{stopped}");
    // More than LOOP_LIMIT (3) rebuilds in a row before it stops: the edit's build and three more.
    let builds = count_status(&after, &image, "building");
    assert!(builds > 3, "stopped after only {builds} builds: {after:#?}");
    assert_eq!(builds, 4, "{after:#?}");
    assert_eq!(image_tags(&after, &image, "built").len(), builds, "{after:#?}");
    assert_eq!(count_status(&after, &image, "stopped"), 1);
    let position =
        after.iter().position(|event| event["type"] == "watch_status" && event["state"] == "stopped").unwrap();
    assert_eq!(count_status(&after[position..], &image, "building"), 0, "built again after stopping: {after:#?}");

    // Stopped means stopped: a later edit to this image does nothing until ohdev watch restarts.
    let (from, calls_from) = (watch.events().len(), raw_calls(test).len());
    test.write("app/main.txt", "v3\n");
    let after = watch.settle_after(test, from, "an edit after the stop", |_| true);
    assert_eq!(count_status(&after, &image, "building"), 0, "{after:#?}");
    assert_eq!(raw_calls(test).len(), calls_from);
}

/// The loop guard counts only changes made while a job runs: an edit made as soon as `idle` is
/// shown is a new change. (Before the fix, `idle` was printed by the job before the loop had
/// marked it finished, so quick successive saves could be taken for a build loop and stopped.)
#[test]
fn edits_made_as_soon_as_idle_shows_are_never_taken_for_a_loop() {
    let Some(base) = base_or_skip() else { return };
    let mut project = project(&base, "", "{}");
    project.up();
    let image = project.image.clone();
    let watch = Watch::start(&mut project.test);
    let test = &project.test;
    let edits = 6;
    let from = watch.events().len();
    for edit in 0..edits {
        test.write("app/main.txt", &format!("edit {edit}\n"));
        let deadline = Instant::now() + DEADLINE;
        // React to `idle` as fast as this poll allows.
        loop {
            let events = watch.events();
            let after = &events[from..];
            assert_eq!(count_status(after, &image, "stopped"), 0, "quick edits were taken for a loop: {after:#?}");
            if count_status(after, &image, "idle") > edit {
                break;
            }
            assert!(Instant::now() < deadline, "edit {edit} never finished\n{}", watch.dump());
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let after = watch.settle_after(test, from, "the last edit", |_| true);
    assert_eq!(count_status(&after, &image, "building"), edits, "{after:#?}");
    assert_eq!(count_status(&after, &image, "stopped"), 0, "{after:#?}");
    assert_eq!(&project.deployed_image(), image_tags(&after, &image, "built").last().unwrap());
}

// ------------------------------------------------------------------------------------------
// 4. Live sync

const SYNC_RULE: &str = "sync:\n  - {src: \"app/**/*.py\", dest: /srv/app}";

#[test]
fn a_sync_rule_edit_is_copied_into_the_container_without_a_build() {
    let Some(base) = base_or_skip() else { return };
    let mut project = project(&base, SYNC_RULE, "{}");
    project.up();
    let first_tag = project.deployed_image();
    let image = project.image.clone();
    let watch = Watch::start(&mut project.test);
    let test = &project.test;

    let (from, calls_from) = (watch.events().len(), raw_calls(test).len());
    let content = format!("print(\"v2 {}\")\n", unique());
    test.write("app/app/server/main.py", &content);
    let after = watch.settle_after(test, from, "the live sync", |events| {
        count_status(events, &image, "syncing") >= 1 && last_status_is(events, &image, "idle")
    });
    assert!(
        !after
            .iter()
            .any(|event| event["type"] == "image" && (event["state"] == "building" || event["state"] == "built")),
        "a sync-rule edit was built: {after:#?}"
    );
    assert_eq!(count_status(&after, &image, "building"), 0, "{after:#?}");
    let idle = watch_statuses(&after, &image).last().unwrap();
    assert_eq!(idle["detail"], "synced 1 file(s) into 1 container(s)", "{idle}");
    let calls: Vec<Value> = raw_calls(test)[calls_from..].to_vec();
    assert!(!calls.iter().any(is_load) && !calls.iter().any(is_apply), "{calls:#?}");
    let execs: Vec<&Value> = calls
        .iter()
        .filter(|call| call["tool"] == "kubectl" && argv_of(call).iter().any(|arg| arg == "exec"))
        .collect();
    assert_eq!(execs.len(), 1, "{calls:#?}");
    let argv = argv_of(execs[0]);
    assert!(argv.contains(&"-i".to_string()), "{argv:?}");
    assert!(argv.ends_with(&["--", "tar", "-x", "-C", "/srv/app"].map(String::from)), "{argv:?}");
    let pod = argv.iter().find(|arg| arg.starts_with("web-")).expect("the pod name").clone();
    let archive = base64_decode(execs[0]["stdin_b64"].as_str().expect("stdin_b64 recorded"));
    assert_eq!(tar_files(&archive), [("server/main.py".to_string(), content.clone())]);
    let unpacked = test.state_dir().join("fs/app").join(&pod).join("web");
    let found = files_ending_with(&unpacked, "srv/app/server/main.py");
    assert_eq!(found.len(), 1, "unpacked under {}: {found:?}", unpacked.display());
    assert_eq!(std::fs::read_to_string(&found[0]).unwrap(), content);
    assert_eq!(project.deployed_image(), first_tag, "a sync rolls nothing out");
}

#[test]
fn a_sync_rule_edit_without_tar_in_the_container_is_a_rebuild_with_a_notice() {
    let Some(base) = base_or_skip() else { return };
    let mut project = project(&base, SYNC_RULE, "{fake-kube/no-tar: \"true\"}");
    project.up();
    let first_tag = project.deployed_image();
    let image = project.image.clone();
    let watch = Watch::start(&mut project.test);
    let test = &project.test;

    let (from, calls_from) = (watch.events().len(), raw_calls(test).len());
    test.write("app/app/server/main.py", "print(\"v2\")\n");
    let after = watch.settle_after(test, from, "the rebuild instead of a sync", |events| {
        count_status(events, &image, "building") >= 1 && last_status_is(events, &image, "idle")
    });
    let notice = after
        .iter()
        .find(|event| {
            event["type"] == "message"
                && event["level"] == "warn"
                && event["message"].as_str().is_some_and(|text| text.contains("no `tar`"))
        })
        .unwrap_or_else(|| panic!("no notice about the missing tar: {after:#?}"));
    assert!(notice["message"].as_str().unwrap().contains("rebuilding instead"), "{notice}");
    let calls: Vec<Value> = raw_calls(test)[calls_from..].to_vec();
    assert!(
        calls.iter().any(|call| line_of(call).contains("-- tar -x -C /srv/app")),
        "the sync was not tried: {calls:#?}"
    );
    let built = image_tags(&after, &image, "built");
    assert_eq!(built.len(), 1, "{after:#?}");
    assert_eq!(calls.iter().filter(|call| is_load(call)).count(), 1, "{calls:#?}");
    assert_ne!(built[0], first_tag);
    assert_eq!(project.deployed_image(), built[0]);
    assert!(files_ending_with(&test.state_dir().join("fs"), "main.py").is_empty(), "a file was unpacked without tar");
}

// ------------------------------------------------------------------------------------------
// 5. `ohdev rebuild`

#[test]
fn rebuild_without_a_change_does_nothing_and_after_one_reapplies_only_the_deployment() {
    let Some(base) = base_or_skip() else { return };
    let mut project = project(&base, "", "{}");
    project.up();
    let first_tag = project.deployed_image();
    let image = project.image.clone();

    let calls_from = raw_calls(&project.test).len();
    project.test.set_args(&["--json", "rebuild"]);
    let output = project.test.expect(0);
    let events = json_lines(&output.stdout);
    assert!(
        image_tags(&events, &image, "building").is_empty() && image_tags(&events, &image, "built").is_empty(),
        "{}",
        output.stdout
    );
    assert!(
        events.iter().any(|event| event["type"] == "message"
            && event["message"].as_str().is_some_and(|text| text.contains("no object changed"))),
        "{}",
        output.stdout
    );
    let calls: Vec<Value> = raw_calls(&project.test)[calls_from..].to_vec();
    assert!(!calls.iter().any(is_load), "{calls:#?}");
    assert!(!calls.iter().any(is_apply), "{calls:#?}");
    assert!(applied_steps(&events).is_empty(), "{}", output.stdout);
    assert_eq!(project.deployed_image(), first_tag);

    project.test.write("app/main.txt", "v2\n");
    let calls_from = raw_calls(&project.test).len();
    let output = project.test.expect(0);
    let events = json_lines(&output.stdout);
    let built = image_tags(&events, &image, "built");
    assert_eq!(built.len(), 1, "{}", output.stdout);
    assert_ne!(built[0], first_tag);
    let calls: Vec<Value> = raw_calls(&project.test)[calls_from..].to_vec();
    let loads: Vec<&Value> = calls.iter().filter(|call| is_load(call)).collect();
    assert_eq!(loads.len(), 1, "{calls:#?}");
    assert!(argv_of(loads[0]).contains(&built[0]));
    let applied: Vec<(String, String)> = calls.iter().filter(|call| is_apply(call)).flat_map(applied_objects).collect();
    assert_eq!(applied, [("Deployment".to_string(), "web".to_string())], "{calls:#?}");
    assert_eq!(applied_steps(&events), ["apply:Deployment app/web"], "{}", output.stdout);
    assert_eq!(project.deployed_image(), built[0]);
}

// ------------------------------------------------------------------------------------------
// 6. SIGINT

#[test]
fn sigint_during_a_rollout_exits_130_leaves_no_stand_in_process_and_the_next_rebuild_applies() {
    let Some(base) = base_or_skip() else { return };
    let mut project = project(&base, "", "{}");
    project.up();
    let first_tag = project.deployed_image();
    let image = project.image.clone();
    let calls_from = raw_calls(&project.test).len();
    let mut watch = Watch::start(&mut project.test);
    let test = &project.test;

    // The rollout's apply hangs (until a signal), so a stand-in is running when SIGINT arrives.
    std::fs::write(test.state_dir().join("faults.json"), r#"[{"match": "apply", "hang": true}]"#).unwrap();
    test.write("app/main.txt", "v2\n");
    let hang_file = test.state_dir().join("hang.pid");
    watch.wait_for("the hanging apply", |_| {
        hang_file.exists() && std::fs::read_to_string(&hang_file).is_ok_and(|text| text.trim().parse::<i32>().is_ok())
    });
    let hung: i32 = std::fs::read_to_string(&hang_file).unwrap().trim().parse().unwrap();
    assert!(!process_gone(hung), "the hanging apply is not running");
    let events = watch.events();
    assert!(last_status_is(&events, &image, "rolling_out"), "{events:#?}");

    assert_eq!(watch.interrupt(), 130, "{}", watch.dump());
    let last = watch.events().last().cloned().unwrap();
    assert_eq!(last["type"], "error", "{last}");
    assert_eq!(last["exit_code"], 130, "{last}");
    let pids = assert_stand_ins_gone(test, calls_from);
    assert!(pids.contains(&hung), "{pids:?}");

    // The interrupted apply never reached the stand-in: the old tag still runs, and the next
    // `ohdev rebuild` must apply the Deployment (not take it as already applied).
    assert_eq!(project.deployed_image(), first_tag);
    let built = image_tags(&watch.events(), &image, "built");
    assert_eq!(built.len(), 1);
    std::fs::remove_file(test.state_dir().join("faults.json")).unwrap();
    let calls_from = raw_calls(&project.test).len();
    project.test.set_args(&["--json", "rebuild"]);
    let output = project.test.expect(0);
    let applied: Vec<(String, String)> =
        raw_calls(&project.test)[calls_from..].iter().filter(|call| is_apply(call)).flat_map(applied_objects).collect();
    assert_eq!(applied, [("Deployment".to_string(), "web".to_string())], "{}", output.stdout);
    assert_eq!(project.deployed_image(), built[0]);
}

// ------------------------------------------------------------------------------------------
// 7. Without an environment

#[test]
fn rebuild_and_watch_without_a_cluster_say_to_run_up_first() {
    if docker::client().is_none() {
        return;
    }
    let mut test = Test::new().arg("rebuild");
    let output = test.expect(2);
    assert!(output.stderr.contains("kind cluster \"t\" does not exist"), "{}", output.stderr);
    assert!(output.stderr.contains("run `ohdev up` first"), "{}", output.stderr);
    assert!(
        test.calls().iter().all(|call| call.tool != "kubectl" && !call.line().contains("load")),
        "{:?}",
        test.calls()
    );
    ohdev_snapshot!("rebuild_without_a_cluster", output);
    test.set_args(&["watch"]);
    let output = test.expect(2);
    assert!(output.stderr.contains("run `ohdev up` first"), "{}", output.stderr);
    ohdev_snapshot!("watch_without_a_cluster", output);
}

// ------------------------------------------------------------------------------------------
// 8. Dev mode

/// A `dev:` section: an annotation on the pod template, and a sync rule with a restart command.
fn dev_section(image: &str) -> String {
    format!(
        "dev:\n  patches:\n    - target: {{kind: Deployment, name: web}}\n      ops: [{{op: add, path: /spec/template/metadata/annotations/ohdev.test~1mode, value: dev}}]\n  images:\n    {image}:\n      sync:\n        - {{src: \"app/**/*.py\", dest: /srv/app, run: [sh, -c, kill -HUP 1]}}\n"
    )
}

fn dev_project(base: &str) -> Project {
    let project = project(base, "", "{}");
    let config = std::fs::read_to_string(project.test.project().join("ohdev.yaml")).unwrap();
    project.test.write("ohdev.yaml", &format!("{config}{}", dev_section(&project.image)));
    project
}

impl Project {
    /// The pod template's `ohdev.test/mode` annotation of the stand-in's Deployment app/web.
    fn mode_annotation(&self) -> Option<String> {
        let deployment = stored_object(&self.test, "Deployment", "app", "web").expect("Deployment app/web");
        deployment["spec"]["template"]["metadata"]["annotations"]["ohdev.test/mode"].as_str().map(str::to_string)
    }

    /// The mode ohdev recorded for cluster `t` in .ohdev/state.json.
    fn recorded_mode(&self) -> Value {
        let text = std::fs::read_to_string(self.test.project().join(".ohdev/state.json")).expect("ohdev state");
        let state: Value = serde_json::from_str(&text).expect("state.json is JSON");
        state["mode"]["t"].clone()
    }
}

fn messages(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|event| event["type"] == "message")
        .filter_map(|event| event["message"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn dev_patches_are_deployed_only_in_dev_mode_and_switching_modes_reapplies() {
    let Some(base) = base_or_skip() else { return };
    let mut project = dev_project(&base);
    let image = project.image.clone();

    project.test.set_args(&["--json", "up", "--dev"]);
    let output = project.test.expect(0);
    let said = messages(&json_lines(&output.stdout));
    let dev_line = format!(
        "dev mode: the `dev:` section of ohdev.yaml is applied (1 patch, sync rules for {image}); `ohdev up` without --watch (or with --no-dev) deploys production"
    );
    assert!(said.contains(&dev_line), "{said:#?}");
    assert_eq!(project.mode_annotation().as_deref(), Some("dev"));
    assert_eq!(project.recorded_mode(), "dev");
    let dev_tag = project.deployed_image();

    // `rebuild` keeps the mode `up` deployed: nothing changed, nothing is applied.
    let calls_from = raw_calls(&project.test).len();
    project.test.set_args(&["--json", "rebuild"]);
    let output = project.test.expect(0);
    assert!(messages(&json_lines(&output.stdout)).iter().any(|text| text.contains("no object changed")));
    assert!(!raw_calls(&project.test)[calls_from..].iter().any(is_apply), "rebuild switched modes");
    assert_eq!(project.mode_annotation().as_deref(), Some("dev"));

    // `up` deploys production: the Deployment is applied again, without the dev patch.
    let calls_from = raw_calls(&project.test).len();
    project.test.set_args(&["--json", "up"]);
    let output = project.test.expect(0);
    let said = messages(&json_lines(&output.stdout));
    let production_line = format!(
        "production mode: the `dev:` section of ohdev.yaml (1 patch, sync rules for {image}) is not applied; `ohdev up --watch` (or --dev) deploys dev mode"
    );
    assert!(said.contains(&production_line), "{said:#?}");
    let applied: Vec<(String, String)> =
        raw_calls(&project.test)[calls_from..].iter().filter(|call| is_apply(call)).flat_map(applied_objects).collect();
    assert!(applied.contains(&("Deployment".to_string(), "web".to_string())), "{applied:?}");
    assert_eq!(project.mode_annotation(), None, "the dev patch is still deployed");
    assert_eq!(project.recorded_mode(), "production");
    assert_eq!(project.deployed_image(), dev_tag, "the image is the same in both modes");

    project.test.set_args(&["status"]);
    let output = project.test.expect(0);
    assert!(output.stdout.contains("deployed in production mode: the `dev:` section"), "{}", output.stdout);

    // And back: `--no-dev` then `--dev` (the last one wins, as with --follow/--no-follow).
    project.test.set_args(&["--json", "up", "--no-dev", "--dev"]);
    project.test.expect(0);
    assert_eq!(project.mode_annotation().as_deref(), Some("dev"));
    project.test.set_args(&["status"]);
    let output = project.test.expect(0);
    assert!(output.stdout.contains("deployed in dev mode: the `dev:` section"), "{}", output.stdout);

    // `ohdev plan` says which mode it shows.
    project.test.set_args(&["plan", "--dev"]);
    let output = project.test.expect(0);
    assert!(output.stdout.contains("dev mode: the `dev:` section of ohdev.yaml is applied"), "{}", output.stdout);
    assert!(output.stdout.contains("`ohdev plan` shows production"), "{}", output.stdout);
    project.test.set_args(&["plan"]);
    let output = project.test.expect(0);
    assert!(output.stdout.contains("production mode:"), "{}", output.stdout);
    assert!(output.stdout.contains("`ohdev plan --dev` shows dev mode"), "{}", output.stdout);
}

#[test]
fn up_watch_deploys_dev_mode_and_a_dev_sync_rule_edit_is_synced_then_restarted_without_a_build() {
    let Some(base) = base_or_skip() else { return };
    let mut project = dev_project(&base);
    let image = project.image.clone();
    let watch = Watch::start_with(&mut project.test, &["--json", "up", "--watch"]);
    let test = &project.test;
    assert_eq!(project.mode_annotation().as_deref(), Some("dev"), "`up --watch` deploys dev mode");
    assert_eq!(project.recorded_mode(), "dev");
    let first_tag = project.deployed_image();

    let (from, calls_from) = (watch.events().len(), raw_calls(test).len());
    let content = format!("print(\"v2 {}\")\n", unique());
    test.write("app/app/server/main.py", &content);
    let after = watch.settle_after(test, from, "the live sync", |events| {
        count_status(events, &image, "syncing") >= 1 && last_status_is(events, &image, "idle")
    });
    assert_eq!(count_status(&after, &image, "building"), 0, "a dev sync-rule edit was built: {after:#?}");
    let calls: Vec<Value> = raw_calls(test)[calls_from..].to_vec();
    assert!(!calls.iter().any(is_load) && !calls.iter().any(is_apply), "{calls:#?}");
    let execs: Vec<Vec<String>> = calls
        .iter()
        .filter(|call| call["tool"] == "kubectl" && argv_of(call).iter().any(|arg| arg == "exec"))
        .map(argv_of)
        .collect();
    assert_eq!(execs.len(), 2, "the copy, then the rule's `run:`: {execs:#?}");
    assert!(execs[0].ends_with(&["--", "tar", "-x", "-C", "/srv/app"].map(String::from)), "{:?}", execs[0]);
    assert!(execs[1].ends_with(&["--", "sh", "-c", "kill -HUP 1"].map(String::from)), "{:?}", execs[1]);
    assert_eq!(project.deployed_image(), first_tag, "a sync rolls nothing out");
}

#[test]
fn in_production_mode_a_dev_sync_rule_edit_is_a_rebuild_and_watch_says_why() {
    let Some(base) = base_or_skip() else { return };
    let mut project = dev_project(&base);
    let image = project.image.clone();
    project.up();
    assert_eq!(project.mode_annotation(), None);
    let first_tag = project.deployed_image();
    let watch = Watch::start(&mut project.test);
    let test = &project.test;
    let said = messages(&watch.events());
    assert!(
        said.iter().any(|text| text.starts_with("production mode: ")
            && text
                .ends_with("as `ohdev up` deployed it, so edits are rebuilt; `ohdev up --watch` switches to dev mode")),
        "{said:#?}"
    );

    let (from, calls_from) = (watch.events().len(), raw_calls(test).len());
    test.write("app/app/server/main.py", "print(\"v2\")\n");
    let after = watch.settle_after(test, from, "the rebuild", |events| {
        count_status(events, &image, "building") >= 1 && last_status_is(events, &image, "idle")
    });
    assert_eq!(count_status(&after, &image, "syncing"), 0, "{after:#?}");
    let calls: Vec<Value> = raw_calls(test)[calls_from..].to_vec();
    assert!(!calls.iter().any(|call| line_of(call).contains(" exec ")), "synced in production mode: {calls:#?}");
    assert_ne!(project.deployed_image(), first_tag, "the edit was rolled out as a new image");
    assert_eq!(project.mode_annotation(), None, "the rebuild's re-apply kept production mode");
}

// ------------------------------------------------------------------------------------------
// With `registry:`: an edit is pushed (only the changed layer), never `kind load`ed

#[test]
fn with_a_registry_an_edit_is_pushed_and_rolled_out_without_kind_load() {
    let Some(base) = base_or_skip() else { return };
    let (Some(registry_image), Some(node_image)) =
        (crate::support::registry::registry_image(), crate::support::registry::node_image())
    else {
        return;
    };
    let mut project = project(&base, "", "{}");
    let cluster = format!("w{}", unique());
    let port = crate::support::registry::free_port();
    let host = format!("localhost:{port}");
    let mut guard = crate::support::registry::Containers::default();
    guard.add(format!("ohdev-registry-{port}"));
    guard.add(format!("{cluster}-control-plane"));
    let config = std::fs::read_to_string(project.test.project().join("ohdev.yaml")).expect("ohdev.yaml");
    let config = config.replacen("name: t\n", &format!("name: {cluster}\n"), 1);
    project.test.write("ohdev.yaml", &format!("{config}registry:\n  host: {host}\n  image: {registry_image}\n"));
    project.test = std::mem::replace(&mut project.test, Test::new()).env("FAKE_KUBE_NODE_IMAGE", &node_image);
    project.up();
    let image = project.image.clone();
    let deployed = |test: &Test| {
        let context = format!("kind-{cluster}");
        let output = test
            .tool("kubectl")
            .args(["--context", &context, "get", "deployment", "web", "-n", "app", "-o", "json"])
            .output()
            .expect("kubectl");
        let deployment: Value = serde_json::from_slice(&output.stdout).expect("deployment json");
        deployment["spec"]["template"]["spec"]["containers"][0]["image"].as_str().expect("image").to_string()
    };
    let first = deployed(&project.test);
    assert!(first.starts_with(&format!("{host}/{image}:")), "{first}");
    let api = crate::support::registry::Api::new(port);
    assert_eq!(api.tags(&image).len(), 1);

    let mut watch = Watch::start(&mut project.test);
    let test = &project.test;
    let (from, calls_from) = (watch.events().len(), raw_calls(test).len());
    test.write("app/main.txt", "v2 through the registry\n");
    let after = watch.settle_after(test, from, "the rebuild after editing main.txt", |events| {
        count_status(events, &image, "building") >= 1 && last_status_is(events, &image, "idle")
    });
    let calls: Vec<Value> = raw_calls(test)[calls_from..].to_vec();
    assert!(!calls.iter().any(is_load), "kind load on the registry path: {calls:#?}");
    let pushed = image_tags(&after, &image, "pushed");
    assert_eq!(pushed.len(), 1, "{after:#?}");
    assert!(pushed[0].starts_with(&format!("{host}/{image}:")), "{pushed:?}");
    assert_eq!(deployed(test), pushed[0], "the Deployment names the pushed reference");
    assert_eq!(api.tags(&image).len(), 2);
    assert!(!after.iter().any(|event| event["type"] == "watch_status" && event["state"] == "error"), "{after:#?}");
    assert_eq!(watch.interrupt(), 130, "{}", watch.dump());
}

// ------------------------------------------------------------------------------------------
// Automatic gc after a rollout in the watch loop (issue 11 part 4): once, not again within the hour

#[test]
fn the_first_rollout_collects_old_tags_and_the_next_within_the_hour_does_not() {
    let Some(base) = base_or_skip() else { return };
    let mut project = project(&base, "keep: 1\n", "{}");
    project.up();
    let first_tag = project.deployed_image();
    let image = project.image.clone();
    let mut watch = Watch::start(&mut project.test);
    let test = &project.test;

    let from = watch.events().len();
    test.write("app/main.txt", "gc 1\n");
    let after = watch.settle_after(test, from, "the first rollout", |events| {
        count_status(events, &image, "building") >= 1 && last_status_is(events, &image, "idle")
    });
    let removed: Vec<&Value> = after.iter().filter(|event| event["type"] == "gc_removed").collect();
    assert_eq!(removed.len(), 1, "{after:#?}");
    assert_eq!(
        (removed[0]["place"].as_str(), removed[0]["reference"].as_str()),
        (Some("docker"), Some(first_tag.as_str()))
    );
    assert_eq!(ohdev_image_ids(&image).len(), 1, "only the running tag is left");

    let from = watch.events().len();
    test.write("app/main.txt", "gc 2\n");
    let after = watch.settle_after(test, from, "the second rollout", |events| {
        count_status(events, &image, "building") >= 1 && last_status_is(events, &image, "idle")
    });
    assert!(!after.iter().any(|event| event["type"] == "gc_removed" || event["type"] == "gc_done"), "{after:#?}");
    assert_eq!(ohdev_image_ids(&image).len(), 2, "no gc within the hour");
    assert_eq!(watch.interrupt(), 130, "{}", watch.dump());
}
