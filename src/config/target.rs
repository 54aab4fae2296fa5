//! `targets:`: the same environment on another kubeconfig context (a shared or cloud cluster),
//! through a registry, without kind. Selected with `--target NAME` / `OHDEV_TARGET`.
//!
//! Safety first: a context is taken for a local development cluster only when its name says so
//! (the names Tilt's `clusterid` recognises); any other needs `allow: true` in ohdev.yaml, because
//! a flag is too easy to paste into a shell pointed at production.

use std::collections::BTreeMap;

use super::raw::RawTarget;
use super::resolve::Resolver;
use super::{Config, ManifestSource};
use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetConfig {
    /// The key under `targets:`.
    pub name: String,
    /// The kubeconfig context every kubectl call names.
    pub context: String,
    /// Where images are pushed: `host[:port][/path…]`; manifests name images under it.
    pub registry: String,
    /// The default namespace on this target (replaces the top-level `namespace`).
    pub namespace: String,
    /// Replaces the top-level `manifests` when given.
    pub manifests: Option<Vec<ManifestSource>>,
    /// `allow: true`: ohdev may change this context although its name is not a local dev cluster's.
    pub allow: bool,
    /// The line of the entry in ohdev.yaml (for messages).
    pub line: Option<usize>,
}

/// Context names of local development clusters (after Tilt's `clusterid`): exact names, then
/// prefixes.
const LOCAL_NAMES: &[&str] =
    &["docker-desktop", "docker-for-desktop", "minikube", "microk8s", "rancher-desktop", "colima", "orbstack"];
const LOCAL_PREFIXES: &[&str] = &["kind-", "k3d-", "colima-"];

/// Whether `context` names a local development cluster (kind, k3d, minikube, Docker Desktop…).
pub fn is_local_dev_context(context: &str) -> bool {
    LOCAL_NAMES.contains(&context) || LOCAL_PREFIXES.iter().any(|prefix| context.starts_with(prefix))
}

/// `host[:port]` and the repository path under it (`europe-docker.pkg.dev/team/dev` →
/// (`europe-docker.pkg.dev`, `team/dev`)).
pub fn split(registry: &str) -> (&str, &str) {
    registry.split_once('/').unwrap_or((registry, ""))
}

/// Whether `registry` (as written in `targets.*.registry`) can be pushed to: a host, optional
/// port and path, no scheme, tag or digest.
pub fn check_registry(registry: &str) -> Result<(), String> {
    if registry.is_empty() {
        return Err("it is empty".into());
    }
    if registry.contains("://") {
        return Err("a registry is named without a scheme (Docker chooses https, or http on loopback)".into());
    }
    if registry.contains('@') || registry.chars().any(char::is_whitespace) {
        return Err("it holds `@` or spaces: name the registry, not an image".into());
    }
    let (host, path) = split(registry);
    if host.is_empty() || host.starts_with(':') {
        return Err("it names no host".into());
    }
    if path.contains(':') {
        return Err("its path has a `:`: name the registry, not a tagged image".into());
    }
    if path != path.to_ascii_lowercase() {
        return Err("repository paths are lower case".into());
    }
    Ok(())
}

impl TargetConfig {
    /// Whether ohdev may change this target: a local dev cluster, or `allow: true`.
    pub fn allowed(&self) -> bool {
        self.allow || is_local_dev_context(&self.context)
    }
}

impl Resolver<'_> {
    pub(super) fn targets(&self, raw: BTreeMap<String, RawTarget>) -> Result<BTreeMap<String, TargetConfig>, Error> {
        let mut targets = BTreeMap::new();
        for (name, target) in raw {
            let key = format!("targets.{name}");
            let line = self.line_of(&format!("{name}:"));
            let at = |needle: &str| self.line_after(&format!("{name}:"), needle).or(line);
            if !crate::names::is_dns_label(&name) {
                return Err(Error::config(
                    self.file,
                    line,
                    format!("`{key}`: `{name}` is not a usable target name"),
                    "use lowercase letters, digits and `-` (it is typed as `--target NAME` and keys the state)",
                ));
            }
            let context = self.string(&format!("{key}.context"), &target.context)?;
            if context.trim().is_empty() {
                return Err(Error::config(
                    self.file,
                    at("context:"),
                    format!("`{key}.context` is empty"),
                    "name a context from `kubectl config get-contexts -o name`",
                ));
            }
            let registry = self.string(&format!("{key}.registry"), &target.registry)?;
            let registry = registry.trim_end_matches('/').to_string();
            if let Err(problem) = check_registry(&registry) {
                return Err(Error::config(
                    self.file,
                    at("registry:"),
                    format!("`{key}.registry` is `{registry}`: {problem}"),
                    "write the registry host and optional path, e.g. `europe-docker.pkg.dev/team/dev` or `127.0.0.1:5000`",
                ));
            }
            let namespace = self.string(&format!("{key}.namespace"), &target.namespace)?;
            if !crate::names::is_dns_label(&namespace) {
                return Err(Error::config(
                    self.file,
                    at("namespace:"),
                    format!("`{key}.namespace` is `{namespace}`, which is not a namespace name"),
                    "use lowercase letters, digits and `-`, at most 63 characters (e.g. `dev-${USER}`)",
                ));
            }
            let manifests = target.manifests.map(|manifests| self.manifests(manifests)).transpose()?;
            targets.insert(
                name.clone(),
                TargetConfig { name, context, registry, namespace, manifests, allow: target.allow, line },
            );
        }
        Ok(targets)
    }
}

impl Config {
    /// The kubeconfig context every kubectl call of this run names: the target's, else kind's.
    pub fn context(&self) -> String {
        match &self.target {
            Some(target) => target.context.clone(),
            None => self.cluster.context(),
        }
    }

