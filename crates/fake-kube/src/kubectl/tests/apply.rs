use super::*;

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names:\n    kind: Widget\n    plural: widgets\n    singular: widget\n  versions:\n  - name: v1\n    served: true\n    storage: true\n";
const WIDGET: &str =
    "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\n  namespace: app\nspec:\n  size: 1\n";

#[test]
fn applies_in_order_and_prints_serverside_applied() {
    let w = World::new("apply-order");
    w.cluster(ONE_NODE);
    let o = w.apply(&format!("{NS_APP}---\n{}", deployment("web", "nginx:1.27", "")));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, "namespace/app serverside-applied\ndeployment.apps/web serverside-applied\n");
    let d = w.get("deployment web -n app");
    assert_eq!(d["metadata"]["generation"], 1);
    assert_eq!(d["metadata"]["managedFields"][0]["manager"], "ohdev");
    assert!(d["metadata"]["uid"].as_str().unwrap().len() == 36);
    assert!(d["metadata"]["creationTimestamp"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn missing_namespace_is_not_found_and_later_objects_still_apply() {
    let w = World::new("apply-ns");
    w.cluster(ONE_NODE);
    let cm = |ns: &str, name: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n")
    };
    let o = w.apply(&format!("{}---\n{}", cm("missing", "a"), cm("default", "b")));
    assert_eq!(o.code, 1);
    assert_eq!(o.stderr, "Error from server (NotFound): namespaces \"missing\" not found\n");
    assert_eq!(o.stdout, "configmap/b serverside-applied\n");
    let csa = w.kubectl("apply -f -", &cm("missing", "a"));
    assert_eq!(
        csa.stderr,
        "Error from server (NotFound): error when creating \"STDIN\": namespaces \"missing\" not found\n"
    );
}

#[test]
fn custom_resources_need_an_established_crd() {
    let w = world("apply-crd");
    let both = w.apply(&format!("{CRD}---\n{WIDGET}"));
    assert_eq!(both.code, 1);
    assert_eq!(both.stdout, "customresourcedefinition.apiextensions.k8s.io/widgets.example.com serverside-applied\n");
    assert_eq!(
        both.stderr,
        "error: resource mapping not found for name: \"w1\" namespace: \"app\" from \"STDIN\": no matches for kind \"Widget\" in version \"example.com/v1\"\nensure CRDs are installed first\n"
    );
    let crd = w.get("crd widgets.example.com");
    assert_eq!(condition(&crd, "Established").unwrap()["status"], "False", "first poll: not yet");
    let crd = w.get("customresourcedefinitions widgets.example.com");
    assert_eq!(condition(&crd, "Established").unwrap()["status"], "True");
    assert_eq!(w.kubectl("api-resources --api-group=example.com -o name", "").stdout, "widgets.example.com\n");
    let ok = w.apply(WIDGET);
    assert_eq!((ok.code, ok.stdout.as_str()), (0, "widget.example.com/w1 serverside-applied\n"));
    assert_eq!(w.get("widgets -n app")["items"][0]["spec"]["size"], 1);
    let gone = w.kubectl("delete crd widgets.example.com", "");
    assert_eq!(gone.stdout, "customresourcedefinition.apiextensions.k8s.io \"widgets.example.com\" deleted\n");
    assert!(w.kubectl("get widgets -n app", "").stderr.contains("doesn't have a resource type"));
}

#[test]
fn crds_are_established_on_the_third_call_without_polls() {
    let w = world("apply-crd-calls");
    assert_eq!(w.apply(CRD).code, 0);
    assert_eq!(w.apply(WIDGET).code, 1, "1st call after the CRD");
    assert_eq!(w.kubectl("get configmaps -n app", "").code, 0);
    assert_eq!(w.apply(WIDGET).code, 0, "3rd call after the CRD");
}

#[test]
fn deployment_selector_is_immutable() {
    let w = world("apply-selector");
    assert_eq!(w.apply(&deployment("web", "nginx:1", "")).code, 0);
    let changed = deployment("web", "nginx:1", "")
        .replace("      app: web\n  template", "      app: web2\n  template")
        .replace("        app: web\n", "        app: web2\n");
    let o = w.apply(&changed);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "The Deployment \"web\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable\n"
    );
    let mismatch = deployment("api", "nginx:1", "").replace("        app: api\n", "        app: other\n");
    assert_eq!(
        w.apply(&mismatch).stderr,
        "The Deployment \"api\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`\n"
    );
}

