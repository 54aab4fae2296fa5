//! gc's side in the registry: which registry (looked at, never started or wired), deleting the
//! manifests of removed tags, and the registry's own garbage collection in ohdev's container.

use std::collections::BTreeSet;
use std::time::Duration;

use super::{Report, Session};
use crate::config::registry::{is_loopback, parse_host};
use crate::error::Error;
use crate::events::{Event, GcPlace};
use crate::image::gc::TagKey;
use crate::registry::client::{Client, Deleted, Probe};
use crate::registry::{self, container, Target};

/// Where the registry image (the official `registry:2` and ohdev's test image alike) keeps its config.
const REGISTRY_CONFIG: &str = "/etc/docker/registry/config.yml";

/// The registry images go through, looked at without changing anything (gc never starts or
/// wires one): `registry:` in ohdev.yaml, else what the cluster advertises (KEP-1755).
pub(super) async fn target(session: &Session, cluster: bool) -> Result<Option<Target>, Error> {
    match &session.config.registry {
        Some(config) => Ok(Some(Target::configured(config).authenticated(true).await?)),
        None if cluster => match registry::discover(session.kubectl()).await? {
            Some(target) => Ok(Some(target.authenticated(true).await?)),
            None => Ok(None),
        },
        None => Ok(None),
    }
}

/// The registry gc deletes tags from.
pub(super) struct RegistryInUse {
    pub(super) client: Client,
    host: String,
    /// ohdev's own registry container, where `registry garbage-collect` runs after deletes.
    container: Option<String>,
}

/// The registry, when it answers; when it does not, gc says so and leaves its tags (Docker and
/// the nodes are still collected).
pub(super) async fn in_use(session: &Session, target: &Target) -> Result<Option<RegistryInUse>, Error> {
    let client = target.client();
    let probe = client.probe().await;
    if !probe.is_registry() {
        let why = match probe {
            Probe::Nothing { cause } => cause,
            Probe::NotRegistry { status, .. } => format!("what answers there is not a registry (HTTP {status})"),
            Probe::Registry { .. } => String::new(),
        };
        session.reporter.emit(Event::warn(
            format!("the registry at {} does not answer ({why}), so gc left its tags", target.push_host),
            Some("`ohdev up` starts ohdev's registry; then `ohdev gc` collects it too".to_string()),
        ));
        return Ok(None);
    }
    let container = match parse_host(&target.push_host) {
        Ok((hostname, port)) if is_loopback(&hostname) => container::publisher(session.docker(), port)
            .await?
            .filter(|running| running.ours)
            .map(|running| running.name),
        _ => None,
    };
    Ok(Some(RegistryInUse { client, host: target.push_host.clone(), container }))
}

/// Delete the removed tags' manifests (by digest), then let ohdev's registry container collect
/// the blobs nothing names any more. Returns the blob bytes that frees.
pub(super) async fn remove(
    session: &Session,
    report: &Report<'_>,
    registry: &RegistryInUse,
    tags: &[registry::gc::RegistryTag],
    removed: &BTreeSet<TagKey>,
    dry_run: bool,
) -> u64 {
    let mut freed = 0;
    let mut deleted_digests: BTreeSet<(String, String)> = BTreeSet::new();
    for (tag, bytes) in registry::gc::deletions(tags, removed) {
        let reference = format!("{}/{}:{}", registry.host, tag.image, tag.tag);
        if !dry_run && !deleted_digests.contains(&(tag.image.clone(), tag.digest.clone())) {
            match registry.client.delete_manifest(&tag.image, &tag.digest).await {
                Ok(Deleted::Yes | Deleted::NotFound) => {}
                Ok(Deleted::Unsupported) => {
                    session.reporter.emit(Event::warn(
                        format!("the registry at {} refuses deletes, so its old tags stay", registry.host),
                        Some(
                            "run it with REGISTRY_STORAGE_DELETE_ENABLED=true (ohdev's own registry container has it)"
                                .to_string(),
                        ),
                    ));
                    return freed;
                }
                Err(error) => {
                    session
                        .reporter
                        .emit(Event::warn(format!("{reference} was not removed from the registry: {error}"), None));
                    continue;
                }
            }
            deleted_digests.insert((tag.image.clone(), tag.digest.clone()));
        }
        freed += bytes;
        report.removed((&tag.image, &tag.tag), GcPlace::Registry, &reference, None, Some(bytes));
    }
    if !dry_run && !deleted_digests.is_empty() {
        match &registry.container {
            Some(container) => collect_registry_blobs(session, container).await,
            None => session.reporter.emit(Event::info(format!(
                "the registry at {} is not ohdev's container: its blobs are freed when its own garbage collection runs",
                registry.host
            ))),
        }
    }
    freed
}

/// `registry garbage-collect` inside ohdev's registry container: deleting manifests leaves their
/// blobs on disk until it runs. ohdev holds its lock, so none of its pushes runs meanwhile.
async fn collect_registry_blobs(session: &Session, container: &str) {
    let argv = ["/bin/registry", "garbage-collect", REGISTRY_CONFIG];
    match crate::tools::docker::exec(session.docker(), container, &argv, Duration::from_secs(300)).await {
        Ok(Some(output)) if output.exit_code == 0 => {}
        Ok(Some(output)) => session.reporter.emit(Event::warn(
            format!(
                "`registry garbage-collect` in container {container} exited {}: {}",
                output.exit_code,
                output.stderr.trim().lines().last().unwrap_or_default()
            ),
            Some(format!(
                "`docker exec {container} registry garbage-collect {REGISTRY_CONFIG}` shows the whole output"
            )),
        )),
        Ok(None) => {}
        Err(error) => session.reporter.emit(Event::warn(error.to_string(), None)),
    }
}
