//! The kind cluster: reuse it when it exists, create it when it does not, notice when its config
//! drifted (and never delete unasked), delete it on `down`.

use std::collections::BTreeMap;
use std::net::TcpListener;

use bollard::Docker;

use crate::config::kind_cluster::{KindCluster, PortMapping};
use crate::config::Config;
use crate::error::Error;
use crate::events::{ConfigChange, Event, StepState};
use crate::heartbeat;
use crate::state::{ClusterRecord, StateLock};
use crate::tools::docker;
use crate::tools::kind::Kind;
use crate::ui::Reporter;
use crate::units::human_duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Reused,
    Recreated,
}

/// Ports the cluster would bind that another program already holds.
pub fn busy_ports(cluster: &KindCluster) -> Vec<PortMapping> {
    cluster
        .port_mappings()
        .filter(|mapping| mapping.host_port != 0 && mapping.protocol == "TCP")
        .filter(|mapping| {
            match TcpListener::bind((mapping.listen_address.as_str(), mapping.host_port)) {
                Ok(_) => false,
                // Permission denied (a port below 1024 without root) is not "in use": Docker binds it as root.
                Err(error) => error.kind() == std::io::ErrorKind::AddrInUse,
            }
        })
        .cloned()
        .collect()
}

/// Mappings that listen on every interface (kind's default), which exposes the cluster to the network.
pub fn public_mappings(cluster: &KindCluster) -> Vec<&PortMapping> {
    cluster
        .port_mappings()
        .filter(|mapping| mapping.listen_address == "0.0.0.0" || mapping.listen_address == "::")
        .collect()
}

/// The keys that differ between two versions of a YAML document, as `path: before → after`.
pub fn diff(before: &str, after: &str) -> Vec<ConfigChange> {
    let flatten_text = |text: &str| {
        let mut out = BTreeMap::new();
        if let Ok(value) = serde_yaml::from_str::<serde_yaml::Value>(text) {
            flatten(&value, String::new(), &mut out);
        }
        out
    };
    let before = flatten_text(before);
    let after = flatten_text(after);
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|key| before.get(*key) != after.get(*key))
        .map(|key| ConfigChange { key: key.clone(), before: before.get(key).cloned(), after: after.get(key).cloned() })
        .collect()
}

fn flatten(value: &serde_yaml::Value, prefix: String, out: &mut BTreeMap<String, String>) {
    match value {
        serde_yaml::Value::Mapping(map) => {
            for (key, child) in map {
                let key = match key {
                    serde_yaml::Value::String(text) => text.clone(),
                    other => serde_yaml::to_string(other).unwrap_or_default().trim().to_string(),
                };
                let path = if prefix.is_empty() { key } else { format!("{prefix}.{key}") };
                flatten(child, path, out);
            }
        }
        serde_yaml::Value::Sequence(items) => {
            for (index, child) in items.iter().enumerate() {
                flatten(child, format!("{prefix}[{index}]"), out);
            }
        }
        scalar => {
            let text = match scalar {
                serde_yaml::Value::String(text) => text.clone(),
                other => serde_yaml::to_string(other).unwrap_or_default().trim().to_string(),
            };
            out.insert(prefix, text);
        }
    }
}

/// Every host port the cluster maps must be free before it is created.
pub fn check_ports_free(cluster: &KindCluster) -> Result<(), Error> {
    match busy_ports(cluster).into_iter().next() {
        Some(mapping) => Err(Error::PortInUse {
            port: mapping.host_port,
            address: mapping.listen_address,
            file: cluster.path.clone(),
        }),
        None => Ok(()),
    }
}

/// `up`'s port check, before anything changes: a busy port this very cluster holds is fine (and is
/// freed by `--recreate`); any other busy port stops `up` before the cluster is touched.
pub async fn check_ports(
    config: &Config,
    kind_cluster: &KindCluster,
    docker: &Docker,
    lock: &StateLock,
) -> Result<(), Error> {
    let busy = busy_ports(kind_cluster);
    if busy.is_empty() {
        return Ok(());
    }
    let held_by_cluster = !docker::kind_node_containers(docker, &config.cluster.name).await?.is_empty();
    let recorded = lock.load().cluster.filter(|record| record.name == config.cluster.name);
    let ports_of_cluster: Option<Vec<(String, u16)>> = recorded
        .and_then(|record| crate::config::kind_cluster::parse(&record.config_path, record.config_text).ok())
        .map(|old| old.port_mappings().map(|mapping| (mapping.listen_address.clone(), mapping.host_port)).collect());
    let blocking = busy.iter().find(|mapping| match (&ports_of_cluster, held_by_cluster) {
        (_, false) => true,
        (Some(ports), true) => !ports.contains(&(mapping.listen_address.clone(), mapping.host_port)),
        (None, true) => false,
    });
    match blocking {
        Some(mapping) => Err(Error::PortInUse {
            port: mapping.host_port,
            address: mapping.listen_address.clone(),
            file: kind_cluster.path.clone(),
        }),
        None => Ok(()),
    }
}

