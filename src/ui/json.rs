//! `--json`: one event per line, each with `type` and `ts` (RFC 3339, UTC). Documented in the README.

use super::Renderer;
use crate::events::Event;

pub struct JsonRenderer;

impl JsonRenderer {
    pub fn new() -> JsonRenderer {
        JsonRenderer
    }
}

impl Default for JsonRenderer {
    fn default() -> Self {
        Self::new()
    }
}

pub fn timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| now.unix_timestamp().to_string())
}

/// One event as its `--json` line (with its newline); the dashboard sends the same objects.
pub fn line(event: &Event, ts: &str) -> Option<String> {
    if let Event::Plan { objects } = event {
        // The plan's own line format (README): one object per line, no envelope.
        return Some(super::plan_json_lines(objects));
    }
    let mut value = serde_json::to_value(event).ok()?;
    if let Some(object) = value.as_object_mut() {
        object.insert("ts".to_string(), serde_json::Value::String(ts.to_string()));
        if let Event::Diagnosis(report) = event {
            object.insert("screen".to_string(), serde_json::Value::String(super::diagnosis_screen(report)));
        }
    }
    Some(format!("{value}\n"))
}

impl Renderer for JsonRenderer {
    fn emit(&self, event: &Event) {
        if let Some(line) = line(event, &timestamp()) {
            super::write_stdout(line.as_bytes());
        }
    }

    fn emit_batch(&self, events: &[Event]) {
        let ts = timestamp();
        let buffer: String = events.iter().filter_map(|event| line(event, &ts)).collect();
        super::write_stdout(buffer.as_bytes());
    }

    fn is_json(&self) -> bool {
        true
    }
}
