//! `kubectl logs POD|TYPE/NAME [-c C | --all-containers] [-f] [--tail=N] [--timestamps] [--prefix]
//! [-p]`: prints `$FAKE_KUBE_STATE/logs/<ns>/<pod>/<container>.log` (`.previous.log` for `-p`).
//! With `-f` it keeps printing whole lines appended to the file (polling every 50 ms) until the
//! pod no longer exists or the process is killed. `--since`/`--since-time` are accepted, not applied.

use super::errors::{render as render_errs, KubeErr};
use super::pods::{all_pods, PodView};
use super::resources::resolve;
use super::{namespace, with_cluster, Reply};
use crate::app::Ctx;
use crate::flags::Parsed;
use crate::state::{Cluster, Store};
use crate::util::json::str_at;
use crate::util::time;
use serde_json::Value;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

/// Index in `pods` of the pod named by `target` (`name`, `pod/name`, or `TYPE/name` of a workload).
pub fn resolve_pod(c: &Cluster, pods: &[PodView], ns: &str, target: &str) -> Result<usize, KubeErr> {
    let in_ns = |p: &PodView| str_at(&p.body, &["metadata", "namespace"]) == Some(ns);
    let (kind, name) = match target.split_once('/') {
        Some((t, n)) => (Some(resolve(c, t)?), n),
        None => (None, target),
    };
    match kind {
        Some(rt) if !(rt.group.is_empty() && rt.kind == "Pod") => {
            let owner = c
                .find(&rt.group, &rt.kind, ns, name)
                .ok_or_else(|| KubeErr::not_found(&rt.qualified_plural(), name))?;
            let mut mine: Vec<usize> = (0..pods.len()).filter(|&i| pods[i].owner == Some(owner)).collect();
            mine.sort_by_key(|&i| str_at(&pods[i].body, &["metadata", "name"]).unwrap_or("").to_string());
            mine.first()
                .copied()
                .ok_or_else(|| KubeErr::plain(format!("timed out waiting for the condition on {}/{name}", rt.plural)))
        }
        _ => pods
            .iter()
            .position(|p| in_ns(p) && str_at(&p.body, &["metadata", "name"]) == Some(name))
            .ok_or_else(|| KubeErr::not_found("pods", name)),
    }
}

/// The containers to use and a stderr note (`Defaulted container …`) when one was picked for us.
pub fn pick_containers(pod: &Value, flag: Option<&str>, all: bool) -> Result<(Vec<String>, String), KubeErr> {
    let names: Vec<String> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|c| c.get("name").and_then(Value::as_str).map(String::from)).collect())
        .unwrap_or_default();
    let pod_name = str_at(pod, &["metadata", "name"]).unwrap_or("");
    if all {
        return Ok((names, String::new()));
    }
    if let Some(c) = flag {
        return if names.iter().any(|n| n == c) {
            Ok((vec![c.to_string()], String::new()))
        } else {
            Err(KubeErr::plain(format!("container {c} is not valid for pod {pod_name}")))
        };
    }
    let default = str_at(pod, &["metadata", "annotations", "kubectl.kubernetes.io/default-container"])
        .map(String::from)
        .filter(|d| names.contains(d));
    let chosen = default
        .clone()
        .or_else(|| names.first().cloned())
        .ok_or_else(|| KubeErr::plain(format!("pod {pod_name} has no containers")))?;
    let note = if names.len() > 1 && default.is_none() {
        format!("Defaulted container \"{chosen}\" out of: {}\n", names.join(", "))
    } else {
        String::new()
    };
    Ok((vec![chosen], note))
}

fn waiting_text(reason: &str) -> &str {
    match reason {
        "ImagePullBackOff" | "ErrImagePull" => "trying and failing to pull image",
        "ErrImageNeverPull" => "image can't be pulled",
        other => other,
    }
}

struct Stream {
    path: PathBuf,
    prefix: String,
    offset: u64,
    partial: Vec<u8>,
}

struct Plan {
    ns: String,
    pod: String,
    streams: Vec<Stream>,
}

fn decorate(line: &str, prefix: &str, timestamps: bool) -> String {
    let ts = if timestamps { format!("{} ", time::now_nanos()) } else { String::new() };
    format!("{prefix}{ts}{line}\n")
}

