//! The terminal view: one indicatif `MultiProgress`, a spinner per running step, all other
//! lines printed through it so bars are never torn.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{text::format_event, Renderer};
use crate::events::{Event, StepState};

pub struct TtyRenderer {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl TtyRenderer {
    pub fn new() -> TtyRenderer {
        TtyRenderer {
            // stdout, like the plain renderer: `ohdev status 2>/dev/null` still shows the status.
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn print(&self, text: &str) {
        if self.multi.println(text).is_err() {
            println!("{text}");
        }
    }
}

impl Default for TtyRenderer {
    fn default() -> Self {
        Self::new()
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner:.cyan} {prefix} [{bar:24.cyan/blue}] {msg:.dim}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

impl Renderer for TtyRenderer {
    fn emit(&self, event: &Event) {
        let mut bars = self.bars.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match event {
            Event::Step { id, state: StepState::Started, label, detail, .. } => {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(spinner_style());
                let detail = detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default();
                bar.set_message(format!("{label}{detail}"));
                bar.set_prefix(label.clone());
                bar.enable_steady_tick(Duration::from_millis(100));
                if let Some(old) = bars.insert(id.clone(), bar) {
                    old.finish_and_clear();
                }
            }
            Event::Step { id, .. } => {
                if let Some(bar) = bars.remove(id) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                drop(bars);
                if let Some(text) = format_event(event) {
                    self.print(&text);
                }
            }
            Event::Progress { id, current, total, unit, text } => {
                let bar = bars.entry(id.clone()).or_insert_with(|| {
                    let bar = self.multi.add(ProgressBar::new(*total));
                    bar.set_prefix(id.clone());
                    bar
                });
                bar.set_style(bar_style());
                bar.set_length(*total);
                bar.set_position(*current);
                bar.set_message(super::text::progress_text(*current, *total, *unit, text));
            }
            // The step's spinner already shows how long it runs.
            Event::StillRunning { .. } => {}
            Event::WatchStatus { image, state, .. } => {
                // One persistent line per image while watching; errors are also printed above it.
                let bar = bars.entry(format!("watch:{image}")).or_insert_with(|| {
                    let bar = self.multi.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template("{msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar
                });
                if let Some(text) = format_event(event) {
                    bar.set_message(text.clone());
                    bar.tick();
                    if matches!(state, crate::events::WatchState::Error | crate::events::WatchState::Stopped) {
                        drop(bars);
                        self.print(&text);
                    }
                }
            }
            other => {
                // A finished image or deploy no longer needs its progress bar.
                let finished = match other {
                    Event::Image { image, state, .. } if !matches!(state, crate::events::ImageState::Building) => {
                        Some(format!("image:{image}"))
                    }
                    Event::Diagnosis(_) => Some("deploy".to_string()),
                    _ => None,
                };
                if let Some(bar) = finished.and_then(|id| bars.remove(&id)) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                drop(bars);
                if let Some(text) = format_event(other) {
                    self.print(&text);
                }
            }
        }
    }

    fn finish(&self) {
        let mut bars = self.bars.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (_, bar) in bars.drain() {
            bar.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}
