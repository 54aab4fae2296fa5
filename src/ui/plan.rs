//! `ohdev plan` as text (one block per level, dependencies aligned after each object) and as JSON
//! lines (one object per line: the format scripts read).

use crate::events::{PlanDependency, PlanEntry};

fn describe_after(dependency: &PlanDependency) -> String {
    format!("{} ({})", dependency.label, dependency.why.join(", "))
}

pub fn plan_text(entries: &[PlanEntry]) -> String {
    let label = |entry: &PlanEntry| {
        let mut shown = entry.label.clone();
        if entry.crd_not_in_set {
            shown.push_str(" (crd not in set)");
        }
        if let Some(source) = &entry.source {
            shown.push_str(&format!(" [{source}]"));
        }
        shown
    };
    let width = entries
        .iter()
        .filter(|entry| !entry.after.is_empty())
        .map(|entry| label(entry).chars().count())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    let mut level = None;
    for entry in entries {
        if level != Some(entry.level) {
            level = Some(entry.level);
            text.push_str(&format!("level {}\n", entry.level));
        }
        let shown = label(entry);
        let Some((first, rest)) = entry.after.split_first() else {
            text.push_str(&format!("  {shown}\n"));
            continue;
        };
        text.push_str(&format!("  {shown:<width$}  after {}\n", describe_after(first)));
        for dependency in rest {
            text.push_str(&format!("  {:<width$}        {}\n", "", describe_after(dependency)));
        }
    }
    text
}

/// `ohdev plan --json`: one line per object, in plan order:
/// `{"level":1,"kind":"ConfigMap","namespace":"openhands","name":"app","after":[{"kind":"Namespace","namespace":null,"name":"openhands","why":["namespace"]}]}`
pub fn plan_json_lines(entries: &[PlanEntry]) -> String {
    entries.iter().filter_map(|entry| serde_json::to_string(entry).ok()).map(|line| line + "\n").collect()
}
