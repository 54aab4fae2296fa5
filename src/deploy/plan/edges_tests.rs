use std::collections::BTreeSet;
use std::path::Path;

use super::*;
use crate::deploy::plan::manifest::{normalize, parse_documents};

pub(crate) fn objects(yaml: &str) -> Vec<Object> {
    normalize(parse_documents(Path::new("set.yaml"), yaml).unwrap(), "openhands").unwrap()
}

fn edge_lines(set: &[Object]) -> BTreeSet<String> {
    find_edges(set)
        .unwrap()
        .iter()
        .map(|edge| format!("{} → {}: {}", set[edge.dependency].key(), set[edge.dependent].key(), edge.reason))
        .collect()
}

fn lines(expected: &[&str]) -> BTreeSet<String> {
    expected.iter().map(|line| line.to_string()).collect()
}

const WORKLOADS: &str = "
apiVersion: v1
kind: Namespace
metadata: {name: openhands}
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: settings}}
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: projected-config}}
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: env-config}}
---
{apiVersion: v1, kind: Secret, metadata: {name: api-keys}}
---
{apiVersion: v1, kind: Secret, metadata: {name: tls}}
---
{apiVersion: v1, kind: Secret, metadata: {name: pull}}
---
{apiVersion: v1, kind: Secret, metadata: {name: projected-secret}}
---
{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: data}}
---
{apiVersion: v1, kind: ServiceAccount, metadata: {name: app}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      serviceAccountName: app
      imagePullSecrets: [{name: pull}]
      volumes:
      - {name: a, configMap: {name: settings}}
      - {name: b, secret: {secretName: tls}}
      - {name: c, persistentVolumeClaim: {claimName: data}}
      - {name: d, projected: {sources: [{configMap: {name: projected-config}}, {secret: {name: projected-secret}}]}}
      - {name: e, configMap: {name: not-in-set}}
      containers:
      - name: app
        env:
        - {name: A, valueFrom: {configMapKeyRef: {name: env-config, key: a}}}
        - {name: B, valueFrom: {secretKeyRef: {name: api-keys, key: b}}}
        envFrom: [{configMapRef: {name: settings}}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: openhands}
spec: {jobTemplate: {spec: {template: {spec: {serviceAccount: app, initContainers: [{name: i, envFrom: [{secretRef: {name: api-keys}}]}]}}}}}
";

#[test]
fn workload_references_in_the_set_become_edges() {
    let set = objects(WORKLOADS);
    let mut expected: BTreeSet<String> =
        set[1..].iter().map(|object| format!("Namespace/openhands → {}: namespace", object.key())).collect();
    expected.extend(lines(&[
        "ConfigMap openhands/settings → Deployment openhands/web: config map",
        "ConfigMap openhands/projected-config → Deployment openhands/web: config map",
        "ConfigMap openhands/env-config → Deployment openhands/web: config map",
        "Secret openhands/api-keys → Deployment openhands/web: secret",
        "Secret openhands/tls → Deployment openhands/web: secret",
        "Secret openhands/pull → Deployment openhands/web: secret",
        "Secret openhands/projected-secret → Deployment openhands/web: secret",
        "PersistentVolumeClaim openhands/data → Deployment openhands/web: pvc",
        "ServiceAccount openhands/app → Deployment openhands/web: service account",
        "ServiceAccount openhands/app → CronJob openhands/nightly: service account",
        "Secret openhands/api-keys → CronJob openhands/nightly: secret",
    ]));
    assert_eq!(edge_lines(&set), expected);
}

#[test]
fn rbac_and_crd_edges() {
    let set = objects(
        "
{apiVersion: v1, kind: ServiceAccount, metadata: {name: app, namespace: tools}}
---
{apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: reader, namespace: tools}}
---
{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: viewer}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read, namespace: tools}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: app}, {kind: User, name: app}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: view}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: viewer}
subjects: [{kind: ServiceAccount, name: app, namespace: tools}, {kind: ServiceAccount, name: app, namespace: elsewhere}]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec: {group: example.com, scope: Namespaced, names: {kind: Widget, plural: widgets}}
---
{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, namespace: tools}}
---
{apiVersion: other.example.com/v1, kind: Widget, metadata: {name: different-group, namespace: tools}}
",
    );
    assert_eq!(
        edge_lines(&set),
        lines(&[
            "Role tools/reader → RoleBinding tools/read: role",
            "ServiceAccount tools/app → RoleBinding tools/read: service account",
            "ClusterRole/viewer → ClusterRoleBinding/view: role",
            "ServiceAccount tools/app → ClusterRoleBinding/view: service account",
            "CustomResourceDefinition/widgets.example.com → Widget tools/w: crd",
        ])
    );
}

