//! What the renderers promise, checked on one instance of every [`Event`] form. (Over 400 lines on
//! purpose: the samples and every check that reads them stay in one place, so a new variant is one
//! edit here.)
//!
//! - the text of each variant as the plain renderer prints it with colours off (one insta snapshot
//!   per variant, every state of the variant in it);
//! - the README's JSON event table lists exactly the variants of `src/events.rs`, with their fields,
//!   which of them may be omitted (`?`) and the values of their state enums;
//! - the JSON renderer prints one JSON object per line, each with its `type` and a `ts`, and the plain
//!   renderer prints exactly the text form of each event (both run in a child process, since they
//!   write to the process's stdout);
//! - a secret value reaches no rendered text by way of the errors about secrets.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::text::format_event;
use crate::events::{
    CheckStatus, ConfigChange, DiagnosisReport, Event, ForwardState, GcPlace, ImageState, KubeEvent, Level,
    LogPodState, NodeStatus, PlanDependency, PlanEntry, ProgressUnit, StepState, WatchState,
};

// ------------------------------------------------------------------------------------------
// One instance of every form

/// Every variant's name as written in `src/events.rs`. No wildcard: a new variant does not compile
/// until it is named here (and `variants_in_the_source_all_have_samples` then wants a sample).
fn variant_name(event: &Event) -> &'static str {
    match event {
        Event::Step { .. } => "Step",
        Event::Progress { .. } => "Progress",
        Event::Message { .. } => "Message",
        Event::ClusterDrift { .. } => "ClusterDrift",
        Event::ClusterStatus { .. } => "ClusterStatus",
        Event::RemoteTarget { .. } => "RemoteTarget",
        Event::DoctorCheck { .. } => "DoctorCheck",
        Event::Ready { .. } => "Ready",
        Event::Image { .. } => "Image",
        Event::BuildFailed { .. } => "BuildFailed",
        Event::ImageStatus { .. } => "ImageStatus",
        Event::RegistryStatus { .. } => "RegistryStatus",
        Event::Diagnosis(_) => "Diagnosis",
        Event::Orphans { .. } => "Orphans",
        Event::Log { .. } => "Log",
        Event::LogPod { .. } => "LogPod",
        Event::WatchStatus { .. } => "WatchStatus",
        Event::Forward { .. } => "Forward",
        Event::ForwardStatus { .. } => "ForwardStatus",
        Event::Plan { .. } => "Plan",
        Event::StillRunning { .. } => "StillRunning",
        Event::Built { .. } => "Built",
        Event::GcRemoved { .. } => "GcRemoved",
        Event::GcDone { .. } => "GcDone",
        Event::Error { .. } => "Error",
    }
}

// Every value of the state enums, each list checked complete by a match without a wildcard.

fn step_states() -> Vec<StepState> {
    let all = vec![StepState::Started, StepState::Done, StepState::Skipped, StepState::Failed];
    for state in &all {
        match state {
            StepState::Started | StepState::Done | StepState::Skipped | StepState::Failed => {}
        }
    }
    all
}

fn levels() -> Vec<Level> {
    let all = vec![Level::Info, Level::Warn, Level::Error];
    for level in &all {
        match level {
            Level::Info | Level::Warn | Level::Error => {}
        }
    }
    all
}

fn check_statuses() -> Vec<CheckStatus> {
    let all = vec![CheckStatus::Ok, CheckStatus::Warn, CheckStatus::Fail];
    for status in &all {
        match status {
            CheckStatus::Ok | CheckStatus::Warn | CheckStatus::Fail => {}
        }
    }
    all
}

fn image_states() -> Vec<ImageState> {
    use ImageState::*;
    let all = vec![
        Building,
        Built,
        UpToDate,
        Failed,
        Skipped,
        Loading,
        Loaded,
        AlreadyLoaded,
        Pushing,
        Pushed,
        AlreadyPushed,
    ];
    for state in &all {
        match state {
            Building | Built | UpToDate | Failed | Skipped | Loading | Loaded | AlreadyLoaded | Pushing | Pushed
            | AlreadyPushed => {}
        }
    }
    all
}

fn log_pod_states() -> Vec<LogPodState> {
    let all = vec![LogPodState::Appeared, LogPodState::Gone];
    for state in &all {
        match state {
            LogPodState::Appeared | LogPodState::Gone => {}
        }
    }
    all
}

