//! Storing objects the way the API server does on apply: keep uid and creationTimestamp, bump
//! resourceVersion, bump generation when the spec changes (which also starts a new rollout:
//! `started_ms` is now, `polls` 0), assign Service cluster IPs, turn Secret stringData into data.

use super::resources::ResType;
use crate::state::{Cluster, Obj};
use crate::util::json::{set, str_at};
use crate::util::{b64, hash, time};
use serde_json::{json, Value};

impl Cluster {
    pub fn find(&self, group: &str, kind: &str, namespace: &str, name: &str) -> Option<usize> {
        self.objects
            .iter()
            .position(|o| o.group == group && o.kind == kind && o.namespace == namespace && o.name == name)
    }

    pub fn namespace_exists(&self, ns: &str) -> bool {
        self.find("", "Namespace", "", ns).is_some()
    }

    pub fn next_rv(&mut self) -> u64 {
        self.resource_version += 1;
        self.resource_version
    }

    fn next_service_ip(&mut self) -> String {
        let n = self.service_ips;
        self.service_ips += 1;
        format!("10.96.{}.{}", 1 + n / 254, 1 + n % 254)
    }
}

pub struct Upserted {
    pub index: usize,
    pub created: bool,
    /// Anything the user applied differs from what was stored (client-side apply's "unchanged").
    pub changed: bool,
}

const SERVER_METADATA: &[&str] = &["uid", "resourceVersion", "generation", "creationTimestamp", "managedFields"];

/// The object as the user wrote it, without server-set fields (for change detection).
fn user_view(body: &Value, kind: &str) -> Value {
    let mut v = body.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in SERVER_METADATA {
            m.remove(*k);
        }
    }
    if kind == "Service" {
        if let Some(s) = v.get_mut("spec").and_then(Value::as_object_mut) {
            s.remove("clusterIP");
            s.remove("clusterIPs");
        }
    }
    v
}

fn secret_string_data(body: &mut Value) {
    let Some(sd) = body.as_object_mut().and_then(|m| m.remove("stringData")) else {
        return;
    };
    if let Value::Object(entries) = sd {
        for (k, v) in entries {
            let text = v.as_str().map(String::from).unwrap_or_else(|| v.to_string());
            set(body, &["data", &k], Value::String(b64::encode(text.as_bytes())));
        }
    }
}

fn service_defaults(cluster: &mut Cluster, body: &mut Value, old: Option<&Value>) {
    let spec_type = str_at(body, &["spec", "type"]).unwrap_or("ClusterIP").to_string();
    set(body, &["spec", "type"], json!(spec_type));
    if spec_type == "ExternalName" {
        return;
    }
    let ip = match str_at(body, &["spec", "clusterIP"]) {
        Some(ip) if !ip.is_empty() => ip.to_string(),
        _ => match old.and_then(|o| str_at(o, &["spec", "clusterIP"])) {
            Some(ip) => ip.to_string(),
            None => cluster.next_service_ip(),
        },
    };
    set(body, &["spec", "clusterIP"], json!(ip));
    set(body, &["spec", "clusterIPs"], json!([ip]));
    if let Some(ports) = body.pointer_mut("/spec/ports").and_then(Value::as_array_mut) {
        for p in ports {
            if p.get("protocol").is_none() {
                p["protocol"] = json!("TCP");
            }
            if p.get("targetPort").is_none() {
                let port = p.get("port").cloned().unwrap_or(Value::Null);
                p["targetPort"] = port;
            }
        }
    }
}

