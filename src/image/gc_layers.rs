//! How many bytes removing some images frees in Docker, computed from what the Engine API says about
//! every image: pure, so the accounting is tested without Docker.
//!
//! Docker stores a layer once per *chain* (the layer and every layer below it), so a layer is shared
//! between two images exactly when their layer lists agree up to and including it. Removing a set
//! of images frees the chains only they hold. The API gives each image's layer list (`RootFS.Layers`)
//! but a size only per history entry, where entries that made no layer (ENV, LABEL, CMD…) are mixed
//! in with size 0; [`layer_sizes`] pairs them up, and says "unknown" rather than guess.

use std::collections::{BTreeMap, BTreeSet};

/// One history entry, oldest first: its size and the instruction that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub size: u64,
    pub created_by: String,
}

/// An image's layers (diff IDs, lowest first) and, when they could be paired with its history,
/// the size of each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageLayers {
    pub layers: Vec<String>,
    pub sizes: Option<Vec<u64>>,
}

/// Whether a history entry of size 0 made a layer anyway: a `RUN`, `COPY` or `ADD` always does
/// (an empty one when nothing changed); metadata instructions (`#(nop)` in the classic builder's
/// text, `ENV`/`LABEL`/… in BuildKit's) never do.
fn makes_layer(entry: &HistoryEntry) -> bool {
    if entry.size > 0 {
        return true;
    }
    let text = entry.created_by.trim();
    let text = text.strip_prefix("/bin/sh -c ").unwrap_or(text).trim();
    if let Some(rest) = text.strip_prefix("#(nop)") {
        let rest = rest.trim_start();
        return rest.starts_with("COPY") || rest.starts_with("ADD");
    }
    let word = text.split_whitespace().next().unwrap_or_default();
    match word {
        "RUN" | "COPY" | "ADD" => true,
        "ENV" | "LABEL" | "CMD" | "ENTRYPOINT" | "EXPOSE" | "USER" | "WORKDIR" | "VOLUME" | "ARG" | "STOPSIGNAL"
        | "HEALTHCHECK" | "SHELL" | "ONBUILD" | "MAINTAINER" => false,
        // The classic builder writes a RUN as the bare command line (`/bin/sh -c make`).
        _ => entry.created_by.trim().starts_with("/bin/sh -c"),
    }
}

/// The size of each of `layer_count` layers from the image's history (oldest first), or None when
/// the history does not pair up with the layers (then the bytes are reported as not measured).
pub fn layer_sizes(history: &[HistoryEntry], layer_count: usize) -> Option<Vec<u64>> {
    let nonzero: Vec<u64> = history.iter().filter(|entry| entry.size > 0).map(|entry| entry.size).collect();
    if nonzero.len() == layer_count {
        return Some(nonzero);
    }
    let layers: Vec<u64> = history.iter().filter(|entry| makes_layer(entry)).map(|entry| entry.size).collect();
    (layers.len() == layer_count).then_some(layers)
}