#[test]
fn several_errors_print_one_per_line() {
    let w = world("apply-errors");
    let o =
        w.apply(&format!("{WIDGET}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: nope\n"));
    assert_eq!(o.code, 1);
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert!(lines[0].starts_with("resource mapping not found for name: \"w1\""), "{}", o.stderr);
    assert_eq!(lines[1], "ensure CRDs are installed first");
    assert_eq!(lines[2], "Error from server (NotFound): namespaces \"nope\" not found");
}

#[test]
fn output_json_prints_the_applied_objects() {
    let w = world("apply-json");
    let one = w.kubectl(
        "apply --server-side -f - -o json",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: app\ndata:\n  k: v\n",
    );
    let v: serde_json::Value = serde_json::from_str(&one.stdout).unwrap();
    assert_eq!((v["kind"].as_str(), v["metadata"]["resourceVersion"].is_string()), (Some("ConfigMap"), true));
    let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s, namespace: app}\n  stringData: {token: abc}\n- apiVersion: v1\n  kind: Service\n  metadata: {name: svc, namespace: app}\n  spec:\n    ports: [{port: 80}]\n";
    let many = w.kubectl("apply --server-side -f - -o json", list);
    let v: serde_json::Value = serde_json::from_str(&many.stdout).unwrap();
    assert_eq!(v["kind"], "List");
    assert_eq!(v["items"][0]["data"]["token"], "YWJj");
    assert!(v["items"][1]["spec"]["clusterIP"].as_str().unwrap().starts_with("10.96."));
}

#[test]
fn client_side_apply_reports_created_configured_unchanged() {
    let w = world("apply-csa");
    let cm =
        |v: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: app\ndata:\n  k: {v}\n");
    assert_eq!(w.kubectl("apply -f -", &cm("1")).stdout, "configmap/a created\n");
    assert_eq!(w.kubectl("apply -f -", &cm("1")).stdout, "configmap/a unchanged\n");
    assert_eq!(w.kubectl("apply -f -", &cm("2")).stdout, "configmap/a configured\n");
    let file = w.dir.join("cm.yaml");
    std::fs::write(&file, cm("3")).unwrap();
    assert_eq!(
        w.kubectl(&format!("apply --server-side -f {}", file.display()), "").stdout,
        "configmap/a serverside-applied\n"
    );
}

const WEBHOOK: &str = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: ingress-nginx-admission\nwebhooks:\n- name: validate.nginx.ingress.kubernetes.io\n  clientConfig:\n    service:\n      namespace: ingress-nginx\n      name: ingress-nginx-controller-admission\n      path: /networking/v1/ingresses\n  sideEffects: None\n  admissionReviewVersions: [v1]\n";
const NGINX: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ingress-nginx\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: ingress-nginx-controller-admission\n  namespace: ingress-nginx\nspec:\n  selector:\n    app.kubernetes.io/component: controller\n  ports:\n  - port: 443\n    targetPort: webhook\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ingress-nginx-controller\n  namespace: ingress-nginx\nspec:\n  selector:\n    matchLabels:\n      app.kubernetes.io/component: controller\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/component: controller\n    spec:\n      containers:\n      - name: controller\n        image: registry.k8s.io/ingress-nginx/controller:v1.12.1\n";
const INGRESS: &str = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: app\nspec:\n  rules:\n  - http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: web\n            port:\n              number: 80\n";

#[test]
fn ingress_waits_for_the_nginx_admission_webhook() {
    let w = world("apply-webhook");
    assert_eq!(w.apply(&format!("{NGINX}---\n{WEBHOOK}")).code, 0);
    let o = w.apply(INGRESS);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "Error from server (InternalError): Internal error occurred: failed calling webhook \"validate.nginx.ingress.kubernetes.io\": failed to call webhook: Post \"https://ingress-nginx-controller-admission.ingress-nginx.svc:443/networking/v1/ingresses?timeout=10s\": dial tcp 10.96.1.1:443: connect: connection refused\n"
    );
    for _ in 0..3 {
        w.get("deploy ingress-nginx-controller -n ingress-nginx");
    }
    let ok = w.apply(INGRESS);
    assert_eq!(
        (ok.code, ok.stdout.as_str()),
        (0, "ingress.networking.k8s.io/web serverside-applied\n"),
        "{}",
        ok.stderr
    );
}

#[test]
fn webhook_without_a_backend_has_no_endpoints() {
    let w = world("apply-webhook-none");
    let svc_only: String = NGINX.split("---\n").take(2).collect::<Vec<_>>().join("---\n");
    assert_eq!(w.apply(&format!("{svc_only}---\n{WEBHOOK}")).code, 0);
    let o = w.apply(INGRESS);
    assert!(
        o.stderr.ends_with("no endpoints available for service \"ingress-nginx-controller-admission\"\n"),
        "{}",
        o.stderr
    );
}
