//! `ohdev status`: the cluster (exists, nodes, drift from cluster.yaml), then each image: its tag,
//! size, whether it is current with the sources, and which nodes hold it; the mode (production or
//! dev) `ohdev up` deployed when ohdev.yaml has a `dev:` section. Changes nothing.

use std::collections::BTreeMap;

use super::Session;
use crate::cluster;
use crate::error::Error;
use crate::events::Event;
use crate::image::{self, load};
use crate::registry::client::Client;
use crate::registry::push::content_tag;
use crate::registry::Target;
use crate::state::StateReader;

/// The registry in use (configured, or advertised by an existing cluster), and whether it answers.
async fn registry_status(session: &Session, cluster_exists: bool) -> Result<Option<Target>, Error> {
    let target = match (&session.config.registry, session.remote()) {
        (_, Some(remote)) => Some(Target::remote(&remote.registry)),
        (Some(config), None) => Some(Target::configured(config)),
        (None, None) if cluster_exists => crate::registry::discover(session.kubectl()).await?,
        (None, None) => None,
    };
    let Some(target) = target else { return Ok(None) };
    let answering = Client::new(&target.push_host).probe().await.is_registry();
    let container = match (session.docker_if_running(), &session.config.registry) {
        (Some(docker), Some(config)) => {
            crate::registry::container::publisher(docker, config.port).await.ok().flatten().map(|running| running.name)
        }
        _ => None,
    };
    session.reporter.emit(Event::RegistryStatus {
        host: target.push_host.clone(),
        runtime_host: target.runtime_host.clone(),
        advertised: target.advertised,
        answering,
        container,
    });
    Ok(Some(target))
}

pub async fn status(session: &Session) -> Result<(), Error> {
    let config = &session.config;
    let reporter = &session.reporter;
    let (name, exists) = match session.remote() {
        // Session::open checked that the target's cluster answers.
        Some(target) => (format!("target {}", target.name), true),
        None => {
            let name = config.cluster.name.clone();
            let exists = session.kind().clusters().await?.contains(&name);
            (name, exists)
        }
    };
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
        .filter(|record| record.name == name && exists && session.remote().is_none())
        .map(|record| cluster::diff(&record.config_text, &session.kind_cluster().text));
    reporter.emit(Event::ClusterStatus { name, exists, context: config.context(), nodes, drift });
    if exists {
        let deployed = config.clone().with_mode(crate::deploy::mode::recorded(&state, config));
        if let Some(mode) = deployed.describe_mode() {
            reporter.emit(Event::info(format!("deployed in {mode}")));
        }
    }
    if let Some(record) = crate::forward::record::read(state.dir()) {
        for entry in crate::forward::record::honest(&record, &crate::forward::record::process_alive) {
            reporter.emit(entry.status_event());
        }
    }
    let target = registry_status(session, exists).await?;
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
            pushed: target.as_ref().and_then(|target| {
                let record = record?;
                let pushed = record.pushed.get(&target.push_host)?;
                (pushed.reference == target.push_reference(image_name, content_tag(&record.tag)))
                    .then(|| pushed.runtime_reference.clone())
            }),
        });
    }
    Ok(())
}
