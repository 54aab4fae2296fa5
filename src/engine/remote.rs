//! A remote target (`--target`, `config/target.rs`) on a Session: the cluster must answer before
//! anything happens, and before the first change ohdev says which cluster and namespace change.

use std::collections::BTreeSet;

use super::Session;
use crate::deploy::ledger::Ledger;
use crate::deploy::plan::manifest::Object;
use crate::deploy::render::Rendered;
use crate::error::Error;
use crate::events::Event;

/// `kubectl --context X version -o json`: the API server answers (kubectl exits non-zero when it
/// cannot reach it, or when the context does not exist).
pub async fn require_reachable(session: &Session) -> Result<(), Error> {
    let Some(target) = session.remote() else { return Ok(()) };
    let kubectl = session.kubectl();
    match kubectl.invocation(["version", "-o", "json"]).timeout(std::time::Duration::from_secs(30)).run().await {
        Ok(_) => Ok(()),
        Err(Error::CommandFailed { stderr, .. }) => Err(Error::Input {
            message: format!(
                "target `{}`: kubectl cannot reach the cluster of context \"{}\": {}",
                target.name,
                target.context,
                stderr.trim()
            ),
            fix: format!(
                "check the context (`kubectl config get-contexts {}`) and your access (`kubectl --context {} cluster-info`), then run the same command again",
                target.context, target.context
            ),
        }),
        Err(error) => Err(error),
    }
}

/// The API server URL of the target's context, from `kubectl config view --minify -o json`.
async fn server(session: &Session) -> Result<String, Error> {
    let output = session.kubectl().invocation(["config", "view", "--minify", "-o", "json"]).run().await?;
    Ok(parse_server(&output.stdout).unwrap_or_else(|| "(server not named in the kubeconfig)".to_string()))
}

pub fn parse_server(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    value["clusters"][0]["cluster"]["server"].as_str().map(str::to_string)
}

/// Before the first change to a remote target: the context, the cluster's server, the namespace.
pub async fn announce(session: &Session) -> Result<(), Error> {
    let Some(target) = session.remote() else { return Ok(()) };
    let server = server(session).await?;
    session.reporter.emit(Event::RemoteTarget {
        target: target.name.clone(),
        context: target.context.clone(),
        server,
        namespace: session.config.namespace.clone(),
    });
    Ok(())
}

/// What of the rendered set ohdev may apply to a remote target (unchanged on kind):
/// - a Namespace that already exists there and that ohdev's record for this target does not hold
///   is someone else's (made by an admin for the developer): used as it is, never applied (which
///   would label it ohdev's) and never recorded (so `down --target` never deletes it);
/// - cluster-scoped objects (ClusterRoles, webhooks, CRDs…) only when the target names its own
///   `manifests:`: the top-level set was written for a private kind cluster (the ingress-nginx
///   bundle, for one) and must not land on a shared cluster by default.
pub async fn restrict(session: &Session, rendered: Rendered) -> Result<Rendered, Error> {
    let Some(target) = session.remote() else { return Ok(rendered) };
    let list = session.kubectl().get_json(["namespaces"]).await?;
    let existing: BTreeSet<String> = list["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|item| item["metadata"]["name"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let recorded: BTreeSet<String> = Ledger::recorded(session.lock(), &session.config.state_key())
        .objects
        .iter()
        .filter(|object| object.kind == "Namespace")
        .map(|object| object.name.clone())
        .collect();
    let foreign = |object: &Object| {
        object.kind() == "Namespace" && existing.contains(object.name()) && !recorded.contains(object.name())
    };
    let cluster_scoped =
        |object: &Object| target.manifests.is_none() && object.kind() != "Namespace" && object.namespace().is_none();
    let foreign_names: Vec<String> =
        rendered.objects.iter().filter(|object| foreign(object)).map(|object| object.name().to_string()).collect();
    let skipped: Vec<String> = rendered
        .objects
        .iter()
        .filter(|object| cluster_scoped(object))
        .map(|object| object.key().to_string())
        .collect();
    if !foreign_names.is_empty() {
        session.reporter.emit(Event::info(format!(
            "namespace {} already exists on target `{}` and ohdev did not create it: used as it is, and never deleted by ohdev",
            foreign_names.join(", "),
            target.name
        )));
    }
    if !skipped.is_empty() {
        session.reporter.emit(Event::warn(
            format!(
                "not applied to target `{}`: {} cluster-scoped object(s) from the top-level manifests ({})",
                target.name,
                skipped.len(),
                skipped.join(", ")
            ),
            Some(format!(
                "cluster-scoped objects reach a remote target only from its own list: add `manifests:` under `targets.{}` naming the ones it needs",
                target.name
            )),
        ));
    }
    rendered.without(|object| foreign(object) || cluster_scoped(object))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_server_comes_from_the_minified_kubeconfig() {
        let text = r#"{"kind":"Config","clusters":[{"name":"c","cluster":{"server":"https://10.0.0.1:6443"}}]}"#;
        assert_eq!(super::parse_server(text).as_deref(), Some("https://10.0.0.1:6443"));
        assert_eq!(super::parse_server("{}"), None);
    }
}
