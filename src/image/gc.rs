//! Which content tags garbage collection keeps, and which it removes: pure, so every rule is
//! table-tested without Docker, a registry or a cluster.
//!
//! Every rebuild leaves a content tag behind (in Docker, in the registry, on each kind node). A
//! *candidate* is one content tag of one image that ohdev built — found by ohdev's labels, never by
//! its name alone. Of each image gc keeps the newest `keep` tags, and also, whatever their age, the
//! tag ohdev last recorded as current and every tag a pod of the cluster still uses. Everything
//! else goes. Tags are compared as `(image, content tag)`, so the same content pushed to a registry
//! (`<host>/<image>:<tag>`) and built locally (`ohdev.local/<image>:<tag>`) is one candidate.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::Value;

/// `(image name, content tag)`.
pub type TagKey = (String, String);

/// One content tag of one image ohdev built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub image: String,
    pub tag: String,
    /// When the image was built (unix nanoseconds): newest first decides what `keep` keeps.
    pub created: i64,
}

impl Candidate {
    pub fn key(&self) -> TagKey {
        (self.image.clone(), self.tag.clone())
    }
}

/// Why a tag stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeepReason {
    /// The tag ohdev last built or loaded (state.json): the next `up` uses it.
    Current,
    /// A pod of the cluster runs it (or is about to).
    InUse,
    /// Among the newest `keep` of its image.
    Newest,
}

impl KeepReason {
    pub fn describe(self) -> &'static str {
        match self {
            KeepReason::Current => "current",
            KeepReason::InUse => "in use by a pod",
            KeepReason::Newest => "among the newest",
        }
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Newest first within each image; images in name order.
    pub keep: Vec<(Candidate, KeepReason)>,
    pub remove: Vec<Candidate>,
}

impl Selection {
    pub fn removed_keys(&self) -> BTreeSet<TagKey> {
        self.remove.iter().map(Candidate::key).collect()
    }
}

/// Decide per image: the newest `keep_for(image)` tags, the current tag (`current`: image → tag)
/// and every tag in `in_use` stay; the rest is removed. Candidates seen twice (Docker and the
/// registry) count once, with the newer time.
pub fn select(
    candidates: &[Candidate],
    keep_for: &dyn Fn(&str) -> usize,
    current: &BTreeMap<String, String>,
    in_use: &BTreeSet<TagKey>,
) -> Selection {
    let mut by_image: BTreeMap<&str, BTreeMap<&str, i64>> = BTreeMap::new();
    for candidate in candidates {
        let created = by_image.entry(&candidate.image).or_default().entry(&candidate.tag).or_insert(candidate.created);
        *created = (*created).max(candidate.created);
    }
    let mut selection = Selection::default();
    for (image, tags) in by_image {
        let mut ordered: Vec<(&str, i64)> = tags.into_iter().collect();
        // Newest first; the tag breaks ties so a run is repeatable.
        ordered.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(a.0)));
        let keep = keep_for(image);
        for (index, (tag, created)) in ordered.into_iter().enumerate() {
            let candidate = Candidate { image: image.to_string(), tag: tag.to_string(), created };
            let reason = if current.get(image).map(String::as_str) == Some(tag) {
                Some(KeepReason::Current)
            } else if in_use.contains(&candidate.key()) {
                Some(KeepReason::InUse)
            } else if index < keep {
                Some(KeepReason::Newest)
            } else {
                None
            };
            match reason {
                Some(reason) => selection.keep.push((candidate, reason)),
                None => selection.remove.push(candidate),
            }
        }
    }
    selection
}

/// `localhost:5001/app:0123…` → `("localhost:5001/app", "0123…")`; a digest (`@sha256:…`) is
/// dropped, a reference without a tag is None.
pub fn split_reference(reference: &str) -> Option<(&str, &str)> {
    let reference = reference.split('@').next().unwrap_or(reference);
    let (repository, tag) = reference.rsplit_once(':')?;
    if tag.contains('/') || repository.is_empty() || tag.is_empty() {
        return None;
    }
    Some((repository, tag))
}