#[test]
fn depends_on_annotation() {
    let set = objects(
        "
{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: x, namespace: other}}
---
{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: cr}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations: {ohdev.dev/depends-on: 'configmap/a,  ClusterRole/cr, ConfigMap/other/x,'}
",
    );
    assert_eq!(
        edge_lines(&set),
        lines(&[
            "ConfigMap openhands/a → Deployment openhands/web: depends-on annotation",
            "ClusterRole/cr → Deployment openhands/web: depends-on annotation",
            "ConfigMap other/x → Deployment openhands/web: depends-on annotation",
        ])
    );
    let table = [
        ("ConfigMap/missing", "set.yaml:1 (document 1): ConfigMap openhands/d depends on `ConfigMap/missing` (ohdev.dev/depends-on annotation), which is not in the manifest set"),
        ("ConfigMap", "has `ConfigMap` in its ohdev.dev/depends-on annotation: write `Kind/name` or `Kind/namespace/name`"),
        ("a/b/c/d", "has `a/b/c/d` in its"),
        ("ConfigMap//a", "has `ConfigMap//a` in its"),
    ];
    for (annotation, expected) in table {
        let set = objects(&format!("{{apiVersion: v1, kind: ConfigMap, metadata: {{name: d, annotations: {{ohdev.dev/depends-on: '{annotation}'}}}}}}"));
        let message = find_edges(&set).unwrap_err().to_string();
        assert!(message.contains(expected), "{annotation}: {message}");
    }
}

const INGRESS_NGINX: &str = "
{apiVersion: v1, kind: Namespace, metadata: {name: ingress-nginx}}
---
{apiVersion: v1, kind: ServiceAccount, metadata: {name: ingress-nginx, namespace: ingress-nginx}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingress-nginx-controller, namespace: ingress-nginx}
spec:
  selector: {matchLabels: {app.kubernetes.io/component: controller}}
  template:
    metadata: {labels: {app.kubernetes.io/component: controller, app.kubernetes.io/name: ingress-nginx}}
    spec: {serviceAccountName: ingress-nginx}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: unrelated, namespace: ingress-nginx}
spec: {template: {metadata: {labels: {app.kubernetes.io/component: other}}}}
---
apiVersion: v1
kind: Service
metadata: {name: ingress-nginx-controller-admission, namespace: ingress-nginx}
spec: {selector: {app.kubernetes.io/component: controller}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: ingress-nginx-admission}
webhooks:
- name: validate.nginx.ingress.kubernetes.io
  clientConfig: {service: {namespace: ingress-nginx, name: ingress-nginx-controller-admission, path: /networking/v1/ingresses}}
  rules: [{apiGroups: [networking.k8s.io], apiVersions: [v1beta1], operations: [CREATE, UPDATE], resources: [ingresses]}]
- name: exact-other-version
  matchPolicy: Exact
  clientConfig: {service: {namespace: ingress-nginx, name: ingress-nginx-controller-admission}}
  rules: [{apiGroups: [networking.k8s.io], apiVersions: [v1beta1], operations: [CREATE], resources: [ingresses]}]
- name: delete-only
  clientConfig: {service: {namespace: ingress-nginx, name: ingress-nginx-controller-admission}}
  rules: [{apiGroups: [networking.k8s.io], apiVersions: [v1], operations: [DELETE], resources: [ingresses]}]
- name: by-url
  clientConfig: {url: 'https://example.invalid/'}
  rules: [{apiGroups: ['*'], apiVersions: ['*'], operations: ['*'], resources: ['*']}]
