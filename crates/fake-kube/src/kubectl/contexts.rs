//! Which simulated cluster a `--context` names: `kind-<name>` is the kind cluster `<name>` (made by
//! `kind create cluster`); any other context exists only when the test declares it in
//! `FAKE_KUBE_CONTEXTS=name=https://server,other` — a pre-existing cluster (a shared or cloud one),
//! created on first use with what a fresh cluster holds and one Ready node, and never listed by
//! `kind get clusters`. Also `kubectl config view --minify -o json`, which names the server.

use super::{with_cluster, Reply};
use crate::app::Ctx;
use crate::flags::Parsed;
use crate::state::{Cluster, Node, State};

/// The declared contexts: `(name, server)`.
fn declared(spec: &str) -> Vec<(String, Option<String>)> {
    spec.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| match entry.split_once('=') {
            Some((name, server)) => (name.to_string(), Some(server.to_string())),
            None => (entry.to_string(), None),
        })
        .collect()
}

/// The server URL of a declared context (a default under `.invalid` when the test named none).
pub fn server(spec: Option<&str>, context: &str) -> Option<String> {
    declared(spec.unwrap_or("")).into_iter().find(|(name, _)| name == context).map(|(name, server)| {
        server.unwrap_or_else(|| format!("https://{}.example.invalid:6443", name.replace(['_', ':', '/'], "-")))
    })
}

/// The cluster behind `context`, creating a declared non-kind context's cluster on first use.
pub fn cluster_mut<'a>(state: &'a mut State, context: &str, spec: Option<&str>) -> Option<&'a mut Cluster> {
    if let Some(name) = context.strip_prefix("kind-") {
        return state.clusters.get_mut(name);
    }
    if !state.contexts.contains_key(context) {
        server(spec, context)?;
        state.contexts.insert(context.to_string(), fresh(context));
    }
    state.contexts.get_mut(context)
}

/// The cluster behind `context`, if it exists already (read-only callers).
pub fn cluster<'a>(state: &'a State, context: &str) -> Option<&'a Cluster> {
    match context.strip_prefix("kind-") {
        Some(name) => state.clusters.get(name),
        None => state.contexts.get(context),
    }
}

fn fresh(context: &str) -> Cluster {
    let node = format!("{}-node-1", context.replace(['_', ':', '/', '.'], "-").trim_matches('-'));
    let mut labels = std::collections::BTreeMap::new();
    for (key, value) in [("kubernetes.io/os", "linux"), ("kubernetes.io/arch", "amd64")] {
        labels.insert(key.to_string(), value.to_string());
    }
    labels.insert("kubernetes.io/hostname".into(), node.clone());
    let mut cluster = Cluster {
        name: context.to_string(),
        created: crate::util::time::now(),
        nodes: vec![Node { name: node, role: "worker".into(), labels, images: Default::default() }],
        ..Default::default()
    };
    super::bootstrap::seed(&mut cluster);
    cluster
}

/// `kubectl --context X config view --minify -o json`: the context, its cluster and server.
pub fn config_view(ctx: &mut Ctx, p: &Parsed, context: &str) -> i32 {
    if p.positional.first().map(String::as_str) != Some("view") {
        return ctx.fail(1, "error: fake-kube: only `kubectl config view` is simulated");
    }
    if !p.on("minify") || p.get("output") != Some("json") {
        return ctx.fail(1, "error: fake-kube: `config view` is simulated with --minify -o json only");
    }
    let spec = ctx.env.contexts.clone();
    let kind_port = context.strip_prefix("kind-").map(|name| 30000 + crate::util::hash::fnv64(name.as_bytes()) % 20000);
    let server = match kind_port {
        Some(port) => format!("https://127.0.0.1:{port}"),
        None => match server(spec.as_deref(), context) {
            Some(server) => server,
            None => return ctx.fail(1, &format!("error: context \"{context}\" does not exist")),
        },
    };
    let config = serde_json::json!({
        "kind": "Config", "apiVersion": "v1", "preferences": {},
        "clusters": [{"name": context, "cluster": {"server": server, "certificate-authority-data": "DATA+OMITTED"}}],
        "users": [{"name": context, "user": {"token": "REDACTED"}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
    });
    let text = crate::util::json::pretty(&config);
    with_cluster(ctx, context, |_| Reply { out: text, ..Default::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_contexts_name_their_server() {
        let spec = Some("gke_team_dev=https://10.0.0.1:443, other");
        assert_eq!(server(spec, "gke_team_dev").as_deref(), Some("https://10.0.0.1:443"));
        assert_eq!(server(spec, "other").as_deref(), Some("https://other.example.invalid:6443"));
        assert_eq!(server(spec, "nope"), None);
        let mut state = State::default();
        assert!(cluster_mut(&mut state, "kind-x", spec).is_none());
        assert!(cluster_mut(&mut state, "nope", spec).is_none());
        let made = cluster_mut(&mut state, "gke_team_dev", spec).unwrap();
        assert_eq!(made.nodes.len(), 1);
        assert!(state.clusters.is_empty(), "kind never sees a declared context");
        assert!(cluster(&state, "gke_team_dev").is_some());
    }
}
