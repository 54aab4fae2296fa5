//! Which pods and containers a `ohdev logs` run streams: command-line targets (an image name, a
//! workload, a pod-name prefix), checked against what the cluster has so a typo fails with a list
//! of what exists instead of streaming nothing.

use std::collections::BTreeSet;

use super::pods::{Pod, Workload, MANAGED_BY_SELECTOR};
use crate::error::Error;

/// One `IMAGE|WORKLOAD` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `Deployment/web` (any kind alias kubectl accepts: `deploy/web`, `sts/db`…), or `Pod/name`.
    Workload { kind: String, name: String },
    /// A bare name: an ohdev image (`app` → `ohdev.local/app:…`), a workload's name, a pod's name,
    /// or a pod-name prefix that ends at a dash (`web` matches `web-5d4f8-abcde`).
    Name(String),
}

const KINDS: &[(&str, &[&str])] = &[
    ("Deployment", &["deployment", "deployments", "deploy"]),
    ("StatefulSet", &["statefulset", "statefulsets", "sts"]),
    ("DaemonSet", &["daemonset", "daemonsets", "ds"]),
    ("Job", &["job", "jobs"]),
    ("ReplicaSet", &["replicaset", "replicasets", "rs"]),
    ("Pod", &["pod", "pods", "po"]),
];

impl Target {
    pub fn parse(arg: &str) -> Result<Target, Error> {
        let Some((kind, name)) = arg.split_once('/') else {
            if arg.is_empty() {
                return Err(bad_target(arg, "an empty name matches nothing"));
            }
            return Ok(Target::Name(arg.to_string()));
        };
        let lower = kind.to_ascii_lowercase();
        let kind = KINDS
            .iter()
            .find(|(_, aliases)| aliases.contains(&lower.as_str()))
            .map(|(kind, _)| kind.to_string())
            .ok_or_else(|| bad_target(arg, &format!("`{kind}` is not a workload kind")))?;
        if name.is_empty() || name.contains('/') {
            return Err(bad_target(arg, "expected KIND/NAME"));
        }
        Ok(Target::Workload { kind, name: name.to_string() })
    }

    pub fn matches(&self, pod: &Pod) -> bool {
        match self {
            Target::Workload { kind, name } if kind == "Pod" => &pod.name == name,
            Target::Workload { kind, name } => {
                pod.workload.as_ref().is_some_and(|workload| &workload.kind == kind && &workload.name == name)
            }
            Target::Name(name) => {
                pod.containers.iter().any(|container| container.ohdev_image() == Some(name))
                    || pod.workload.as_ref().is_some_and(|workload| &workload.name == name)
                    || &pod.name == name
                    || pod.name.strip_prefix(name.as_str()).is_some_and(|rest| rest.starts_with('-'))
            }
        }
    }
}

fn bad_target(arg: &str, why: &str) -> Error {
    Error::Input {
        message: format!("`{arg}`: {why}"),
        fix: "name an image (`app`), a workload (`Deployment/web`, `sts/db`) or a pod-name prefix (`web`)".into(),
    }
}

/// The pods to stream: every pod ohdev deployed, or, with targets, every pod one of them matches
/// (a workload named on the command line counts even when its pods lack ohdev's label).
pub fn select<'a>(pods: &'a [Pod], targets: &[Target]) -> Vec<&'a Pod> {
    pods.iter()
        .filter(|pod| if targets.is_empty() { pod.managed } else { targets.iter().any(|target| target.matches(pod)) })
        .collect()
}

/// Every target must match a pod now, or be an image of ohdev.yaml (whose pods may start later).
pub fn check_targets(
    args: &[String],
    targets: &[Target],
    pods: &[Pod],
    configured_images: &[String],
) -> Result<(), Error> {
    let unknown: Vec<&String> = args
        .iter()
        .zip(targets)
        .filter(|(_, target)| {
            let configured = matches!(target, Target::Name(name) if configured_images.contains(name));
            !configured && !pods.iter().any(|pod| target.matches(pod))
        })
        .map(|(arg, _)| arg)
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let names = unknown.iter().map(|arg| format!("`{arg}`")).collect::<Vec<_>>().join(", ");
    Err(Error::Input {
        message: format!("no pod matches {names}\n{}", inventory(pods, configured_images)),
        fix: "name one of these; `ohdev logs` with no argument streams every pod ohdev deployed".into(),
    })
}

/// What exists to choose from: ohdev's images and the workloads of the environment's pods.
fn inventory(pods: &[Pod], configured_images: &[String]) -> String {
    let managed: Vec<&Pod> = pods.iter().filter(|pod| pod.managed).collect();
    let mut images: BTreeSet<String> = configured_images.iter().cloned().collect();
    images.extend(
        managed
            .iter()
            .flat_map(|pod| pod.containers.iter().filter_map(|container| container.ohdev_image().map(str::to_string))),
    );
    let workloads: BTreeSet<String> = managed
        .iter()
        .map(|pod| match &pod.workload {
            Some(Workload { kind, name }) => format!("{kind}/{name}"),
            None => format!("Pod/{}", pod.name),
        })
        .collect();
    let list = |set: BTreeSet<String>| {
        if set.is_empty() {
            "(none)".to_string()
        } else {
            set.into_iter().collect::<Vec<_>>().join(", ")
        }
    };
    let mut text = format!("  images:    {}\n  workloads: {}", list(images), list(workloads));
    if managed.is_empty() {
        text.push_str(&format!("\n  (no pod carries the label {MANAGED_BY_SELECTOR}; has `ohdev up` run?)"));
    }
    text
}

