//! A remote target (`--target`, `config/target.rs`) on a Session: the cluster must answer before
//! anything happens, and before the first change ohdev says which cluster and namespace change.

use super::Session;
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_server_comes_from_the_minified_kubeconfig() {
        let text = r#"{"kind":"Config","clusters":[{"name":"c","cluster":{"server":"https://10.0.0.1:6443"}}]}"#;
        assert_eq!(super::parse_server(text).as_deref(), Some("https://10.0.0.1:6443"));
        assert_eq!(super::parse_server("{}"), None);
    }
}
