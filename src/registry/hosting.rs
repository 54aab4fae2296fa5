//! KEP-1755 ("local registry hosting"): the ConfigMap `kube-public/local-registry-hosting` through
//! which a cluster says where its local registry is. kind's `kind-with-registry.sh`, ctlptl and
//! ohdev write it; Tilt, Skaffold and ohdev read it. ohdev uses what it finds as is: push to
//! `host`, and let manifests name `hostFromContainerRuntime` (how the nodes reach the registry)
//! when it is set.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const NAMESPACE: &str = "kube-public";
pub const NAME: &str = "local-registry-hosting";
pub const DATA_KEY: &str = "localRegistryHosting.v1";

/// `localRegistryHosting.v1`, as the KEP defines it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalRegistryHosting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_from_cluster_network: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_from_container_runtime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl LocalRegistryHosting {
    /// What manifests name: the host as the nodes' container runtime reaches it.
    pub fn runtime_host(&self) -> Option<&str> {
        self.host_from_container_runtime.as_deref().or(self.host.as_deref())
    }
}

/// The advertisement in a ConfigMap as `kubectl get -o json` prints it; `Ok(None)` when the
/// ConfigMap has no `localRegistryHosting.v1` or it names no `host` (nothing to push to).
pub fn parse_config_map(config_map: &Value) -> Result<Option<LocalRegistryHosting>, String> {
    let Some(text) = config_map["data"][DATA_KEY].as_str() else { return Ok(None) };
    let hosting = parse(text)?;
    Ok(hosting.host.as_ref().is_some_and(|host| !host.trim().is_empty()).then_some(hosting))
}

/// The YAML of `localRegistryHosting.v1`.
pub fn parse(text: &str) -> Result<LocalRegistryHosting, String> {
    serde_yaml::from_str(text)
        .map_err(|error| format!("{DATA_KEY} in ConfigMap {NAMESPACE}/{NAME} is not readable: {error}"))
}

/// The help text ohdev advertises for its own registry.
pub fn help_text(host: &str, container: &str) -> String {
    format!(
        "ohdev runs this registry (container {container}, pushed to from this machine as {host}): `ohdev up` starts it, `docker rm -f {container}` removes it; see docs/ohdev-yaml.md#registry"
    )
}

/// The help text for a registry ohdev uses but did not start (it never removes that one).
pub fn foreign_help_text(host: &str, container: Option<&str>) -> String {
    let what = match container {
        Some(container) => format!("the container {container}"),
        None => "a registry outside Docker".to_string(),
    };
    format!(
        "{host} is served by {what}, which ohdev uses but did not start (ohdev never replaces or removes it); see docs/ohdev-yaml.md#registry"
    )
}

/// The ConfigMap ohdev applies for its own registry: the nodes reach it under the same name as this
/// machine (containerd's `certs.d/<host>/hosts.toml` maps it to the container), so `host` alone
/// says it all.
pub fn config_map(host: &str, help: &str) -> Value {
    let hosting =
        LocalRegistryHosting { host: Some(host.to_string()), help: Some(help.to_string()), ..Default::default() };
    let data = serde_yaml::to_string(&hosting).unwrap_or_default();
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": NAME,
            "namespace": NAMESPACE,
            "labels": {crate::names::MANAGED_BY_LABEL: crate::names::MANAGED_BY_VALUE},
        },
        "data": {DATA_KEY: data},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_kind_and_ctlptl_write() {
        // kind's site/static/examples/kind-with-registry.sh
        let kind = serde_json::json!({"data": {DATA_KEY: "host: \"localhost:5001\"\nhelp: \"https://kind.sigs.k8s.io/docs/user/local-registry/\"\n"}});
        let hosting = parse_config_map(&kind).unwrap().unwrap();
        assert_eq!(hosting.host.as_deref(), Some("localhost:5001"));
        assert_eq!(hosting.runtime_host(), Some("localhost:5001"));
        // ctlptl, with the names the cluster and its runtime use.
        let ctlptl = serde_json::json!({"data": {DATA_KEY: "host: localhost:5005\nhostFromClusterNetwork: ctlptl-registry:5000\nhostFromContainerRuntime: ctlptl-registry:5000\nhelp: https://github.com/tilt-dev/ctlptl\n"}});
        let hosting = parse_config_map(&ctlptl).unwrap().unwrap();
        assert_eq!(hosting.host.as_deref(), Some("localhost:5005"));
        assert_eq!(hosting.runtime_host(), Some("ctlptl-registry:5000"));
        assert_eq!(hosting.host_from_cluster_network.as_deref(), Some("ctlptl-registry:5000"));
        assert_eq!(hosting.help.as_deref(), Some("https://github.com/tilt-dev/ctlptl"));
    }

    #[test]
    fn no_advertisement_or_no_host_is_none_and_broken_yaml_is_an_error() {
        assert_eq!(parse_config_map(&serde_json::json!({"data": {}})).unwrap(), None);
        assert_eq!(parse_config_map(&serde_json::json!({"data": {DATA_KEY: "help: x\n"}})).unwrap(), None);
        let error = parse_config_map(&serde_json::json!({"data": {DATA_KEY: "host: [\n"}})).unwrap_err();
        assert!(
            error
                .starts_with("localRegistryHosting.v1 in ConfigMap kube-public/local-registry-hosting is not readable"),
            "{error}"
        );
    }

    #[test]
    fn the_config_map_ohdev_applies_reads_back_as_its_host() {
        let help = help_text("localhost:5001", "ohdev-registry");
        let object = config_map("localhost:5001", &help);
        assert_eq!(object["metadata"]["namespace"], "kube-public");
        assert_eq!(object["metadata"]["labels"]["app.kubernetes.io/managed-by"], "ohdev");
        assert_eq!(object["data"][DATA_KEY].as_str().unwrap(), format!("host: localhost:5001\nhelp: '{help}'\n"));
        let hosting = parse_config_map(&object).unwrap().unwrap();
        assert_eq!(hosting.host.as_deref(), Some("localhost:5001"));
        assert_eq!(hosting.help.as_deref(), Some(help.as_str()));
        assert_eq!(hosting.runtime_host(), Some("localhost:5001"));
    }
}