fn watch_states() -> Vec<WatchState> {
    use WatchState::*;
    let all = vec![Idle, Building, RollingOut, Syncing, Error, Stopped];
    for state in &all {
        match state {
            Idle | Building | RollingOut | Syncing | Error | Stopped => {}
        }
    }
    all
}

fn forward_states() -> Vec<ForwardState> {
    use ForwardState::*;
    let all = vec![Starting, Forwarding, Reconnecting, Stopped];
    for state in &all {
        match state {
            Starting | Forwarding | Reconnecting | Stopped => {}
        }
    }
    all
}

fn gc_places() -> Vec<GcPlace> {
    let all = vec![GcPlace::Docker, GcPlace::Registry, GcPlace::Node];
    for place in &all {
        match place {
            GcPlace::Docker | GcPlace::Registry | GcPlace::Node => {}
        }
    }
    all
}

fn some(text: &str) -> Option<String> {
    Some(text.to_string())
}

const TAG: &str = "ohdev.local/app:0123456789abcdef";

/// Every variant in every state, each optional field both set and not set somewhere.
fn samples() -> Vec<Event> {
    let mut events = Vec::new();
    for (index, state) in step_states().into_iter().enumerate() {
        let detail = (index % 2 == 0).then(|| "1.2s".to_string());
        events.push(Event::step("cluster", state, "creating kind cluster \"dev\"", detail));
    }
    events.push(Event::step_done(
        "deploy",
        "4 object(s) applied and ready",
        None,
        std::time::Duration::from_millis(12_400),
    ));
    events.push(Event::step_done(
        "digest:app",
        "digested image app",
        some("120 files, 3 hashed"),
        std::time::Duration::from_millis(35),
    ));
    events.push(Event::Progress {
        id: "image:app".into(),
        current: 3,
        total: 7,
        unit: ProgressUnit::Steps,
        text: "RUN make".into(),
    });
    events.push(Event::Progress {
        id: "image:app".into(),
        current: 1_200_000,
        total: 15_000_000,
        unit: ProgressUnit::Bytes,
        text: "sending build context".into(),
    });
    events.push(Event::Progress {
        id: "deploy".into(),
        current: 2,
        total: 5,
        unit: ProgressUnit::Objects,
        text: "waiting for Deployment app/web (0/1 available)".into(),
    });
    for (index, level) in levels().into_iter().enumerate() {
        let hint = (index > 0).then(|| "run `ohdev doctor`".to_string());
        let message = ["watching 2 image(s) and k8s/ for changes", "inotify watches are low", "kubectl timed out"]
            [index]
            .to_string();
        events.push(Event::Message { level, message, hint });
    }
    events.push(Event::ClusterDrift {
        cluster: "dev".into(),
        config: "kind/cluster.yaml".into(),
        changes: vec![
            ConfigChange { key: "nodes[1].role".into(), before: None, after: some("worker") },
            ConfigChange { key: "networking.apiServerPort".into(), before: some("6443"), after: None },
            ConfigChange {
                key: "nodes[0].image".into(),
                before: some("kindest/node:v1.31.0"),
                after: some("kindest/node:v1.32.2"),
            },
        ],
        hint: "`ohdev up --recreate` deletes the cluster and creates it from the file".into(),
    });
    events.push(Event::RemoteTarget {
        target: "shared".into(),
        context: "gke_team_europe-west1_dev".into(),
        server: "https://203.0.113.7".into(),
        namespace: "dev-ada".into(),
    });
    events.push(Event::ClusterStatus {
        name: "dev".into(),
        exists: false,
        context: "kind-dev".into(),
        nodes: Vec::new(),
        drift: None,
    });
    events.push(Event::ClusterStatus {
        name: "dev".into(),
        exists: true,
        context: "kind-dev".into(),
        nodes: vec![
            NodeStatus {
                name: "dev-control-plane".into(),
                role: "control-plane".into(),
                ready: true,
                version: some("v1.32.2"),
            },
            NodeStatus { name: "dev-worker".into(), role: "worker".into(), ready: false, version: None },
        ],
        drift: Some(vec![ConfigChange { key: "nodes[1].role".into(), before: None, after: some("worker") }]),
    });
    for (index, status) in check_statuses().into_iter().enumerate() {
        // An `ok` check's hint is not shown; a failing one without a hint has no `fix:` line.
        let hint = (index < 2).then(|| "brew install kind".to_string());
        events.push(Event::DoctorCheck { check: "kind".into(), status, detail: "v0.27.0 (≥ v0.20)".into(), hint });
    }
    events.push(Event::Ready {
        urls: vec!["http://127.0.0.1:8080/".into()],
        next: vec![
            "ohdev logs -f            follow every container's output".into(),
            "ohdev status             cluster, images and what is loaded".into(),
        ],
    });
    for (index, state) in image_states().into_iter().enumerate() {
        let detail = (index % 2 == 1).then(|| "BuildKit".to_string());
        let context_bytes = (state == ImageState::Building).then_some(1_234_567);
        let duration_ms = (state == ImageState::Built).then_some(8_300);
        events.push(Event::Image { image: "app".into(), tag: TAG.into(), state, detail, context_bytes, duration_ms });
    }
    events.push(Event::BuildFailed {
        image: "app".into(),
        step: "[3/4] RUN make".into(),
        message: "exit code: 2".into(),
        output: vec!["make: *** No rule to make target 'all'.  Stop.".into(), "error: build failed".into()],
    });
    events.push(Event::BuildFailed {
        image: "web".into(),
        step: "COPY dist /srv".into(),
        message: "\"/dist\": not found".into(),
        output: Vec::new(),
    });
    events.push(Event::ImageStatus {
        image: "app".into(),
        tag: None,
        size_bytes: None,
        built: None,
        loaded_on: Vec::new(),
        current: false,
        pushed: None,
    });
    events.push(Event::ImageStatus {
        image: "app".into(),
        tag: some(TAG),
        size_bytes: Some(12_345_678),
        built: some("2026-12-03T10:11:12Z"),
        loaded_on: vec!["dev-control-plane".into(), "dev-worker".into()],
        current: true,
        pushed: None,
    });
    events.push(Event::ImageStatus {
        image: "web".into(),
        tag: some(TAG),
        size_bytes: None,
        built: None,
        loaded_on: Vec::new(),
        current: false,
        pushed: None,
    });
    events.push(Event::ImageStatus {
        image: "app".into(),
        tag: some(TAG),
        size_bytes: Some(12_345_678),
        built: some("2026-12-03T10:11:12Z"),
        loaded_on: Vec::new(),
        current: true,
        pushed: some("localhost:5001/app:0123456789abcdef"),
    });
    events.push(Event::RegistryStatus {
        host: "localhost:5001".into(),
        runtime_host: "localhost:5001".into(),
        advertised: false,
        answering: true,
        container: some("ohdev-registry"),
    });
    events.push(Event::RegistryStatus {
        host: "localhost:5001".into(),
        runtime_host: "localhost:5001".into(),
        advertised: false,
        answering: false,
        container: None,
    });
    events.push(Event::RegistryStatus {
        host: "localhost:5005".into(),
        runtime_host: "ctlptl-registry:5000".into(),
        advertised: true,
        answering: false,
        container: None,
    });
    events.push(Event::Diagnosis(DiagnosisReport {
        object: "Deployment app/web".into(),
        source: Some("kustomize:overlays/dev (document 3, line 12 of its output)".into()),
        reason: "CrashLoopBackOff".into(),
        hint: some("the container keeps exiting: read its last log lines"),
        pod: some("web-5d8f7c9b6d-x2x9z"),
        container: some("main"),
        message: "back-off 40s restarting failed container".into(),
        events: vec![KubeEvent {
            time: "2026-12-03T10:11:12Z".into(),
            event_type: "Warning".into(),
            reason: "BackOff".into(),
            object: "Pod/web-5d8f7c9b6d-x2x9z".into(),
            message: "Back-off restarting failed container".into(),
            count: 4,
        }],
        last_log_lines: vec!["starting".into(), "panic: no config".into()],
    }));
    events.push(Event::Diagnosis(DiagnosisReport {
        object: "Deployment app/web".into(),
        source: None,
        reason: "no reason found yet".into(),
        hint: None,
        pod: None,
        container: None,
        message: "the pods report no problem yet".into(),
        events: Vec::new(),
        last_log_lines: Vec::new(),
    }));
    events.push(Event::Plan { objects: Vec::new() });
    events.push(Event::Plan {
        objects: vec![
            PlanEntry {
                level: 0,
                kind: "Namespace".into(),
                namespace: None,
                name: "app".into(),
                after: Vec::new(),
                label: "Namespace/app".into(),
                crd_not_in_set: false,
                source: None,
            },
            PlanEntry {
                level: 1,
                kind: "Deployment".into(),
                namespace: some("app"),
                name: "web".into(),
                after: vec![PlanDependency {
                    kind: "Namespace".into(),
                    namespace: None,
                    name: "app".into(),
                    why: vec!["namespace".into()],
                    label: "Namespace/app".into(),
                }],
                label: "Deployment app/web".into(),
                crd_not_in_set: false,
                source: None,
            },
        ],
    });
    events.push(Event::StillRunning {
        id: "cluster".into(),
        label: "creating kind cluster \"dev\"".into(),
        elapsed_ms: 90_000,
    });
    events.push(Event::Built { tags: Vec::new() });
    events.push(Event::Built { tags: vec![TAG.into(), "ohdev.local/web:fedcba9876543210".into()] });
    for pruned in [false, true] {
        events.push(Event::Orphans { objects: vec!["ConfigMap app/old".into(), "Service app/legacy".into()], pruned });
    }
    events.push(Event::Log {
        pod: "web-5d8f7c9b6d-x2x9z".into(),
        container: "main".into(),
        namespace: "app".into(),
        line: "listening on :3000".into(),
    });
    for state in log_pod_states() {
        events.push(Event::LogPod { pod: "web-5d8f7c9b6d-x2x9z".into(), namespace: "app".into(), state });
    }
    for (index, state) in watch_states().into_iter().enumerate() {
        let detail = (index % 2 == 1).then(|| "app/main.py".to_string());
        events.push(Event::WatchStatus { image: "app".into(), state, detail });
    }
    let pods = [None, some("web-5d8f7c9b6d-x2x9z"), some("web-5d8f7c9b6d-x2x9z"), None];
    for (state, pod) in forward_states().into_iter().zip(pods) {
        let reconnecting = state == ForwardState::Reconnecting;
        events.push(Event::Forward {
            local: 3000,
            target: "Deployment/web".into(),
            namespace: "app".into(),
            remote: 8080,
            pod,
            state,
            attempt: if reconnecting { 3 } else { 1 },
            backoff_ms: reconnecting.then_some(200),
            detail: reconnecting.then(|| "kubectl port-forward exited 1: error: lost connection to pod".into()),
        });
    }
    let pods = [None, some("web-5d8f7c9b6d-x2x9z"), some("web-5d8f7c9b6d-x2x9z"), None];
    for (state, pod) in forward_states().into_iter().zip(pods) {
        events.push(Event::ForwardStatus {
            local: 3000,
            target: "Deployment/web".into(),
            namespace: "app".into(),
            remote: 8080,
            state,
            since: pod.as_ref().map(|_| "2026-12-03T10:11:12Z".to_string()),
            detail: (state == ForwardState::Stopped).then(|| "the ohdev that ran it (pid 4242) is gone".into()),
            pod,
        });
    }
    for dry_run in [false, true] {
        for place in gc_places() {
            let (reference, node, bytes) = match place {
                GcPlace::Docker => (TAG.to_string(), None, None),
                GcPlace::Registry => ("localhost:5001/app:0123456789abcdef".to_string(), None, Some(3_400_000)),
                GcPlace::Node => (format!("docker.io/{TAG}"), some("dev-control-plane"), Some(12_000_000)),
            };
            events.push(Event::GcRemoved {
                image: "app".into(),
                tag: "0123456789abcdef".into(),
                place,
                reference,
                node,
                bytes,
                dry_run,
            });
        }
    }
    let done = [(false, 0, Some(0)), (false, 2, Some(25_000_000)), (true, 2, Some(24_000_000)), (false, 1, None)];
    for (dry_run, removed, docker_bytes) in done {
        events.push(Event::GcDone {
            dry_run,
            removed,
            kept: 3,
            docker_bytes,
            registry_bytes: if removed == 2 { 3_400_000 } else { 0 },
            node_bytes: if removed == 2 { 12_000_000 } else { 0 },
        });
    }
    events.push(Event::Error {
        message: "kind cluster \"dev\" does not exist\n  fix: run `ohdev up` first".into(),
        exit_code: 2,
    });
    events
}

