//! `ohdev status`: the cluster (exists, nodes, drift from cluster.yaml), then each image: its tag,
//! size, whether it is current with the sources, and which nodes hold it; the mode (production or
//! dev) `ohdev up` deployed when ohdev.yaml has a `dev:` section. Changes nothing.

use std::collections::BTreeMap;

use super::Session;
use crate::cluster;
use crate::error::Error;
use crate::events::Event;
use crate::image::{self, load};
use crate::state::StateReader;

pub async fn status(session: &Session) -> Result<(), Error> {
    let config = &session.config;
    let reporter = &session.reporter;
    let name = config.cluster.name.clone();
    let exists = session.kind().clusters().await?.contains(&name);
    let (nodes, node_images) = if exists {
        let list = session.kubectl().get_json(["nodes"]).await?;
        (crate::tools::kubectl::parse_nodes(&list), load::node_images(&list))
    } else {
        (Vec::new(), BTreeMap::new())
    };
    let state = StateReader::new(&config.root, reporter);
    let drift = state
        .load()
        .cluster
        .filter(|record| record.name == name && exists)
        .map(|record| cluster::diff(&record.config_text, &session.kind_cluster().text));
    reporter.emit(Event::ClusterStatus { name, exists, context: config.cluster.context(), nodes, drift });
    if exists {
        let deployed = config.clone().with_mode(crate::deploy::mode::recorded(&state, config));
        if let Some(mode) = deployed.describe_mode() {
            reporter.emit(Event::info(format!("deployed in {mode}")));
        }
    }
    if config.images.is_empty() {
        return Ok(());
    }
    let records: load::ImageRecords = state.section();
    let docker = session.docker_if_running();
    for (image_name, image) in &config.images {
        let record = records.get(image_name);
        let inspected = match (docker, record) {
            (Some(docker), Some(record)) => docker.inspect_image(&record.tag).await.ok(),
            _ => None,
        };
        // Without prebuild and dependency tags the digest is only comparable for self-contained images.
        let current = match record {
            Some(record)
                if image.prebuild.is_empty() && !image.build_args.values().any(|value| value.contains("${image:")) =>
            {
                match image::digest_image(config, image, &image.build_args, state.dir()).await {
                    Ok((_, report)) => report.digest.hex() == record.digest,
                    Err(_) => false,
                }
            }
            Some(_) => true,
            None => false,
        };
        let loaded_on = record
            .map(|record| {
                node_images
                    .iter()
                    .filter(|(_, names)| names.contains(&record.tag))
                    .map(|(node, _)| node.clone())
                    .collect()
            })
            .unwrap_or_default();
        reporter.emit(Event::ImageStatus {
            image: image_name.clone(),
            tag: record.filter(|_| inspected.is_some()).map(|record| record.tag.clone()),
            size_bytes: inspected.as_ref().and_then(|image| image.size),
            built: inspected
                .as_ref()
                .and_then(|image| image.created.as_ref().map(|created| created.to_string().chars().take(19).collect())),
            loaded_on,
            current,
        });
    }
    Ok(())
}
