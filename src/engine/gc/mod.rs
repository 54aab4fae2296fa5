//! `ohdev gc`, and the same after a successful rollout in `rebuild` and the watch loop (at most
//! once an hour): every rebuild leaves a content tag in Docker, in the registry and on each kind
//! node; this keeps the newest few of each image ohdev built and removes the rest.
//!
//! What is ohdev's is decided by Docker's labels (and, in a registry, by the labels in the image's
//! config), never by a name alone. The tag state.json records as current and every tag a pod of the
//! cluster uses stay whatever their age. Everything is decided before the first removal, so
//! `--dry-run` prints exactly the plan a real run carries out.

mod registry_side;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Session;
use crate::error::Error;
use crate::events::{Event, GcPlace};
use crate::image::gc::{self, node_removals, tags_in_use, NodeImage, Selection, TagKey};
use crate::image::gc_docker::{self, BuiltImage, Removal};
use crate::image::gc_layers::freed_bytes;
use crate::image::gc_nodes;
use crate::image::load::ImageRecords;
use crate::registry;

/// Automatic gc runs at most this often.
pub const AUTO_INTERVAL: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `--keep N`: overrides `images.<name>.keep` and `gc.keep`.
    pub keep: Option<usize>,
    pub dry_run: bool,
    /// Automatic gc: say nothing unless something was removed.
    pub quiet: bool,
}

/// What one run removed and freed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub removed: usize,
    pub kept: usize,
    pub docker_bytes: Option<u64>,
    pub registry_bytes: u64,
    pub node_bytes: u64,
}

/// When gc last ran, in state.json under `gc`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct GcRecord {
    /// RFC 3339, UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<String>,
}

impl crate::state::Section for GcRecord {
    const KEY: &'static str = "gc";
}

/// Whether automatic gc is due: never ran, ran an hour or more ago, or at a time that does not read
/// (or lies in the future: a clock that jumped back must not stop gc for good).
pub fn auto_due(record: &GcRecord, now: time::OffsetDateTime) -> bool {
    let Some(last) = record.last_run.as_deref() else { return true };
    match time::OffsetDateTime::parse(last, &time::format_description::well_known::Rfc3339) {
        Ok(last) => {
            let elapsed = now - last;
            elapsed.is_negative() || elapsed >= time::Duration::seconds(AUTO_INTERVAL.as_secs() as i64)
        }
        Err(_) => true,
    }
}

/// The plan on one node: references to `crictl rmi`, with the images they name.
struct NodePlan {
    node: String,
    removals: Vec<(String, NodeImage)>,
}

/// `ohdev gc [--keep N] [--dry-run]`.
pub async fn gc(session: &Session, options: &Options) -> Result<Summary, Error> {
    let docker = session.docker();
    let names: BTreeSet<String> = session.config.images.keys().cloned().collect();
    let cluster = cluster_exists(session).await?;
    let target = registry_side::target(session, cluster).await?;
    let hosts: Vec<String> =
        target.iter().flat_map(|target| [target.push_host.clone(), target.runtime_host.clone()]).collect();
    let built = gc_docker::built_images(docker, &names, &hosts).await?;
    let mut candidates = gc_docker::candidates(&built);
    let registry = match &target {
        Some(target) => registry_side::in_use(session, target).await?,
        None => None,
    };
    let registry_tags = match &registry {
        Some(registry) => registry::gc::registry_tags(&registry.client, &names).await?,
        None => Vec::new(),
    };
    candidates.extend(registry::gc::candidates(&registry_tags));
    let current = current_tags(session);
    let in_use = match cluster {
        // Without knowing what runs, nothing may go: a failure here stops gc before any removal.
        true => tags_in_use(&session.kubectl().get_json(["pods", "-A"]).await.map_err(|error| {
            Error::work(
                format!("gc could not see which images the cluster's pods use, so it removed nothing: {error}"),
                Some("`ohdev status` shows whether the cluster answers; run `ohdev gc` again when it does".to_string()),
            )
        })?),
        false => BTreeSet::new(),
    };
    let keep_for = |image: &str| options.keep.unwrap_or_else(|| session.config.keep_for(image));
    let selection = gc::select(&candidates, &keep_for, &current, &in_use);
    let removed = selection.removed_keys();
    let nodes = if cluster && !removed.is_empty() { node_plans(session, &removed, &hosts).await? } else { Vec::new() };

    let report = Report { session, dry_run: options.dry_run, tags: Default::default() };
    let mut summary = Summary { kept: selection.keep.len(), ..Summary::default() };
    summary.docker_bytes = remove_from_docker(session, &report, &built, &selection, options.dry_run).await?;
    if let Some(registry) = &registry {
        summary.registry_bytes =
            registry_side::remove(session, &report, registry, &registry_tags, &removed, options.dry_run).await;
    }
    summary.node_bytes = remove_from_nodes(session, &report, &nodes, &hosts, options.dry_run).await;
    // A tag counts as removed when it went from somewhere (Docker may keep one a container uses).
    summary.removed = report.count();
    summary.kept += removed.len() - summary.removed;
    if !options.dry_run {
        session.lock().update_section(|record: &mut GcRecord| record.last_run = Some(crate::ui::timestamp()))?;
    }
    if !(options.quiet && summary.removed == 0) {
        session.reporter.emit(Event::GcDone {
            dry_run: options.dry_run,
            removed: summary.removed,
            kept: summary.kept,
            docker_bytes: summary.docker_bytes,
            registry_bytes: summary.registry_bytes,
            node_bytes: summary.node_bytes,
        });
    }
    Ok(summary)
}