/// The `(image, content tag)` a reference names, when its repository is ohdev's for some image:
/// `ohdev.local/<image>` or `<registry host>/<image>` for one of `hosts` (containerd's
/// `docker.io/` prefix ignored).
pub fn ohdev_key(reference: &str, hosts: &[String]) -> Option<TagKey> {
    let reference = reference.strip_prefix("docker.io/").unwrap_or(reference);
    let (repository, tag) = split_reference(reference)?;
    let (host, image) = repository.split_once('/')?;
    let ours = host == crate::names::IMAGE_REPOSITORY_HOST || hosts.iter().any(|known| known == host);
    (ours && !image.contains('/')).then(|| (image.to_string(), tag.to_string()))
}

/// The `(image, tag)` of every container image a pod that has not finished names, in any
/// namespace (`kubectl get pods -A -o json`), whatever the registry host: a tag a pod runs is
/// never removed, even when it reached the pod some way ohdev does not know.
pub fn tags_in_use(pods: &Value) -> BTreeSet<TagKey> {
    let mut keys = BTreeSet::new();
    for pod in pods["items"].as_array().into_iter().flatten() {
        if matches!(pod["status"]["phase"].as_str(), Some("Succeeded" | "Failed")) {
            continue;
        }
        let spec_images = ["containers", "initContainers", "ephemeralContainers"]
            .into_iter()
            .flat_map(|field| pod["spec"][field].as_array().into_iter().flatten())
            .filter_map(|container| container["image"].as_str());
        let status_images = ["containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"]
            .into_iter()
            .flat_map(|field| pod["status"][field].as_array().into_iter().flatten())
            .filter_map(|status| status["image"].as_str());
        for reference in spec_images.chain(status_images) {
            let reference = reference.strip_prefix("docker.io/").unwrap_or(reference);
            if let Some((repository, tag)) = split_reference(reference) {
                let image = repository.rsplit('/').next().unwrap_or(repository);
                keys.insert((image.to_string(), tag.to_string()));
            }
        }
    }
    keys
}

/// One image in a kind node's containerd, as `crictl images -o json` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeImage {
    pub id: String,
    #[serde(default)]
    pub repo_tags: Vec<String>,
    /// crictl prints the size as a string of bytes.
    #[serde(default, deserialize_with = "size_from_text")]
    pub size: u64,
}

fn size_from_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(text) => text.parse().unwrap_or(0),
        Value::Number(number) => number.as_u64().unwrap_or(0),
        _ => 0,
    })
}

/// `crictl images -o json` → its images (`{"images": [...]}`).
pub fn parse_node_images(text: &str) -> Result<Vec<NodeImage>, serde_json::Error> {
    #[derive(Deserialize)]
    struct List {
        #[serde(default)]
        images: Vec<NodeImage>,
    }
    serde_json::from_str::<List>(text).map(|list| list.images)
}

