//! Garbage collection's side in the local Docker engine: find the images ohdev built (by their
//! labels, never by their names), and remove the references of the ones gc let go, measuring the
//! layer bytes that frees.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bollard::query_parameters::{ListImagesOptionsBuilder, RemoveImageOptionsBuilder};
use bollard::Docker;

use super::gc::{ohdev_key, Candidate, TagKey};
use super::gc_layers::{layer_sizes, HistoryEntry, ImageLayers};
use super::phase::IMAGE_LABEL;
use crate::error::Error;
use crate::names::MANAGED_BY_SELECTOR;
use crate::tools::docker::describe;

/// One Docker image ohdev built, with its references that are ohdev's (`ohdev.local/<image>:<tag>`
/// and `<registry host>/<image>:<tag>`).
#[derive(Debug, Clone)]
pub struct BuiltImage {
    pub id: String,
    pub image: String,
    /// When it was built (unix nanoseconds).
    pub created: i64,
    /// Every tag Docker has on it, ohdev's or not: an image keeps existing while any is left.
    pub all_tags: usize,
    /// (image, content tag) → the references naming it.
    pub references: BTreeMap<TagKey, Vec<String>>,
}

/// Every image in Docker labelled as ohdev's for one of `names`, with the references of it that
/// are ohdev's. An image merely *tagged* like ohdev's but without the labels is not listed.
pub async fn built_images(
    docker: &Docker,
    names: &BTreeSet<String>,
    hosts: &[String],
) -> Result<Vec<BuiltImage>, Error> {
    let mut filters: HashMap<&str, Vec<String>> = HashMap::new();
    filters.insert("label", vec![MANAGED_BY_SELECTOR.to_string(), IMAGE_LABEL.to_string()]);
    let options = ListImagesOptionsBuilder::default().filters(&filters).build();
    let images = docker
        .list_images(Some(options))
        .await
        .map_err(|error| Error::work(format!("listing the images ohdev built failed: {}", describe(&error)), None))?;
    let mut built = Vec::new();
    for summary in images {
        let Some(image) = summary.labels.get(IMAGE_LABEL).filter(|image| names.contains(*image)) else { continue };
        let mut references: BTreeMap<TagKey, Vec<String>> = BTreeMap::new();
        for reference in &summary.repo_tags {
            if let Some(key) = ohdev_key(reference, hosts).filter(|(name, _)| name == image) {
                references.entry(key).or_default().push(reference.clone());
            }
        }
        if !references.is_empty() {
            // The list gives whole seconds; two builds within one second must still be ordered.
            let created = match docker.inspect_image(&summary.id).await {
                Ok(inspected) => inspected.created.map(|created| nanos(created.unix_timestamp_nanos())),
                Err(_) => None,
            };
            built.push(BuiltImage {
                id: summary.id,
                image: image.clone(),
                created: created.unwrap_or_else(|| nanos(i128::from(summary.created) * 1_000_000_000)),
                all_tags: summary.repo_tags.len(),
                references,
            });
        }
    }
    Ok(built)
}

fn nanos(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The candidates these images offer: one per (image, content tag).
pub fn candidates(images: &[BuiltImage]) -> Vec<Candidate> {
    images
        .iter()
        .flat_map(|built| {
            built.references.keys().map(|(image, tag)| Candidate {
                image: image.clone(),
                tag: tag.clone(),
                created: built.created,
            })
        })
        .collect()
}

/// The layers of every image in Docker (not only ohdev's: a layer another image holds is not
/// freed), with their sizes where the history pairs up. Read once, before anything is removed.
pub async fn layer_table(docker: &Docker) -> Result<BTreeMap<String, ImageLayers>, Error> {
    let listed = docker
        .list_images(Some(ListImagesOptionsBuilder::default().all(true).build()))
        .await
        .map_err(|error| Error::work(format!("listing Docker's images failed: {}", describe(&error)), None))?;
    let mut table = BTreeMap::new();
    for summary in listed {
        // An image removed meanwhile (another client) has no layers left to count.
        let Ok(inspected) = docker.inspect_image(&summary.id).await else { continue };
        let layers = inspected.root_fs.and_then(|root| root.layers).unwrap_or_default();
        table.insert(summary.id, ImageLayers { layers, sizes: None });
    }
    Ok(table)
}

/// Fill in the layer sizes of the images whose bytes are counted (their history, oldest first).
pub async fn measure(docker: &Docker, table: &mut BTreeMap<String, ImageLayers>, ids: &BTreeSet<String>) {
    for id in ids {
        let Some(entry) = table.get_mut(id) else { continue };
        let Ok(history) = docker.image_history(id).await else { continue };
        let history: Vec<HistoryEntry> = history
            .into_iter()
            .rev()
            .map(|item| HistoryEntry { size: u64::try_from(item.size).unwrap_or(0), created_by: item.created_by })
            .collect();
        entry.sizes = layer_sizes(&history, entry.layers.len());
    }
}

/// What removing one reference did.
pub enum Removal {
    /// The reference is gone; `deleted` says whether the image itself went with it (its last tag).
    Removed { deleted: bool },
    /// Docker refused (a container uses the image, …): why.
    Refused(String),
}

/// Remove one reference (`docker rmi <reference>` without force: an image a container uses stays,
/// and an image with other tags only loses this one).
pub async fn remove_reference(docker: &Docker, reference: &str, image_id: &str) -> Removal {
    let options = RemoveImageOptionsBuilder::default().force(false).noprune(false).build();
    match docker.remove_image(reference, Some(options), None).await {
        Ok(items) => Removal::Removed { deleted: items.iter().any(|item| item.deleted.as_deref() == Some(image_id)) },
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
            Removal::Removed { deleted: false }
        }
        Err(error) => Removal::Refused(describe(&error)),
    }
}
