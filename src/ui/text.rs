//! Human text for events, shared by the TTY and plain renderers.

use console::style;

use crate::events::{CheckStatus, Event, Level, StepState};

/// The line(s) a person should see for an event, or None when the renderer shows it another way.
pub fn format_event(event: &Event) -> Option<String> {
    match event {
        Event::Step { state, label, detail, .. } => {
            let detail = detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default();
            Some(match state {
                StepState::Started => format!("{} {label}{detail}", style("→").cyan()),
                StepState::Done => format!("{} {label}{detail}", style("✓").green()),
                StepState::Skipped => format!("{} {label}{detail}", style("·").dim()),
                StepState::Failed => format!("{} {label}{detail}", style("✗").red()),
            })
        }
        Event::Progress { .. } => None,
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
        Event::Error { .. } => None,
    }
}
