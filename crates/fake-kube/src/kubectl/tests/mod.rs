//! In-process tests of the kubectl personality against a simulated cluster `dev`.

mod apply;
mod basics;
mod logs_exec;
mod rollout;

use crate::app::testing::{World, ONE_NODE};

pub const NS_APP: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n";

pub fn deployment(name: &str, image: &str, extra_template_meta: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: app\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n{extra_template_meta}    spec:\n      containers:\n      - name: main\n        image: {image}\n"
    )
}

/// A one-node cluster `dev` with namespace `app`.
pub fn world(tag: &str) -> World {
    let w = World::new(tag);
    w.cluster(ONE_NODE);
    let o = w.apply(NS_APP);
    assert_eq!(o.code, 0, "{}", o.stderr);
    w
}

pub fn condition<'a>(obj: &'a serde_json::Value, kind: &str) -> Option<&'a serde_json::Value> {
    obj.pointer("/status/conditions")?.as_array()?.iter().find(|c| c["type"] == kind)
}