/// What to `crictl rmi` on one node: for each node image that holds a removed tag, the reference
/// to name it by — but only when every tag of that image is a removed one of ohdev's. containerd
/// removes an image with all its references, so an image that also carries a kept or a foreign
/// tag stays.
pub fn node_removals(images: &[NodeImage], removed: &BTreeSet<TagKey>, hosts: &[String]) -> Vec<(String, NodeImage)> {
    images
        .iter()
        .filter_map(|image| {
            let keys: Vec<Option<TagKey>> =
                image.repo_tags.iter().map(|reference| ohdev_key(reference, hosts)).collect();
            let all_removed =
                !keys.is_empty() && keys.iter().all(|key| key.as_ref().is_some_and(|key| removed.contains(key)));
            all_removed.then(|| (image.repo_tags[0].clone(), image.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(image: &str, tag: &str, created: i64) -> Candidate {
        Candidate { image: image.into(), tag: tag.into(), created }
    }

    fn key(image: &str, tag: &str) -> TagKey {
        (image.into(), tag.into())
    }

    fn tags(list: &[(Candidate, KeepReason)]) -> Vec<(&str, &str, KeepReason)> {
        list.iter().map(|(c, reason)| (c.image.as_str(), c.tag.as_str(), *reason)).collect()
    }

    fn removed(selection: &Selection) -> Vec<(&str, &str)> {
        selection.remove.iter().map(|c| (c.image.as_str(), c.tag.as_str())).collect()
    }

    #[test]
    fn keeps_the_newest_n_per_image_and_removes_the_rest() {
        let candidates: Vec<Candidate> =
            (1..=5).map(|n| candidate("app", &format!("t{n}"), n)).chain([candidate("web", "w1", 1)]).collect();
        let selection = select(&candidates, &|_| 3, &BTreeMap::new(), &BTreeSet::new());
        assert_eq!(
            tags(&selection.keep),
            [
                ("app", "t5", KeepReason::Newest),
                ("app", "t4", KeepReason::Newest),
                ("app", "t3", KeepReason::Newest),
                ("web", "w1", KeepReason::Newest)
            ]
        );
        assert_eq!(removed(&selection), [("app", "t2"), ("app", "t1")]);
    }

    #[test]
    fn the_current_tag_and_tags_pods_use_stay_whatever_their_age() {
        let candidates: Vec<Candidate> = (1..=6).map(|n| candidate("app", &format!("t{n}"), n)).collect();
        let current = BTreeMap::from([("app".to_string(), "t1".to_string())]);
        let in_use = BTreeSet::from([key("app", "t2"), key("other", "t3")]);
        let selection = select(&candidates, &|_| 2, &current, &in_use);
        assert_eq!(
            tags(&selection.keep),
            [
                ("app", "t6", KeepReason::Newest),
                ("app", "t5", KeepReason::Newest),
                ("app", "t2", KeepReason::InUse),
                ("app", "t1", KeepReason::Current)
            ]
        );
        assert_eq!(removed(&selection), [("app", "t4"), ("app", "t3")]);
        // The current tag among the newest counts as one of them.
        let current = BTreeMap::from([("app".to_string(), "t6".to_string())]);
        let selection = select(&candidates, &|_| 2, &current, &BTreeSet::new());
        assert_eq!(selection.keep.len(), 2);
        assert_eq!(selection.keep[0].1, KeepReason::Current);
    }

    #[test]
    fn keep_is_per_image_and_duplicates_count_once_with_the_newer_time() {
        let candidates = [
            candidate("app", "a", 1),
            candidate("app", "b", 2),
            // The same tag in the registry, pushed later than `b` was built.
            candidate("app", "a", 3),
            candidate("web", "x", 1),
            candidate("web", "y", 2),
        ];
        let keep_for = |image: &str| if image == "web" { 2 } else { 1 };
        let selection = select(&candidates, &keep_for, &BTreeMap::new(), &BTreeSet::new());
        assert_eq!(
            tags(&selection.keep),
            [("app", "a", KeepReason::Newest), ("web", "y", KeepReason::Newest), ("web", "x", KeepReason::Newest)]
        );
        assert_eq!(removed(&selection), [("app", "b")]);
        assert_eq!(selection.removed_keys(), BTreeSet::from([key("app", "b")]));
    }

    #[test]
    fn equal_times_are_ordered_by_tag_so_runs_agree() {
        let candidates = [candidate("app", "b", 5), candidate("app", "a", 5), candidate("app", "c", 5)];
        let selection = select(&candidates, &|_| 1, &BTreeMap::new(), &BTreeSet::new());
        assert_eq!(tags(&selection.keep), [("app", "c", KeepReason::Newest)]);
        assert_eq!(removed(&selection), [("app", "b"), ("app", "a")]);
    }

    #[test]
    fn references_split_and_only_ohdevs_repositories_are_recognised() {
        let hosts = vec!["localhost:5001".to_string(), "kind-registry:5000".to_string()];
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            ("ohdev.local/app:0123", Some(("app", "0123"))),
            ("docker.io/ohdev.local/app:0123", Some(("app", "0123"))),
            ("localhost:5001/app:0123", Some(("app", "0123"))),
            ("kind-registry:5000/app:0123@sha256:abcd", Some(("app", "0123"))),
            ("localhost:5002/app:0123", None),
            ("example.org/app:0123", None),
            ("ohdev.local/team/app:0123", None),
            ("ohdev.local/app", None),
            ("localhost:5001/app", None),
            ("app:0123", None),
        ];
        for (reference, expected) in cases {
            let expected = expected.map(|(image, tag)| key(image, tag));
            assert_eq!(ohdev_key(reference, &hosts), expected, "{reference}");
        }
        assert_eq!(split_reference("localhost:5001/app"), None);
        assert_eq!(split_reference("a/b:c@sha256:1"), Some(("a/b", "c")));
    }

    #[test]
    fn pods_that_have_not_finished_protect_every_image_they_name() {
        let pods = serde_json::json!({"items": [
            {"spec": {"containers": [{"image": "ohdev.local/app:aaa"}], "initContainers": [{"image": "localhost:5001/init:bbb"}]},
             "status": {"phase": "Running", "containerStatuses": [{"image": "docker.io/ohdev.local/side:ccc"}]}},
            {"spec": {"containers": [{"image": "ohdev.local/app:old"}]}, "status": {"phase": "Succeeded"}},
            {"spec": {"containers": [{"image": "ohdev.local/app:pending"}]}, "status": {"phase": "Pending"}},
            {"spec": {"containers": [{"image": "busybox"}, {"image": "registry.k8s.io/pause:3.9"}]}, "status": {}}
        ]});
        assert_eq!(
            tags_in_use(&pods),
            BTreeSet::from([
                key("app", "aaa"),
                key("init", "bbb"),
                key("side", "ccc"),
                key("app", "pending"),
                key("pause", "3.9")
            ])
        );
        assert!(tags_in_use(&serde_json::json!({})).is_empty());
    }

    #[test]
    fn crictl_images_parse_and_only_wholly_removed_images_are_named() {
        let text = r#"{"images": [
            {"id": "sha256:1", "repoTags": ["docker.io/ohdev.local/app:old"], "repoDigests": [], "size": "2048", "pinned": false},
            {"id": "sha256:2", "repoTags": ["localhost:5001/app:old2", "ohdev.local/app:old2"], "size": "100"},
            {"id": "sha256:3", "repoTags": ["ohdev.local/app:new"], "size": "5"},
            {"id": "sha256:4", "repoTags": ["ohdev.local/app:old3", "ohdev.local/app:new"], "size": "7"},
            {"id": "sha256:5", "repoTags": ["ohdev.local/app:old3", "example.org/app:old3"], "size": "7"},
            {"id": "sha256:6", "repoTags": [], "size": 9}
        ]}"#;
        let images = parse_node_images(text).unwrap();
        assert_eq!(images[0].size, 2048);
        assert_eq!(images[5].size, 9);
        let removed = BTreeSet::from([key("app", "old"), key("app", "old2"), key("app", "old3")]);
        let hosts = vec!["localhost:5001".to_string()];
        let chosen: Vec<(String, String, u64)> = node_removals(&images, &removed, &hosts)
            .into_iter()
            .map(|(reference, image)| (reference, image.id, image.size))
            .collect();
        assert_eq!(
            chosen,
            [
                ("docker.io/ohdev.local/app:old".to_string(), "sha256:1".to_string(), 2048),
                ("localhost:5001/app:old2".to_string(), "sha256:2".to_string(), 100)
            ]
        );
        assert!(parse_node_images("not json").is_err());
        assert_eq!(parse_node_images("{}").unwrap(), []);
    }
}
