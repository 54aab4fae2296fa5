//! core/v1 Event objects. Events are not stored: they are derived on each read from the current
//! simulated state (a pod in CrashLoopBackOff has a BackOff event while it is in that state).

use crate::util::{hash, time};
use serde_json::{json, Value};

pub struct Involved {
    pub kind: String,
    pub api_version: String,
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

/// One Event about `who`; `count` is how often it has happened (≥ 1).
pub fn event(
    who: &Involved,
    reason: &str,
    message: &str,
    kind: &str,
    component: &str,
    field_path: Option<&str>,
    count: u64,
) -> Value {
    let name = format!("{}.{}", who.name, &hash::hex64(&format!("{}/{reason}/{message}", who.uid))[..16]);
    let now = time::now();
    let mut involved = json!({"kind": who.kind, "apiVersion": who.api_version, "namespace": who.namespace, "name": who.name, "uid": who.uid});
    if let Some(fp) = field_path {
        involved["fieldPath"] = json!(fp);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": who.namespace, "uid": hash::uid(&name), "resourceVersion": "1", "creationTimestamp": now},
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": kind,
        "count": count,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": "",
    })
}