/// After a successful rollout (rebuild, watch): gc when the last run is an hour old, quietly, and
/// never failing the rollout: a gc failure is a warning.
pub async fn after_rollout(session: &Session) {
    // gc cleans Docker, ohdev's registry and the kind nodes: nothing of a remote target's.
    if session.remote().is_some() {
        return;
    }
    let record: GcRecord = session.lock().section();
    if !auto_due(&record, time::OffsetDateTime::now_utc()) {
        return;
    }
    // Recorded first: a gc that fails is not retried after every rebuild of the hour.
    if let Err(error) =
        session.lock().update_section(|record: &mut GcRecord| record.last_run = Some(crate::ui::timestamp()))
    {
        session.reporter.emit(Event::warn(format!("automatic gc skipped: {error}"), None));
        return;
    }
    let options = Options { keep: None, dry_run: false, quiet: true };
    if let Err(error) = gc(session, &options).await {
        session.reporter.emit(Event::warn(
            format!("automatic gc of old image tags failed (the rollout itself succeeded): {error}"),
            Some("`ohdev gc --dry-run` shows what gc would remove; `ohdev gc` retries".to_string()),
        ));
    }
}

/// Image → the content tag state.json records as current.
fn current_tags(session: &Session) -> BTreeMap<String, String> {
    let records: ImageRecords = session.lock().section();
    records
        .into_iter()
        .filter_map(|(name, record)| {
            let (_, tag) = gc::split_reference(&record.tag)?;
            Some((name, tag.to_string()))
        })
        .collect()
}

async fn cluster_exists(session: &Session) -> Result<bool, Error> {
    Ok(session.kind().clusters().await?.contains(&session.config.cluster.name))
}

/// Which references each node holds of the removed tags.
async fn node_plans(session: &Session, removed: &BTreeSet<TagKey>, hosts: &[String]) -> Result<Vec<NodePlan>, Error> {
    let mut plans = Vec::new();
    for node in session.kind().nodes(&session.config.cluster.name).await? {
        // A node that cannot be asked keeps its images; Docker and the other nodes are still collected.
        let images = match gc_nodes::node_images(session.docker(), &node).await {
            Ok(Some(images)) => images,
            Ok(None) => continue,
            Err(error) => {
                session.reporter.emit(Event::warn(format!("gc left node {node} as it is: {error}"), None));
                continue;
            }
        };
        let removals = node_removals(&images, removed, hosts);
        if !removals.is_empty() {
            plans.push(NodePlan { node, removals });
        }
    }
    Ok(plans)
}