/// Samples grouped by variant name, in sample order.
fn by_variant() -> BTreeMap<&'static str, Vec<Event>> {
    let mut grouped: BTreeMap<&'static str, Vec<Event>> = BTreeMap::new();
    for event in samples() {
        grouped.entry(variant_name(&event)).or_default().push(event);
    }
    grouped
}

fn snake_case(camel: &str) -> String {
    let mut snake = String::new();
    for (index, character) in camel.chars().enumerate() {
        if character.is_ascii_uppercase() {
            if index > 0 {
                snake.push('_');
            }
            snake.push(character.to_ascii_lowercase());
        } else {
            snake.push(character);
        }
    }
    snake
}

/// The variant names of `pub enum Event` in the source (4-space-indented identifiers that open a
/// variant), so that a variant added there is seen even before anything else names it.
fn variants_in_source() -> Vec<String> {
    let source = include_str!("../events.rs");
    let body = source.split("pub enum Event {").nth(1).expect("`pub enum Event {` in src/events.rs");
    let body = &body[..body.find("\n}").expect("end of enum Event")];
    body.lines()
        .filter(|line| line.starts_with("    ") && !line.starts_with("     "))
        .map(str::trim)
        .filter(|line| line.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|line| line.split(|c: char| !c.is_ascii_alphanumeric()).next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn variants_in_the_source_all_have_samples() {
    let source: BTreeSet<String> = variants_in_source().into_iter().collect();
    assert!(source.len() >= 16, "parsed too few variants from src/events.rs: {source:?}");
    let sampled: BTreeSet<String> = by_variant().keys().map(|name| name.to_string()).collect();
    assert_eq!(source, sampled, "src/events.rs (left) vs the variants with samples here (right)");
    // The serde tag is the snake_case name.
    for event in samples() {
        let json = serde_json::to_value(&event).expect("an event serialises");
        assert_eq!(json["type"], snake_case(variant_name(&event)).as_str(), "{json}");
    }
}

// ------------------------------------------------------------------------------------------
// The text form: one snapshot per variant

/// What the plain renderer prints for an event, without its newline.
fn plain_text(event: &Event) -> String {
    console::set_colors_enabled(false);
    match format_event(event) {
        Some(text) => {
            assert!(!text.contains('\u{1b}'), "an escape sequence with colours off: {text:?}");
            text
        }
        None => "(no text: the plain renderer prints nothing for this event)".to_string(),
    }
}

#[test]
fn progress_bars_say_how_far_in_their_unit() {
    use super::text::progress_text;
    assert_eq!(progress_text(3, 7, ProgressUnit::Steps, "RUN make"), "step 3/7: RUN make");
    assert_eq!(
        progress_text(1_200_000, 15_000_000, ProgressUnit::Bytes, "sending build context"),
        "sending build context: 1200.0 kB of 15.0 MB"
    );
    assert_eq!(
        progress_text(2, 5, ProgressUnit::Objects, "waiting for Deployment app/web"),
        "waiting for Deployment app/web"
    );
}

#[test]
fn text_of_every_event_variant() {
    for (variant, events) in by_variant() {
        let text: Vec<String> = events.iter().map(plain_text).collect();
        insta::assert_snapshot!(snake_case(variant), text.join("\n\n"));
    }
}

#[test]
fn only_progress_error_and_an_empty_build_have_no_text() {
    // Progress is a bar on a terminal; an error goes to stderr (main's report_error); a build that
    // built nothing has no tags to print.
    let silent: BTreeSet<&str> =
        samples().iter().filter(|event| format_event(event).is_none()).map(variant_name).collect();
    assert_eq!(silent, BTreeSet::from(["Built", "Error", "Progress"]));
}

// ------------------------------------------------------------------------------------------
// The README's JSON table

/// One row of the README's `| `type` | fields |` table.
#[derive(Debug, Default, PartialEq)]
struct Row {
    fields: BTreeSet<String>,
    optional: BTreeSet<String>,
    /// `field (`a`, `b`)`: the values listed for a field.
    values: BTreeMap<String, BTreeSet<String>>,
}

/// The backticked words of `text`, each with whether a `?` follows it.
fn backticked(text: &str) -> Vec<(String, bool)> {
    let mut words = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('`') else { break };
        let word = after[..end].to_string();
        rest = &after[end + 1..];
        words.push((word, rest.starts_with('?')));
    }
    words
}

/// Removes `open … close` groups (nesting-aware), returning the text outside them, with a `\0` where
/// each group stood, and the groups.
fn split_groups(text: &str, open: char, close: char) -> (String, Vec<String>) {
    let (mut outside, mut groups, mut depth, mut current) = (String::new(), Vec::new(), 0, String::new());
    for character in text.chars() {
        if character == open {
            depth += 1;
            if depth == 1 {
                continue;
            }
        } else if character == close && depth > 0 {
            depth -= 1;
            if depth == 0 {
                groups.push(std::mem::take(&mut current));
                outside.push('\u{0}');
                continue;
            }
        }
        if depth > 0 {
            current.push(character);
        } else {
            outside.push(character);
        }
    }
    (outside, groups)
}

fn readme_table() -> BTreeMap<String, Row> {
    let readme = include_str!("../../README.md");
    let section = readme.split("## JSON events").nth(1).expect("a `## JSON events` section in README.md");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut table = BTreeMap::new();
    for line in section.lines().filter(|line| line.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(cells.len(), 2, "a row with two cells: {line}");
        if cells == ["`type`", "fields"] {
            continue; // the header
        }
        let name = cells[0].trim_matches('`').to_string();
        // Nested fields (`[{…}]`) and notes (`[last lines]`) are not top-level fields.
        let (fields, _) = split_groups(cells[1], '[', ']');
        let (fields, value_groups) = split_groups(&fields.replace('\u{0}', ""), '(', ')');
        let mut row = Row::default();
        let mut groups = value_groups.into_iter();
        // A `\0` marks where a `( … )` group stood: it lists the values of the field before it.
        let mut last_field = None;
        for part in fields.split_inclusive('\u{0}') {
            for (word, optional) in backticked(part) {
                if optional {
                    row.optional.insert(word.clone());
                }
                row.fields.insert(word.clone());
                last_field = Some(word);
            }
            if part.ends_with('\u{0}') {
                let values = groups.next().expect("a value group");
                let field = last_field.clone().unwrap_or_else(|| panic!("a value list before any field: {line}"));
                row.values.insert(field, backticked(&values).into_iter().map(|(value, _)| value).collect());
            }
        }
        assert!(table.insert(name.clone(), row).is_none(), "`{name}` has two rows in the README table");
    }
    table
}

/// The same facts, read off the samples: fields present in any sample, fields missing from some,
/// and the values seen for string fields the README lists values of.
fn sampled_rows(readme: &BTreeMap<String, Row>) -> BTreeMap<String, Row> {
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for (variant, events) in by_variant() {
        let name = snake_case(variant);
        // What `--json` prints (the renderer adds `screen` to a diagnosis); the plan is printed as its
        // own lines, so its row documents the event's field.
        let objects: Vec<serde_json::Map<String, Value>> = events
            .iter()
            .map(|event| match event {
                Event::Plan { .. } => serde_json::to_value(event).expect("serialises"),
                _ => serde_json::from_str(&super::json::line(event, "2026-12-03T10:11:12Z").expect("a line"))
                    .expect("JSON"),
            })
            .map(|value| value.as_object().expect("an object").clone())
            .collect();
        let mut row = Row::default();
        for object in &objects {
            row.fields.extend(object.keys().filter(|key| *key != "type" && *key != "ts").cloned());
        }
        for field in &row.fields {
            if objects.iter().any(|object| !object.contains_key(field)) {
                row.optional.insert(field.clone());
            }
        }
        for field in readme.get(&name).map(|row| row.values.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
            let seen = objects.iter().filter_map(|object| object.get(&field)?.as_str().map(str::to_string)).collect();
            row.values.insert(field, seen);
        }
        rows.insert(name, row);
    }
    rows
}

#[test]
fn readme_json_table_lists_exactly_the_event_variants() {
    let readme = readme_table();
    let documented: BTreeSet<&String> = readme.keys().collect();
    let source: BTreeSet<String> = variants_in_source().iter().map(|name| snake_case(name)).collect();
    assert_eq!(
        documented,
        source.iter().collect(),
        "README.md's JSON table (left) vs the variants of src/events.rs (right)"
    );
    let sampled = sampled_rows(&readme);
    for (name, row) in &readme {
        let actual = &sampled[name];
        assert_eq!(row.fields, actual.fields, "`{name}`: the README's fields (left) vs what it serialises to (right)");
        assert_eq!(
            row.optional, actual.optional,
            "`{name}`: fields marked `?` in the README (left) vs fields left out when empty (right)"
        );
        assert_eq!(
            row.values, actual.values,
            "`{name}`: the values the README lists (left) vs the values of the enum (right)"
        );
    }
}

#[test]
fn the_readme_table_parser_sees_fields_options_and_values() {
    // The check above can fail: prove the parser reads what a row says.
    let (outside, groups) = split_groups("`a`, `b` (`x`, `y`), `c` [{`n`}], `d`?", '[', ']');
    assert_eq!(groups, ["{`n`}"]);
    let (outside, values) = split_groups(&outside.replace('\u{0}', ""), '(', ')');
    assert_eq!(values, ["`x`, `y`"]);
    let words: Vec<(String, bool)> = backticked(&outside);
    assert_eq!(words, [("a".into(), false), ("b".into(), false), ("c".into(), false), ("d".into(), true)]);
    let table = readme_table();
    assert_eq!(
        table["step"].values["state"],
        BTreeSet::from(["started", "done", "skipped", "failed"].map(String::from))
    );
    assert!(table["message"].optional.contains("hint") && !table["message"].optional.contains("message"));
    assert!(!table["cluster_drift"].fields.contains("key"), "a nested field counted as top-level");
}

// ------------------------------------------------------------------------------------------
// The renderers' bytes on stdout, from a child process

const BEGIN: &str = "<<<ohdev-render-begin>>>\n";
const END: &str = "<<<ohdev-render-end>>>\n";
const CHILD: &str = "ui::text_snapshots::render_samples_to_stdout";

/// Not a test on its own: the child that the two tests below start. It renders every sample with
/// the renderer `OHDEV_TEST_RENDERER` names (`json` or `plain`), one by one, then as one batch.
#[test]
#[ignore = "started by json_renderer_prints_one_object_per_line and plain_renderer_prints_the_text_form"]
fn render_samples_to_stdout() {
    console::set_colors_enabled(false);
    let renderer: Box<dyn super::Renderer> = match std::env::var("OHDEV_TEST_RENDERER").as_deref() {
        Ok("plain") => Box::new(super::PlainRenderer::new()),
        _ => Box::new(super::JsonRenderer::new()),
    };
    let events = enveloped_samples();
    super::write_stdout(BEGIN.as_bytes());
    for event in &events {
        renderer.emit(event);
    }
    renderer.emit_batch(&events);
    super::write_stdout(END.as_bytes());
}

/// The samples `--json` prints as one enveloped object each (the plan is printed as its own lines).
fn enveloped_samples() -> Vec<Event> {
    samples().into_iter().filter(|event| !matches!(event, Event::Plan { .. })).collect()
}

#[test]
fn json_renderer_prints_the_plan_as_its_own_lines() {
    let plan = samples().into_iter().find(|event| matches!(event, Event::Plan { objects } if !objects.is_empty()));
    let line = super::json::line(&plan.expect("a plan sample"), "2026-12-03T10:11:12Z").expect("lines");
    assert_eq!(
        line,
        "{\"level\":0,\"kind\":\"Namespace\",\"namespace\":null,\"name\":\"app\",\"after\":[]}\n\
         {\"level\":1,\"kind\":\"Deployment\",\"namespace\":\"app\",\"name\":\"web\",\"after\":[{\"kind\":\"Namespace\",\"namespace\":null,\"name\":\"app\",\"why\":[\"namespace\"]}]}\n"
    );
}

/// What the child printed between the markers.
fn rendered_by(renderer: &str) -> String {
    let output = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args([CHILD, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env("OHDEV_TEST_RENDERER", renderer)
        .env("NO_COLOR", "1")
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "child failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let start = stdout.find(BEGIN).unwrap_or_else(|| panic!("no begin marker:\n{stdout}")) + BEGIN.len();
    let end = stdout[start..].find(END).unwrap_or_else(|| panic!("no end marker:\n{stdout}")) + start;
    stdout[start..end].to_string()
}

#[test]
fn json_renderer_prints_one_object_per_line() {
    let events = enveloped_samples();
    let printed = rendered_by("json");
    assert!(printed.ends_with('\n'), "{printed}");
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 2 * events.len(), "one line per event, one by one and in a batch:\n{printed}");
    let mut batch_ts = BTreeSet::new();
    for (index, line) in lines.iter().enumerate() {
        let event = &events[index % events.len()];
        let value: Value = serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}"));
        let object = value.as_object().unwrap_or_else(|| panic!("not an object: {line}"));
        assert_eq!(object["type"], snake_case(variant_name(event)).as_str(), "{line}");
        let ts = object["ts"].as_str().unwrap_or_else(|| panic!("no ts: {line}"));
        assert!(
            time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).is_ok()
                && ts.ends_with('Z'),
            "ts is not RFC 3339 UTC: {ts}"
        );
        // Apart from `ts` (and a diagnosis's `screen`, the text a person sees), the line is the event
        // as serde writes it.
        let mut without_ts = object.clone();
        without_ts.remove("ts");
        if let Event::Diagnosis(report) = event {
            assert_eq!(without_ts.remove("screen"), Some(Value::String(super::diagnosis_screen(report))), "{line}");
        }
        assert_eq!(Value::Object(without_ts), serde_json::to_value(event).expect("serialises"), "{line}");
        if index >= events.len() {
            batch_ts.insert(ts.to_string());
        }
    }
    assert_eq!(batch_ts.len(), 1, "a batch shares one timestamp: {batch_ts:?}");
}

