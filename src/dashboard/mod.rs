//! The dashboard: `ohdev up --watch` and `ohdev watch` in a browser tab.
//!
//! Another renderer of the one event stream (the Reporter tees events into the [`Hub`]), plus a
//! small API on 127.0.0.1 guarded by a per-run token (see `security`). While watching it also
//! polls the cluster for workloads and nodes, and follows the environment's logs through the same
//! streaming code as `ohdev logs -f` (bounded rings per container, nothing on the terminal).
//! Rebuild requests go to the watch loop over a channel, into the same queue file changes use.

pub mod bench;
mod hub;
mod security;
mod server;
mod snapshot;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

pub use hub::Hub;

use crate::events::Event;
use crate::tools::kubectl::Kubectl;
use crate::ui::{Renderer, Reporter};

/// Tilt uses 10350; the next port keeps both usable side by side.
pub const DEFAULT_PORT: u16 = 10351;
/// How often the cluster is asked for workloads and nodes.
const POLL: Duration = Duration::from_secs(2);
/// Rebuild requests waiting for the watch loop.
const REQUESTS: usize = 16;

/// A running dashboard. Dropping it stops the server, the poll and the log streams (their
/// `kubectl` children die with their tasks).
pub struct Dashboard {
    hub: Arc<Hub>,
    rebuilds: Option<mpsc::Receiver<Vec<String>>>,
    tasks: JoinSet<()>,
}

impl Dashboard {
    /// Serve on 127.0.0.1:`port` (0: any free port). A port in use or a missing random source is a
    /// warning and no dashboard: watching goes on without it.
    pub async fn start(
        port: u16,
        open: bool,
        cluster: (String, String),
        images: Vec<String>,
        reporter: &Reporter,
    ) -> Option<Dashboard> {
        let token = match security::new_token() {
            Ok(token) => token,
            Err(error) => {
                reporter.emit(Event::warn(
                    format!("no dashboard: cannot read /dev/urandom for its token ({error}); watching goes on"),
                    None,
                ));
                return None;
            }
        };
        let listener = match tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port)).await {
            Ok(listener) => listener,
            Err(error) => {
                let hint = if error.kind() == std::io::ErrorKind::AddrInUse {
                    format!("another program (or another `ohdev watch`) holds it: pass `--ui-port N` for another port, or `--no-ui`; `ss -ltnp 'sport = :{port}'` shows who holds it")
                } else {
                    "pass `--ui-port N` for another port, or `--no-ui`".to_string()
                };
                reporter.emit(Event::warn(
                    format!("no dashboard: cannot listen on 127.0.0.1:{port} ({error}); watching goes on"),
                    Some(hint),
                ));
                return None;
            }
        };
        let port = listener.local_addr().map(|address| address.port()).unwrap_or(port);
        let hub = Hub::new();
        hub.set_cluster(cluster.0, cluster.1);
        let (sender, receiver) = mpsc::channel(REQUESTS);
        let context =
            Arc::new(server::Context { hub: hub.clone(), token: token.clone(), port, images, rebuilds: sender });
        let mut tasks = JoinSet::new();
        tasks.spawn(serve(listener, context));
        let url = format!("http://127.0.0.1:{port}/?token={token}");
        reporter.emit(Event::info(format!("dashboard: {url}")));
        if open {
            tasks.spawn(open_browser(url, reporter.clone()));
        }
        Some(Dashboard { hub, rebuilds: Some(receiver), tasks })
    }

    /// `reporter`, also feeding the dashboard.
    pub fn reporter(&self, reporter: &Reporter) -> Reporter {
        reporter.tee(self.hub.clone())
    }

    /// The rebuild requests, for the watch loop (once).
    pub fn take_rebuilds(&mut self) -> Option<mpsc::Receiver<Vec<String>>> {
        self.rebuilds.take()
    }

    /// Once the cluster is there: poll it for workloads and nodes, and follow the environment's logs.
    pub fn follow(&mut self, kubectl: &Kubectl, images: Vec<String>) {
        self.tasks.spawn(poll(kubectl.clone(), self.hub.clone()));
        let hub = self.hub.clone();
        let kubectl = kubectl.clone();
        self.tasks.spawn(async move {
            let tail = Some(hub::LINES_PER_CONTAINER as u64);
            let Ok(request) = crate::logs::LogsRequest::new(Vec::new(), true, None, tail, None, None) else { return };
            let reporter = Reporter::only(Arc::new(LogsOnly(hub)));
            // The cluster may not answer yet (or went away): try again, quietly.
            loop {
                let _ = crate::logs::run(&kubectl, &request, &images, &reporter).await;
                tokio::time::sleep(POLL).await;
            }
        });
    }
}

