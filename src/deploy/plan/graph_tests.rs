use std::path::Path;

use super::*;
use crate::deploy::plan::manifest::{normalize, parse_documents};

fn objects(yaml: &str) -> Vec<Object> {
    normalize(parse_documents(Path::new("set.yaml"), yaml).unwrap(), "openhands").unwrap()
}

const ENVIRONMENT: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  template:
    spec:
      serviceAccountName: app
      containers: [{name: app, envFrom: [{secretRef: {name: openhands-secrets}}, {configMapRef: {name: app-config}}]}]
---
{apiVersion: v1, kind: Namespace, metadata: {name: openhands}}
---
{apiVersion: v1, kind: ServiceAccount, metadata: {name: app}}
---
{apiVersion: v1, kind: Secret, metadata: {name: openhands-secrets}}
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: app-config}}
---
{apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: app}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: app}
roleRef: {kind: Role, name: app}
subjects: [{kind: ServiceAccount, name: app}]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec: {group: example.com, scope: Namespaced, names: {kind: Widget, plural: widgets}}
---
{apiVersion: example.com/v1, kind: Widget, metadata: {name: w}}
---
{apiVersion: other.io/v1, kind: Gizmo, metadata: {name: g}}
---
{apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: high}}
---
{apiVersion: v1, kind: Service, metadata: {name: app}}
---
{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: reader}}
---
{apiVersion: admissionregistration.k8s.io/v1, kind: ValidatingWebhookConfiguration, metadata: {name: v}, webhooks: []}
---
{apiVersion: zeta.io/v1, kind: Alpha, metadata: {name: a}}
";

const EXPECTED_TEXT: &str = "\
level 0
  PriorityClass/high
  Namespace/openhands
  CustomResourceDefinition/widgets.example.com
  ClusterRole/reader
  ValidatingWebhookConfiguration/v
level 1
  ServiceAccount openhands/app        after Namespace/openhands (namespace)
  Secret openhands/openhands-secrets  after Namespace/openhands (namespace)
  ConfigMap openhands/app-config      after Namespace/openhands (namespace)
  Role openhands/app                  after Namespace/openhands (namespace)
  Service openhands/app               after Namespace/openhands (namespace)
  Alpha openhands/a (crd not in set)  after Namespace/openhands (namespace)
  Gizmo openhands/g (crd not in set)  after Namespace/openhands (namespace)
  Widget openhands/w                  after Namespace/openhands (namespace)
                                            CustomResourceDefinition/widgets.example.com (crd)
level 2
  RoleBinding openhands/app           after Namespace/openhands (namespace)
                                            ServiceAccount openhands/app (service account)
                                            Role openhands/app (role)
  Deployment openhands/app            after Namespace/openhands (namespace)
                                            ServiceAccount openhands/app (service account)
                                            Secret openhands/openhands-secrets (secret)
                                            ConfigMap openhands/app-config (config map)
";

#[test]
fn plan_text_levels_and_kind_order() {
    let set = objects(ENVIRONMENT);
    let plan = plan(&set).unwrap();
    assert_eq!(crate::ui::plan_text(&plan.entries()), EXPECTED_TEXT, "\n{}", crate::ui::plan_text(&plan.entries()));
    for object in plan.objects() {
        assert_eq!(set[object.index].key(), object.key);
    }
}

#[test]
fn plan_json_lines() {
    let set = objects("{apiVersion: v1, kind: Namespace, metadata: {name: openhands}}\n---\n{apiVersion: v1, kind: ConfigMap, metadata: {name: c, annotations: {ohdev.dev/depends-on: Namespace/openhands}}}\n");
    assert_eq!(
        crate::ui::plan_json_lines(&plan(&set).unwrap().entries()),
        concat!(
            r#"{"level":0,"kind":"Namespace","namespace":null,"name":"openhands","after":[]}"#,
            "\n",
            r#"{"level":1,"kind":"ConfigMap","namespace":"openhands","name":"c","after":[{"kind":"Namespace","namespace":null,"name":"openhands","why":["namespace","depends-on annotation"]}]}"#,
            "\n"
        )
    );
}

/// Fixed permutations instead of random shuffles: reproducible, and still covers reversed, rotated and
/// interleaved inputs.
fn permutations(count: usize) -> Vec<Vec<usize>> {
    let identity: Vec<usize> = (0..count).collect();
    let reversed: Vec<usize> = identity.iter().rev().copied().collect();
    let rotated: Vec<usize> = (0..count).map(|index| (index + count / 3) % count).collect();
    let interleaved: Vec<usize> = identity
        .iter()
        .filter(|index| *index % 2 == 1)
        .chain(identity.iter().filter(|index| *index % 2 == 0))
        .copied()
        .collect();
    let strided: Vec<usize> = (0..count).map(|index| (index * 7) % count).collect();
    vec![identity, reversed, rotated, interleaved, strided]
}

