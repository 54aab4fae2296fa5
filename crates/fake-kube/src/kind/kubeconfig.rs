//! The kubeconfig entries kind writes for a cluster (`kind-N` cluster/context/user). Only written
//! when `--kubeconfig PATH` is given: the stand-in never touches the user's ~/.kube/config.

use crate::util::{b64, hash};
use serde_yaml::{Mapping, Value};
use std::path::Path;

pub fn api_port(cluster: &str) -> u64 {
    30000 + hash::fnv64(cluster.as_bytes()) % 20000
}

fn entries(cluster: &str) -> (Value, Value, Value) {
    let ctx = format!("kind-{cluster}");
    let fake = |what: &str| b64::encode(format!("fake-kube {what} for {ctx}").as_bytes());
    let c = serde_yaml::from_str(&format!(
        "cluster:\n  certificate-authority-data: {}\n  server: https://127.0.0.1:{}\nname: {ctx}\n",
        fake("ca"),
        api_port(cluster)
    ))
    .expect("static yaml");
    let x = serde_yaml::from_str(&format!("context:\n  cluster: {ctx}\n  user: {ctx}\nname: {ctx}\n"))
        .expect("static yaml");
    let u = serde_yaml::from_str(&format!(
        "name: {ctx}\nuser:\n  client-certificate-data: {}\n  client-key-data: {}\n",
        fake("cert"),
        fake("key")
    ))
    .expect("static yaml");
    (c, x, u)
}

/// A kubeconfig holding only this cluster (what `kind get kubeconfig` prints).
pub fn render(cluster: &str) -> String {
    let mut doc = Mapping::new();
    update(&mut doc, cluster, true);
    serde_yaml::to_string(&Value::Mapping(doc)).expect("yaml")
}

fn update(doc: &mut Mapping, cluster: &str, add: bool) {
    let ctx = format!("kind-{cluster}");
    let (c, x, u) = entries(cluster);
    for (key, entry) in [("clusters", c), ("contexts", x), ("users", u)] {
        let list = doc.entry(Value::from(key)).or_insert_with(|| Value::Sequence(vec![]));
        if !list.is_sequence() {
            *list = Value::Sequence(vec![]);
        }
        let seq = list.as_sequence_mut().expect("sequence");
        seq.retain(|e| e.get("name").and_then(Value::as_str) != Some(ctx.as_str()));
        if add {
            seq.push(entry);
        }
    }
    doc.insert("apiVersion".into(), "v1".into());
    doc.insert("kind".into(), "Config".into());
    doc.entry("preferences".into()).or_insert_with(|| Value::Mapping(Mapping::new()));
    if add {
        doc.insert("current-context".into(), Value::from(ctx));
    } else if doc.get("current-context").and_then(Value::as_str) == Some(ctx.as_str()) {
        doc.insert("current-context".into(), Value::from(""));
    }
}

/// Adds (or removes) the cluster's entries in the kubeconfig at `path`, keeping other entries.
pub fn write(path: &Path, cluster: &str, add: bool) -> Result<(), String> {
    let mut doc = match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => match serde_yaml::from_str::<Value>(&text) {
            Ok(Value::Mapping(m)) => m,
            _ => return Err(format!("failed to load kubeconfig {}", path.display())),
        },
        _ => Mapping::new(),
    };
    update(&mut doc, cluster, add);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let text = serde_yaml::to_string(&Value::Mapping(doc)).map_err(|e| e.to_string())?;
    crate::state::write_atomic(path, text.as_bytes()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::testutil::temp_dir;

    #[test]
    fn write_adds_and_removes_only_this_cluster() {
        let dir = temp_dir("kubeconfig");
        let path = dir.join("config");
        write(&path, "a", true).unwrap();
        write(&path, "b", true).unwrap();
        write(&path, "a", false).unwrap();
        let v: Value = serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let names: Vec<&str> =
            v["contexts"].as_sequence().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["kind-b"]);
        assert_eq!(v["current-context"].as_str(), Some("kind-b"));
        assert!(render("a").contains("server: https://127.0.0.1:"));
    }
}