---
{apiVersion: networking.k8s.io/v1, kind: IngressClass, metadata: {name: nginx}}
---
{apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: app, namespace: openhands}}
";

#[test]
fn admission_webhook_backing_objects_come_before_what_it_validates() {
    let set = objects(INGRESS_NGINX);
    let found = edge_lines(&set);
    let webhook: BTreeSet<String> = found.iter().filter(|line| line.contains("admission webhook")).cloned().collect();
    assert_eq!(
        webhook,
        lines(&[
            "Deployment ingress-nginx/ingress-nginx-controller → Ingress openhands/app: admission webhook validate.nginx.ingress.kubernetes.io",
            "Service ingress-nginx/ingress-nginx-controller-admission → Ingress openhands/app: admission webhook validate.nginx.ingress.kubernetes.io",
        ])
    );
}

#[test]
fn broad_webhooks_do_not_make_their_own_dependencies_wait() {
    let set = objects(
        "
{apiVersion: v1, kind: Namespace, metadata: {name: hooks}}
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: hook-config, namespace: hooks}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: hook, namespace: hooks}
spec: {template: {metadata: {labels: {app: hook}}, spec: {volumes: [{name: c, configMap: {name: hook-config}}]}}}
---
{apiVersion: v1, kind: Service, metadata: {name: hook, namespace: hooks}, spec: {selector: {app: hook}}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: everything}
webhooks:
- name: all.example.com
  clientConfig: {service: {namespace: hooks, name: hook}}
  rules: [{apiGroups: ['*'], apiVersions: ['*'], operations: ['*'], resources: ['*/*'], scope: Namespaced}]
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: victim}}
---
{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: cluster-scoped}}
",
    );
    let webhook: BTreeSet<String> =
        edge_lines(&set).into_iter().filter(|line| line.contains("admission webhook")).collect();
    assert_eq!(
        webhook,
        lines(&[
            "Deployment hooks/hook → ConfigMap openhands/victim: admission webhook all.example.com",
            "Service hooks/hook → ConfigMap openhands/victim: admission webhook all.example.com",
        ])
    );
}

#[test]
fn webhook_selectors_only_remove_edges_when_certain() {
    let set = objects(
        "
{apiVersion: v1, kind: Namespace, metadata: {name: hooks}}
---
{apiVersion: v1, kind: Service, metadata: {name: hook, namespace: hooks}}
---
{apiVersion: v1, kind: Namespace, metadata: {name: enabled, labels: {webhook: on}}}
---
{apiVersion: v1, kind: Namespace, metadata: {name: disabled}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: selective}
webhooks:
- name: selective.example.com
  clientConfig: {service: {namespace: hooks, name: hook}}
  namespaceSelector:
    matchLabels: {webhook: on}
    matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [excluded]}]
  objectSelector: {matchExpressions: [{key: skip-webhook, operator: DoesNotExist}]}
  rules: [{apiGroups: [''], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}]
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: enabled}}
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: b, namespace: disabled}}
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: unknown}}
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: d, namespace: excluded}}
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: e, namespace: enabled, labels: {skip-webhook: 'yes'}}}
---
{apiVersion: v1, kind: Secret, metadata: {name: f, namespace: enabled}}
",
    );
    let webhook: BTreeSet<String> =
        edge_lines(&set).into_iter().filter(|line| line.contains("admission webhook")).collect();
    assert_eq!(
        webhook,
        lines(&[
            "Service hooks/hook → ConfigMap enabled/a: admission webhook selective.example.com",
            "Service hooks/hook → ConfigMap unknown/c: admission webhook selective.example.com",
        ])
    );
}

#[test]
fn plural_of_kinds() {
    let table = [
        ("Ingress", "ingresses"),
        ("NetworkPolicy", "networkpolicies"),
        ("Service", "services"),
        ("Gateway", "gateways"),
        ("Endpoints", "endpoints"),
        ("Box", "boxes"),
        ("Patch", "patches"),
        ("Mesh", "meshes"),
        ("ConfigMap", "configmaps"),
    ];
    for (kind, expected) in table {
        assert_eq!(super::super::resource::plural(kind), expected);
    }
}
