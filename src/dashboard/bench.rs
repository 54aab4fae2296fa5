//! For `crates/ohdev-bench` (`dashboard_load`): the real server and Hub on their own runtime, fed
//! through a Reporter the way the engine feeds them, from a caller without tokio.

use std::sync::{Arc, Mutex};

use super::{Dashboard, Hub};
use crate::events::Event;
use crate::ui::{Renderer, Reporter};

/// Keeps the messages (the URL line) and drops the rest: the terminal is not measured.
struct Messages(Mutex<Vec<String>>);

impl Renderer for Messages {
    fn emit(&self, event: &Event) {
        if let Event::Message { message, .. } = event {
            self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(message.clone());
        }
    }
}

pub struct DashboardBench {
    reporter: Reporter,
    hub: Arc<Hub>,
    url: String,
    // Dropped before the runtime: the server's tasks stop first.
    _dashboard: Dashboard,
    _runtime: tokio::runtime::Runtime,
}

impl DashboardBench {
    /// Serve on 127.0.0.1 (any free port).
    pub fn start() -> Result<DashboardBench, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|error| error.to_string())?;
        let messages = Arc::new(Messages(Mutex::new(Vec::new())));
        let quiet = Reporter::only(messages.clone());
        let dashboard = runtime
            .block_on(Dashboard::start(0, false, ("bench".into(), "kind-bench".into()), Vec::new(), &quiet))
            .ok_or("the dashboard did not start")?;
        let url = messages
            .0
            .lock()
            .map_err(|_| "poisoned")?
            .iter()
            .find_map(|message| message.strip_prefix("dashboard: ").map(str::to_string))
            .ok_or("no dashboard URL")?;
        let hub = dashboard.hub.clone();
        let reporter = dashboard.reporter(&Reporter::only(Arc::new(Messages(Mutex::new(Vec::new())))));
        Ok(DashboardBench { reporter, hub, url, _dashboard: dashboard, _runtime: runtime })
    }

    /// `http://127.0.0.1:PORT/?token=…`
    pub fn url(&self) -> &str {
        &self.url
    }

    /// One `message` event, as the engine emits it.
    pub fn emit_message(&self, text: String) {
        self.reporter.emit(Event::info(text));
    }

    /// Log lines of pod `pod` (containers `c0`…), as one batch, as `ohdev logs`' writer hands them over.
    pub fn emit_log_lines(&self, pod: &str, lines: &[(usize, String)]) {
        let events: Vec<Event> = lines
            .iter()
            .map(|(container, line)| Event::Log {
                pod: pod.to_string(),
                container: format!("c{container}"),
                namespace: "bench".to_string(),
                line: line.clone(),
            })
            .collect();
        self.reporter.emit_batch(&events);
    }

    /// Log lines the server holds.
    pub fn log_lines_kept(&self) -> usize {
        self.hub.log_lines_kept()
    }
}