fn read_new(s: &mut Stream) -> Vec<String> {
    let Ok(mut f) = std::fs::File::open(&s.path) else {
        return Vec::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len < s.offset {
        s.offset = 0;
        s.partial.clear();
    }
    let mut buf = Vec::new();
    if f.seek(SeekFrom::Start(s.offset)).is_err() || f.read_to_end(&mut buf).is_err() {
        return Vec::new();
    }
    s.offset += buf.len() as u64;
    s.partial.extend_from_slice(&buf);
    let Some(last_nl) = s.partial.iter().rposition(|&b| b == b'\n') else {
        return Vec::new();
    };
    let complete: Vec<u8> = s.partial.drain(..=last_nl).collect();
    String::from_utf8_lossy(&complete).lines().map(String::from).collect()
}

pub(super) fn pod_exists(store: &Store, context: &str, ns: &str, pod: &str) -> bool {
    let Ok(state) = store.load() else { return true };
    let Some(c) = super::contexts::cluster(&state, context) else {
        return false;
    };
    all_pods(c).iter().any(|p| {
        str_at(&p.body, &["metadata", "namespace"]) == Some(ns) && str_at(&p.body, &["metadata", "name"]) == Some(pod)
    })
}

pub fn run(ctx: &mut Ctx, p: &Parsed, context: &str) -> i32 {
    if p.has("selector") {
        return ctx.fail(1, "error: fake-kube: logs -l is not simulated; name a pod (ohdev finds pods with get)");
    }
    let Some(target) = p.positional.first().cloned() else {
        return ctx.fail(1, "error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the logs command\nSee 'kubectl logs -h' for help and examples");
    };
    let tail: Option<usize> = match p.get("tail").map(str::parse::<i64>) {
        None => None,
        Some(Ok(n)) if n < 0 => None,
        Some(Ok(n)) => Some(n as usize),
        Some(Err(_)) => return ctx.fail(1, "error: invalid argument for --tail"),
    };
    let ns = namespace(p);
    let container = p.get("container").map(String::from).or_else(|| p.positional.get(1).cloned());
    let (all, previous, prefix) = (p.on("all-containers"), p.on("previous"), p.on("prefix"));
    let logs_root = ctx.store.path("logs");
    let mut plan: Option<Plan> = None;
    let code = with_cluster(ctx, context, |c| {
        let pods = all_pods(c);
        let i = match resolve_pod(c, &pods, &ns, &target) {
            Ok(i) => i,
            Err(e) => return Reply::fail(render_errs(&[e])),
        };
        let pod = &pods[i].body;
        let pod_name = str_at(pod, &["metadata", "name"]).unwrap_or("").to_string();
        let (names, note) = match pick_containers(pod, container.as_deref(), all) {
            Ok(x) => x,
            Err(e) => return Reply::fail(render_errs(&[e])),
        };
        let mut streams = Vec::new();
        for name in names {
            let status = pod
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .and_then(|a| a.iter().find(|s| s.get("name").and_then(Value::as_str) == Some(name.as_str())).cloned());
            let never_started = status.as_ref().is_none_or(|s| {
                s.pointer("/state/waiting").is_some() && s.get("restartCount").and_then(Value::as_u64).unwrap_or(0) == 0
            });
            if never_started && !previous {
                let reason = status
                    .as_ref()
                    .and_then(|s| s.pointer("/state/waiting/reason"))
                    .and_then(Value::as_str)
                    .unwrap_or("ContainerCreating");
                return Reply::fail(render_errs(&[KubeErr::status(
                    "BadRequest",
                    format!("container \"{name}\" in pod \"{pod_name}\" is waiting to start: {}", waiting_text(reason)),
                )]));
            }
            let file = if previous { format!("{name}.previous.log") } else { format!("{name}.log") };
            let path = logs_root.join(&ns).join(&pod_name).join(file);
            if previous && !path.exists() {
                return Reply::fail(render_errs(&[KubeErr::status(
                    "BadRequest",
                    format!("previous terminated container \"{name}\" in pod \"{pod_name}\" not found"),
                )]));
            }
            streams.push(Stream {
                path,
                prefix: if prefix { format!("[pod/{pod_name}/{name}] ") } else { String::new() },
                offset: 0,
                partial: Vec::new(),
            });
        }
        plan = Some(Plan { ns: ns.clone(), pod: pod_name, streams });
        Reply { err: note, ..Default::default() }
    });
    let Some(mut plan) = plan.filter(|_| code == 0) else {
        return code;
    };
    let timestamps = p.on("timestamps");
    for s in &mut plan.streams {
        let mut lines = read_new(s);
        if !s.partial.is_empty() && !p.on("follow") {
            lines.push(String::from_utf8_lossy(&std::mem::take(&mut s.partial)).into_owned());
        }
        let skip = tail.map_or(0, |t| lines.len().saturating_sub(t));
        let text: String = lines[skip..].iter().map(|l| decorate(l, &s.prefix, timestamps)).collect();
        ctx.say(&text);
    }
    if !p.on("follow") {
        return 0;
    }
    let mut ticks = 0u32;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(50));
        for s in &mut plan.streams {
            let text: String = read_new(s).iter().map(|l| decorate(l, &s.prefix, timestamps)).collect();
            ctx.say(&text);
        }
        ticks += 1;
        if ticks.is_multiple_of(2) && !pod_exists(&ctx.store, context, &plan.ns, &plan.pod) {
            return 0;
        }
    }
}
