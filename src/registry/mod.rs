//! Images through a registry instead of `kind load`: a rebuild ships only the layers that changed.
//!
//! Which registry: `registry:` in ohdev.yaml (ohdev runs and wires it), else the one the cluster
//! advertises (KEP-1755, used as is), else none (`kind load` stays the path). The rest of the
//! flow keeps content tags; only the reference manifests name changes (`<host>/<name>:<tag>`).
//!
//! | module | what it owns |
//! |---|---|
//! | `client` | the registry's HTTP API (probe, manifests, tags, blobs, catalog, delete), with Basic and Bearer auth |
//! | `tls` | HTTPS or plain HTTP, chosen as Docker does; certificate problems told with their fix |
//! | `credentials` | logins as docker finds them (`config.json` `auths`, `credsStore`, `credHelpers`) |
//! | `container` | ohdev's registry container: found before anything changes, then created or started |
//! | `nodes` | the `kind` network and each node's `certs.d/<host>/hosts.toml` |
//! | `hosting` | the KEP-1755 ConfigMap: read (discovery) and written (for ohdev's registry) |
//! | `naming` | image names on a remote target's registry (Skaffold-style rewriting) |
//! | `push` | tag `<host>/<name>:<tag>` and push what the registry lacks |
//! | `gc` | `ohdev gc`'s side: which tags are ohdev's (config labels), what deleting them frees |

// The catalog, blob sizes and deletes serve `ohdev gc` (another branch), not yet called here.
#[allow(dead_code)]
pub mod client;
pub mod container;
pub mod credentials;
pub mod gc;
pub mod hosting;
pub mod naming;
pub mod nodes;
pub mod push;
pub mod tls;

use std::path::Path;

use bollard::Docker;
use serde::{Deserialize, Serialize};

use crate::config::kind_cluster::KindCluster;
use crate::config::registry::RegistryConfig;
use crate::config::Config;
use crate::error::Error;
use crate::events::{Event, StepState};
use crate::state::StateLock;
use crate::tools::kind::Kind;
use crate::tools::kubectl::Kubectl;
use crate::ui::Reporter;
use client::{Client, Probe};
use credentials::Credentials;

pub use push::push_all;

/// The registry images go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Where Docker pushes from this machine.
    pub push_host: String,
    /// What manifests name: the registry as the nodes' container runtime reaches it.
    pub runtime_host: String,
    /// The cluster advertised it (KEP-1755); ohdev did not configure it.
    pub advertised: bool,
    /// The advertisement's `help`, shown when a push fails.
    pub help: Option<String>,
    /// What ohdev presents to the registry (none until [`Target::authenticated`]).
    pub credentials: Credentials,
    /// A remote target's registry (`targets.*.registry`): the repository path under the host,
    /// and names rewritten onto it (`naming`). `None` for ohdev's registry and advertised ones.
    pub remote: Option<String>,
}

impl Target {
    pub fn configured(config: &RegistryConfig) -> Target {
        Target {
            push_host: config.host.clone(),
            runtime_host: config.host.clone(),
            advertised: false,
            help: None,
            credentials: Credentials::none(&config.host),
            remote: None,
        }
    }

    /// The same target with the credentials the registry accepted ([`authenticate`]).
    pub async fn authenticated(mut self, before_changes: bool) -> Result<Target, Error> {
        self.credentials = authenticate(&self.push_host, before_changes).await?;
        Ok(self)
    }

    /// [`Target::authenticated`]: the registry is asked first (over HTTPS for one elsewhere), so
    /// a refused login or an untrusted certificate stops ohdev before it pushes. A remote target's
    /// registry that did not ask for a login at `GET /v2/` (some answer it anonymously and want one
    /// only to push) still gets the login Docker would use for it, as the daemon's push would.
    pub async fn logged_in(self, before_changes: bool) -> Result<Target, Error> {
        let mut target = self.authenticated(before_changes).await?;
        if target.remote.is_some() && target.credentials.login.is_none() {
            target.credentials = credentials::resolve(&target.push_host).await?;
        }
        Ok(target)
    }

    /// A client for the push host, presenting this target's credentials.
    pub fn client(&self) -> Client {
        Client::new(&self.push_host).with_credentials(self.credentials.clone())
    }