#[test]
fn plain_renderer_prints_the_text_form() {
    let events = enveloped_samples();
    let expected: String = events.iter().filter_map(format_event).map(|text| format!("{text}\n")).collect();
    let printed = rendered_by("plain");
    assert_eq!(printed, format!("{expected}{expected}"), "one by one, then as a batch");
    assert!(!printed.contains('\u{1b}'), "colours in a pipe with NO_COLOR: {printed:?}");
}

// ------------------------------------------------------------------------------------------
// Secrets

const SECRET_VALUE: &str = "sk-SECRET-VALUE-123";
const SECRET_BASE64: &str = "c2stU0VDUkVULVZBTFVFLTEyMw==";

/// Every rendered form of an error message: the text line of a message and a failed step, the JSON
/// line of an error event.
fn rendered_forms(message: &str) -> Vec<String> {
    let events = [
        Event::Message { level: Level::Error, message: message.to_string(), hint: Some(message.to_string()) },
        Event::step("deploy", StepState::Failed, "rendering manifests", Some(message.to_string())),
        Event::Error { message: message.to_string(), exit_code: 2 },
    ];
    let mut forms: Vec<String> = events.iter().filter_map(format_event).collect();
    forms.extend(events.iter().map(|event| serde_json::to_string(event).expect("serialises")));
    forms
}

