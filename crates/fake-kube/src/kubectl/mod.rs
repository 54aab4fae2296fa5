//! The `kubectl` personality, answering for the cluster behind `--context kind-<name>`.
//! Non-kind contexts come from `FAKE_KUBE_CONTEXTS` (see `contexts`).
//! Commands: config view, version, get, apply, delete, logs, exec, port-forward, api-resources, cluster-info, and
//! kustomize (handed to the real kubectl: see `kustomize`).
//! Every command except `version --client` requires an explicit `--context`.

mod admission;
mod apply;
pub mod bootstrap;
mod builtins;
mod contexts;
mod delete;
mod discovery;
mod docs;
mod errors;
mod events;
mod exec;
mod get;
mod images;
mod kustomize;
mod logs;
mod nodes;
mod output;
mod pod_problems;
mod pod_status;
mod pods;
mod port_forward;
mod registry;
mod resources;
mod selector;
mod specs;
mod status;
mod store;
mod ustar;

use crate::app::{Ctx, StdinMode};
use crate::flags::{self, Parsed};
use crate::state::Cluster;

/// What a command computed while holding the state lock, printed after the state is saved.
#[derive(Debug, Default)]
pub struct Reply {
    pub out: String,
    pub err: String,
    pub code: i32,
}

impl Reply {
    pub fn fail(err: impl Into<String>) -> Reply {
        let mut e: String = err.into();
        if !e.ends_with('\n') {
            e.push('\n');
        }
        Reply { out: String::new(), err: e, code: 1 }
    }
}

fn parse(args: &[String]) -> Result<(String, Parsed), String> {
    let (words, rest) = flags::split_command(args, specs::GLOBALS, 1)
        .map_err(|e| format!("error: {}\nSee 'kubectl --help' for usage.", e.message()))?;
    let Some(cmd) = words.first().cloned() else {
        return Err("error: fake-kube: kubectl needs a command (version, get, apply, delete, logs, exec, port-forward, api-resources, cluster-info)".into());
    };
    let spec = specs::for_command(&cmd).ok_or_else(|| format!("error: unknown command \"{cmd}\" for \"kubectl\""))?;
    let p = flags::parse(&rest, &spec)
        .map_err(|e| format!("error: {}\nSee 'kubectl {cmd} --help' for usage.", e.message()))?;
    Ok((cmd, p))
}

pub fn stdin_mode(args: &[String]) -> StdinMode {
    match parse(args) {
        Ok((cmd, p))
            if (cmd == "apply" || cmd == "delete")
                && p.all("filename").iter().any(|f| f.split(',').any(|x| x == "-")) =>
        {
            StdinMode::Text
        }
        Ok((cmd, p)) if cmd == "exec" && p.on("stdin") => StdinMode::Binary,
        _ => StdinMode::None,
    }
}

/// The namespace flag, or `default`.
pub fn namespace(p: &Parsed) -> String {
    p.get("namespace").filter(|n| !n.is_empty()).unwrap_or("default").to_string()
}

/// Runs `f` on the named cluster under the state lock (counting the call), then prints its reply.
pub fn with_cluster(ctx: &mut Ctx, context: &str, f: impl FnOnce(&mut Cluster) -> Reply) -> i32 {
    let now_ms = ctx.env.clock.now_ms();
    let rollout_ms = ctx.env.rollout_ms.clone().unwrap_or(crate::pace::DEFAULT_ROLLOUT_MS);
    let declared = ctx.env.contexts.clone();
    let result = ctx.store.transact(|s| match contexts::cluster_mut(s, context, declared.as_deref()) {
        None => Reply::fail(format!("error: context \"{context}\" does not exist")),
        Some(c) => {
            c.kubectl_calls += 1;
            (c.now_ms, c.rollout_ms) = (now_ms, rollout_ms);
            f(c)
        }
    });
    match result {
        Ok(r) => {
            ctx.say(&r.out);
            ctx.warn(&r.err);
            r.code
        }
        Err(e) => ctx.fail(3, &format!("fake-kube: state: {e}")),
    }
}

pub fn run(args: &[String], ctx: &mut Ctx) -> i32 {
    if kustomize::is_kustomize(args) {
        return kustomize::run(args, ctx);
    }
    let (cmd, p) = match parse(args) {
        Ok(x) => x,
        Err(e) => return ctx.fail(1, &e),
    };
    if p.on("help") {
        ctx.say(&format!(
            "fake-kube: `kubectl {cmd} --help` is not simulated; the real kubectl checks argument vectors.\n"
        ));
        return 0;
    }
    if cmd == "version" && p.on("client") {
        return version(ctx, &p);
    }
    let context = p.get("context").unwrap_or("").to_string();
    if context.is_empty() {
        return ctx.fail(1, "error: ohdev stand-in: --context is required");
    }
    match cmd.as_str() {
        "config" => contexts::config_view(ctx, &p, &context),
        "version" => version(ctx, &p),
        "get" => get::run(ctx, &p, &context),
        "apply" => apply::run(ctx, &p, &context),
        "delete" => delete::run(ctx, &p, &context),
        "logs" => logs::run(ctx, &p, &context),
        "exec" => exec::run(ctx, &p, &context),
        "port-forward" => port_forward::run(ctx, &p, &context),
        "api-resources" => discovery::run(ctx, &p, &context),
        "cluster-info" => with_cluster(ctx, &context, |c| {
            let port = 30000 + crate::util::hash::fnv64(c.name.as_bytes()) % 20000;
            Reply {
                out: format!("Kubernetes control plane is running at https://127.0.0.1:{port}\nCoreDNS is running at https://127.0.0.1:{port}/api/v1/namespaces/kube-system/services/kube-dns:dns/proxy\n\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n"),
                ..Default::default()
            }
        }),
        _ => unreachable!("specs::for_command covers every command"),
    }
}

fn version(ctx: &mut Ctx, p: &Parsed) -> i32 {
    let client = serde_json::json!({"major": "1", "minor": "32", "gitVersion": "v1.32.4", "gitCommit": "59526cd4867447956156ae3a602fcbac5fa98ade", "gitTreeState": "clean", "buildDate": "2025-04-22T16:03:52Z", "goVersion": "go1.23.6", "compiler": "gc", "platform": "linux/amd64"});
    let mut v = serde_json::json!({"clientVersion": client, "kustomizeVersion": "v5.5.0"});
    let with_server = !p.on("client");
    if with_server {
        let server = serde_json::json!({"major": "1", "minor": "32", "gitVersion": "v1.32.2", "gitCommit": "67a30c0adcf52bd3f56ff0893ce19966be12991f", "gitTreeState": "clean", "buildDate": "2025-02-12T21:19:47Z", "goVersion": "go1.23.6", "compiler": "gc", "platform": "linux/amd64"});
        v["serverVersion"] = server;
    }
    let text = match p.get("output") {
        Some("json") => crate::util::json::pretty(&v),
        Some("yaml") => serde_yaml::to_string(&crate::util::json::sorted(&v)).unwrap_or_default(),
        Some(other) => return ctx.fail(1, &format!("error: --output must be 'yaml' or 'json', got {other}")),
        None if with_server => {
            "Client Version: v1.32.4\nKustomize Version: v5.5.0\nServer Version: v1.32.2\n".to_string()
        }
        None => "Client Version: v1.32.4\nKustomize Version: v5.5.0\n".to_string(),
    };
    if !with_server {
        ctx.say(&text);
        return 0;
    }
    let context = p.get("context").unwrap_or("").to_string();
    with_cluster(ctx, &context, |_| Reply { out: text, ..Default::default() })
}

#[cfg(test)]
mod tests;
