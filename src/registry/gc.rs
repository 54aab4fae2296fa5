//! Garbage collection's side in the registry: which tags there are ohdev's (the labels in each
//! tag's image config, as Docker would show them, never the name alone), deleting a manifest by
//! digest through the registry's API, and the blob bytes that frees.
//!
//! A manifest delete removes every tag on that digest, so a digest that a kept tag (or any tag gc
//! did not choose) also names is never deleted. Deleting manifests leaves the blobs; the registry's
//! own `registry garbage-collect` removes the unreferenced ones, which ohdev runs when the registry
//! is its own container.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::client::Client;
use crate::error::Error;
use crate::image::gc::{Candidate, TagKey};
use crate::image::phase::IMAGE_LABEL;
use crate::names::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};

/// One tag in the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryTag {
    pub image: String,
    pub tag: String,
    /// The manifest's digest.
    pub digest: String,
    /// Digest → size of the blobs it names (config and layers, compressed).
    pub blobs: BTreeMap<String, u64>,
    /// Built by ohdev (its config carries ohdev's labels for this image): a gc candidate.
    pub ours: bool,
    /// When it was built (unix nanoseconds), from its config.
    pub created: i64,
}

impl RegistryTag {
    pub fn key(&self) -> TagKey {
        (self.image.clone(), self.tag.clone())
    }
}

