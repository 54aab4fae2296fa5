//! The image phase on the real Docker engine (issue "Images"):
//!
//! - `.dockerignore` parity: the docker CLI's classic builder (Docker's own matcher) against
//!   ohdev's context walk on a tree of tricky patterns; `<Dockerfile>.dockerignore` precedence
//!   through a real BuildKit build by `ohdev build`.
//! - BuildKit skips a stage the target does not need; `OHDEV_BUILDER=classic` builds it and fails.
//! - A second `ohdev up` builds and loads nothing; an ignored file changes nothing; a change in one
//!   of two images rebuilds and loads exactly that one.
//! - A failing `RUN` step: exit 1, the step and its output shown, nothing loaded, the previous
//!   image kept in Docker and in state, and what depends on it not built.
//! - `ohdev status` lists tag, size and nodes after an `up`.
//! - Build files Docker would refuse (an unknown instruction, a `target` that is no stage, a bad
//!   platform in ohdev.yaml or in a FROM, a `.dockerignore` pattern Docker rejects or a
//!   `.dockerignore` that cannot be read): exit 2 naming the file and line, before any tool runs.
//!
//! Every test uses image names of its own (`<role>-<random>`) and removes what it created.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::ohdev_snapshot;
use crate::support::docker::{base_or_skip, ohdev_images, unique, with_docker};
use crate::support::{docker, json_lines, Output, Test};

// ------------------------------------------------------------------------------------------
// Helpers

fn inspect(reference: &str) -> Option<bollard::models::ImageInspect> {
    let reference = reference.to_string();
    with_docker(|docker| async move { docker.inspect_image(&reference).await.ok() })
}

/// Removes every image built for the given ohdev image names, and the given references, also
/// when the test panics.
struct Cleanup {
    names: Vec<String>,
    references: Vec<String>,
}