/// `ohdev up`'s first phase.
pub async fn ensure(
    config: &Config,
    kind_cluster: &KindCluster,
    kind: &Kind,
    lock: &StateLock,
    reporter: &Reporter,
    recreate: bool,
) -> Result<Outcome, Error> {
    let name = &config.cluster.name;
    let record = lock.load().cluster.filter(|record| &record.name == name);
    let exists = kind.clusters().await?.iter().any(|cluster| cluster == name);
    if exists && !recreate {
        if let Some(record) = record.as_ref().filter(|record| !record.complete) {
            reporter.emit(Event::warn(
                format!(
                    "the last `kind create cluster` for \"{name}\" was interrupted (started {}); recreating it",
                    record.created_at
                ),
                None,
            ));
            delete(kind, name, reporter).await?;
            create(config, kind_cluster, kind, lock, reporter).await?;
            return Ok(Outcome::Recreated);
        }
        reporter.emit(Event::step("cluster", StepState::Done, format!("cluster \"{name}\" is running (reused)"), None));
        match record {
            Some(record) if record.config_digest != kind_cluster.digest() => {
                reporter.emit(Event::ClusterDrift {
                    cluster: name.clone(),
                    config: kind_cluster.path.display().to_string(),
                    changes: diff(&record.config_text, &kind_cluster.text),
                    hint: "`ohdev up --recreate` deletes the cluster and creates it from the new file (its workloads are redeployed)".to_string(),
                });
            }
            Some(_) => {}
            None => {
                // Created outside ohdev (or state was removed): adopt it so later drift is noticed.
                lock.update(|state| state.cluster = Some(record_for(config, kind_cluster, true)))?;
            }
        }
        return Ok(Outcome::Reused);
    }
    if exists {
        delete(kind, name, reporter).await?;
        check_ports_free(kind_cluster)?;
        create(config, kind_cluster, kind, lock, reporter).await?;
        return Ok(Outcome::Recreated);
    }
    create(config, kind_cluster, kind, lock, reporter).await?;
    Ok(Outcome::Created)
}

fn record_for(config: &Config, kind_cluster: &KindCluster, complete: bool) -> ClusterRecord {
    ClusterRecord {
        name: config.cluster.name.clone(),
        config_path: kind_cluster.path.clone(),
        config_digest: kind_cluster.digest(),
        config_text: kind_cluster.text.clone(),
        complete,
        created_at: crate::ui::timestamp(),
    }
}

async fn create(
    config: &Config,
    kind_cluster: &KindCluster,
    kind: &Kind,
    lock: &StateLock,
    reporter: &Reporter,
) -> Result<(), Error> {
    let name = &config.cluster.name;
    for mapping in public_mappings(kind_cluster) {
        reporter.emit(Event::warn(
            format!(
                "{} maps host port {} on 0.0.0.0: anyone on your network can reach it",
                kind_cluster.path.display(),
                mapping.host_port
            ),
            Some(format!(
                "add `listenAddress: 127.0.0.1` to that extraPortMappings entry (containerPort {})",
                mapping.container_port
            )),
        ));
    }
    lock.update(|state| state.cluster = Some(record_for(config, kind_cluster, false)))?;
    let wait = config.cluster.wait;
    let label = format!("creating kind cluster \"{name}\"");
    reporter.emit(Event::step(
        "cluster",
        StepState::Started,
        &label,
        Some(format!(
            "{}; gives up after {}: cluster.wait {} + {} to pull the node image",
            kind_cluster.path.display(),
            human_duration(wait + Kind::CREATE_MARGIN),
            human_duration(wait),
            human_duration(Kind::CREATE_MARGIN)
        )),
    ));
    let created = heartbeat::beating(reporter, "cluster", &label, kind.create(name, &kind_cluster.path, wait)).await;
    if let Err(error) = created {
        reporter.emit(Event::step("cluster", StepState::Failed, format!("creating kind cluster \"{name}\""), None));
        return Err(error);
    }
    lock.update(|state| state.cluster = Some(record_for(config, kind_cluster, true)))?;
    reporter.emit(Event::step(
        "cluster",
        StepState::Done,
        format!("created kind cluster \"{name}\""),
        Some(format!("context {}", config.cluster.context())),
    ));
    Ok(())
}

pub async fn delete(kind: &Kind, name: &str, reporter: &Reporter) -> Result<(), Error> {
    let label = format!("deleting kind cluster \"{name}\"");
    reporter.emit(Event::step("cluster-delete", StepState::Started, &label, None));
    heartbeat::beating(reporter, "cluster-delete", &label, kind.delete(name)).await?;
    reporter.emit(Event::step("cluster-delete", StepState::Done, format!("deleted kind cluster \"{name}\""), None));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_names_changed_keys() {
        let before = "kind: Cluster\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 80\n";
        let after = "kind: Cluster\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 8080\n- role: worker\n";
        let changes = diff(before, after);
        let keys: Vec<&str> = changes.iter().map(|change| change.key.as_str()).collect();
        assert_eq!(keys, ["nodes[0].extraPortMappings[0].hostPort", "nodes[1].role"]);
        assert_eq!(changes[0].before.as_deref(), Some("80"));
        assert_eq!(changes[0].after.as_deref(), Some("8080"));
        assert_eq!(changes[1].before, None);
    }

    #[test]
    fn busy_port_is_found() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let text = format!(
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: {port}\n    listenAddress: 127.0.0.1\n"
        );
        let cluster = crate::config::kind_cluster::parse(std::path::Path::new("c.yaml"), text).unwrap();
        let error = check_ports_free(&cluster).unwrap_err();
        assert!(error.to_string().contains(&format!("127.0.0.1:{port}")), "{error}");
        assert_eq!(error.exit_code(), 2);
        drop(listener);
        assert!(check_ports_free(&cluster).is_ok());
    }
}
