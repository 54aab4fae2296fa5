//! Which events belong on a diagnosis screen: those about the workload, its pods and the ReplicaSets or
//! Jobs it owns, newest last, at most `EVENT_LIMIT`. Events are the cluster's own account of what
//! went wrong (scheduling, pulls, probes), so the screen shows them as they are.

use serde_json::Value;

use crate::deploy::plan::manifest::ObjectKey;
use crate::json::text;

pub use crate::events::KubeEvent as EventSummary;

/// How many events the screen shows.
pub const EVENT_LIMIT: usize = 5;

/// Events about the workload, its pods, or its ReplicaSets/Jobs (named `<workload>-…`), oldest first.
pub(super) fn related_events<'e>(object: &ObjectKey, pods: &[&Value], events: &'e [Value]) -> Vec<&'e Value> {
    let pod_names: Vec<&str> = pods.iter().map(|pod| text(pod, "/metadata/name")).collect();
    let prefix = format!("{}-", object.name);
    let mut related: Vec<&Value> = events
        .iter()
        .filter(|event| {
            object.namespace.as_deref().is_none_or(|namespace| {
                text(event, "/involvedObject/namespace") == namespace || text(event, "/metadata/namespace") == namespace
            })
        })
        .filter(|event| {
            let name = text(event, "/involvedObject/name");
            name == object.name
                || pod_names.contains(&name)
                || (name.starts_with(&prefix)
                    && matches!(text(event, "/involvedObject/kind"), "ReplicaSet" | "Job" | "Pod"))
        })
        .collect();
    related.sort_by_key(|event| time_key(event));
    related
}

fn event_time(event: &Value) -> &str {
    ["/lastTimestamp", "/eventTime", "/firstTimestamp", "/metadata/creationTimestamp"]
        .iter()
        .map(|pointer| text(event, pointer))
        .find(|time| !time.is_empty())
        .unwrap_or("")
}

/// RFC 3339 UTC times compare as text once the optional fraction is split off (`…:05Z` vs `…:05.5Z`).
fn time_key(event: &Value) -> (String, String) {
    let time = event_time(event).trim_end_matches('Z');
    let (seconds, fraction) = time.split_once('.').unwrap_or((time, ""));
    (seconds.to_string(), format!("{fraction:0<9}"))
}

pub(super) fn newest(events: &[&Value]) -> Vec<EventSummary> {
    events[events.len().saturating_sub(EVENT_LIMIT)..]
        .iter()
        .map(|event| EventSummary {
            time: event_time(event).to_string(),
            event_type: text(event, "/type").to_string(),
            reason: text(event, "/reason").to_string(),
            object: format!("{}/{}", text(event, "/involvedObject/kind"), text(event, "/involvedObject/name")),
            message: text(event, "/message").trim_end().to_string(),
            count: event.get("count").and_then(Value::as_i64).unwrap_or(1),
        })
        .collect()
}