/// `--ui-port`, `--no-ui`.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub port: u16,
    pub off: bool,
    /// `--open`: hand the URL to a browser once the dashboard serves.
    pub open: bool,
}

/// The dashboard `ui` asks for (none with `--no-ui`, or when it cannot start), and the reporter
/// the command goes on with (feeding the dashboard when there is one).
pub async fn start(
    ui: Options,
    config: &crate::config::Config,
    images: Vec<String>,
    reporter: Reporter,
) -> (Option<Dashboard>, Reporter) {
    let cluster = (config.cluster.name.clone(), config.cluster.context());
    start_for(ui, cluster, images, reporter).await
}

/// The program `--open` hands the URL to: `$BROWSER` (its first word; as many tools read it), else
/// the desktop's opener.
fn browser_command() -> String {
    match std::env::var("BROWSER").ok().and_then(|value| value.split(':').next().map(str::to_string)) {
        Some(browser) if !browser.trim().is_empty() => browser.trim().to_string(),
        _ if cfg!(target_os = "macos") => "open".to_string(),
        _ => "xdg-open".to_string(),
    }
}

/// `--open`: run the browser (supervised, at most 30 s: openers hand the URL to a running browser
/// and return). A failure is a warning with the URL to open by hand; watching goes on.
async fn open_browser(url: String, reporter: Reporter) {
    let program = browser_command();
    let outcome = crate::tools::exec::Invocation::new(&program, &program)
        .arg(url.clone())
        .timeout(Duration::from_secs(30))
        .run()
        .await;
    if let Err(error) = outcome {
        reporter.emit(Event::warn(
            format!("could not open a browser with `{program}`: {error}"),
            Some(format!("open {url} yourself, or set BROWSER to your browser's command")),
        ));
    }
}

/// `OHDEV_NO_UI=1` (or `true`, `yes`): never serve the dashboard, for people and scripts that
/// never want it without typing `--no-ui` each time.
fn no_ui_from_environment() -> bool {
    std::env::var("OHDEV_NO_UI")
        .is_ok_and(|value| matches!(value.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
}

async fn start_for(
    ui: Options,
    cluster: (String, String),
    images: Vec<String>,
    reporter: Reporter,
) -> (Option<Dashboard>, Reporter) {
    if ui.off || no_ui_from_environment() {
        return (None, reporter);
    }
    match Dashboard::start(ui.port, ui.open, cluster, images, &reporter).await {
        Some(dashboard) => {
            let reporter = dashboard.reporter(&reporter);
            (Some(dashboard), reporter)
        }
        None => (None, reporter),
    }
}

/// The log follower's lines go to the dashboard only; its other events (pods appearing) are the
/// follower's business, not the command's stream.
struct LogsOnly(Arc<Hub>);

impl Renderer for LogsOnly {
    fn emit(&self, event: &Event) {
        if matches!(event, Event::Log { .. }) {
            self.0.emit(event);
        }
    }

    fn emit_batch(&self, events: &[Event]) {
        if events.iter().all(|event| matches!(event, Event::Log { .. })) {
            self.0.emit_batch(events);
        } else {
            for event in events {
                self.emit(event);
            }
        }
    }
}

async fn serve(listener: tokio::net::TcpListener, context: Arc<server::Context>) {
    // Connections live in this set: when the dashboard is dropped, they go with it.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let context = context.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |request| server::handle(request, context.clone()));
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn poll(kubectl: Kubectl, hub: Arc<Hub>) {
    loop {
        if let Some((nodes, workloads, owners)) = observe(&kubectl).await {
            hub.observe(nodes, workloads, owners);
        }
        tokio::time::sleep(POLL).await;
    }
}

type Observed = (Vec<crate::events::NodeStatus>, Vec<snapshot::WorkloadRow>, BTreeMap<(String, String), String>);

async fn observe(kubectl: &Kubectl) -> Option<Observed> {
    let selector = crate::logs::MANAGED_BY_SELECTOR;
    let nodes = kubectl.get_json(["nodes"]).await.ok()?;
    let list = kubectl.get_json(["deployments,statefulsets,daemonsets", "-A", "-l", selector]).await.ok()?;
    let pods = kubectl.get_json(["pods", "-A", "-l", selector]).await.ok()?;
    let pods = crate::logs::parse_pod_list(&pods);
    let owners = pods
        .iter()
        .map(|pod| {
            let owner =
                pod.workload.as_ref().map(|owner| owner.to_string()).unwrap_or_else(|| format!("Pod/{}", pod.name));
            ((pod.namespace.clone(), pod.name.clone()), owner)
        })
        .collect();
    Some((crate::tools::kubectl::parse_nodes(&nodes), snapshot::workloads(&list, &pods), owners))
}