impl Cleanup {
    fn names(names: &[&str]) -> Cleanup {
        Cleanup { names: names.iter().map(|name| name.to_string()).collect(), references: Vec::new() }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let names = std::mem::take(&mut self.names);
        let references = std::mem::take(&mut self.references);
        let _ = std::thread::spawn(move || {
            let mut doomed: Vec<String> = references;
            for name in &names {
                doomed.extend(ohdev_images(name).into_values());
            }
            doomed.dedup();
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

/// `ohdev.yaml` with the given images (`name`, context, dockerfile, extra YAML lines) on `base`.
fn config(base: &str, images: &[(&str, &str, &str, &str)]) -> String {
    let mut text = String::from("cluster:\n  name: t\nimages:\n");
    for (name, context, dockerfile, extra) in images {
        text.push_str(&format!(
            "  {name}:\n    context: {context}\n    dockerfile: {dockerfile}\n    build_args: {{BASE: \"{base}\"}}\n"
        ));
        for line in extra.lines() {
            text.push_str(&format!("    {line}\n"));
        }
    }
    text.push_str("manifests: []\n");
    text
}

/// `image` events of a `--json` run: (image, state, tag).
fn image_events(output: &Output) -> Vec<(String, String, String)> {
    json_lines(&output.stdout)
        .into_iter()
        .filter(|event| event["type"] == "image")
        .map(|event| {
            (
                event["image"].as_str().unwrap_or_default().to_string(),
                event["state"].as_str().unwrap_or_default().to_string(),
                event["tag"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The images that reached `state` in a `--json` run, sorted.
fn images_in_state(output: &Output, state: &str) -> Vec<String> {
    let mut names: Vec<String> = image_events(output)
        .into_iter()
        .filter(|(_, event_state, _)| event_state == state)
        .map(|(name, _, _)| name)
        .collect();
    names.sort();
    names
}

/// The tag of `name` in a `--json` run's events.
fn tag_in(output: &Output, name: &str) -> String {
    image_events(output)
        .into_iter()
        .find(|(image, _, _)| image == name)
        .map(|(_, _, tag)| tag)
        .unwrap_or_else(|| panic!("no image event for {name}:\n{}", output.stdout))
}

/// `images.<name>` in `.ohdev/state.json`.
fn state_record(test: &Test, name: &str) -> Value {
    let text = std::fs::read_to_string(test.project().join(".ohdev/state.json")).expect("state.json");
    let state: Value = serde_json::from_str(&text).expect("state.json is JSON");
    state["images"][name].clone()
}

fn loads_of(test: &Test, tag: &str) -> usize {
    test.calls_matching("load docker-image").iter().filter(|call| call.argv.iter().any(|arg| arg == tag)).count()
}

// ------------------------------------------------------------------------------------------
// 1. .dockerignore parity with Docker's own matcher

/// (path, content); a content of "->target" makes a symlink, a path ending in `/` a directory.
const PARITY_TREE: &[(&str, &str)] = &[
    ("a.txt", "a"),
    ("a.pyc", "compiled"),
    ("keep.pyc", "kept by !keep.pyc"),
    ("src/main.py", "print()"),
    ("src/main.pyc", "x"),
    ("src/keep.pyc", "x: !keep.pyc only re-includes the root one"),
    ("src/deep/x/y.pyc", "x"),
    ("src/deep/x/keep-me.pyc", "re-included by a deep exception"),
    ("src/tempdir/f.txt", "*/temp* drops the whole directory"),
    ("src/temp.txt", "x"),
    ("src/deep/temp.txt", "kept: */temp* is one level"),
    ("temp.txt", "kept: */temp* needs a directory"),
    ("build/out.bin", "x"),
    ("src/build/x.txt", "kept: /build is the root one"),
    ("node_modules/pkg/index.js", "x"),
    ("src/node_modules/pkg/index.js", "kept: node_modules/ is the root one"),
    (".git/HEAD", "ref: refs/heads/main"),
    (".git/objects/ab/cdef", "x"),
    (".gitignore", "kept"),
    ("docs/README.md", "re-included"),
    ("docs/guide.md", "x"),
    ("docs/sub/README.md", "x: only docs/README.md is re-included"),
    ("logs/app.log", "x"),
    ("important.log", "re-included"),
    ("logs/nested/important.log", "x: !important.log is the root one"),
    ("dir with space/file name.txt", "kept"),
    ("empty/", ""),
    ("cache/a.bin", "x: cache/* leaves the directory"),
    ("link-to-a", "->a.txt"),
    ("link-to-src", "->src"),
    ("dangling", "->nowhere"),
    ("vendor/a/b/test/t.go", "x"),
    ("vendor/test/t.go", "x: ** matches no directory too"),
    ("vendor/a/testing/t.go", "kept"),
    ("file1.md", "x"),
    ("file22.md", "kept: ? is one character"),
    ("ax.cfg", "x"),
    ("bx.cfg", "x"),
    ("cx.cfg", "kept"),
    (".env", "SECRET=1"),
    (".env.example", "SECRET="),
    ("tmp/a/b.txt", "x"),
    ("tmp/keep/b.txt", "re-included below an excluded directory"),
];

const PARITY_IGNORE: &str = "\
# comment line, then blank

**/*.pyc
!keep.pyc
!src/deep/x/keep-me.pyc
*/temp*
/build
node_modules/
.git
docs
!docs/README.md
**/*.log
!important.log
cache/*
vendor/**/test
file?.md
[ab]x.cfg
.env
./tmp/
!tmp/keep
  Dockerfile  
.dockerignore
";

const PARITY_DOCKERFILE: &str = "ARG BASE\nFROM ${BASE}\nCOPY . /ctx\nRUN find /ctx\n";

fn write_tree(root: &Path, tree: &[(&str, &str)]) {
    for (path, content) in tree {
        let full = root.join(path.trim_end_matches('/'));
        if path.ends_with('/') {
            std::fs::create_dir_all(&full).unwrap();
            continue;
        }
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        match content.strip_prefix("->") {
            Some(target) => std::os::unix::fs::symlink(target, &full).unwrap(),
            None => std::fs::write(&full, content).unwrap(),
        }
    }
}

#[test]
fn dockerignore_matches_the_classic_docker_cli() {
    let Some(base) = base_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), PARITY_TREE);
    std::fs::write(dir.path().join(".dockerignore"), PARITY_IGNORE).unwrap();
    std::fs::write(dir.path().join("Dockerfile"), PARITY_DOCKERFILE).unwrap();

    let tag = format!("ohdev-test/parity:{}", unique());
    let _cleanup = Cleanup { names: Vec::new(), references: vec![tag.clone()] };
    let output = Command::new("docker")
        .args([
            "build",
            "--no-cache",
            "--force-rm",
            "--build-arg",
            &format!("BASE={base}"),
            "-t",
            &tag,
            "-f",
            "Dockerfile",
            ".",
        ])
        .current_dir(dir.path())
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .expect("the docker CLI runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "docker build failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("Step 4/4 : RUN find /ctx"), "not the classic builder's output:\n{stdout}");
    let mut docker_paths: Vec<String> =
        stdout.lines().filter_map(|line| line.strip_prefix("/ctx/")).map(str::to_string).collect();
    docker_paths.sort();

    let walked = ohdev::image::context::walk(dir.path(), Path::new("Dockerfile")).expect("walk");
    let ohdev_paths = walked.classic_image_paths();
    assert_eq!(ohdev_paths, docker_paths, "ohdev's walk (left) differs from what the docker CLI sent (right)");

    // The fixture really exercises the rules (a walk that ignored nothing would fail above, but
    // say what the tree is for): exceptions, root-only patterns and the daemon's own removals.
    for kept in [
        "keep.pyc",
        "docs/README.md",
        "important.log",
        "tmp/keep/b.txt",
        "src/deep/x/keep-me.pyc",
        "empty",
        "cache",
        "link-to-src",
        "dir with space/file name.txt",
    ] {
        assert!(ohdev_paths.iter().any(|path| path == kept), "{kept} should be in the image: {ohdev_paths:?}");
    }
    for dropped in [
        "a.pyc",
        "src/keep.pyc",
        "docs/guide.md",
        "src/tempdir",
        "build",
        "node_modules",
        ".git",
        ".env",
        "vendor/test",
        "Dockerfile",
        ".dockerignore",
    ] {
        assert!(
            !ohdev_paths.iter().any(|path| path == dropped),
            "{dropped} should not be in the image: {ohdev_paths:?}"
        );
    }
    let mut removed = walked.removed_by_classic_builder.clone();
    removed.sort();
    assert_eq!(removed, [".dockerignore", "Dockerfile"], "sent for the daemon to read, then removed by it");
}

/// `<Dockerfile>.dockerignore` wins over the root `.dockerignore` (BuildKit's rule; the classic
/// CLI does not know it, so this goes through `ohdev build` and a real BuildKit build whose `RUN`
/// checks what arrived).
#[test]
fn dockerfile_specific_ignore_file_wins_over_the_root_one() {
    let Some(base) = base_or_skip() else { return };
    let name = format!("ign-{}", unique());
    let _cleanup = Cleanup::names(&[&name]);
    let test = Test::new()
        .file("ohdev.yaml", &config(&base, &[(&name, "src", "containers/app/Dockerfile", "")]))
        .file("src/.dockerignore", "rootonly.txt\n*.tmp\n")
        .file("src/containers/app/Dockerfile.dockerignore", "secret.txt\n*.tmp\n")
        .file(
            "src/containers/app/Dockerfile",
            "ARG BASE\nFROM ${BASE}\nCOPY . /ctx\nRUN find /ctx | sort && test ! -e /ctx/secret.txt && test ! -e /ctx/x.tmp && test -e /ctx/rootonly.txt && test -e /ctx/shared.txt\n",
        )
        .arg("build");
    for file in ["secret.txt", "rootonly.txt", "shared.txt", "x.tmp"] {
        test.write(&format!("src/{file}"), file);
    }
    let output = test.expect(0);
    assert!(output.stdout.contains("(BuildKit,"), "{}", output.stdout);

    let walked =
        ohdev::image::context::walk(&test.project().join("src"), Path::new("containers/app/Dockerfile")).unwrap();
    assert_eq!(
        walked.ignore_file.as_deref(),
        Some(test.project().join("src/containers/app/Dockerfile.dockerignore").as_path())
    );
    let tags = ohdev_images(&name);
    assert_eq!(tags.len(), 1, "{tags:?}");
    let tag = tags.keys().next().unwrap();
    assert!(output.stdout.contains(tag.as_str()), "{}", output.stdout);
    let labels = inspect(tag).unwrap().config.unwrap().labels.unwrap();
    assert_eq!(labels["dev.ohdev.image"], name);
}

// ------------------------------------------------------------------------------------------
// 2. BuildKit skips unused stages; the forced classic builder does not

#[test]
fn buildkit_skips_an_unused_failing_stage_and_classic_does_not() {
    let Some(base) = base_or_skip() else { return };
    let name = format!("stages-{}", unique());
    let _cleanup = Cleanup::names(&[&name]);
    let test = Test::new()
        .file("ohdev.yaml", &config(&base, &[(&name, "app", "Dockerfile", "target: final")]))
        .file(
            "app/Dockerfile",
            "ARG BASE\nFROM ${BASE} AS unused\nRUN echo unused-stage-ran && false\n\nFROM ${BASE} AS final\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt\n",
        )
        .file("app/hello.txt", "hello\n")
        .arg("build");

    // Classic first, so its failure cannot be hidden by a tag BuildKit already made.
    let test = test.env("OHDEV_BUILDER", "classic");
    let failed = test.expect(1);
    let shown = format!("{}{}", failed.stdout, failed.stderr);
    assert!(failed.stdout.contains("(classic builder,"), "{shown}");
    assert!(shown.contains("step `RUN echo unused-stage-ran && false` failed"), "{shown}");
    assert!(shown.contains("unused-stage-ran"), "{shown}");
    assert!(failed.stderr.contains(&format!("image(s) failed to build: {name}")), "{shown}");
    assert!(failed.stderr.contains("step `RUN echo unused-stage-ran && false` failed"), "{}", failed.stderr);
    assert!(failed.stderr.contains("│ unused-stage-ran"), "{}", failed.stderr);
    assert!(ohdev_images(&name).is_empty(), "a failed build left a tag: {:?}", ohdev_images(&name));
    ohdev_snapshot!(failed, [(&name, "[IMAGE]"), (&base, "[BASE]")]);

    // An empty OHDEV_BUILDER is the default: BuildKit when the daemon supports it.
    let test = test.env("OHDEV_BUILDER", "");
    let built = test.expect(0);
    assert!(built.stdout.contains("(BuildKit,"), "{}", built.stdout);
    assert!(!built.stdout.contains("unused-stage-ran"), "{}", built.stdout);
    let tags = ohdev_images(&name);
    assert_eq!(tags.len(), 1, "{tags:?}");
    assert!(built.stdout.lines().any(|line| tags.contains_key(line)), "the tag is printed: {}", built.stdout);
}

// ------------------------------------------------------------------------------------------
// 3. A second `ohdev up` does nothing; only the changed image rebuilds and loads

#[test]
fn second_up_builds_and_loads_nothing_and_a_change_rebuilds_only_its_image() {
    let Some(base) = base_or_skip() else { return };
    let id = unique();
    let (api, web) = (format!("api-{id}"), format!("web-{id}"));
    let _cleanup = Cleanup::names(&[&api, &web]);
    // `api` builds from the project root (where ohdev keeps `.ohdev/`, and the stand-ins their
    // state and PATH links, which its .dockerignore leaves out); `web` from its own directory.
    let mut test = Test::new()
        .file("ohdev.yaml", &config(&base, &[(&api, ".", "api/Dockerfile", ""), (&web, "web", "Dockerfile", "")]))
        .file(".dockerignore", ".fake-kube\n.bin\nweb\n**/*.log\n")
        .file("api/Dockerfile", "ARG BASE\nFROM ${BASE}\nCOPY api /api\nRUN cat /api/main.sh\n")
        .file("api/main.sh", "echo api\n")
        .file("web/.dockerignore", "*.log\n")
        .file("web/Dockerfile", "ARG BASE\nFROM ${BASE}\nCOPY . /srv\n")
        .file("web/index.html", "<h1>one</h1>\n")
        .file("web/debug.log", "first\n")
        .file("api/debug.log", "first\n")
        .args(&["--json", "up"]);
    let first = test.expect(0);
    assert_eq!(images_in_state(&first, "built"), sorted([&api, &web]), "{}", first.stdout);
    assert_eq!(images_in_state(&first, "loaded"), sorted([&api, &web]), "{}", first.stdout);
    let (api_tag, web_tag) = (tag_in(&first, &api), tag_in(&first, &web));
    assert_eq!(test.calls_matching("load docker-image").len(), 2, "{:?}", test.calls());
    assert_eq!(loads_of(&test, &api_tag), 1);
    assert_eq!(loads_of(&test, &web_tag), 1);
    let api_images = ohdev_images(&api);
    let web_images = ohdev_images(&web);
    assert_eq!(api_images.keys().collect::<Vec<_>>(), [&api_tag]);
    assert_eq!(web_images.keys().collect::<Vec<_>>(), [&web_tag]);
    assert_eq!(state_record(&test, &api)["image_id"], api_images[&api_tag].as_str());
    assert_eq!(state_record(&test, &web)["loaded"]["t"], serde_json::json!(["t-control-plane"]));

    // No change: nothing built, nothing loaded, Docker unchanged.
    let second = test.expect(0);
    assert_eq!(images_in_state(&second, "built"), Vec::<String>::new(), "{}", second.stdout);
    assert_eq!(images_in_state(&second, "loaded"), Vec::<String>::new(), "{}", second.stdout);
    assert_eq!(images_in_state(&second, "up_to_date"), sorted([&api, &web]), "{}", second.stdout);
    assert_eq!(images_in_state(&second, "already_loaded"), sorted([&api, &web]), "{}", second.stdout);
    assert_eq!(test.calls_matching("load docker-image").len(), 2, "{:?}", test.calls());
    assert_eq!((ohdev_images(&api), ohdev_images(&web)), (api_images.clone(), web_images.clone()));

    // Files that .dockerignore leaves out: still nothing.
    test.write("web/debug.log", "second, longer than before\n");
    test.write("api/debug.log", "second, longer than before\n");
    test.write("api/new.log", "new\n");
    let ignored = test.expect(0);
    assert_eq!(images_in_state(&ignored, "built"), Vec::<String>::new(), "{}", ignored.stdout);
    assert_eq!(images_in_state(&ignored, "loaded"), Vec::<String>::new(), "{}", ignored.stdout);
    assert_eq!(test.calls_matching("load docker-image").len(), 2, "{:?}", test.calls());
    assert_eq!((ohdev_images(&api), ohdev_images(&web)), (api_images.clone(), web_images.clone()));

    // One file of one image: exactly that image rebuilds and loads.
    test.write("web/index.html", "<h1>two</h1>\n");
    let changed = test.expect(0);
    assert_eq!(images_in_state(&changed, "built"), sorted([&web]), "{}", changed.stdout);
    assert_eq!(images_in_state(&changed, "loaded"), sorted([&web]), "{}", changed.stdout);
    assert_eq!(images_in_state(&changed, "up_to_date"), sorted([&api]), "{}", changed.stdout);
    let new_web_tag = tag_in(&changed, &web);
    assert_ne!(new_web_tag, web_tag);
    assert_eq!(tag_in(&changed, &api), api_tag);
    let loads = test.calls_matching("load docker-image");
    assert_eq!(loads.len(), 3, "{loads:?}");
    assert!(loads[2].argv.contains(&new_web_tag), "{loads:?}");
    assert_eq!(loads_of(&test, &api_tag), 1);
    assert_eq!(ohdev_images(&api), api_images, "api changed in Docker");
    let web_now = ohdev_images(&web);
    assert!(web_now.contains_key(&new_web_tag) && web_now.len() == 2, "{web_now:?}");
    assert_ne!(web_now[&new_web_tag], web_images[&web_tag], "same image ID for new content");
    assert_eq!(state_record(&test, &web)["tag"], new_web_tag.as_str());
    assert_eq!(state_record(&test, &api)["tag"], api_tag.as_str());

    // A rebuild of a changed image whose nodes ohdev knows loads it without asking the nodes first:
    // a fresh content tag cannot be on them (`kind load` still checks each node).
    let node_reads = |test: &Test| {
        test.calls().iter().filter(|call| call.tool == "kubectl" && call.argv.iter().any(|arg| arg == "nodes")).count()
    };
    let reads_before = node_reads(&test);
    test.write("web/index.html", "<h1>three</h1>\n");
    test.set_args(&["--json", "rebuild", &web]);
    let rebuilt = test.expect(0);
    assert_eq!(images_in_state(&rebuilt, "loaded"), sorted([&web]), "{}", rebuilt.stdout);
    assert_eq!(test.calls_matching("load docker-image").len(), 4);
    assert_eq!(node_reads(&test), reads_before, "the rebuild read the nodes: {:?}", test.calls());
}

fn sorted<const N: usize>(names: [&String; N]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    names.sort();
    names
}

// ------------------------------------------------------------------------------------------
// 4. A failing RUN step

#[test]
fn failing_run_step_shows_the_step_and_its_output_and_keeps_the_previous_image() {
    let Some(base) = base_or_skip() else { return };
    let id = unique();
    let (app, dependent) = (format!("app-{id}"), format!("dep-{id}"));
    let _cleanup = Cleanup::names(&[&app, &dependent]);
    let mut text =
        config(&base, &[(&app, "app", "Dockerfile", ""), (&dependent, "dep", "Dockerfile", "depends_on: [APP]")]);
    text = text.replace("depends_on: [APP]", &format!("depends_on: [{app}]"));
    // The dependent image builds FROM the app image's exact tag.
    text = text.replace(
        &format!("  {dependent}:\n    context: dep\n    dockerfile: Dockerfile\n    build_args: {{BASE: \"{base}\"}}"),
        &format!("  {dependent}:\n    context: dep\n    dockerfile: Dockerfile\n    build_args: {{BASE: \"${{image:{app}}}\"}}"),
    );
    let mut test = Test::new()
        .file("ohdev.yaml", &text)
        .file("app/Dockerfile", "ARG BASE\nFROM ${BASE}\nCOPY . /app\nRUN echo building-app\n")
        .file("dep/Dockerfile", "ARG BASE\nFROM ${BASE}\nRUN test -d /app\n")
        .arg("up");
    test.expect(0);
    let good = state_record(&test, &app);
    let good_tag = good["tag"].as_str().expect("tag in state").to_string();
    let dependent_tag = state_record(&test, &dependent)["tag"].as_str().expect("tag in state").to_string();
    assert_eq!(loads_of(&test, &good_tag), 1);
    assert_eq!(test.calls_matching("load docker-image").len(), 2);

    let marker = format!("marker-{id}");
    test.write(
        "app/Dockerfile",
        // The pause keeps the two streams' lines in order (BuildKit sends stdout and stderr apart).
        &format!("ARG BASE\nFROM ${{BASE}}\nCOPY . /app\nRUN echo {marker}-1 && sleep 1 && echo {marker}-2 >&2 && exit 3\nRUN echo never-reached\n"),
    );
    let failed = test.expect(1);
    let shown = format!("{}\n{}", failed.stdout, failed.stderr);
    assert!(
        shown.contains(&format!("step `[3/4] RUN echo {marker}-1 && sleep 1 && echo {marker}-2 >&2 && exit 3` failed")),
        "{shown}"
    );
    assert!(shown.contains("exit code: 3"), "{shown}");
    assert!(
        shown.contains(&format!("│ {marker}-1")) && shown.contains(&format!("│ {marker}-2")),
        "its output lines: {shown}"
    );
    assert!(!shown.contains("never-reached"), "{shown}");
    assert!(shown.contains(&format!("image {dependent} not built (it depends on {app}, which failed)")), "{shown}");
    assert!(failed.stderr.contains(&format!("image(s) failed to build: {app}")), "{shown}");
    // stderr alone says why (`ohdev up 2>err.txt`): the step, the builder's message, the output.
    assert!(failed.stderr.contains(&format!("image {app}: step `[3/4] RUN echo {marker}-1")), "{}", failed.stderr);
    assert!(failed.stderr.contains("exit code: 3"), "{}", failed.stderr);
    assert!(failed.stderr.contains(&format!("│ {marker}-1\n    │ {marker}-2")), "{}", failed.stderr);

    // Nothing loaded: no new `kind load` at all (not for app's failed tag, not for the dependent).
    assert_eq!(test.calls_matching("load docker-image").len(), 2, "{:?}", test.calls_matching("load docker-image"));
    // The previous image is still in Docker and still what state records.
    let app_images = ohdev_images(&app);
    assert_eq!(app_images.keys().collect::<Vec<_>>(), [&good_tag], "{app_images:?}");
    assert_eq!(state_record(&test, &app), good);
    assert_eq!(ohdev_images(&dependent).keys().collect::<Vec<_>>(), [&dependent_tag]);
    assert_eq!(state_record(&test, &dependent)["tag"], dependent_tag.as_str());

    // The same failure from `ohdev build`, whose output is one sequence (`up` checks the cluster
    // while it digests, so its lines interleave).
    test.set_args(&["build"]);
    let failed = test.expect(1);
    assert!(failed.stdout.contains(&format!("│ {marker}-2")), "{}", failed.stdout);
    ohdev_snapshot!(failed, [(&marker, "[MARKER]"), (&app, "[APP]"), (&dependent, "[DEPENDENT]"), (&base, "[BASE]")]);
}

// ------------------------------------------------------------------------------------------
// 5. `ohdev status` after `up`

#[test]
fn status_lists_tag_size_and_nodes_after_up() {
    let Some(base) = base_or_skip() else { return };
    let id = unique();
    let (app, never) = (format!("app-{id}"), format!("never-{id}"));
    let _cleanup = Cleanup::names(&[&app]);
    let mut test = Test::new()
        .file("ohdev.yaml", &config(&base, &[(&app, "app", "Dockerfile", "")]))
        .file("app/Dockerfile", "ARG BASE\nFROM ${BASE}\nCOPY . /app\n")
        .file("app/payload.bin", &"x".repeat(300_000))
        .arg("status");
    let before = test.expect(0);
    assert!(before.stdout.contains(&format!("image    {app}: not built")), "{}", before.stdout);

    test.set_args(&["up"]);
    test.expect(0);
    let tag = state_record(&test, &app)["tag"].as_str().unwrap().to_string();
    let size = inspect(&tag).expect("image in Docker").size.expect("size");
    assert!(size > 300_000, "{size}");

    test.set_args(&["status"]);
    let status = test.expect(0);
    let line = status
        .stdout
        .lines()
        .find(|line| line.starts_with(&format!("image    {app}")))
        .unwrap_or_else(|| panic!("no image line: {}", status.stdout));
    assert!(line.contains(&tag), "{line}");
    assert!(line.contains(&format!("{:.1} MB", size as f64 / 1_000_000.0)), "{line}");
    assert!(line.contains("loaded on t-control-plane"), "{line}");
    assert!(!line.contains("sources changed"), "{line}");

    test.set_args(&["--json", "status"]);
    let events = json_lines(&test.expect(0).stdout);
    let image = events
        .iter()
        .find(|event| event["type"] == "image_status" && event["image"] == app.as_str())
        .expect("image_status");
    assert_eq!(image["tag"], tag.as_str());
    assert_eq!(image["size_bytes"], size);
    assert_eq!(image["loaded_on"], serde_json::json!(["t-control-plane"]));
    assert_eq!(image["current"], true);

    // A source change shows as stale; an image never built shows as such.
    test.write("app/payload.bin", "changed");
    test.write("ohdev.yaml", &config(&base, &[(&app, "app", "Dockerfile", ""), (&never, "app", "Dockerfile", "")]));
    test.set_args(&["status"]);
    let stale = test.expect(0);
    assert!(stale.stdout.contains("(sources changed since: `ohdev build`)"), "{}", stale.stdout);
    assert!(stale.stdout.contains(&format!("image    {never}: not built")), "{}", stale.stdout);
}

// ------------------------------------------------------------------------------------------
// 6. Input errors of the image phase

#[test]
fn an_unknown_image_name_is_exit_2_listing_the_images() {
    let mut test = Test::new()
        .file(
            "ohdev.yaml",
            "cluster:\n  name: t\nimages:\n  api:\n    context: .\n  web:\n    context: .\nmanifests: []\n",
        )
        .args(&["build", "wbe"]);
    let output = test.expect(2);
    assert!(output.stderr.contains("no image named `wbe`"), "{}", output.stderr);
    assert!(test.calls().is_empty(), "{:?}", test.calls());
    ohdev_snapshot!("unknown_image_build", output);
    test.set_args(&["rebuild", "wbe"]);
    let output = test.expect(2);
    assert!(output.stderr.contains("`wbe` is neither an image in ohdev.yaml nor an object"), "{}", output.stderr);
    assert!(output.stderr.contains("did you mean `web`? images and workloads: api, web"), "{}", output.stderr);
    ohdev_snapshot!("unknown_image_rebuild", output);
}

#[test]
fn a_missing_dockerfile_is_exit_2_naming_the_path() {
    if docker::client().is_none() {
        return;
    }
    let name = format!("nodockerfile-{}", unique());
    let test = Test::new()
        .file("ohdev.yaml", &format!("cluster:\n  name: t\nimages:\n  {name}:\n    context: app\n    dockerfile: Dockerfile\nmanifests: []\n"))
        .file("app/main.txt", "no Dockerfile next to me\n")
        .arg("build");
    let output = test.expect(2);
    assert!(
        output.stderr.contains(&format!("images.{name}.dockerfile is Dockerfile, which is not a file in the context")),
        "{}",
        output.stderr
    );
    assert!(test.calls().is_empty(), "{:?}", test.calls());
    assert!(ohdev_images(&name).is_empty());
    ohdev_snapshot!(output, [(&name, "[IMAGE]")]);
}

#[test]
fn a_failed_kind_load_is_exit_1_with_kinds_error_and_not_recorded_as_loaded() {
    let Some(base) = base_or_skip() else { return };
    let name = format!("load-{}", unique());
    let _cleanup = Cleanup::names(&[&name]);
    let kind_error =
        "ERROR: failed to load image: command \"docker save -o /tmp/images.tar\" failed: no space left on device";
    let test = Test::new()
        .file("ohdev.yaml", &config(&base, &[(&name, "app", "Dockerfile", "")]))
        .file("app/Dockerfile", "ARG BASE\nFROM ${BASE}\nRUN true\n")
        .env("FAKE_KUBE_FAIL", &format!("load docker-image=>1:{kind_error}"))
        .arg("up");
    let output = test.expect(1);
    assert!(output.stderr.contains(kind_error), "{}", output.stderr);
    assert!(output.stderr.contains("kind load docker-image"), "{}", output.stderr);
    // Built, but not loaded: the next `up` loads it instead of believing it is there.
    assert!(state_record(&test, &name)["loaded"].get("t").is_none(), "{}", state_record(&test, &name));
    assert!(test.calls_matching(" apply ").is_empty(), "nothing was applied after the failed load");
}

/// A Unix socket that forwards to the real Docker daemon, and cuts every connection that starts a
/// build once the build has begun: the daemon "goes away" mid-build, as when Docker Desktop restarts.
fn docker_proxy_cutting_builds(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::{Read, Write};
    use std::os::unix::net::{UnixListener, UnixStream};
    let socket = dir.join("docker-proxy.sock");
    let listener = UnixListener::bind(&socket).expect("proxy socket");
    let upstream_path = std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|host| host.strip_prefix("unix://").map(str::to_string))
        .unwrap_or_else(|| "/var/run/docker.sock".to_string());
    std::thread::spawn(move || {
        for client in listener.incoming().map_while(Result::ok) {
            let Ok(upstream) = UnixStream::connect(&upstream_path) else { continue };
            let (mut client_read, mut upstream_write) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
            let (mut upstream_read, mut client_write) = (upstream, client);
            let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let cut_writer = cut.clone();
            std::thread::spawn(move || {
                let mut buffer = [0u8; 65536];
                let mut seen = Vec::new();
                while let Ok(read) = client_read.read(&mut buffer) {
                    if read == 0 {
                        break;
                    }
                    if seen.len() < 4096 {
                        seen.extend_from_slice(&buffer[..read]);
                    }
                    if String::from_utf8_lossy(&seen).contains("/build?") && seen.len() > 1024 {
                        cut_writer.store(true, std::sync::atomic::Ordering::SeqCst);
                        let _ = client_read.shutdown(std::net::Shutdown::Both);
                        let _ = upstream_write.shutdown(std::net::Shutdown::Both);
                        break;
                    }
                    if upstream_write.write_all(&buffer[..read]).is_err() {
                        break;
                    }
                }
            });
            std::thread::spawn(move || {
                let mut buffer = [0u8; 65536];
                while let Ok(read) = upstream_read.read(&mut buffer) {
                    if read == 0
                        || cut.load(std::sync::atomic::Ordering::SeqCst)
                        || client_write.write_all(&buffer[..read]).is_err()
                    {
                        break;
                    }
                }
                let _ = client_write.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    socket
}

#[test]
fn the_docker_daemon_going_away_mid_build_is_exit_1_saying_so() {
    let Some(base) = base_or_skip() else { return };
    let name = format!("gone-{}", unique());
    let _cleanup = Cleanup::names(&[&name]);
    let scratch = tempfile::tempdir().unwrap();
    let socket = docker_proxy_cutting_builds(scratch.path());
    let test = Test::new()
        .file("ohdev.yaml", &config(&base, &[(&name, "app", "Dockerfile", "")]))
        .file("app/Dockerfile", "ARG BASE\nFROM ${BASE}\nCOPY . /app\n")
        .file("app/payload.txt", &"x".repeat(200_000))
        .env("DOCKER_HOST", &format!("unix://{}", socket.display()))
        .args(&["build"]);
    let output = test.expect(1);
    assert!(output.stderr.contains(&name), "{}", output.stderr);
    assert!(!output.stderr.contains("hyper"), "{}", output.stderr);
    assert!(output.stdout.contains("the Docker daemon stopped answering during the build"), "{}", output.stdout);
    assert!(!output.stdout.contains("hyper"), "{}", output.stdout);
    // The cause depends on where the cut lands (a reset or a closed connection).
    ohdev_snapshot!(
        output,
        [
            (name.as_str(), "[IMAGE]"),
            ("connection closed before message completed", "[CAUSE]"),
            ("Connection reset by peer (os error 104)", "[CAUSE]"),
            ("Broken pipe (os error 32)", "[CAUSE]"),
        ]
    );
}

/// One refused project: extra ohdev.yaml lines for the image, its Dockerfile and `.dockerignore`
/// (`<directory>`: a directory in its place), and what stderr must say.
struct Refusal {
    case: &'static str,
    yaml: &'static str,
    dockerfile: &'static str,
    ignore: Option<&'static str>,
    location: &'static str,
    message: &'static str,
    fix: &'static str,
}

/// Bad build files are exit 2 with the file, the line and the fix, and nothing changes: no stand-in
/// is called (the cluster is not touched), no state is written and Docker has no image for them.
#[test]
fn build_files_docker_would_refuse_are_exit_2_before_anything_changes() {
    let Some(base) = base_or_skip() else { return };
    const GOOD: &str = "ARG BASE\nFROM ${BASE} AS build\nRUN true\nFROM ${BASE} AS final\nCOPY . /app\n";
    let cases = [
        Refusal {
            case: "unknown_instruction",
            yaml: "",
            dockerfile: "ARG BASE\nFROMM ${BASE}\nCOPY . /app\n",
            ignore: None,
            location: "app/Dockerfile:2:",
            message: "unknown instruction `FROMM`",
            fix: "fix: did you mean `FROM`?",
        },
        Refusal {
            case: "target_not_a_stage",
            yaml: "target: fianl",
            dockerfile: GOOD,
            ignore: None,
            location: "ohdev.yaml:8:",
            message: "target is `fianl`, which is not a stage of",
            fix: "fix: did you mean `final`? its stages: build (line 2), final (line 4)",
        },
        Refusal {
            case: "platform_in_ohdev_yaml",
            yaml: "platform: linux/amd46",
            dockerfile: GOOD,
            ignore: None,
            location: "ohdev.yaml:8:",
            message: "platform` is `linux/amd46`, which is not a platform: `amd46` is not a known architecture",
            fix: "fix: did you mean `linux/amd64`?",
        },
        Refusal {
            case: "platform_in_from",
            yaml: "",
            dockerfile: "ARG BASE\n\nFROM --platform=linux/amd46 ${BASE}\n",
            ignore: None,
            location: "app/Dockerfile:3:",
            message: "invalid `--platform=linux/amd46` in `FROM`: `amd46` is not a known architecture",
            fix: "fix: did you mean `linux/amd64`?",
        },
        Refusal {
            case: "dockerignore_pattern",
            yaml: "",
            dockerfile: GOOD,
            ignore: Some("*.log\nsrc/[abc\n"),
            location: "app/.dockerignore:2:",
            message: "invalid pattern `src/[abc`: unclosed character class",
            fix: "fix: close the `[` with `]`",
        },
        Refusal {
            case: "dockerignore_unreadable",
            yaml: "",
            dockerfile: GOOD,
            ignore: Some("<directory>"),
            location: "app/.dockerignore:",
            message: "cannot read it: Is a directory",
            fix: "fix: make it a readable file",
        },
    ];
    for Refusal { case, yaml, dockerfile, ignore, location, message, fix } in cases {
        let name = format!("bad-{}", unique());
        let _cleanup = Cleanup::names(&[&name]);
        let mut test = Test::new()
            .file("ohdev.yaml", &config(&base, &[(&name, "app", "Dockerfile", yaml)]))
            .file("app/Dockerfile", dockerfile)
            .file("app/main.txt", "content\n");
        match ignore {
            Some("<directory>") => std::fs::create_dir_all(test.project().join("app/.dockerignore")).unwrap(),
            Some(text) => test.write("app/.dockerignore", text),
            None => {}
        }
        let mut first_stderr = None;
        for command in [&["up"][..], &["build"]] {
            test.set_args(command);
            let output = test.expect(2);
            let shown = format!("{case} {command:?}\n{}", output.stderr);
            assert!(output.stderr.contains(&format!("{location} ")), "{shown}");
            assert!(output.stderr.contains(message), "{shown}");
            assert!(output.stderr.contains(fix), "{shown}");
            assert!(output.stdout.is_empty(), "nothing was prepared or built: {}", output.stdout);
            assert!(test.calls().is_empty(), "{case}: stand-ins were called: {:?}", test.calls());
            assert!(!test.project().join(".ohdev/state.json").exists(), "{case}");
            assert!(ohdev_images(&name).is_empty(), "{case}: {:?}", ohdev_images(&name));
            let stderr = output.stderr.replace(&name, "[IMAGE]");
            match &first_stderr {
                None => {
                    ohdev_snapshot!(name = format!("refused_{case}"), output, [(&name, "[IMAGE]"), (&base, "[BASE]")]);
                    first_stderr = Some(stderr);
                }
                Some(first) => assert_eq!(&stderr, first, "{case}: `up` and `build` say the same"),
            }
        }
    }
}

/// The control for the test above: the same project with the typo fixed builds, so it was the
/// check that stopped it.
#[test]
fn the_fixed_dockerfile_builds() {
    let Some(base) = base_or_skip() else { return };
    let name = format!("fixed-{}", unique());
    let _cleanup = Cleanup::names(&[&name]);
    let mut test = Test::new()
        .file("ohdev.yaml", &config(&base, &[(&name, "app", "Dockerfile", "target: final")]))
        .file("app/Dockerfile", "ARG BASE\nFROMM ${BASE} AS final\nCOPY . /app\n")
        .file("app/.dockerignore", "*.log\n")
        .file("app/main.txt", "content\n")
        .arg("build");
    test.expect(2);
    assert!(ohdev_images(&name).is_empty());
    test.write("app/Dockerfile", "ARG BASE\nFROM ${BASE} AS final\nCOPY . /app\n");
    test.set_args(&["build"]);
    test.expect(0);
    assert_eq!(ohdev_images(&name).len(), 1, "{:?}", ohdev_images(&name));
}

/// An ignore file ohdev may not read is exit 2 naming it and `chmod`. Root reads any file, so
/// the case needs an unprivileged user.
#[test]
fn an_unreadable_dockerignore_is_exit_2_naming_chmod() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        eprintln!("SKIPPED: running as root, which can read a file with mode 000");
        return;
    }
    let test = Test::new()
        .file("ohdev.yaml", "cluster:\n  name: t\nimages:\n  app:\n    context: app\nmanifests: []\n")
        .file("app/Dockerfile", "FROM scratch\n")
        .file("app/.dockerignore", "*.log\n")
        .arg("up");
    let ignore = test.project().join("app/.dockerignore");
    std::fs::set_permissions(&ignore, std::fs::Permissions::from_mode(0o000)).unwrap();
    let output = test.expect(2);
    assert!(
        output.stderr.contains(&format!("{}: cannot read it: Permission denied", ignore.display())),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains(&format!("fix: make it readable for ohdev (`chmod a+r {}`)", ignore.display())),
        "{}",
        output.stderr
    );
    assert!(test.calls().is_empty(), "{:?}", test.calls());
}