    pub fn advertised(hosting: &hosting::LocalRegistryHosting) -> Option<Target> {
        let push_host = hosting.host.clone()?;
        Some(Target {
            runtime_host: hosting.runtime_host().unwrap_or(&push_host).to_string(),
            credentials: Credentials::none(&push_host),
            push_host,
            advertised: true,
            help: hosting.help.clone(),
            remote: None,
        })
    }

    /// A remote target's registry (`targets.*.registry`, `host[/path]`): pushed to and pulled from
    /// by the same name; no container is run or wired for it.
    pub fn remote(registry: &str) -> Target {
        let (host, _) = naming::split(registry);
        Target {
            push_host: host.to_string(),
            runtime_host: host.to_string(),
            advertised: false,
            help: None,
            credentials: Credentials::none(host),
            remote: Some(registry.to_string()),
        }
    }

    /// The repository of image `name` on this registry (without the host): `name`, or on a
    /// remote target the name rewritten under the registry's path.
    pub fn repository(&self, name: &str) -> String {
        match &self.remote {
            Some(registry) => naming::repository(registry, name),
            None => name.to_string(),
        }
    }

    /// `localhost:5001/app:0123…`: what Docker pushes.
    pub fn push_reference(&self, name: &str, content_tag: &str) -> String {
        format!("{}/{}:{content_tag}", self.push_host, self.repository(name))
    }

    /// What manifests name.
    pub fn runtime_reference(&self, name: &str, content_tag: &str) -> String {
        format!("{}/{}:{content_tag}", self.runtime_host, self.repository(name))
    }

    /// A failed registry operation, with the advertisement's help for a registry ohdev does not run.
    pub fn explain(&self, error: Error) -> Error {
        match (&error, self.advertised, &self.help) {
            (Error::Work { message, hint }, true, Some(help)) => Error::work(
                format!(
                    "{message}\n  the cluster advertises this registry (ConfigMap {}/{}); its help: {help}",
                    hosting::NAMESPACE,
                    hosting::NAME
                ),
                hint.clone(),
            ),
            _ => error,
        }
    }
}

/// The credentials `host` accepts. A registry that answers `/v2/` without asking needs none (and
/// no helper is run for it); one that answers 401 gets the Docker config's login for it, and a
/// refusal with them is an error naming the registry and where the login came from, exit 2 when
/// `before_changes` (nothing was changed yet), else 1.
pub async fn authenticate(host: &str, before_changes: bool) -> Result<Credentials, Error> {
    let open = Client::new(host);
    // A certificate ohdev cannot trust stops here too: every later request would fail the same way.
    match open.probe_checked(before_changes).await? {
        Probe::Registry { status: 401, .. } => {}
        _ => return Ok(Credentials::none(host)),
    }
    let credentials = credentials::resolve(host).await?;
    if credentials.login.is_none() {
        return Err(credentials.rejected(401, "`GET /v2/` without credentials", before_changes));
    }
    match open.with_credentials(credentials.clone()).probe().await {
        Probe::Registry { status: status @ (401 | 403), .. } => {
            Err(credentials.rejected(status, "the login", before_changes))
        }
        _ => Ok(credentials),
    }
}

/// What `registry:` needs, found before anything changes.
#[derive(Debug, Clone)]
pub struct Checked {
    pub config: RegistryConfig,
    pub found: container::Found,
}

/// Everything about `registry:` that can stop ohdev, checked before Docker or the cluster changes:
/// what answers on the port, the image, and (for an older kind) the containerd patch cluster.yaml
/// needs. `None` without `registry:`.
pub async fn check(
    config: &Config,
    docker: &Docker,
    kind: Option<(&Kind, &KindCluster)>,
) -> Result<Option<Checked>, Error> {
    let Some(registry) = &config.registry else { return Ok(None) };
    if let Some((kind, kind_cluster)) = kind {
        let version = kind.version().await?;
        if nodes::needs_containerd_patch(&version, &kind_cluster.text) {
            return Err(Error::config(
                &kind_cluster.path,
                None,
                format!(
                    "kind {version} does not read /etc/containerd/certs.d by default (kind ≥ 0.27 does), so the nodes could not pull from the registry at {}",
                    registry.host
                ),
                format!("add this to {} (then `ohdev up --recreate`), or upgrade kind:\n{}", kind_cluster.path.display(), nodes::CONTAINERD_PATCH),
            ));
        }
    }
    let found = container::find(docker, registry, &config.file).await?;
    // A registry that already answers may want a login: a refusal stops ohdev here, before anything changes.
    if matches!(found, container::Found::Running { .. }) {
        authenticate(&registry.host, true).await?;
    }
    Ok(Some(Checked { config: registry.clone(), found }))
}