/// Remove every ohdev reference of the removed tags from Docker; the layer bytes that freed (None
/// when a freed layer's size could not be read).
async fn remove_from_docker(
    session: &Session,
    report: &Report<'_>,
    built: &[BuiltImage],
    selection: &Selection,
    dry_run: bool,
) -> Result<Option<u64>, Error> {
    let docker = session.docker();
    let removed = selection.removed_keys();
    let doomed: Vec<(&BuiltImage, &TagKey, &String)> = built
        .iter()
        .flat_map(|image| {
            image
                .references
                .iter()
                .filter(|(key, _)| removed.contains(*key))
                .flat_map(move |(key, references)| references.iter().map(move |reference| (image, key, reference)))
        })
        .collect();
    if doomed.is_empty() {
        return Ok(Some(0));
    }
    let mut layers = gc_docker::layer_table(docker).await?;
    // The images that lose every tag: what a real run deletes, and what a dry run counts.
    let mut deleted: BTreeSet<String> = built
        .iter()
        .filter(|image| {
            let going = doomed.iter().filter(|(owner, _, _)| owner.id == image.id).count();
            going > 0 && going == image.all_tags
        })
        .map(|image| image.id.clone())
        .collect();
    gc_docker::measure(docker, &mut layers, &deleted).await;
    if !dry_run {
        deleted.clear();
        for (image, (name, tag), reference) in &doomed {
            match gc_docker::remove_reference(docker, reference, &image.id).await {
                Removal::Removed { deleted: gone } => {
                    if gone {
                        deleted.insert(image.id.clone());
                    }
                    report.removed((name, tag), GcPlace::Docker, reference, None, None);
                }
                Removal::Refused(why) => session.reporter.emit(Event::warn(
                    format!("Docker kept {reference}: {why}"),
                    Some(format!("`docker ps -a --filter ancestor={reference}` shows a container that uses it")),
                )),
            }
        }
    } else {
        for (_, (name, tag), reference) in &doomed {
            report.removed((name, tag), GcPlace::Docker, reference, None, None);
        }
    }
    Ok(freed_bytes(&layers, &deleted))
}

/// `crictl rmi` each planned reference on each node; the bytes crictl reported for them.
async fn remove_from_nodes(
    session: &Session,
    report: &Report<'_>,
    plans: &[NodePlan],
    hosts: &[String],
    dry_run: bool,
) -> u64 {
    let mut freed = 0;
    for plan in plans {
        for (reference, image) in &plan.removals {
            let Some((name, tag)) = gc::ohdev_key(reference, hosts) else { continue };
            if !dry_run {
                if let Err(error) = gc_nodes::remove(session.docker(), &plan.node, reference).await {
                    session.reporter.emit(Event::warn(error.to_string(), None));
                    continue;
                }
            }
            freed += image.size;
            report.removed((&name, &tag), GcPlace::Node, reference, Some(plan.node.clone()), Some(image.size));
        }
    }
    freed
}

/// Says what was removed (or, with `--dry-run`, would be) and remembers which tags went somewhere.
struct Report<'a> {
    session: &'a Session,
    dry_run: bool,
    tags: std::sync::Mutex<BTreeSet<TagKey>>,
}

impl Report<'_> {
    fn removed(
        &self,
        (image, tag): (&str, &str),
        place: GcPlace,
        reference: &str,
        node: Option<String>,
        bytes: Option<u64>,
    ) {
        if let Ok(mut tags) = self.tags.lock() {
            tags.insert((image.to_string(), tag.to_string()));
        }
        self.session.reporter.emit(Event::GcRemoved {
            image: image.to_string(),
            tag: tag.to_string(),
            place,
            reference: reference.to_string(),
            node,
            bytes,
            dry_run: self.dry_run,
        });
    }

    fn count(&self) -> usize {
        self.tags.lock().map(|tags| tags.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> time::OffsetDateTime {
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
    }

    #[test]
    fn automatic_gc_is_due_once_an_hour() {
        let now = at("2026-12-03T12:00:00Z");
        let record = |last: &str| GcRecord { last_run: Some(last.to_string()) };
        assert!(auto_due(&GcRecord::default(), now));
        assert!(!auto_due(&record("2026-12-03T11:30:00Z"), now));
        assert!(!auto_due(&record("2026-12-03T11:00:01Z"), now));
        assert!(auto_due(&record("2026-12-03T11:00:00Z"), now));
        assert!(auto_due(&record("2026-12-02T12:00:00Z"), now));
        assert!(auto_due(&record("2026-12-03T13:00:00Z"), now), "a clock that went back");
        assert!(auto_due(&record("yesterday"), now));
    }
}
