//! kubectl, always with `--context kind-<name>`: ohdev never depends on the user's current context.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use super::exec::Invocation;
use super::Tool;
use crate::error::Error;
use crate::events::NodeStatus;

#[derive(Debug, Clone)]
pub struct Kubectl {
    program: PathBuf,
    context: String,
}

impl Kubectl {
    pub fn locate(context: &str) -> Result<Kubectl, Error> {
        Ok(Kubectl { program: Tool::Kubectl.locate()?, context: context.to_string() })
    }

    pub fn context(&self) -> &str {
        &self.context
    }

    /// A kubectl invocation for this cluster: `kubectl --context kind-<name> <args…>`.
    pub fn invocation<I, S>(&self, args: I) -> Invocation
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Invocation::new(&self.program, "kubectl")
            .arg("--context")
            .arg(self.context.clone())
            .args(args)
            .timeout(Duration::from_secs(60))
    }

    pub async fn client_version(&self) -> Result<String, Error> {
        let output = Invocation::new(&self.program, "kubectl")
            .args(["version", "--client", "-o", "json"])
            .timeout(Duration::from_secs(20))
            .run()
            .await?;
        Ok(parse_client_version(&output.stdout).unwrap_or_else(|| "unknown".to_string()))
    }

    pub async fn get_json<I, S>(&self, args: I) -> Result<Value, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let invocation = self.invocation(["get"]).args(args).args(["-o", "json"]);
        let argv = invocation.argv().to_vec();
        let output = invocation.run().await?;
        serde_json::from_str(&output.stdout).map_err(|error| Error::CommandFailed {
            argv,
            code: Some(0),
            stderr: format!("printed output that is not JSON: {error}"),
        })
    }

    pub async fn nodes(&self) -> Result<Vec<NodeStatus>, Error> {
        Ok(parse_nodes(&self.get_json(["nodes"]).await?))
    }
}

pub fn parse_client_version(text: &str) -> Option<String> {
    let value: Value = serde_json::from_str(text).ok()?;
    value["clientVersion"]["gitVersion"].as_str().map(str::to_string)
}

pub fn parse_nodes(list: &Value) -> Vec<NodeStatus> {
    let items = list["items"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .map(|node| {
            let labels = node["metadata"]["labels"].as_object();
            let role = labels
                .and_then(|labels| {
                    labels.keys().find_map(|key| key.strip_prefix("node-role.kubernetes.io/").map(str::to_string))
                })
                .unwrap_or_else(|| "worker".to_string());
            let ready = node["status"]["conditions"]
                .as_array()
                .map(|conditions| {
                    conditions.iter().any(|condition| condition["type"] == "Ready" && condition["status"] == "True")
                })
                .unwrap_or(false);
            NodeStatus {
                name: node["metadata"]["name"].as_str().unwrap_or("?").to_string(),
                role,
                ready,
                version: node["status"]["nodeInfo"]["kubeletVersion"].as_str().map(str::to_string),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_from_json() {
        let list = serde_json::json!({"items": [
            {"metadata": {"name": "x-control-plane", "labels": {"node-role.kubernetes.io/control-plane": ""}},
             "status": {"conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"kubeletVersion": "v1.32.2"}}},
            {"metadata": {"name": "x-worker", "labels": {}},
             "status": {"conditions": [{"type": "Ready", "status": "False"}]}}
        ]});
        let nodes = parse_nodes(&list);
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[0].role, "control-plane");
        assert!(nodes[0].ready);
        assert_eq!(nodes[0].version.as_deref(), Some("v1.32.2"));
        assert_eq!(nodes[1].role, "worker");
        assert!(!nodes[1].ready);
    }

    #[test]
    fn client_version() {
        let text = r#"{"clientVersion":{"major":"1","minor":"32","gitVersion":"v1.32.4"}}"#;
        assert_eq!(parse_client_version(text).as_deref(), Some("v1.32.4"));
    }
}