    /// What per-cluster state is keyed by: `target:<name>` on a target, else the kind cluster's name.
    pub fn state_key(&self) -> String {
        match &self.target {
            Some(target) => format!("target:{}", target.name),
            None => self.cluster.name.clone(),
        }
    }

    /// The same project on target `name` (`--target`): its context, namespace and manifests.
    /// Refused (exit 2, before anything runs) when the target is unknown, or when its context is
    /// not a local dev cluster and ohdev.yaml does not say `allow: true`.
    pub fn select_target(mut self, name: Option<&str>) -> Result<Config, Error> {
        let Some(name) = name.filter(|name| !name.is_empty()) else { return Ok(self) };
        let Some(target) = self.targets.get(name).cloned() else {
            let known: Vec<&str> = self.targets.keys().map(String::as_str).collect();
            return Err(Error::config(
                &self.file,
                None,
                format!("--target {name}: ohdev.yaml has no target `{name}`"),
                if known.is_empty() {
                    "describe it under `targets:` (see docs/ohdev-yaml.md), or leave out --target (and OHDEV_TARGET) to use the kind cluster".to_string()
                } else {
                    format!("use one of: {} (or leave out --target for the kind cluster)", known.join(", "))
                },
            ));
        };
        if !target.allowed() {
            return Err(Error::config(
                &self.file,
                target.line,
                format!(
                    "target `{name}` names kubeconfig context \"{}\", which is not a local development cluster (kind-*, k3d-*, minikube, docker-desktop…): ohdev will not change it unless ohdev.yaml allows it",
                    target.context
                ),
                format!(
                    "if this cluster is meant for development, add `allow: true` under `targets.{name}` in {}",
                    self.file.display()
                ),
            ));
        }
        let before = std::mem::replace(&mut self.namespace, target.namespace.clone());
        for secret in self.secrets.values_mut().filter(|secret| secret.namespace == before) {
            secret.namespace = target.namespace.clone();
        }
        for port in self.ports.iter_mut().filter(|port| port.namespace == before) {
            port.namespace = target.namespace.clone();
        }
        if let Some(manifests) = &target.manifests {
            self.manifests = manifests.clone();
        }
        self.target = Some(target);
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_dev_contexts_are_known_by_name() {
        for context in ["kind-dev", "k3d-x", "minikube", "docker-desktop", "microk8s", "rancher-desktop", "orbstack"] {
            assert!(is_local_dev_context(context), "{context}");
        }
        for context in ["gke_team_europe-west1_dev", "prod", "arn:aws:eks:eu:1:cluster/dev", "kind", "minikube-prod"] {
            assert!(!is_local_dev_context(context), "{context}");
        }
    }

    fn load(text: &str) -> Result<Config, Error> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ohdev.yaml"), text).unwrap();
        crate::config::load_with_env(&dir.path().join("ohdev.yaml"), &|name| (name == "USER").then(|| "ada".into()))
    }

    const TARGETS: &str = "images: {}\nmanifests: [kind/manifests]\nnamespace: web\nsecrets:\n  s: {keys: [A]}\ntargets:\n  shared:\n    context: gke_team_dev\n    registry: europe-docker.pkg.dev/team/dev/\n    namespace: dev-${USER}\n    manifests: [remote/manifests]\n    allow: true\n  prod:\n    context: gke_team_prod\n    registry: 127.0.0.1:5000\n    namespace: app\n";

    #[test]
    fn a_target_replaces_context_namespace_and_manifests() {
        let config = load(TARGETS).unwrap();
        assert_eq!(config.context(), "kind-local-hands");
        assert_eq!(config.state_key(), "local-hands");
        let config = config.select_target(Some("shared")).unwrap();
        assert_eq!(config.context(), "gke_team_dev");
        assert_eq!(config.state_key(), "target:shared");
        assert_eq!(config.namespace, "dev-ada");
        assert_eq!(config.secrets["s"].namespace, "dev-ada");
        assert_eq!(config.target.as_ref().unwrap().registry, "europe-docker.pkg.dev/team/dev");
        assert!(matches!(&config.manifests[..], [ManifestSource::Path(path)] if path.ends_with("remote/manifests")));
    }

    #[test]
    fn a_remote_context_without_allow_is_refused_naming_the_key() {
        let error = load(TARGETS).unwrap().select_target(Some("prod")).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        let text = format!("{error:#}");
        assert!(text.contains("\"gke_team_prod\""), "{text}");
        assert!(text.contains("add `allow: true` under `targets.prod`"), "{text}");
        let error = load(TARGETS).unwrap().select_target(Some("nope")).unwrap_err();
        assert!(format!("{error:#}").contains("use one of: prod, shared"), "{error:#}");
    }

    #[test]
    fn a_registry_is_a_host_and_a_path() {
        assert!(check_registry("europe-docker.pkg.dev/team/dev").is_ok());
        assert!(check_registry("127.0.0.1:5000").is_ok());
        for bad in ["", "https://reg.example", "reg.example/app:v1", "reg.example/Team", ":5000"] {
            assert!(check_registry(bad).is_err(), "{bad}");
        }
        assert_eq!(split("127.0.0.1:5000"), ("127.0.0.1:5000", ""));
    }

    #[test]
    fn bad_entries_name_the_key() {
        let error =
            load("targets:\n  shared:\n    context: x\n    registry: reg.example\n    namespace: Dev_1\n").unwrap_err();
        assert!(format!("{error:#}").contains("targets.shared.namespace"), "{error:#}");
        let error =
            load("targets:\n  shared:\n    context: x\n    registry: reg.example\n    namespace: a\n    alow: true\n")
                .unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }
}
