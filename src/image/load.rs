//! Move built images into the kind nodes, only when some node lacks them.
//!
//! Nodes report the images they hold in `status.images` (kubelet). The tag is content-addressed,
//! so a node that lists the tag holds exactly this content. When the list does not show it (kubelet
//! reports at most 50 images, and with a delay) ohdev calls `kind load`, which itself compares image
//! IDs per node and copies only where needed.
//!
//! An image built just now (its content tag was not in Docker) is not on the nodes: asking them
//! first (`kubectl get nodes`, a process and an API call on every rebuild of the watch loop) only
//! confirms it. So once ohdev knows the cluster's nodes for that image, a fresh build is loaded
//! without asking; `kind load` still checks each node.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::result::{BuildResult, Outcome};
use crate::error::Error;
use crate::events::{Event, ImageState};
use crate::state::StateLock;
use crate::tools::kind::Kind;
use crate::tools::kubectl::Kubectl;
use crate::ui::Reporter;

/// What ohdev knows about one image, kept in state under `images`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImageRecord {
    pub tag: String,
    pub digest: String,
    pub image_id: String,
    pub built_at: Option<String>,
    /// Cluster name → nodes the image was loaded on.
    #[serde(default)]
    pub loaded: BTreeMap<String, Vec<String>>,
    /// Registry host (as ohdev pushes to it) → what was pushed there (registry path; no `kind load`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pushed: BTreeMap<String, PushRecord>,
}

/// One image in one registry.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PushRecord {
    /// `localhost:5001/app:<content tag>`: what ohdev pushed.
    pub reference: String,
    /// What manifests name (the registry as the nodes reach it).
    pub runtime_reference: String,
    /// The manifest digest the registry holds, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
}

pub type ImageRecords = BTreeMap<String, ImageRecord>;

impl ImageRecord {
    /// This build is now the image's current one. A new tag is in no cluster and no registry yet:
    /// where the old one was loaded or pushed is forgotten.
    pub fn set_built(&mut self, result: &BuildResult, image_id: &str) {
        if self.tag != result.tag {
            self.built_at = Some(crate::ui::timestamp());
            self.loaded.clear();
            self.pushed.clear();
        }
        self.tag = result.tag.clone();
        self.digest = result.digest.clone();
        self.image_id = image_id.to_string();
    }
}
pub const STATE_KEY: &str = "images";

impl crate::state::Section for ImageRecords {
    const KEY: &'static str = STATE_KEY;
}

/// Node name → image names it reports.
pub fn node_images(nodes: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for node in nodes["items"].as_array().into_iter().flatten() {
        let name = node["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let mut names = BTreeSet::new();
        for image in node["status"]["images"].as_array().into_iter().flatten() {
            for reference in image["names"].as_array().into_iter().flatten() {
                if let Some(reference) = reference.as_str() {
                    names.insert(reference.to_string());
                    // containerd lists `docker.io/<tag>` for images kind loaded.
                    if let Some(short) = reference.strip_prefix("docker.io/") {
                        names.insert(short.to_string());
                    }
                }
            }
        }
        out.insert(name, names);
    }
    out
}

/// The nodes that do not report `tag`.
pub fn nodes_missing(nodes: &BTreeMap<String, BTreeSet<String>>, tag: &str) -> Vec<String> {
    nodes.iter().filter(|(_, images)| !images.contains(tag)).map(|(node, _)| node.clone()).collect()
}

/// Load every successfully built image that some node lacks; record what is where.
pub async fn load_all(
    kind: &Kind,
    kubectl: &Kubectl,
    cluster: &str,
    results: &[BuildResult],
    force: bool,
    lock: &StateLock,
    reporter: &Reporter,
) -> Result<usize, Error> {
    let records: ImageRecords = lock.section();
    // The nodes' image lists, read at most once and only when some image may already be there.
    let mut listed: Option<BTreeMap<String, BTreeSet<String>>> = None;
    let mut loads = 0;
    for result in results {
        let Some(image_id) = result.image_id() else { continue };
        let known_nodes = records
            .get(&result.name)
            .and_then(|record| record.loaded.get(cluster))
            .filter(|nodes| !nodes.is_empty() && matches!(result.outcome, Outcome::Built { .. }));
        let (missing, node_names) = match known_nodes {
            Some(nodes) => (nodes.clone(), nodes.clone()),
            None => {
                let nodes = match &mut listed {
                    Some(nodes) => nodes,
                    None => listed.insert(node_images(&kubectl.get_json(["nodes"]).await?)),
                };
                (nodes_missing(nodes, &result.tag), nodes.keys().cloned().collect())
            }
        };
        if missing.is_empty() && !force {
            reporter.emit(Event::image(result.name.clone(), result.tag.clone(), ImageState::AlreadyLoaded, None));
        } else {
            reporter.emit(Event::image(
                result.name.clone(),
                result.tag.clone(),
                ImageState::Loading,
                Some(format!("node(s) without it: {}", missing.join(", "))),
            ));
            let label = format!("loading {} into the cluster", result.tag);
            crate::heartbeat::beating(
                reporter,
                &format!("load:{}", result.name),
                &label,
                kind.load_image(cluster, &result.tag),
            )
            .await?;
            loads += 1;
            reporter.emit(Event::image(result.name.clone(), result.tag.clone(), ImageState::Loaded, None));
        }
        lock.update_section(|records: &mut ImageRecords| {
            let record = records.entry(result.name.clone()).or_default();
            record.set_built(result, image_id);
            record.loaded.insert(cluster.to_string(), node_names.clone());
        })?;
    }
    Ok(loads)
}

/// Record built images (for `ohdev build`, which does not load).
pub fn record_built(results: &[BuildResult], lock: &StateLock) -> Result<(), Error> {
    lock.update_section(|records: &mut ImageRecords| {
        for result in results {
            let Some(image_id) = result.image_id() else { continue };
            records.entry(result.name.clone()).or_default().set_built(result, image_id);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nodes_without_the_tag() {
        let nodes = serde_json::json!({"items": [
            {"metadata": {"name": "a"}, "status": {"images": [{"names": ["docker.io/ohdev.local/app:1234"]}]}},
            {"metadata": {"name": "b"}, "status": {"images": [{"names": ["registry.k8s.io/pause:3.9"]}]}},
            {"metadata": {"name": "c"}, "status": {}}
        ]});
        let images = node_images(&nodes);
        assert_eq!(nodes_missing(&images, "ohdev.local/app:1234"), ["b", "c"]);
        assert_eq!(nodes_missing(&images, "registry.k8s.io/pause:3.9"), ["a", "c"]);
    }
}