/// From an image config: whether ohdev built it as `image`, and when it was built.
pub fn config_facts(config: &Value, image: &str) -> (bool, i64) {
    let labels = &config["config"]["Labels"];
    let ours =
        labels[MANAGED_BY_LABEL].as_str() == Some(MANAGED_BY_VALUE) && labels[IMAGE_LABEL].as_str() == Some(image);
    let created = config["created"]
        .as_str()
        .and_then(|text| time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok())
        .map(|created| i64::try_from(created.unix_timestamp_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    (ours, created)
}

/// Every tag of each of `images`' repositories, with what ohdev needs to judge and delete it.
pub async fn registry_tags(client: &Client, images: &BTreeSet<String>) -> Result<Vec<RegistryTag>, Error> {
    let mut found = Vec::new();
    for image in images {
        for tag in client.tags(image).await? {
            let Some(manifest) = client.manifest(image, &tag).await? else { continue };
            let Some(digest) = manifest.digest.clone() else { continue };
            let blobs: BTreeMap<String, u64> = manifest
                .config
                .iter()
                .chain(&manifest.layers)
                .map(|descriptor| (descriptor.digest.clone(), descriptor.size))
                .collect();
            // An index (several platforms) is nothing ohdev pushes: never a candidate.
            let (ours, created) = match (&manifest.config, manifest.is_index()) {
                (Some(config), false) => match client.blob(image, &config.digest).await? {
                    Some(bytes) => config_facts(&serde_json::from_slice(&bytes).unwrap_or(Value::Null), image),
                    None => (false, 0),
                },
                _ => (false, 0),
            };
            found.push(RegistryTag { image: image.clone(), tag, digest, blobs, ours, created });
        }
    }
    Ok(found)
}

pub fn candidates(tags: &[RegistryTag]) -> Vec<Candidate> {
    tags.iter()
        .filter(|tag| tag.ours)
        .map(|tag| Candidate { image: tag.image.clone(), tag: tag.tag.clone(), created: tag.created })
        .collect()
}

/// What to delete: each removed tag whose digest no other surviving tag of its repository names,
/// with the blob bytes only deleted manifests referenced, attributed to the first that did (two
/// removed tags on one digest are one delete: the second has no bytes of its own).
pub fn deletions<'a>(tags: &'a [RegistryTag], removed: &BTreeSet<TagKey>) -> Vec<(&'a RegistryTag, u64)> {
    let surviving_digests: BTreeSet<(&str, &str)> = tags
        .iter()
        .filter(|tag| !removed.contains(&tag.key()))
        .map(|tag| (tag.image.as_str(), tag.digest.as_str()))
        .collect();
    let deleted: Vec<&RegistryTag> = tags
        .iter()
        .filter(|tag| removed.contains(&tag.key()))
        .filter(|tag| !surviving_digests.contains(&(tag.image.as_str(), tag.digest.as_str())))
        .collect();
    let deleted_digests: BTreeSet<&str> = deleted.iter().map(|tag| tag.digest.as_str()).collect();
    // Blobs any manifest that stays still names (in any repository ohdev looked at).
    let referenced: BTreeSet<&str> = tags
        .iter()
        .filter(|tag| !deleted_digests.contains(tag.digest.as_str()))
        .flat_map(|tag| tag.blobs.keys().map(String::as_str))
        .collect();
    let mut counted: BTreeSet<&str> = BTreeSet::new();
    deleted
        .into_iter()
        .map(|tag| {
            let bytes = tag
                .blobs
                .iter()
                .filter(|(digest, _)| !referenced.contains(digest.as_str()) && counted.insert(digest.as_str()))
                .map(|(_, size)| size)
                .sum();
            (tag, bytes)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(image: &str, tag: &str, digest: &str, blobs: &[(&str, u64)]) -> RegistryTag {
        RegistryTag {
            image: image.into(),
            tag: tag.into(),
            digest: digest.into(),
            blobs: blobs.iter().map(|(digest, size)| (digest.to_string(), *size)).collect(),
            ours: true,
            created: 0,
        }
    }

    fn key(image: &str, tag: &str) -> TagKey {
        (image.into(), tag.into())
    }

    #[test]
    fn only_configs_with_ohdevs_labels_for_that_image_are_ours() {
        let config = serde_json::json!({
            "created": "2026-12-03T12:00:00.5Z",
            "config": {"Labels": {"app.kubernetes.io/managed-by": "ohdev", "dev.ohdev.image": "app"}}
        });
        let (ours, created) = config_facts(&config, "app");
        assert!(ours);
        assert_eq!(created % 1_000_000_000, 500_000_000);
        assert!(!config_facts(&config, "web").0, "another image's labels");
        assert!(!config_facts(&serde_json::json!({"config": {"Labels": {"dev.ohdev.image": "app"}}}), "app").0);
        assert!(!config_facts(&serde_json::json!({"config": {}}), "app").0);
        assert_eq!(config_facts(&Value::Null, "app"), (false, 0));
    }

    #[test]
    fn a_digest_a_surviving_tag_names_is_not_deleted_and_shared_blobs_are_not_counted() {
        let tags = vec![
            tag("app", "old1", "m1", &[("base", 1000), ("l1", 10), ("c1", 1)]),
            tag("app", "old2", "m2", &[("base", 1000), ("l2", 20), ("c2", 2)]),
            // Same content as `old2` under the tag gc keeps: m2 must stay.
            tag("app", "keep", "m2", &[("base", 1000), ("l2", 20), ("c2", 2)]),
            tag("app", "new", "m3", &[("base", 1000), ("l3", 30), ("c3", 3)]),
            // Both old ones share `s`, which nothing kept names: counted once.
            tag("web", "old", "m4", &[("base", 1000), ("s", 7), ("c4", 4)]),
            tag("web", "older", "m5", &[("s", 7), ("c5", 5)]),
        ];
        let removed = BTreeSet::from([key("app", "old1"), key("app", "old2"), key("web", "old"), key("web", "older")]);
        let planned: Vec<(&str, &str, u64)> = deletions(&tags, &removed)
            .into_iter()
            .map(|(tag, bytes)| (tag.image.as_str(), tag.tag.as_str(), bytes))
            .collect();
        assert_eq!(planned, [("app", "old1", 11), ("web", "old", 7 + 4), ("web", "older", 5)]);
    }

    #[test]
    fn two_removed_tags_on_one_digest_count_their_bytes_once() {
        let tags = vec![
            tag("app", "a", "m", &[("l", 5)]),
            tag("app", "b", "m", &[("l", 5)]),
            tag("app", "c", "n", &[("k", 1)]),
        ];
        let removed = BTreeSet::from([key("app", "a"), key("app", "b")]);
        let planned: Vec<(&str, u64)> =
            deletions(&tags, &removed).into_iter().map(|(tag, bytes)| (tag.tag.as_str(), bytes)).collect();
        assert_eq!(planned, [("a", 5), ("b", 0)]);
    }
}
