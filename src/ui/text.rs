//! Human text for events, shared by the TTY and plain renderers.

use console::style;

use std::time::Duration;

use crate::events::{
    CheckStatus, Event, ForwardState, GcPlace, ImageState, Level, LogPodState, ProgressUnit, StepState, WatchState,
};
use crate::units::{human_bytes, human_duration};

/// ` (a, b)` from the parts there are, or nothing.
fn parenthesised(parts: impl Iterator<Item = String>) -> String {
    let parts: Vec<String> = parts.collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// The text of a progress bar: what is done of what, in its unit.
pub fn progress_text(current: u64, total: u64, unit: ProgressUnit, text: &str) -> String {
    match unit {
        ProgressUnit::Steps => format!("step {current}/{total}: {text}"),
        ProgressUnit::Bytes => format!("{text}: {} of {}", human_bytes(current), human_bytes(total)),
        ProgressUnit::Objects => text.to_string(),
    }
}

/// The line(s) a person should see for an event, or None when the renderer shows it another way.
pub fn format_event(event: &Event) -> Option<String> {
    match event {
        Event::Step { state, label, detail, duration_ms, .. } => {
            let detail = parenthesised(
                detail.iter().cloned().chain(duration_ms.map(|ms| human_duration(Duration::from_millis(ms)))),
            );
            Some(match state {
                StepState::Started => format!("{} {label}{detail}", style("→").cyan()),
                StepState::Done => format!("{} {label}{detail}", style("✓").green()),
                StepState::Skipped => format!("{} {label}{detail}", style("·").dim()),
                StepState::Failed => format!("{} {label}{detail}", style("✗").red()),
            })
        }
        Event::Progress { .. } => None,
        Event::StillRunning { label, elapsed_ms, .. } => Some(format!(
            "{} still {label} ({} so far)",
            style("…").dim(),
            human_duration(Duration::from_millis(*elapsed_ms))
        )),
        Event::Plan { objects } if objects.is_empty() => Some("no manifests: nothing to apply".to_string()),
        Event::Plan { objects } => Some(super::plan_text(objects).trim_end().to_string()),
        Event::Built { tags } if tags.is_empty() => None,
        Event::Built { tags } => Some(tags.join("\n")),
        Event::Message { level, message, hint } => {
            let head = match level {
                Level::Info => String::new(),
                Level::Warn => format!("{} ", style("warning:").yellow().bold()),
                Level::Error => format!("{} ", style("error:").red().bold()),
            };
            let hint = hint.as_ref().map(|h| format!("\n  {} {h}", style("next:").dim())).unwrap_or_default();
            Some(format!("{head}{message}{hint}"))
        }
        Event::ClusterDrift { cluster, config, changes, hint } => {
            let mut text = format!(
                "{} cluster \"{cluster}\" was created from a different {config}; it keeps running as it is.\n  changed since creation:",
                style("warning:").yellow().bold()
            );
            for change in changes {
                text.push_str(&format!(
                    "\n    {}: {} → {}",
                    change.key,
                    change.before.as_deref().unwrap_or("(absent)"),
                    change.after.as_deref().unwrap_or("(absent)")
                ));
            }
            text.push_str(&format!("\n  {} {hint}", style("next:").dim()));
            Some(text)
        }
        Event::RemoteTarget { target, context, server, namespace } => Some(format!(
            "{} target {target}: kubectl context {context}, cluster {server}, namespace {namespace}\n  ohdev changes only what it applies there; `ohdev down --target {target}` deletes exactly that",
            style("remote").yellow().bold()
        )),
        Event::ClusterStatus { name, exists, context, nodes, drift } => {
            if !exists {
                return Some(format!("cluster  {name}: {}\n  next: ohdev up", style("not created").yellow()));
            }
            let mut text = format!("cluster  {name} (kubectl context {context})");
            for node in nodes {
                let ready = if node.ready { style("Ready").green() } else { style("NotReady").red() };
                text.push_str(&format!(
                    "\n  node   {:<32} {:<14} {ready} {}",
                    node.name,
                    node.role,
                    node.version.as_deref().unwrap_or("")
                ));
            }
            if let Some(changes) = drift {
                if !changes.is_empty() {
                    text.push_str(&format!(
                        "\n  {} cluster config changed since creation ({} key(s)); `ohdev up --recreate` applies it",
                        style("drift:").yellow(),
                        changes.len()
                    ));
                }
            }
            Some(text)
        }
        Event::DoctorCheck { check, status, detail, hint } => {
            let mark = match status {
                CheckStatus::Ok => style("ok  ").green(),
                CheckStatus::Warn => style("warn").yellow(),
                CheckStatus::Fail => style("fail").red(),
            };
            let hint = match (status, hint) {
                (CheckStatus::Ok, _) | (_, None) => String::new(),
                (_, Some(hint)) => format!("\n        fix: {hint}"),
            };
            Some(format!("{mark}  {check:<18} {detail}{hint}"))
        }
        Event::Ready { urls, next } => {
            let mut text = format!("{} environment is ready", style("✓").green().bold());
            for url in urls {
                text.push_str(&format!("\n  open  {}", style(url).cyan().underlined()));
            }
            for line in next {
                text.push_str(&format!("\n  next  {line}"));
            }
            Some(text)
        }
        Event::Image { image, tag, state, detail, context_bytes, duration_ms } => {
            let detail = parenthesised(
                detail
                    .iter()
                    .cloned()
                    .chain(context_bytes.map(|bytes| format!("{} of context", human_bytes(bytes))))
                    .chain(duration_ms.map(|ms| human_duration(Duration::from_millis(ms)))),
            );
            Some(match state {
                ImageState::Building => format!("{} building image {image} → {tag}{detail}", style("→").cyan()),
                ImageState::Built => format!("{} built image {image} → {tag}{detail}", style("✓").green()),
                ImageState::UpToDate => format!("{} image {image} is up to date: {tag}{detail}", style("·").dim()),
                ImageState::Failed => format!("{} image {image} failed to build{detail}", style("✗").red()),
                ImageState::Skipped => format!("{} image {image} not built{detail}", style("·").yellow()),
                ImageState::Loading => format!("{} loading {tag} into the cluster{detail}", style("→").cyan()),
                ImageState::Loaded => format!("{} loaded {tag} into the cluster{detail}", style("✓").green()),
                ImageState::AlreadyLoaded => format!("{} {tag} is already on every node{detail}", style("·").dim()),
                ImageState::Pushing => {
                    format!("{} pushing {tag} (only layers the registry lacks){detail}", style("→").cyan())
                }
                ImageState::Pushed => format!("{} pushed {tag}{detail}", style("✓").green()),
                ImageState::AlreadyPushed => format!("{} {tag} is already in the registry{detail}", style("·").dim()),
            })
        }
        Event::BuildFailed { image, step, message, output } => {
            let mut text = format!("{} image {image}: step `{step}` failed\n  {message}", style("error:").red().bold());
            if !output.is_empty() {
                text.push_str(&format!("\n  last {} line(s) of its output:", output.len()));
                for line in output {
                    text.push_str(&format!("\n  {} {line}", style("│").dim()));
                }
            }
            Some(text)
        }
        Event::RegistryStatus { host, runtime_host, advertised, answering, container } => {
            let mut from =
                vec![if *advertised { "advertised by the cluster".to_string() } else { "from ohdev.yaml".to_string() }];
            if runtime_host != host {
                from.push(format!("nodes pull from {runtime_host}"));
            }
            if let Some(container) = container {
                from.push(format!("container {container}"));
            }
            let state = if *answering {
                style("answering: images are pushed, not kind-loaded".to_string()).green()
            } else {
                style("not answering".to_string()).yellow()
            };
            let next = match (*answering, *advertised) {
                (true, _) => String::new(),
                (false, false) => "\n  next: ohdev up (starts it)".to_string(),
                (false, true) => "\n  next: start the registry the cluster advertises (`kubectl -n kube-public get configmap local-registry-hosting -o yaml` says which)".to_string(),
            };
            Some(format!("registry {host} ({}): {state}{next}", from.join(", ")))
        }
        Event::ImageStatus { image, tag, size_bytes, built, loaded_on, current, pushed } => {
            let Some(tag) = tag else {
                return Some(format!("image    {image}: {}\n  next: ohdev build {image}", style("not built").yellow()));
            };
            let size =
                size_bytes.map(|bytes| format!("{:.1} MB", bytes as f64 / 1_000_000.0)).unwrap_or_else(|| "?".into());
            let loaded = if let Some(pushed) = pushed.as_ref().filter(|_| loaded_on.is_empty()) {
                style(format!("pushed as {pushed}")).green()
            } else if loaded_on.is_empty() {
                style("not loaded".to_string()).yellow()
            } else {
                style(format!("loaded on {}", loaded_on.join(", "))).green()
            };
            let stale = if *current {
                String::new()
            } else {
                format!(" {}", style("(sources changed since: `ohdev build`)").yellow())
            };
            Some(format!(
                "image    {image:<12} {tag}  {size}  built {}  {loaded}{stale}",
                built.as_deref().unwrap_or("?")
            ))
        }
        Event::Diagnosis(report) => {
            Some(format!("{}\n{}", style("── diagnosis ──").red().bold(), super::diagnosis_screen(report)))
        }
        Event::Orphans { objects, pruned } => Some(if *pruned {
            format!(
                "{} pruned {} object(s) no longer in the manifests: {}",
                style("✓").green(),
                objects.len(),
                objects.join(", ")
            )
        } else {
            format!(
                "{} {} object(s) applied earlier are no longer in the manifests: {}\n  {} `ohdev up --prune` deletes them",
                style("warning:").yellow().bold(),
                objects.len(),
                objects.join(", "),
                style("next:").dim()
            )
        }),
        Event::Log { pod, container, line, .. } => {
            Some(format!("{} │ {line}", pod_style(pod).apply_to(format!("{pod}/{container}"))))
        }
        Event::LogPod { pod, namespace, state } => {
            let what = match state {
                LogPodState::Appeared => "started",
                LogPodState::Gone => "went away",
            };
            Some(format!("{} pod {} ({namespace}) {what}", style("──").dim(), pod_style(pod).apply_to(pod)))
        }
        Event::WatchStatus { image, state, detail } => {
            let (mark, word) = match state {
                WatchState::Idle => (style("●").green(), "up to date"),
                WatchState::Building => (style("●").cyan(), "building"),
                WatchState::RollingOut => (style("●").cyan(), "rolling out"),
                WatchState::Syncing => (style("●").cyan(), "syncing"),
                WatchState::Error => (style("●").red(), "error"),
                WatchState::Stopped => (style("■").red(), "stopped"),
            };
            let detail = detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default();
            Some(format!("{mark} [watch] {image} {word}{detail}"))
        }
        Event::Forward { local, target, namespace, remote, pod, state, attempt, backoff_ms, detail } => {
            let to = format!("{target} ({namespace}) port {remote}");
            Some(match state {
                ForwardState::Starting => format!("{} forward 127.0.0.1:{local} → {to}: starting", style("→").cyan()),
                ForwardState::Forwarding => {
                    let again = if *attempt > 1 { format!(" (attempt {attempt})") } else { String::new() };
                    format!(
                        "{} forward {} → {to}, pod {}{again}",
                        style("✓").green(),
                        style(format!("http://127.0.0.1:{local}")).cyan(),
                        pod.as_deref().unwrap_or("?")
                    )
                }
                ForwardState::Reconnecting => {
                    let why = detail.as_deref().map(|detail| format!(": {detail}")).unwrap_or_default();
                    let from = pod.as_deref().map(|pod| format!(", pod {pod}")).unwrap_or_default();
                    let wait = human_duration(Duration::from_millis(backoff_ms.unwrap_or(0)));
                    format!(
                        "{} forward 127.0.0.1:{local} → {to}{from}{why}\n  reconnecting in {wait} (attempt {attempt})",
                        style("↻").yellow()
                    )
                }
                ForwardState::Stopped => format!("{} forward 127.0.0.1:{local} → {to} stopped", style("■").dim()),
            })
        }
        Event::ForwardStatus { local, target, namespace, remote, state, pod, since, detail } => {
            let word = match state {
                ForwardState::Starting => style("starting").cyan(),
                ForwardState::Forwarding => style("forwarding").green(),
                ForwardState::Reconnecting => style("reconnecting").yellow(),
                ForwardState::Stopped => style("stopped").dim(),
            };
            let pod = match (state, pod) {
                (ForwardState::Forwarding, Some(pod)) => format!(" to pod {pod}"),
                (_, Some(pod)) => format!(", last pod {pod},"),
                (_, None) => String::new(),
            };
            let since = since.as_deref().map(|since| format!(" since {since}")).unwrap_or_default();
            let detail = detail.as_deref().map(|detail| format!(" ({detail})")).unwrap_or_default();
            Some(format!(
                "forward  http://127.0.0.1:{local} → {target} ({namespace}) port {remote}: {word}{pod}{since}{detail}"
            ))
        }
        Event::GcRemoved { tag, place, reference, node, bytes, dry_run, .. } => {
            let place = match (place, node) {
                (GcPlace::Docker, _) => "Docker".to_string(),
                (GcPlace::Registry, _) => "the registry".to_string(),
                (GcPlace::Node, Some(node)) => format!("node {node}"),
                (GcPlace::Node, None) => "a node".to_string(),
            };
            let size = parenthesised(bytes.map(human_bytes).into_iter());
            let what =
                if reference.ends_with(tag.as_str()) { reference.clone() } else { format!("{reference} ({tag})") };
            Some(if *dry_run {
                format!("{} would remove {what} from {place}{size}", style("·").dim())
            } else {
                format!("{} removed {what} from {place}{size}", style("✓").green())
            })
        }
        Event::GcDone { dry_run, removed, kept, docker_bytes, registry_bytes, node_bytes } => {
            if *removed == 0 {
                return Some(format!("{} gc: nothing to remove ({kept} tag(s) kept)", style("·").dim()));
            }
            let mut freed = Vec::new();
            match docker_bytes {
                Some(bytes) if *dry_run => freed.push(format!("about {} in Docker", human_bytes(*bytes))),
                Some(bytes) => freed.push(format!("{} in Docker", human_bytes(*bytes))),
                None => freed.push("an unmeasured amount in Docker".to_string()),
            }
            if *registry_bytes > 0 {
                freed.push(format!("{} in the registry", human_bytes(*registry_bytes)));
            }
            if *node_bytes > 0 {
                freed.push(format!("{} on the nodes", human_bytes(*node_bytes)));
            }
            Some(if *dry_run {
                format!(
                    "{} gc would remove {removed} tag(s) and keep {kept}, freeing {}; nothing was changed (--dry-run)",
                    style("·").dim(),
                    freed.join(", ")
                )
            } else {
                format!("{} gc removed {removed} tag(s), kept {kept}: freed {}", style("✓").green(), freed.join(", "))
            })
        }
        Event::Error { .. } => None,
    }
}

/// A colour per pod for `ohdev logs`, the same on every run (a hash of the name picks it).
fn pod_style(pod: &str) -> console::Style {
    // 256-colour codes that read well on dark and light backgrounds; no red (it means errors).
    const PALETTE: [u8; 12] = [33, 37, 71, 98, 107, 130, 136, 166, 170, 67, 139, 31];
    let hash = pod
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
    console::Style::new().color256(PALETTE[(hash % PALETTE.len() as u64) as usize])
}