/// ohdev's registry is answering (created or started if needed).
#[derive(Debug, Clone)]
pub struct Started {
    pub config: RegistryConfig,
    pub container: Option<container::Running>,
}

pub async fn start(docker: &Docker, checked: &Checked, reporter: &Reporter) -> Result<Started, Error> {
    let label = format!("registry at {}", checked.config.host);
    let (container, changed) = container::ensure(docker, &checked.config, &checked.found).await?;
    let detail = match (&checked.found, &container) {
        (container::Found::Absent, _) => {
            format!("started container {} ({})", checked.config.container_name(), checked.config.image)
        }
        (container::Found::Stopped { container }, _) => format!("started the stopped container {container}"),
        (container::Found::Running { .. }, Some(running)) if running.ours => {
            format!("container {} is running", running.name)
        }
        (container::Found::Running { .. }, Some(running)) => {
            format!("already running in container {}, not started by ohdev", running.name)
        }
        (container::Found::Running { .. }, None) => "already answering, not from a container ohdev can see".to_string(),
    };
    let state = if changed { StepState::Done } else { StepState::Skipped };
    reporter.emit(Event::step("registry", state, label, Some(detail)));
    Ok(Started { config: checked.config.clone(), container })
}

/// Wire the cluster to ohdev's registry: the `kind` network, `hosts.toml` on every node, the
/// KEP-1755 ConfigMap. Each only when it differs.
pub async fn wire(
    docker: &Docker,
    kind: &Kind,
    kubectl: &Kubectl,
    cluster: &str,
    started: &Started,
    reporter: &Reporter,
) -> Result<(), Error> {
    let host = &started.config.host;
    let mut changes = Vec::new();
    match &started.container {
        Some(container) => {
            if nodes::connect_to_kind_network(docker, &container.name).await? {
                changes.push(format!("connected {} to the Docker network {}", container.name, nodes::KIND_NETWORK));
            }
            let content = nodes::hosts_toml(host, &container.name, container.private_port);
            let mut written = Vec::new();
            for node in kind.nodes(cluster).await? {
                if nodes::write_hosts_toml(docker, &node, host, &content).await? {
                    written.push(node);
                }
            }
            if !written.is_empty() {
                changes.push(format!("wrote {} on {}", nodes::hosts_toml_path(host), written.join(", ")));
            }
        }
        // A registry elsewhere (`create: false`) is reached by its own name: nothing to map.
        None if !started.config.is_loopback() => {}
        None => reporter.emit(Event::warn(
            format!("the registry at {host} is not a Docker container, so the kind nodes cannot reach it by name"),
            Some(format!("run it as a container (or stop it and let ohdev start {})", started.config.container_name())),
        )),
    }
    let help = match &started.container {
        Some(running) if running.ours => hosting::help_text(host, &running.name),
        Some(running) => hosting::foreign_help_text(host, Some(&running.name)),
        None => hosting::foreign_help_text(host, None),
    };
    if apply_config_map(kubectl, host, &help).await? {
        changes.push(format!("applied ConfigMap {}/{}", hosting::NAMESPACE, hosting::NAME));
    }
    let label = format!("kind cluster \"{cluster}\" pulls from {host}");
    if changes.is_empty() {
        reporter.emit(Event::step("registry-wiring", StepState::Skipped, label, Some("already wired".to_string())));
    } else {
        reporter.emit(Event::step("registry-wiring", StepState::Done, label, Some(changes.join("; "))));
    }
    Ok(())
}

