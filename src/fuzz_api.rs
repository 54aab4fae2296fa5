//! Entry points for the cargo-fuzz targets in `fuzz/`, built only with `--cfg fuzzing` (which
//! `cargo fuzz` sets), so the parsers stay `pub(crate)` everywhere else.
//!
//! Each function hands arbitrary input to the real parsing code and formats whatever error comes
//! back: an `Err` is a fine answer to bad input; a panic, an abort, a hang or a huge allocation is
//! a bug.

use std::path::Path;

use crate::config;
use crate::deploy::plan::{graph, manifest, secrets};
use crate::image::dockerignore::IgnoreRules;

/// The environment every target sees: a few set variables, one empty, everything else unset.
fn fake_env(name: &str) -> Option<String> {
    match name {
        "HOME" => Some("/home/fuzz".to_string()),
        "OPENHANDS_ROOT" => Some("/src/openhands".to_string()),
        "TAG" => Some("dev".to_string()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

/// Formats an error so its `Display` code runs too.
fn show(error: impl std::fmt::Display) {
    let _ = error.to_string();
}

/// `ohdev.yaml`: YAML, then interpolation, defaults, validation and path resolution.
pub fn ohdev_yaml(text: &str) {
    match config::parse_text(Path::new("/fuzz/project/ohdev.yaml"), text, &fake_env) {
        Ok(config) => {
            let _ = config.cluster.context();
        }
        Err(error) => show(error),
    }
}

/// kind's `cluster.yaml`: shape, roles, port mappings.
pub fn kind_cluster(text: &str) {
    match config::kind_cluster::parse(Path::new("/fuzz/project/kind/cluster.yaml"), text.to_string()) {
        Ok(cluster) => {
            let _ = cluster.port_mappings().count();
            let _ = cluster.digest();
        }
        Err(error) => show(error),
    }
}

/// One manifest file: documents, objects, namespaces and duplicates, then the dependency graph.
pub fn manifests(text: &str) {
    let objects = match manifest::parse_documents(Path::new("/fuzz/project/kind/manifests/app.yaml"), text) {
        Ok(objects) => objects,
        Err(error) => return show(error),
    };
    let objects = match manifest::normalize(objects, "default") {
        Ok(objects) => objects,
        Err(error) => return show(error),
    };
    match graph::plan(&objects) {
        Ok(plan) => {
            let _ = plan.entries();
        }
        Err(error) => show(error),
    }
}

/// `.dockerignore`: the rules, then the questions the context walk asks of them. The input is the
/// ignore file, optionally followed by a NUL byte and paths to ask about, one a line; each rule's
/// own text (and the paths below it) is asked about too.
pub fn dockerignore(text: &str) {
    let (rules_text, extra_paths) = text.split_once('\0').unwrap_or((text, ""));
    let rules = match IgnoreRules::parse(rules_text) {
        Ok(rules) => rules,
        Err(error) => return show(error),
    };
    let mut paths: Vec<String> =
        ["Dockerfile", ".dockerignore", "a/b/c", "node_modules/x/y.js", ".", "..", "/", ""].map(String::from).to_vec();
    paths.extend(extra_paths.lines().take(16).map(String::from));
    for line in rules_text.lines().take(16) {
        let line = line.trim().trim_start_matches('!');
        paths.push(line.to_string());
        paths.push(format!("{line}/inner/file"));
    }
    for path in &paths {
        let _ = rules.is_excluded(path);
        let _ = rules.matches_single_ancestor(path);
        let _ = rules.may_reinclude_under(path);
        // As the walk asks: the parent directory first, its answer handed to the child.
        let parent_info = path.rsplit_once('/').map(|(parent, _)| rules.matches_with_parent(parent, None).1);
        let _ = rules.matches_with_parent(path, parent_info.as_ref());
    }
}

/// A `.env` file as read for `secrets:`.
pub fn env_file(text: &str) {
    if let Err(error) = secrets::parse_env_file(Path::new("/fuzz/project/.env"), text) {
        show(error);
    }
}

/// `${VAR}` / `${VAR:-default}` / `$$` interpolation against the fixed environment.
pub fn interpolate(text: &str) {
    if let Err(error) = config::interpolate::interpolate(text, &fake_env) {
        let _ = format!("{error:?}");
    }
}