/// `--container NAME` must name a container of at least one selected pod (when there are any).
pub fn check_container(name: &str, pods: &[&Pod]) -> Result<(), Error> {
    if pods.is_empty() || pods.iter().any(|pod| pod.containers.iter().any(|container| container.name == name)) {
        return Ok(());
    }
    let names: BTreeSet<&str> =
        pods.iter().flat_map(|pod| pod.containers.iter().map(|container| container.name.as_str())).collect();
    Err(Error::Input {
        message: format!(
            "no selected pod has a container named `{name}`; their containers are: {}",
            names.into_iter().collect::<Vec<_>>().join(", ")
        ),
        fix: "pass one of those to --container, or leave it out to stream every container".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::pods::{Container, ContainerState, Instance};

    fn pod(namespace: &str, name: &str, managed: bool, workload: Option<(&str, &str)>, images: &[(&str, &str)]) -> Pod {
        Pod {
            namespace: namespace.into(),
            name: name.into(),
            managed,
            workload: workload.map(|(kind, name)| Workload { kind: kind.into(), name: name.into() }),
            containers: images
                .iter()
                .map(|(name, image)| Container {
                    name: name.to_string(),
                    image: image.to_string(),
                    state: ContainerState::Running,
                    instance: Instance::default(),
                })
                .collect(),
        }
    }

    fn pods() -> Vec<Pod> {
        vec![
            pod(
                "app",
                "web-5d4f8-abcde",
                true,
                Some(("Deployment", "web")),
                &[("main", "ohdev.local/app:0123"), ("proxy", "nginx:1")],
            ),
            pod("app", "webhook-0", true, Some(("StatefulSet", "webhook")), &[("hook", "ohdev.local/hook:1")]),
            pod("kube-system", "coredns-77-xyz", false, Some(("Deployment", "coredns")), &[("coredns", "coredns:1")]),
            pod("default", "debug", true, None, &[("sh", "busybox")]),
        ]
    }

    fn names(selected: Vec<&Pod>) -> Vec<&str> {
        selected.into_iter().map(|pod| pod.name.as_str()).collect()
    }

    #[test]
    fn targets_parse_with_kind_aliases() {
        assert_eq!(
            Target::parse("deploy/web").unwrap(),
            Target::Workload { kind: "Deployment".into(), name: "web".into() }
        );
        assert_eq!(
            Target::parse("StatefulSet/db").unwrap(),
            Target::Workload { kind: "StatefulSet".into(), name: "db".into() }
        );
        assert_eq!(Target::parse("app").unwrap(), Target::Name("app".into()));
        assert!(Target::parse("service/web").unwrap_err().to_string().contains("not a workload kind"));
        assert!(Target::parse("deploy/").is_err());
        assert!(Target::parse("").is_err());
    }

    #[test]
    fn without_targets_only_managed_pods() {
        let pods = pods();
        assert_eq!(names(select(&pods, &[])), ["web-5d4f8-abcde", "webhook-0", "debug"]);
    }

    #[test]
    fn names_match_images_workloads_and_dash_prefixes() {
        let pods = pods();
        let by = |arg: &str| names(select(&pods, &[Target::parse(arg).unwrap()]));
        assert_eq!(by("app"), ["web-5d4f8-abcde"], "image");
        assert_eq!(by("web"), ["web-5d4f8-abcde"], "workload name, and not webhook-0");
        assert_eq!(by("Deployment/web"), ["web-5d4f8-abcde"]);
        assert_eq!(by("sts/webhook"), ["webhook-0"]);
        assert_eq!(by("coredns"), ["coredns-77-xyz"], "a named workload counts without ohdev's label");
        assert_eq!(by("pod/debug"), ["debug"]);
        assert_eq!(by("web-5d4f8"), ["web-5d4f8-abcde"], "pod-name prefix");
        assert!(by("nginx").is_empty(), "only ohdev.local images are images");
    }

    #[test]
    fn unknown_targets_list_what_exists() {
        let pods = pods();
        let args = vec!["app".to_string(), "nope".to_string(), "deploy/gone".to_string()];
        let targets: Vec<Target> = args.iter().map(|arg| Target::parse(arg).unwrap()).collect();
        let error = check_targets(&args, &targets, &pods, &["runtime".to_string()]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        let text = error.to_string();
        assert!(text.contains("no pod matches `nope`, `deploy/gone`"), "{text}");
        assert!(text.contains("images:    app, hook, runtime"), "{text}");
        assert!(text.contains("workloads: Deployment/web, Pod/debug, StatefulSet/webhook"), "{text}");
        let configured = vec!["runtime".to_string()];
        assert!(
            check_targets(&configured, &[Target::Name("runtime".into())], &pods, &configured).is_ok(),
            "configured image, no pod yet"
        );
    }

    #[test]
    fn container_filter_must_name_a_container() {
        let pods = pods();
        let selected = select(&pods, &[]);
        assert!(check_container("proxy", &selected).is_ok());
        let text = check_container("sidecar", &selected).unwrap_err().to_string();
        assert!(text.contains("hook, main, proxy, sh"), "{text}");
        assert!(check_container("anything", &[]).is_ok(), "no pods yet: nothing to check against");
    }
}
