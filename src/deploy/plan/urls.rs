//! Where to open the environment: Ingress hosts and NodePort Services, reached through the kind
//! cluster's host port mappings.

use serde_json::Value;

use super::manifest::Object;
use crate::config::kind_cluster::KindCluster;

fn host_address(listen: &str) -> &str {
    match listen {
        "0.0.0.0" | "" => "127.0.0.1",
        other => other,
    }
}

pub fn urls(objects: &[Object], cluster: &KindCluster) -> Vec<String> {
    let mut urls = Vec::new();
    let http = cluster.port_mappings().find(|mapping| mapping.container_port == 80 && mapping.host_port != 0);
    for object in objects.iter().filter(|object| object.kind() == "Ingress") {
        let Some(mapping) = http else { continue };
        let port = if mapping.host_port == 80 { String::new() } else { format!(":{}", mapping.host_port) };
        let rules = object.value.pointer("/spec/rules").and_then(Value::as_array).cloned().unwrap_or_default();
        for rule in rules {
            let host = rule.get("host").and_then(Value::as_str).unwrap_or("localhost");
            let path = rule.pointer("/http/paths/0/path").and_then(Value::as_str).unwrap_or("/");
            urls.push(format!("http://{host}{port}{path}"));
        }
    }
    for object in objects.iter().filter(|object| object.kind() == "Service") {
        let ports = object.value.pointer("/spec/ports").and_then(Value::as_array).cloned().unwrap_or_default();
        for port in ports {
            let Some(node_port) = port.get("nodePort").and_then(Value::as_u64) else { continue };
            if let Some(mapping) = cluster
                .port_mappings()
                .find(|mapping| u64::from(mapping.container_port) == node_port && mapping.host_port != 0)
            {
                urls.push(format!("http://{}:{}/", host_address(&mapping.listen_address), mapping.host_port));
            }
        }
    }
    urls.sort();
    urls.dedup();
    urls
}
