//! Container image rules of the simulated nodes: reference normalization (as containerd names
//! images), default pull policy, and whether a pod can get its image on its node.
//! Every image whose registry host is not `ohdev.local` counts as pullable (a registry
//! "has" it); `ohdev.local/…` images exist only where `kind load docker-image` put them.

use crate::state::Node;
use serde_json::Value;

pub const LOCAL_REGISTRY: &str = "ohdev.local";

/// `nginx:1` → `docker.io/library/nginx:1`; `org/x` → `docker.io/org/x:latest`; hosts kept.
pub fn normalize(image: &str) -> String {
    let (first, _) = image.split_once('/').unwrap_or(("", image));
    let has_host = !first.is_empty() && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut full = if has_host {
        image.to_string()
    } else if image.contains('/') {
        format!("docker.io/{image}")
    } else {
        format!("docker.io/library/{image}")
    };
    let last = full.rsplit('/').next().unwrap_or("");
    if !last.contains(':') && !full.contains('@') {
        full.push_str(":latest");
    }
    full
}

pub fn host(image: &str) -> String {
    normalize(image).split('/').next().unwrap_or("").to_string()
}

/// The container's imagePullPolicy, defaulted like the API server does.
pub fn pull_policy(container: &Value) -> String {
    if let Some(p) = container.get("imagePullPolicy").and_then(Value::as_str) {
        return p.to_string();
    }
    let image = container.get("image").and_then(Value::as_str).unwrap_or("");
    if normalize(image).ends_with(":latest") {
        "Always".into()
    } else {
        "IfNotPresent".into()
    }
}

/// The image ID loaded on `node` for `image`, if any.
pub fn loaded_id<'a>(node: &'a Node, image: &str) -> Option<&'a String> {
    let want = normalize(image);
    node.images.iter().find(|(tag, _)| normalize(tag) == want).map(|(_, id)| id)
}

#[derive(Debug, Clone, PartialEq)]
pub enum Pull {
    Ok,
    /// ErrImageNeverPull: not on the node and the policy forbids pulling.
    Never,
    /// ImagePullBackOff: a pull was needed and no registry has the image.
    BackOff,
}

pub fn check(node: Option<&Node>, container: &Value) -> Pull {
    let image = container.get("image").and_then(Value::as_str).unwrap_or("");
    let policy = pull_policy(container);
    let present = node.and_then(|n| loaded_id(n, image)).is_some();
    let local = host(image) == LOCAL_REGISTRY;
    match (policy.as_str(), present, local) {
        ("Always", _, true) => Pull::BackOff,
        ("Never", false, _) => Pull::Never,
        (_, false, true) => Pull::BackOff,
        _ => Pull::Ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn normalizes_like_containerd() {
        assert_eq!(normalize("nginx:1.25"), "docker.io/library/nginx:1.25");
        assert_eq!(normalize("org/app"), "docker.io/org/app:latest");
        assert_eq!(normalize("ohdev.local/app:abc"), "ohdev.local/app:abc");
        assert_eq!(normalize("localhost:5000/x:1"), "localhost:5000/x:1");
    }

    #[test]
    fn local_images_need_a_kind_load() {
        let mut node = Node { name: "n".into(), role: "worker".into(), ..Default::default() };
        let c = json!({"image": "ohdev.local/app:abc"});
        assert_eq!(check(Some(&node), &c), Pull::BackOff);
        assert_eq!(
            check(Some(&node), &json!({"image": "ohdev.local/app:abc", "imagePullPolicy": "Never"})),
            Pull::Never
        );
        assert_eq!(check(Some(&node), &json!({"image": "nginx:1", "imagePullPolicy": "Never"})), Pull::Never);
        assert_eq!(check(Some(&node), &json!({"image": "nginx:1"})), Pull::Ok);
        node.images.insert("ohdev.local/app:abc".into(), "sha256:1".into());
        assert_eq!(check(Some(&node), &c), Pull::Ok);
        node.images.insert("ohdev.local/app:latest".into(), "sha256:2".into());
        assert_eq!(
            check(Some(&node), &json!({"image": "ohdev.local/app:latest"})),
            Pull::BackOff,
            "latest means Always, which pulls"
        );
    }
}
