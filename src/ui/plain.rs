//! Plain lines for pipes and CI logs: no spinners, no cursor movement.

use std::io::Write;

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
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{text}");
        }
    }
}