#[test]
fn errors_about_secrets_render_without_their_values() {
    let dir = tempfile::tempdir().expect("temp dir");
    let env_file = dir.path().join(".env");
    let keys = |names: &[&str]| names.iter().map(|name| name.to_string()).collect::<Vec<_>>();
    let from_environment = |key: &str| (key == "FROM_ENV").then(|| SECRET_VALUE.to_string());
    let generate = |names: &[&str]| {
        crate::deploy::plan::secrets::generate("app-secrets", "app", Some(&env_file), &keys(names), &from_environment)
    };
    let mut errors = Vec::new();

    // A key missing while another one has its value (in the file and in the environment).
    std::fs::write(&env_file, format!("API_KEY={SECRET_VALUE}\n")).unwrap();
    errors.push(generate(&["API_KEY", "FROM_ENV", "OTHER_KEY"]).unwrap_err());
    // A syntax error on the line that holds the value (an unterminated quote).
    std::fs::write(&env_file, format!("API_KEY=\"{SECRET_VALUE}\n")).unwrap();
    errors.push(generate(&["API_KEY"]).unwrap_err());
    std::fs::write(&env_file, format!("OK=1\n{SECRET_VALUE}\n")).unwrap();
    errors.push(generate(&["OK"]).unwrap_err());
    // A key that cannot be a Secret key, named while the others have values.
    std::fs::write(&env_file, format!("API_KEY={SECRET_VALUE}\n")).unwrap();
    errors.push(generate(&["API_KEY", "bad key"]).unwrap_err());

    assert_eq!(errors.len(), 4);
    for error in &errors {
        let message = error.to_string();
        assert!(
            message.contains("app-secrets") || message.contains(".env"),
            "the error names the secret or file: {message}"
        );
        for text in rendered_forms(&message).into_iter().chain([format!("{error:?}")]) {
            assert!(!text.contains(SECRET_VALUE) && !text.contains(SECRET_BASE64), "a secret value in: {text}");
        }
    }
    // The check can fail: the value does reach the generated object.
    let secret = generate(&["API_KEY"]).expect("generated");
    assert_eq!(secret.value["data"]["API_KEY"], SECRET_BASE64);
}