/// Stores `body` (already validated) as an object of type `rt` in namespace `ns` ("" if cluster-scoped).
pub fn upsert(cluster: &mut Cluster, rt: &ResType, ns: &str, mut body: Value, manager: &str) -> Upserted {
    let name = str_at(&body, &["metadata", "name"]).unwrap_or("").to_string();
    if let Some(m) = body.as_object_mut() {
        m.remove("status");
    }
    if rt.namespaced {
        set(&mut body, &["metadata", "namespace"], json!(ns));
    } else if let Some(m) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("namespace");
    }
    if rt.kind == "Secret" {
        secret_string_data(&mut body);
    }
    let existing = cluster.find(&rt.group, &rt.kind, ns, &name);
    let old = existing.map(|i| cluster.objects[i].body.clone());
    if rt.kind == "Service" {
        service_defaults(cluster, &mut body, old.as_ref());
    }
    let rv = cluster.next_rv();
    let now = time::now();
    let (uid, created_at, mut generation, spec_changed, changed) = match &old {
        Some(o) => (
            str_at(o, &["metadata", "uid"]).unwrap_or("").to_string(),
            str_at(o, &["metadata", "creationTimestamp"]).unwrap_or(&now).to_string(),
            o.pointer("/metadata/generation").and_then(Value::as_u64).unwrap_or(1),
            o.get("spec") != body.get("spec"),
            user_view(o, &rt.kind) != user_view(&body, &rt.kind),
        ),
        None => (
            hash::uid(&format!("{}/{}/{}/{ns}/{name}/{rv}", cluster.name, rt.group, rt.kind)),
            now.clone(),
            1,
            true,
            true,
        ),
    };
    if old.is_some() && spec_changed {
        generation += 1;
    }
    let meta = body.get_mut("metadata").and_then(Value::as_object_mut).expect("validated objects have metadata");
    meta.insert("uid".into(), json!(uid));
    meta.insert("resourceVersion".into(), json!(rv.to_string()));
    meta.insert("creationTimestamp".into(), json!(created_at));
    if body.get("spec").is_some() {
        set(&mut body, &["metadata", "generation"], json!(generation));
    }
    let managed = json!([{"manager": manager, "operation": "Apply", "apiVersion": rt.api_version(), "time": now, "fieldsType": "FieldsV1", "fieldsV1": {}}]);
    set(&mut body, &["metadata", "managedFields"], managed);
    let applied_at_call = cluster.kubectl_calls;
    match existing {
        Some(i) => {
            let o = &mut cluster.objects[i];
            o.version = rt.version.clone();
            o.body = body;
            o.applied_at_call = applied_at_call;
            if spec_changed {
                o.polls = 0;
                o.started_ms = cluster.now_ms;
            }
            Upserted { index: i, created: false, changed }
        }
        None => {
            cluster.objects.push(Obj {
                group: rt.group.clone(),
                version: rt.version.clone(),
                kind: rt.kind.clone(),
                namespace: if rt.namespaced { ns.to_string() } else { String::new() },
                name,
                body,
                polls: 0,
                started_ms: cluster.now_ms,
                applied_at_call,
                pod_epoch: 0,
            });
            Upserted { index: cluster.objects.len() - 1, created: true, changed: true }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubectl::resources::resolve;

    fn deploy(image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}}})
    }

    #[test]
    fn reapply_keeps_uid_and_bumps_generation_only_on_spec_change() {
        let mut c = Cluster::default();
        let rt = resolve(&c, "deployment").unwrap();
        let a = upsert(&mut c, &rt, "default", deploy("a:1"), "ohdev");
        let uid = c.objects[a.index].body["metadata"]["uid"].clone();
        c.objects[a.index].polls = 5;
        let same = upsert(&mut c, &rt, "default", deploy("a:1"), "ohdev");
        assert!(!same.changed && !same.created);
        assert_eq!(c.objects[0].body["metadata"]["generation"], 1);
        assert_eq!(c.objects[0].polls, 5);
        upsert(&mut c, &rt, "default", deploy("a:2"), "ohdev");
        let o = &c.objects[0];
        assert_eq!(o.body["metadata"]["generation"], 2);
        assert_eq!(o.body["metadata"]["uid"], uid);
        assert_eq!(o.body["metadata"]["resourceVersion"], "3");
        assert_eq!(o.polls, 0);
        assert_eq!(o.body["metadata"]["namespace"], "default");
    }

    #[test]
    fn services_keep_their_ip_and_secrets_encode_string_data() {
        let mut c = Cluster::default();
        let svc = resolve(&c, "svc").unwrap();
        let body = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}});
        upsert(&mut c, &svc, "default", body.clone(), "m");
        assert_eq!(c.objects[0].body["spec"]["clusterIP"], "10.96.1.1");
        upsert(&mut c, &svc, "default", body, "m");
        assert_eq!(c.objects[0].body["spec"]["clusterIP"], "10.96.1.1");
        assert_eq!(c.objects[0].body["spec"]["ports"][0]["targetPort"], 80);
        let secret = resolve(&c, "secret").unwrap();
        upsert(
            &mut c,
            &secret,
            "default",
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "stringData": {"k": "v"}}),
            "m",
        );
        assert_eq!(c.objects[1].body["data"]["k"], "dg==");
        assert!(c.objects[1].body.get("stringData").is_none());
    }
}