/// `kubectl get configmap local-registry-hosting -n kube-public`, or `None` when there is none.
async fn read_config_map(kubectl: &Kubectl) -> Result<Option<serde_json::Value>, Error> {
    let output = kubectl
        .invocation(["get", "configmap", hosting::NAME, "-n", hosting::NAMESPACE, "--ignore-not-found", "-o", "json"])
        .run()
        .await?;
    if output.stdout.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str(&output.stdout).map(Some).map_err(|error| {
        Error::work(
            format!("kubectl printed a ConfigMap {}/{} that is not JSON: {error}", hosting::NAMESPACE, hosting::NAME),
            None,
        )
    })
}

/// Apply the KEP-1755 ConfigMap unless it already says this. Not recorded in the deploy ledger:
/// `ohdev down` leaves it with the registry, which outlives the environment.
async fn apply_config_map(kubectl: &Kubectl, host: &str, help: &str) -> Result<bool, Error> {
    let wanted = hosting::config_map(host, help);
    if let Some(current) = read_config_map(kubectl).await? {
        if current["data"] == wanted["data"] {
            return Ok(false);
        }
    }
    let body = serde_json::to_vec(&wanted).map_err(|error| Error::work(error.to_string(), None))?;
    kubectl
        .invocation(["apply", "--server-side", "--field-manager=ohdev", "--force-conflicts", "-f", "-"])
        .stdin(body)
        .run()
        .await?;
    Ok(true)
}

/// The registry the cluster advertises (KEP-1755), if any.
pub async fn discover(kubectl: &Kubectl) -> Result<Option<Target>, Error> {
    let Some(config_map) = read_config_map(kubectl).await? else { return Ok(None) };
    let hosting = hosting::parse_config_map(&config_map).map_err(|message| {
        Error::work(
            message,
            Some(format!(
                "fix or delete it: `kubectl --context {} -n {} edit configmap {}`",
                kubectl.context(),
                hosting::NAMESPACE,
                hosting::NAME
            )),
        )
    })?;
    Ok(hosting.as_ref().and_then(Target::advertised))
}

/// Whether ohdev already suggested `registry:` for this project (said once, remembered in state).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RegistryHint {
    #[serde(default)]
    pub suggested: bool,
}

impl crate::state::Section for RegistryHint {
    const KEY: &'static str = "registry_hint";
}

/// The `registry:` lines to add, as the suggestion shows them.
pub const SUGGESTED_YAML: &str = "registry:\n  host: localhost:5001";

/// Suggest `registry:` once per project.
pub fn suggest_once(lock: &StateLock, file: &Path, reporter: &Reporter) -> Result<(), Error> {
    let hint: RegistryHint = lock.section();
    if hint.suggested {
        return Ok(());
    }
    reporter.emit(suggestion(file));
    lock.update_section(|hint: &mut RegistryHint| hint.suggested = true)
}

/// The suggestion itself (`ohdev doctor` shows it as a check).
pub fn suggestion(file: &Path) -> Event {
    Event::Message {
        level: crate::events::Level::Info,
        message: "images reach the cluster with `kind load`, which copies the whole image on every rebuild; a local registry ships only the changed layers (much faster for large images)".to_string(),
        hint: Some(format!("add to {}:\n{}", file.display(), indent(SUGGESTED_YAML))),
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("    {line}")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_use_the_push_host_and_the_runtime_host() {
        let configured = Target::configured(&RegistryConfig::new("localhost:5001", true, "registry:2").unwrap());
        assert_eq!(configured.push_reference("app", "0123"), "localhost:5001/app:0123");
        assert_eq!(configured.runtime_reference("app", "0123"), "localhost:5001/app:0123");
        let hosting = hosting::LocalRegistryHosting {
            host: Some("localhost:5005".into()),
            host_from_container_runtime: Some("ctlptl-registry:5000".into()),
            help: Some("https://ctlptl.dev".into()),
            ..Default::default()
        };
        let advertised = Target::advertised(&hosting).unwrap();
        assert_eq!(advertised.push_reference("app", "0123"), "localhost:5005/app:0123");
        assert_eq!(advertised.runtime_reference("app", "0123"), "ctlptl-registry:5000/app:0123");
        let explained = advertised.explain(Error::work("pushing failed", None)).to_string();
        assert!(explained.ends_with("its help: https://ctlptl.dev"), "{explained}");
        assert_eq!(configured.explain(Error::work("pushing failed", None)).to_string(), "pushing failed");
    }
}