#[test]
fn shuffled_inputs_give_the_same_plan() {
    let set = objects(ENVIRONMENT);
    assert_eq!(set.len() % 7, 1, "the stride must be coprime to the set size");
    for order in permutations(set.len()) {
        let shuffled: Vec<Object> = order.iter().map(|&index| set[index].clone()).collect();
        let plan = plan(&shuffled).unwrap();
        assert_eq!(crate::ui::plan_text(&plan.entries()), EXPECTED_TEXT, "order {order:?}");
        for object in plan.objects() {
            assert_eq!(shuffled[object.index].key(), object.key);
        }
    }
}

#[test]
fn level_is_the_longest_chain_below() {
    let set = objects(
        "
{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: b, annotations: {ohdev.dev/depends-on: ConfigMap/a}}}
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: c, annotations: {ohdev.dev/depends-on: ConfigMap/b}}}
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: d, annotations: {ohdev.dev/depends-on: 'ConfigMap/a, ConfigMap/c'}}}
",
    );
    let levels: Vec<(String, usize)> =
        plan(&set).unwrap().objects().map(|object| (object.key.name.clone(), object.level)).collect();
    assert_eq!(levels, [("a".to_string(), 0), ("b".to_string(), 1), ("c".to_string(), 2), ("d".to_string(), 3)]);
}

#[test]
fn cycles_are_named_in_apply_order() {
    let set = objects(
        "
apiVersion: v1
kind: ConfigMap
metadata: {name: a, annotations: {ohdev.dev/depends-on: Deployment/b}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: b}
spec: {template: {spec: {volumes: [{name: v, configMap: {name: a}}]}}}
---
{apiVersion: v1, kind: ConfigMap, metadata: {name: unrelated}}
",
    );
    let message = plan(&set).unwrap_err().to_string();
    assert_eq!(
        message,
        "dependency cycle: ConfigMap openhands/a → Deployment openhands/b (config map) → ConfigMap openhands/a (depends-on annotation): \
nothing in it can be applied first; remove one of these dependencies (an `ohdev.dev/depends-on` annotation is the usual culprit). \
Defined in: ConfigMap openhands/a in set.yaml:2 (document 1), Deployment openhands/b in set.yaml:6 (document 2)"
    );
    for order in permutations(set.len()) {
        let shuffled: Vec<Object> = order.iter().map(|&index| set[index].clone()).collect();
        assert_eq!(plan(&shuffled).unwrap_err().to_string(), message);
    }
}

#[test]
fn an_object_depending_on_itself_is_a_cycle() {
    let set = objects(
        "{apiVersion: v1, kind: ConfigMap, metadata: {name: a, annotations: {ohdev.dev/depends-on: ConfigMap/a}}}",
    );
    let message = plan(&set).unwrap_err().to_string();
    assert!(
        message.starts_with("dependency cycle: ConfigMap openhands/a → ConfigMap openhands/a (depends-on annotation):"),
        "{message}"
    );
}

#[test]
fn kind_rank_follows_helm_with_unknown_kinds_last() {
    let ordered = [
        "PriorityClass",
        "Namespace",
        "ServiceAccount",
        "Secret",
        "ConfigMap",
        "PersistentVolumeClaim",
        "CustomResourceDefinition",
        "Service",
        "Deployment",
        "Job",
        "Ingress",
        "ValidatingWebhookConfiguration",
        "Alpha",
        "Widget",
    ];
    let mut keys: Vec<ObjectKey> = ordered
        .iter()
        .rev()
        .map(|kind| ObjectKey { kind: kind.to_string(), namespace: None, name: "x".to_string() })
        .collect();
    keys.sort_by(|left, right| order_key(left).cmp(&order_key(right)));
    let sorted: Vec<&str> = keys.iter().map(|key| key.kind.as_str()).collect();
    assert_eq!(sorted, ordered);
}

#[test]
fn empty_set_is_an_empty_plan() {
    let plan = plan(&[]).unwrap();
    assert!(plan.levels.is_empty());
    assert_eq!(crate::ui::plan_text(&plan.entries()), "");
    assert_eq!(crate::ui::plan_json_lines(&plan.entries()), "");
}