/// Bytes freed by removing the images `removed` (by ID) while every other image in `images` stays;
/// None when a freed layer's size is unknown.
pub fn freed_bytes(images: &BTreeMap<String, ImageLayers>, removed: &BTreeSet<String>) -> Option<u64> {
    // A chain is named by the layer list up to it.
    let kept: BTreeSet<&[String]> = images
        .iter()
        .filter(|(id, _)| !removed.contains(*id))
        .flat_map(|(_, image)| (1..=image.layers.len()).map(|end| &image.layers[..end]))
        .collect();
    let mut freed: BTreeMap<&[String], Option<u64>> = BTreeMap::new();
    for (_, image) in images.iter().filter(|(id, _)| removed.contains(*id)) {
        for end in 1..=image.layers.len() {
            let chain = &image.layers[..end];
            if kept.contains(chain) {
                continue;
            }
            let size = image.sizes.as_ref().map(|sizes| sizes[end - 1]);
            let entry = freed.entry(chain).or_insert(size);
            if entry.is_none() {
                *entry = size;
            }
        }
    }
    freed.into_values().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(size: u64, created_by: &str) -> HistoryEntry {
        HistoryEntry { size, created_by: created_by.into() }
    }

    fn image(layers: &[&str], sizes: Option<&[u64]>) -> ImageLayers {
        ImageLayers {
            layers: layers.iter().map(|layer| layer.to_string()).collect(),
            sizes: sizes.map(<[u64]>::to_vec),
        }
    }

    #[test]
    fn history_pairs_with_layers_including_empty_ones() {
        let buildkit = [
            entry(2_000_000, "Imported from -"),
            entry(0, "ARG BASE"),
            entry(0, "ENV A=1"),
            entry(300, "COPY app /app # buildkit"),
            entry(0, "RUN /bin/sh -c true # buildkit"),
            entry(0, "CMD [\"sh\"]"),
        ];
        assert_eq!(layer_sizes(&buildkit, 3), Some(vec![2_000_000, 300, 0]));
        assert_eq!(layer_sizes(&buildkit, 4), None, "three layers in the history, four in the image");
        let classic = [
            entry(2_000_000, "Imported from -"),
            entry(0, "/bin/sh -c #(nop)  ARG BASE"),
            entry(0, "/bin/sh -c #(nop) COPY dir:abc in /app "),
            entry(0, "/bin/sh -c true"),
            entry(0, "/bin/sh -c #(nop)  CMD [\"sh\"]"),
        ];
        assert_eq!(layer_sizes(&classic, 3), Some(vec![2_000_000, 0, 0]));
        // Every layer has bytes: no need to read the instructions.
        assert_eq!(layer_sizes(&[entry(5, "odd"), entry(0, "RUN x"), entry(7, "odd")], 2), Some(vec![5, 7]));
    }

    #[test]
    fn only_chains_no_remaining_image_holds_are_freed() {
        let images = BTreeMap::from([
            ("base".to_string(), image(&["b"], Some(&[1000]))),
            ("old".to_string(), image(&["b", "x1"], Some(&[1000, 10]))),
            ("older".to_string(), image(&["b", "x0", "y"], Some(&[1000, 20, 5]))),
            ("new".to_string(), image(&["b", "x2"], Some(&[1000, 30]))),
            // Same diff ID as `older`'s top layer, on another chain: stored separately.
            ("other".to_string(), image(&["c", "y"], Some(&[7, 5]))),
        ]);
        let removed = BTreeSet::from(["old".to_string(), "older".to_string()]);
        assert_eq!(freed_bytes(&images, &removed), Some(10 + 20 + 5));
        // The base goes too when nothing else holds it.
        let all_but_other = BTreeSet::from(["base", "old", "older", "new"].map(str::to_string));
        assert_eq!(freed_bytes(&images, &all_but_other), Some(1000 + 10 + 20 + 5 + 30));
        assert_eq!(freed_bytes(&images, &BTreeSet::new()), Some(0));
    }

    #[test]
    fn two_removed_images_sharing_a_layer_free_it_once() {
        let images = BTreeMap::from([
            ("a".to_string(), image(&["b", "s", "a"], Some(&[100, 50, 1]))),
            ("b".to_string(), image(&["b", "s", "z"], Some(&[100, 50, 2]))),
            ("keep".to_string(), image(&["b"], Some(&[100]))),
        ]);
        let removed = BTreeSet::from(["a".to_string(), "b".to_string()]);
        assert_eq!(freed_bytes(&images, &removed), Some(50 + 1 + 2));
    }

    #[test]
    fn an_unknown_size_of_a_freed_layer_makes_the_total_unknown() {
        let images = BTreeMap::from([
            ("a".to_string(), image(&["b", "a"], None)),
            ("keep".to_string(), image(&["b"], Some(&[100]))),
        ]);
        assert_eq!(freed_bytes(&images, &BTreeSet::from(["a".to_string()])), None);
        // Known through another removed image holding the same chain.
        let images = BTreeMap::from([
            ("a".to_string(), image(&["b", "a"], None)),
            ("twin".to_string(), image(&["b", "a"], Some(&[100, 4]))),
            ("keep".to_string(), image(&["b"], Some(&[100]))),
        ]);
        assert_eq!(freed_bytes(&images, &BTreeSet::from(["a".to_string(), "twin".to_string()])), Some(4));
    }
}
