//! The `kind` personality: `version`, `get clusters|nodes|kubeconfig`, `create cluster`,
//! `delete cluster`, `load docker-image`. Errors are printed as kind prints them (`ERROR: …`, exit 1).

mod config;
mod containers;
mod create;
mod kubeconfig;
mod load;

use crate::app::{Ctx, StdinMode};
use crate::flags::{self, switch, value, FlagSpec};

const GLOBALS: &[FlagSpec] = &[value("verbosity", Some('v')), switch("quiet", Some('q'))];

fn spec(words: &[&str]) -> Option<Vec<FlagSpec>> {
    let own: &[FlagSpec] = match words {
        ["version"] => &[],
        ["get", "clusters"] => &[],
        ["get", "nodes"] => &[value("name", Some('n')), switch("all-clusters", Some('A'))],
        ["get", "kubeconfig"] => &[value("name", Some('n')), switch("internal", None)],
        ["create", "cluster"] => &[
            value("name", Some('n')),
            value("config", None),
            value("image", None),
            switch("retain", None),
            value("wait", None),
            value("kubeconfig", None),
        ],
        ["delete", "cluster"] => &[value("name", Some('n')), value("kubeconfig", None)],
        ["load", "docker-image"] => &[value("name", Some('n')), value("nodes", None)],
        _ => return None,
    };
    Some(GLOBALS.iter().chain(own).copied().collect())
}

fn words_of(args: &[String]) -> Result<(Vec<String>, Vec<String>), flags::FlagError> {
    let (mut words, mut rest) = flags::split_command(args, GLOBALS, 2)?;
    if words.first().map(String::as_str) == Some("version") && words.len() == 2 {
        rest.insert(0, words.pop().expect("two words"));
    }
    Ok((words, rest))
}

pub fn stdin_mode(args: &[String]) -> StdinMode {
    let Ok((words, rest)) = words_of(args) else {
        return StdinMode::None;
    };
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    if w == ["create", "cluster"] {
        if let Some(Ok(p)) = spec(&w).map(|s| flags::parse(&rest, &s)) {
            if p.get("config") == Some("-") {
                return StdinMode::Text;
            }
        }
    }
    StdinMode::None
}

pub fn run(args: &[String], ctx: &mut Ctx) -> i32 {
    let (words, rest) = match words_of(args) {
        Ok(x) => x,
        Err(e) => return ctx.fail(1, &format!("ERROR: {}", e.message())),
    };
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let Some(specs) = spec(&w) else {
        return match w.as_slice() {
            [] => ctx.fail(1, "ERROR: a subcommand is required (fake-kube: create, delete, get, load, version)"),
            [one] => ctx.fail(1, &format!("ERROR: unknown command \"{one}\" for \"kind\"")),
            [a, b, ..] => ctx.fail(1, &format!("ERROR: unknown command \"{b}\" for \"kind {a}\"")),
        };
    };
    let p = match flags::parse(&rest, &specs) {
        Ok(p) => p,
        Err(e) => return ctx.fail(1, &format!("ERROR: {}", e.message())),
    };
    let takes_args = w == ["load", "docker-image"];
    if !takes_args {
        if let Some(extra) = p.positional.first() {
            return ctx.fail(1, &format!("ERROR: unknown command \"{extra}\" for \"kind {}\"", w.join(" ")));
        }
    }
    let name = || {
        p.get("name").map(String::from).or_else(|| ctx.env.kind_cluster_name.clone()).unwrap_or_else(|| "kind".into())
    };
    match w.as_slice() {
        ["version"] => {
            let version = ctx.env.kind_version.as_deref().unwrap_or("v0.27.0");
            ctx.say(&format!("kind {version} go1.23.4 linux/amd64\n"));
            0
        }
        ["create", "cluster"] => create::run(ctx, &p),
        ["load", "docker-image"] => load::run(ctx, &p, &p.positional),
        ["get", "clusters"] => get_clusters(ctx),
        ["get", "nodes"] => {
            let name = name();
            get_nodes(ctx, &name, p.on("all-clusters"))
        }
        ["get", "kubeconfig"] => {
            let name = name();
            get_kubeconfig(ctx, &name)
        }
        ["delete", "cluster"] => {
            let name = name();
            delete_cluster(ctx, &name, p.get("kubeconfig"))
        }
        _ => unreachable!("spec() covers every command"),
    }
}

fn get_clusters(ctx: &mut Ctx) -> i32 {
    match ctx.store.load() {
        Ok(s) if s.clusters.is_empty() => ctx.fail(0, "No kind clusters found."),
        Ok(s) => {
            let names: String = s.clusters.keys().map(|n| format!("{n}\n")).collect();
            ctx.say(&names);
            0
        }
        Err(e) => ctx.fail(3, &format!("fake-kube: state: {e}")),
    }
}

fn get_nodes(ctx: &mut Ctx, name: &str, all: bool) -> i32 {
    let state = match ctx.store.load() {
        Ok(s) => s,
        Err(e) => return ctx.fail(3, &format!("fake-kube: state: {e}")),
    };
    let nodes: Vec<String> = state
        .clusters
        .values()
        .filter(|c| all || c.name == name)
        .flat_map(|c| c.nodes.iter().map(|n| n.name.clone()))
        .collect();
    if nodes.is_empty() {
        return if all {
            ctx.fail(0, "No kind nodes for any cluster.")
        } else {
            ctx.fail(0, &format!("No kind nodes found for cluster \"{name}\"."))
        };
    }
    ctx.say(&nodes.iter().map(|n| format!("{n}\n")).collect::<String>());
    0
}

fn get_kubeconfig(ctx: &mut Ctx, name: &str) -> i32 {
    match ctx.store.load() {
        Ok(s) if s.clusters.contains_key(name) => {
            ctx.say(&kubeconfig::render(name));
            0
        }
        Ok(_) => ctx.fail(1, &format!("ERROR: could not locate any control plane nodes for cluster named '{name}'. Use the --name option to select a different cluster")),
        Err(e) => ctx.fail(3, &format!("fake-kube: state: {e}")),
    }
}

fn delete_cluster(ctx: &mut Ctx, name: &str, kubeconfig_path: Option<&str>) -> i32 {
    ctx.warn(&format!("Deleting cluster \"{name}\" ...\n"));
    let removed = match ctx.store.transact(|s| s.clusters.remove(name)) {
        Ok(r) => r,
        Err(e) => return ctx.fail(3, &format!("fake-kube: state: {e}")),
    };
    if let Some(c) = removed {
        if c.node_containers {
            let containers: Vec<String> = c.nodes.iter().map(|n| n.name.clone()).collect();
            containers::remove(&ctx.env.docker_bin, &containers);
        }
        let names: Vec<String> = c.nodes.iter().map(|n| format!("{:?}", n.name)).collect();
        ctx.warn(&format!("Deleted nodes: [{}]\n", names.join(" ")));
    }
    if let Some(path) = kubeconfig_path.filter(|p| !p.is_empty()) {
        if std::path::Path::new(path).exists() {
            if let Err(e) = kubeconfig::write(std::path::Path::new(path), name, false) {
                return ctx.fail(1, &format!("ERROR: failed to delete cluster \"{name}\": {e}"));
            }
        }
    }
    0
}

#[cfg(test)]
mod tests;
