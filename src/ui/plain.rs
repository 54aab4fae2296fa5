//! Plain lines for pipes and CI logs: no spinners, no cursor movement.

use super::{text::format_event, Renderer};
use crate::events::Event;

pub struct PlainRenderer;

impl PlainRenderer {
    pub fn new() -> PlainRenderer {
        PlainRenderer
    }
}

impl Default for PlainRenderer {
    fn default() -> Self {
        Self::new()
    }
}

impl Renderer for PlainRenderer {
    fn emit(&self, event: &Event) {
        // Started steps are printed too: a CI log then shows what was running when it stopped.
        if let Some(text) = format_event(event) {
            super::write_stdout(format!("{text}\n").as_bytes());
        }
    }

    fn emit_batch(&self, events: &[Event]) {
        let mut buffer = String::new();
        for text in events.iter().filter_map(format_event) {
            buffer.push_str(&text);
            buffer.push('\n');
        }
        super::write_stdout(buffer.as_bytes());
    }
}
