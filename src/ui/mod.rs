//! Renderers: the one owner of the terminal.
//!
//! The engine hands events to a [`Reporter`]; which renderer sits behind it depends on `--json`
//! and whether stdout is a terminal. Nothing else in ohdev writes to stdout.

mod json;
mod plain;
mod text;
#[cfg(test)] mod text_snapshots;
mod tty;

use std::sync::Arc;

use crate::events::Event;

pub use json::{timestamp, JsonRenderer};
pub use plain::PlainRenderer;
pub use tty::TtyRenderer;

pub trait Renderer: Send + Sync {
    fn emit(&self, event: &Event);
    /// Several events at once (log lines): renderers that write to a pipe do it in one write.
    fn emit_batch(&self, events: &[Event]) {
        for event in events {
            self.emit(event);
        }
    }
    /// Called once before the process exits, so bars can be cleared.
    fn finish(&self) {}
    fn is_json(&self) -> bool {
        false
    }
}

/// Cheap to clone; shared by every task of the engine.
#[derive(Clone)]
pub struct Reporter {
    renderer: Arc<dyn Renderer>,
}

impl Reporter {
    pub fn new(renderer: Arc<dyn Renderer>) -> Reporter {
        Reporter { renderer }
    }

    pub fn emit(&self, event: Event) {
        self.renderer.emit(&event);
    }

    pub fn emit_batch(&self, events: &[Event]) {
        self.renderer.emit_batch(events);
    }

    pub fn finish(&self) {
        self.renderer.finish();
    }

    /// True when the renderer is the JSON one (stdout is reserved for JSON lines).
    pub fn is_json(&self) -> bool {
        self.renderer.is_json()
    }
}

/// Write to stdout; when the reader has gone (`ohdev logs -f | head`), stop every child and exit
/// quietly, as a command in a pipeline does.
pub(crate) fn write_stdout(bytes: &[u8]) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let result = stdout.write_all(bytes).and_then(|_| stdout.flush());
    if let Err(error) = result {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            crate::tools::exec::kill_all();
            std::process::exit(0);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Pick the renderer for this run and set colours globally (`NO_COLOR` is honoured for `auto`).
fn colors_enabled(choice: ColorChoice, term: &console::Term) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty()) && term.features().colors_supported(),
    }
}

pub fn reporter(json: bool, color: ColorChoice) -> Reporter {
    console::set_colors_enabled(colors_enabled(color, &console::Term::stdout()));
    console::set_colors_enabled_stderr(colors_enabled(color, &console::Term::stderr()));
    let renderer: Arc<dyn Renderer> = if json {
        Arc::new(JsonRenderer::new())
    } else if console::Term::stdout().is_term() {
        Arc::new(TtyRenderer::new())
    } else {
        Arc::new(PlainRenderer::new())
    };
    Reporter::new(renderer)
}
