//! The diagnosis screen: one block that says which object, pod and container is stuck, why, what the
//! cluster's events say, the last log lines, and what to do. Plain text (no colour) so the JSON
//! renderer can carry the same screen.

use crate::events::DiagnosisReport;

pub fn diagnosis_screen(report: &DiagnosisReport) -> String {
    let mut screen = format!("{} is not ready: {}\n", report.object, report.reason);
    if let Some(source) = &report.source {
        screen.push_str(&format!("  from:       {source}\n"));
    }
    if let Some(pod) = &report.pod {
        screen.push_str(&format!("  pod:        {pod}\n"));
    }
    if let Some(container) = &report.container {
        screen.push_str(&format!("  container:  {container}\n"));
    }
    if !report.message.is_empty() {
        screen.push_str(&format!("  message:    {}\n", report.message));
    }
    if !report.events.is_empty() {
        screen.push_str("  events (newest last):\n");
        for event in &report.events {
            let repeated = if event.count > 1 { format!(" (x{})", event.count) } else { String::new() };
            screen.push_str(&format!(
                "    {}  {:<7}  {}  {}: {}{repeated}\n",
                event.time, event.event_type, event.reason, event.object, event.message
            ));
        }
    }
    if !report.last_log_lines.is_empty() {
        screen.push_str("  last log lines:\n");
        for line in &report.last_log_lines {
            screen.push_str(&format!("    {line}\n"));
        }
    }
    if let Some(hint) = &report.hint {
        screen.push_str(&format!("  hint: {hint}\n"));
    }
    screen
}
