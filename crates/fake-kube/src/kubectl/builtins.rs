//! The API server's built-in resource types: group, version, kind, plural, short names, scope.

use super::resources::ResType;

type Builtin = (&'static str, &'static str, &'static str, &'static str, &'static [&'static str], bool);

#[rustfmt::skip]
const BUILTINS: &[Builtin] = &[
    ("", "v1", "Pod", "pods", &["po"], true),
    ("", "v1", "Service", "services", &["svc"], true),
    ("", "v1", "ConfigMap", "configmaps", &["cm"], true),
    ("", "v1", "Secret", "secrets", &[], true),
    ("", "v1", "Namespace", "namespaces", &["ns"], false),
    ("", "v1", "Node", "nodes", &["no"], false),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", &["pvc"], true),
    ("", "v1", "PersistentVolume", "persistentvolumes", &["pv"], false),
    ("", "v1", "ServiceAccount", "serviceaccounts", &["sa"], true),
    ("", "v1", "Event", "events", &["ev"], true),
    ("", "v1", "Endpoints", "endpoints", &["ep"], true),
    ("", "v1", "LimitRange", "limitranges", &["limits"], true),
    ("", "v1", "ResourceQuota", "resourcequotas", &["quota"], true),
    ("apps", "v1", "Deployment", "deployments", &["deploy"], true),
    ("apps", "v1", "StatefulSet", "statefulsets", &["sts"], true),
    ("apps", "v1", "DaemonSet", "daemonsets", &["ds"], true),
    ("apps", "v1", "ReplicaSet", "replicasets", &["rs"], true),
    ("batch", "v1", "Job", "jobs", &[], true),
    ("batch", "v1", "CronJob", "cronjobs", &["cj"], true),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", &["ing"], true),
    ("networking.k8s.io", "v1", "IngressClass", "ingressclasses", &[], false),
    ("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", &["netpol"], true),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles", &[], true),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", &[], true),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", &[], false),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", &[], false),
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", &["crd", "crds"], false),
    ("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", &[], false),
    ("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", &[], false),
    ("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", &["pdb"], true),
    ("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", &["pc"], false),
    ("storage.k8s.io", "v1", "StorageClass", "storageclasses", &["sc"], false),
    ("apiregistration.k8s.io", "v1", "APIService", "apiservices", &[], false),
    ("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", &["hpa"], true),
    ("coordination.k8s.io", "v1", "Lease", "leases", &[], true),
    ("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", &[], true),
];

pub fn builtins() -> Vec<ResType> {
    BUILTINS
        .iter()
        .map(|(g, v, k, p, s, n)| ResType {
            group: (*g).into(),
            version: (*v).into(),
            kind: (*k).into(),
            plural: (*p).into(),
            singular: k.to_lowercase(),
            short: s.iter().map(|x| (*x).to_string()).collect(),
            namespaced: *n,
        })
        .collect()
}
