//! The repository's own environment (ohdev.yaml, kind/manifests) rendered by the real renderer in
//! production and in dev mode. The remote bundles (ingress-nginx, metrics-server) and the
//! top-level patches that target them need the network and are left out; the Secret is left out
//! too (it needs .env). Everything else is what `ohdev up` and `ohdev up --watch` apply.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use super::{render_with_env, Rendered};
use crate::config::{Config, ManifestSource, Mode};

const APP_TAG: &str = "ohdev.local/app:0123456789abcdef";

fn root_config() -> Config {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(repo.join("ohdev.yaml")).unwrap();
    let env = |name: &str| (name == "OPENHANDS_ROOT").then(|| "/nonexistent/OpenHands".to_string());
    let mut config = crate::config::parse_text(&repo.join("ohdev.yaml"), &text, &env).unwrap();
    config.manifests = vec![ManifestSource::Path(repo.join("kind/manifests"))];
    config.patches.clear();
    config.secrets.clear();
    config
}

async fn render(config: &Config) -> Rendered {
    let tags: BTreeMap<String, String> = [
        ("app".to_string(), APP_TAG.to_string()),
        ("runtime".to_string(), "ohdev.local/runtime:fedcba9876543210".to_string()),
    ]
    .into();
    match render_with_env(config, &tags, &|_| None).await {
        Ok(rendered) => rendered,
        Err(error) => panic!("the root environment does not render in {:?} mode: {error}", config.mode),
    }
}

fn app_deployment(rendered: &Rendered) -> Value {
    rendered
        .objects
        .iter()
        .find(|object| object.value["kind"] == "Deployment" && object.value["metadata"]["name"] == "openhands")
        .expect("Deployment openhands/openhands")
        .value
        .clone()
}

#[tokio::test]
async fn dev_mode_seeds_a_writable_source_volume_and_keeps_the_root_filesystem_read_only() {
    let production_config = root_config();
    let dev_config = root_config().with_mode(Mode::Dev);
    let production = render(&production_config).await;
    let dev = render(&dev_config).await;

    let pod = |deployment: &Value| deployment["spec"]["template"]["spec"].clone();
    let prod_pod = pod(&app_deployment(&production));
    let dev_pod = pod(&app_deployment(&dev));
    assert!(prod_pod.get("initContainers").is_none(), "production has no init container: {prod_pod:#}");
    assert_eq!(prod_pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"], true);

    // The writable volume, seeded by an init container that runs the same image.
    let volume = dev_pod["volumes"].as_array().unwrap().iter().find(|volume| volume["name"] == "dev-source");
    assert_eq!(volume, Some(&json!({"name": "dev-source", "emptyDir": {"sizeLimit": "512Mi"}})), "{dev_pod:#}");
    let init = &dev_pod["initContainers"];
    assert_eq!(init.as_array().map(Vec::len), Some(1), "{dev_pod:#}");
    assert_eq!(init[0]["image"], APP_TAG, "the seed comes from the image the app runs");
    assert_eq!(init[0]["command"], json!(["cp", "-a", "/app/openhands", "/dev-source/"]));
    assert_eq!(init[0]["volumeMounts"], json!([{"name": "dev-source", "mountPath": "/dev-source"}]));
    assert_eq!(init[0]["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(init[0]["securityContext"]["allowPrivilegeEscalation"], false);
    assert!(init[0]["resources"]["limits"]["memory"].is_string(), "{init:#}");

    // Mounted over the read-only sources; the root filesystem stays read-only.
    let app = &dev_pod["containers"][0];
    assert_eq!(app["securityContext"]["readOnlyRootFilesystem"], true);
    let mounts = app["volumeMounts"].as_array().unwrap();
    assert!(
        mounts.contains(&json!({"name": "dev-source", "mountPath": "/app/openhands", "subPath": "openhands"})),
        "{mounts:#?}"
    );
    let env = app["env"].as_array().unwrap();
    assert!(env.contains(&json!({"name": "OHDEV_DEV_MODE", "value": "1"})), "{env:#?}");

    // Nothing else differs: take the four additions away and the two Deployments are equal.
    let mut undone = app_deployment(&dev);
    let spec = &mut undone["spec"]["template"]["spec"];
    spec.as_object_mut().unwrap().remove("initContainers");
    spec["volumes"].as_array_mut().unwrap().retain(|volume| volume["name"] != "dev-source");
    spec["containers"][0]["volumeMounts"].as_array_mut().unwrap().retain(|mount| mount["name"] != "dev-source");
    spec["containers"][0]["env"].as_array_mut().unwrap().retain(|var| var["name"] != "OHDEV_DEV_MODE");
    assert_eq!(undone, app_deployment(&production));
    let others = |rendered: &Rendered| -> Vec<Value> {
        rendered
            .objects
            .iter()
            .filter(|object| object.value["metadata"]["name"] != "openhands" || object.value["kind"] != "Deployment")
            .map(|object| object.value.clone())
            .collect()
    };
    assert_eq!(others(&dev), others(&production), "dev mode changes only the app's Deployment");

    // The sync rule that goes with it: Python sources into the volume, then a server restart.
    let rules = dev_config.sync_rules("app");
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!((rules[0].src.as_str(), rules[0].dest.as_str()), ("openhands/**/*.py", "/app/openhands"));
    assert_eq!(rules[0].run, ["sh", "-c", "kill -HUP 1"]);
    assert!(production_config.sync_rules("app").is_empty(), "production syncs nothing into the read-only image");
}
