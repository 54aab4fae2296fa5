//! `kind load docker-image`: asks the real Docker engine for each image's ID (as kind does, with
//! `docker image inspect -f '{{ .Id }}'`), then records tag → ID on the chosen nodes, printing
//! kind's own messages.

use crate::app::Ctx;
use crate::flags::Parsed;

fn docker_image_id(ctx: &Ctx, image: &str) -> Option<String> {
    if let Some(lookup) = &ctx.env.image_lookup {
        return lookup(image);
    }
    let out = std::process::Command::new(&ctx.env.docker_bin)
        .args(["image", "inspect", "-f", "{{ .Id }}", image])
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    (out.status.success() && lines.len() == 1).then(|| lines[0].trim().to_string())
}

pub fn run(ctx: &mut Ctx, p: &Parsed, images: &[String]) -> i32 {
    if images.is_empty() {
        return ctx.fail(1, "ERROR: name of image is required");
    }
    let name =
        p.get("name").map(String::from).or_else(|| ctx.env.kind_cluster_name.clone()).unwrap_or_else(|| "kind".into());
    let wanted: Vec<String> =
        p.all("nodes").iter().flat_map(|v| v.split(',')).filter(|s| !s.is_empty()).map(String::from).collect();
    let mut ids = Vec::new();
    for image in images {
        match docker_image_id(ctx, image) {
            Some(id) => ids.push(id),
            None => return ctx.fail(1, &format!("ERROR: image: \"{image}\" not present locally")),
        }
    }
    let result = ctx.store.transact(|state| -> Result<Vec<String>, String> {
        let cluster = state.clusters.get_mut(&name).ok_or_else(|| format!("no nodes found for cluster \"{name}\""))?;
        let known: Vec<String> = cluster.nodes.iter().filter(|n| n.is_kubernetes_node()).map(|n| n.name.clone()).collect();
        for w in &wanted {
            if !known.contains(w) {
                return Err(format!("unknown node: \"{w}\""));
            }
        }
        let mut lines = Vec::new();
        for (image, id) in images.iter().zip(&ids) {
            let mut touched = false;
            for node in cluster.nodes.iter_mut().filter(|n| n.is_kubernetes_node() && (wanted.is_empty() || wanted.contains(&n.name))) {
                if node.images.get(image) == Some(id) {
                    continue;
                }
                touched = true;
                if node.images.values().any(|v| v == id) {
                    lines.push(format!("Image with ID: {id} already present on the node {} but is missing the tag {image}. re-tagging...", node.name));
                } else {
                    lines.push(format!("Image: \"{image}\" with ID \"{id}\" not yet present on node \"{}\", loading...", node.name));
                }
                node.images.insert(image.clone(), id.clone());
            }
            if !touched {
                lines.push(format!("Image: \"{image}\" with ID \"{id}\" found to be already present on all nodes."));
            }
        }
        Ok(lines)
    });
    match result {
        Ok(Ok(lines)) => {
            for l in lines {
                ctx.warn(&format!("{l}\n"));
            }
            0
        }
        Ok(Err(e)) => ctx.fail(1, &format!("ERROR: {e}")),
        Err(e) => ctx.fail(3, &format!("fake-kube: state: {e}")),
    }
}
