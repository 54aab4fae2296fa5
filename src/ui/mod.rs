//! Renderers: the one owner of the terminal.
//!
//! The engine hands events to a [`Reporter`]; which renderer sits behind it depends on `--json`
//! and whether stdout is a terminal. Nothing else in ohdev writes to stdout.

mod diagnosis;
mod json;
mod plain;
mod plan;
mod text;
#[cfg(test)]
mod text_snapshots;
mod tty;

use std::sync::Arc;

use crate::events::Event;

pub use diagnosis::diagnosis_screen;
pub use json::{line as json_line, timestamp, JsonRenderer};
pub use plain::PlainRenderer;
pub use plan::{plan_json_lines, plan_text};
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

    /// The same reporter, also handing every event to `also` (the dashboard): the terminal keeps
    /// its renderer, and `also` sees exactly what `--json` would print.
    pub fn tee(&self, also: Arc<dyn Renderer>) -> Reporter {
        Reporter { renderer: Arc::new(TeeRenderer { first: self.renderer.clone(), second: also }) }
    }

    /// A reporter that hands events to `renderer` only (the dashboard's own log follower: its
    /// lines are for the page, not the terminal).
    pub fn only(renderer: Arc<dyn Renderer>) -> Reporter {
        Reporter { renderer }
    }

    /// True when the renderer is the JSON one (stdout is reserved for JSON lines).
    pub fn is_json(&self) -> bool {
        self.renderer.is_json()
    }
}

/// Two renderers behind one reporter.
struct TeeRenderer {
    first: Arc<dyn Renderer>,
    second: Arc<dyn Renderer>,
}

impl Renderer for TeeRenderer {
    fn emit(&self, event: &Event) {
        self.first.emit(event);
        self.second.emit(event);
    }

    fn emit_batch(&self, events: &[Event]) {
        self.first.emit_batch(events);
        self.second.emit_batch(events);
    }

    fn finish(&self) {
        self.first.finish();
        self.second.finish();
    }

    fn is_json(&self) -> bool {
        self.first.is_json()
    }
}

/// Set once stdout's reader has gone (`ohdev logs -f | head`).
fn stdout_closed_flag() -> &'static tokio::sync::watch::Sender<bool> {
    static CLOSED: std::sync::OnceLock<tokio::sync::watch::Sender<bool>> = std::sync::OnceLock::new();
    CLOSED.get_or_init(|| tokio::sync::watch::channel(false).0)
}

/// Write to stdout. When the reader has gone, nothing more is written and [`stdout_closed`]
/// resolves: the top level then stops the command (and its children) and exits 0, as a command in a
/// pipeline does. The renderer itself never exits the process.
pub(crate) fn write_stdout(bytes: &[u8]) {
    use std::io::Write;
    let closed = stdout_closed_flag();
    if *closed.borrow() {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    let result = stdout.write_all(bytes).and_then(|_| stdout.flush());
    if let Err(error) = result {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            closed.send_replace(true);
        }
    }
}

/// Resolves once stdout's reader has gone.
pub(crate) async fn stdout_closed() {
    let mut closed = stdout_closed_flag().subscribe();
    // The sender lives in a static, so the channel never closes.
    let _ = closed.wait_for(|closed| *closed).await;
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
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty()) && term.features().colors_supported()
        }
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
