//! Garbage collection's side on the kind nodes: each node is a Docker container whose containerd
//! holds every image loaded or pulled into it. `crictl` (in every kind node image) lists and
//! removes them; ohdev runs it through the Engine API's exec, as `docker exec` would.

use std::time::Duration;

use bollard::Docker;

use super::gc::{parse_node_images, NodeImage};
use crate::error::Error;
use crate::tools::docker::exec;

const CRICTL_TIMEOUT: Duration = Duration::from_secs(60);

/// The images in `node`'s containerd; None when no container of that name exists (kind lists a
/// node that is being deleted).
pub async fn node_images(docker: &Docker, node: &str) -> Result<Option<Vec<NodeImage>>, Error> {
    let Some(output) = exec(docker, node, &["crictl", "images", "-o", "json"], CRICTL_TIMEOUT).await? else {
        return Ok(None);
    };
    if output.exit_code != 0 {
        return Err(Error::work(
            format!("`crictl images` on node {node} exited {}: {}", output.exit_code, output.stderr.trim()),
            Some(format!("`docker exec {node} crictl images` shows the same; is the node running?")),
        ));
    }
    parse_node_images(&output.stdout).map(Some).map_err(|error| {
        Error::work(format!("`crictl images -o json` on node {node} printed what ohdev cannot read: {error}"), None)
    })
}

/// `crictl rmi <reference>` on `node` (containerd removes the image with all its references).
pub async fn remove(docker: &Docker, node: &str, reference: &str) -> Result<(), Error> {
    match exec(docker, node, &["crictl", "rmi", reference], CRICTL_TIMEOUT).await? {
        Some(output) if output.exit_code == 0 => Ok(()),
        Some(output) => Err(Error::work(
            format!("`crictl rmi {reference}` on node {node} exited {}: {}", output.exit_code, output.stderr.trim()),
            None,
        )),
        None => Err(Error::work(format!("node {node} went away while ohdev removed {reference} from it"), None)),
    }
}
