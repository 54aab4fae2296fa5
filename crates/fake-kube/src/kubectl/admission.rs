//! What the API server rejects on apply: objects in a Namespace that does not exist, Ingresses
//! while the ingress-nginx validating webhook has no ready backend, and changes to immutable
//! fields (Deployment/DaemonSet selector, StatefulSet spec outside the mutable fields, Job
//! selector/template).

use super::errors::KubeErr;
use super::pods::PodView;
use super::resources::ResType;
use super::selector::selector_object_matches;
use super::status::workload_ready;
use crate::state::{Cluster, Obj};
use crate::util::json::{str_at, string_map};
use serde_json::Value;

pub const NGINX_WEBHOOK: &str = "validate.nginx.ingress.kubernetes.io";

fn go_strings(v: Option<&Value>) -> String {
    match v.and_then(Value::as_array) {
        Some(a) => format!(
            "[]string{{{}}}",
            a.iter().map(|x| format!("{:?}", x.as_str().unwrap_or(""))).collect::<Vec<_>>().join(", ")
        ),
        None => "[]string(nil)".into(),
    }
}

/// A LabelSelector printed like Go's `%#v` (what the API server puts in "Invalid value").
pub fn go_label_selector(sel: &Value) -> String {
    let ml = string_map(sel.get("matchLabels"));
    let labels = if sel.get("matchLabels").is_none() {
        "map[string]string(nil)".to_string()
    } else {
        format!(
            "map[string]string{{{}}}",
            ml.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect::<Vec<_>>().join(", ")
        )
    };
    let exprs = match sel.get("matchExpressions").and_then(Value::as_array) {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(a) => format!(
            "[]v1.LabelSelectorRequirement{{{}}}",
            a.iter()
                .map(|e| format!(
                    "v1.LabelSelectorRequirement{{Key:{:?}, Operator:{:?}, Values:{}}}",
                    str_at(e, &["key"]).unwrap_or(""),
                    str_at(e, &["operator"]).unwrap_or(""),
                    go_strings(e.get("values"))
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!("v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{exprs}}}")
}

fn invalid(rt: &ResType, name: &str, cause: String) -> KubeErr {
    KubeErr::Invalid {
        kind: rt.kind.clone(),
        group_kind: format!("{}.{}", rt.kind, rt.group),
        name: name.into(),
        causes: vec![cause],
    }
}

fn immutable(rt: &ResType, old: &Obj, new: &Value) -> Option<KubeErr> {
    let changed = |p: &str| old.body.pointer(p) != new.pointer(p);
    let name = &old.name;
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("apps", "Deployment" | "DaemonSet" | "ReplicaSet") if changed("/spec/selector") => {
            let sel = new.pointer("/spec/selector").cloned().unwrap_or(Value::Null);
            Some(invalid(rt, name, format!("spec.selector: Invalid value: {}: field is immutable", go_label_selector(&sel))))
        }
        ("apps", "StatefulSet") if ["/spec/selector", "/spec/serviceName", "/spec/volumeClaimTemplates", "/spec/podManagementPolicy"].iter().any(|p| changed(p)) => Some(invalid(
            rt,
            name,
            "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden".into(),
        )),
        ("batch", "Job") if changed("/spec/template") => Some(invalid(rt, name, "spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable".into())),
        ("batch", "Job") if new.pointer("/spec/selector").is_some() && changed("/spec/selector") => {
            let sel = new.pointer("/spec/selector").cloned().unwrap_or(Value::Null);
            Some(invalid(rt, name, format!("spec.selector: Invalid value: {}: field is immutable", go_label_selector(&sel))))
        }
        _ => None,
    }
}

/// The Deployment serving a Service: one whose pod labels match the Service's selector.
fn backing_deployment(c: &Cluster, ns: &str, svc: &Obj) -> Option<usize> {
    let sel = svc.body.pointer("/spec/selector").cloned();
    c.objects.iter().position(|o| {
        o.group == "apps" && o.kind == "Deployment" && o.namespace == ns && {
            let labels = string_map(o.body.pointer("/spec/template/metadata/labels"));
            match &sel {
                Some(Value::Object(m)) if !m.is_empty() => {
                    m.iter().all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str())
                }
                _ => o.name == "ingress-nginx-controller",
            }
        }
    })
}

fn webhook_error(c: &Cluster, pods: &[PodView]) -> Option<KubeErr> {
    for vwc in c.objects.iter().filter(|o| o.kind == "ValidatingWebhookConfiguration") {
        for wh in vwc.body.get("webhooks").and_then(Value::as_array).into_iter().flatten() {
            if str_at(wh, &["name"]) != Some(NGINX_WEBHOOK) || str_at(wh, &["failurePolicy"]) == Some("Ignore") {
                continue;
            }
            let Some(svc) = wh.pointer("/clientConfig/service") else {
                continue;
            };
            let (ns, name) = (str_at(svc, &["namespace"]).unwrap_or("default"), str_at(svc, &["name"]).unwrap_or(""));
            let port = svc.get("port").and_then(Value::as_u64).unwrap_or(443);
            let path = str_at(svc, &["path"]).unwrap_or("");
            let timeout = wh.get("timeoutSeconds").and_then(Value::as_u64).unwrap_or(10);
            let url = format!("https://{name}.{ns}.svc:{port}{path}?timeout={timeout}s");
            let why = match c.find("", "Service", ns, name).map(|i| &c.objects[i]) {
                None => format!("service \"{name}\" not found"),
                Some(s) => match backing_deployment(c, ns, s) {
                    None => format!("no endpoints available for service \"{name}\""),
                    Some(d) => {
                        let mine: Vec<&PodView> = pods.iter().filter(|p| p.owner == Some(d)).collect();
                        if workload_ready(c, &c.objects[d], &mine) {
                            continue;
                        }
                        let ip = str_at(&s.body, &["spec", "clusterIP"]).unwrap_or("10.96.0.0");
                        format!("dial tcp {ip}:{port}: connect: connection refused")
                    }
                },
            };
            return Some(KubeErr::status(
                "InternalError",
                format!("Internal error occurred: failed calling webhook \"{NGINX_WEBHOOK}\": failed to call webhook: Post \"{url}\": {why}"),
            ));
        }
    }
    None
}

fn go_string_map(v: Option<&Value>) -> String {
    let m = string_map(v);
    format!("map[string]string{{{}}}", m.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect::<Vec<_>>().join(", "))
}

/// apps/v1 workloads need a selector, and it must select the pod template's labels.
fn selector_mismatch(rt: &ResType, name: &str, body: &Value) -> Option<KubeErr> {
    let apps =
        rt.group == "apps" && matches!(rt.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet");
    let job_with_selector = rt.group == "batch" && rt.kind == "Job" && body.pointer("/spec/selector").is_some();
    if !apps && !job_with_selector {
        return None;
    }
    let Some(sel) = body.pointer("/spec/selector") else {
        return Some(invalid(rt, name, "spec.selector: Required value".into()));
    };
    let labels = body.pointer("/spec/template/metadata/labels");
    if selector_object_matches(sel, &string_map(labels)) {
        return None;
    }
    Some(invalid(
        rt,
        name,
        format!(
            "spec.template.metadata.labels: Invalid value: {}: `selector` does not match template `labels`",
            go_string_map(labels)
        ),
    ))
}

/// Checks one object about to be stored as `rt` in `ns` (empty for cluster-scoped).
pub fn check(c: &Cluster, rt: &ResType, ns: &str, body: &Value, pods: &[PodView]) -> Result<(), KubeErr> {
    if rt.namespaced && !c.namespace_exists(ns) {
        return Err(KubeErr::not_found("namespaces", ns));
    }
    if rt.group == "networking.k8s.io" && rt.kind == "Ingress" {
        if let Some(e) = webhook_error(c, pods) {
            return Err(e);
        }
    }
    let name = str_at(body, &["metadata", "name"]).unwrap_or("");
    if let Some(e) = selector_mismatch(rt, name, body) {
        return Err(e);
    }
    if let Some(i) = c.find(&rt.group, &rt.kind, ns, name) {
        if let Some(e) = immutable(rt, &c.objects[i], body) {
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selectors_print_like_go() {
        assert_eq!(
            go_label_selector(&json!({"matchLabels": {"b": "2", "a": "1"}})),
            "v1.LabelSelector{MatchLabels:map[string]string{\"a\":\"1\", \"b\":\"2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
        );
        assert_eq!(
            go_label_selector(&json!({"matchExpressions": [{"key": "k", "operator": "In", "values": ["x"]}]})),
            "v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:\"k\", Operator:\"In\", Values:[]string{\"x\"}}}}"
        );
    }
}
