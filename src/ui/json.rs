//! `--json`: one event per line, each with `type` and `ts` (RFC 3339, UTC). Documented in the README.

use std::io::Write;

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
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

impl Renderer for JsonRenderer {
    fn emit(&self, event: &Event) {
        let mut value = match serde_json::to_value(event) {
            Ok(value) => value,
            Err(_) => return,
        };
        if let Some(object) = value.as_object_mut() {
            object.insert("ts".to_string(), serde_json::Value::String(timestamp()));
        }
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{value}");
    }

    fn is_json(&self) -> bool {
        true
    }
}
