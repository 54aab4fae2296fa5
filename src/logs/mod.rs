//! `ohdev logs`: every container of the environment's pods as one stream of whole lines.
//!
//! Why it is shaped like this: a reader task per container (`stream`) cuts its `kubectl logs`
//! output into complete lines and sends them over one bounded channel to a single writer, the only
//! code that hands log lines to the renderer. So lines of one container stay in order, lines of
//! different containers interleave only between lines, and a slow terminal slows the readers
//! instead of growing memory. With `--follow` a poll of `kubectl get pods` each second (`track`)
//! starts streams for pods that appear and reports the ones that go away. Every child runs
//! through the exec seam and the tasks live in a `JoinSet`, so stopping ohdev (the end, Ctrl-C)
//! drops them and with them every `kubectl` process group.

mod pods;
mod request;
mod select;
mod stream;
mod track;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, Semaphore};
use tokio::task::{AbortHandle, JoinSet};

pub use pods::{parse_pod_list, ContainerState, Pod, MANAGED_BY_SELECTOR};
pub use request::LogsRequest;

use crate::error::Error;
use crate::events::{Event, LogPodState};
use crate::tools::kubectl::Kubectl;
use crate::ui::Reporter;
use stream::{Output, StreamEnd, StreamOptions};
use track::{PodKey, StreamKey, Tracker};

/// How often `--follow` asks for the pod list.
const POLL: Duration = Duration::from_secs(1);
/// How long a vanished pod's streams may keep printing their last lines before they are stopped.
const GONE_GRACE: Duration = Duration::from_secs(5);
/// Batches of lines in flight between the readers and the writer.
const CHANNEL_BATCHES: usize = 256;
/// `kubectl logs` processes at once when printing what is there (without --follow).
const PARALLEL_WITHOUT_FOLLOW: usize = 8;

/// Stream the logs `request` asks for until they end (or, following, until ohdev is stopped).
pub async fn run(
    kubectl: &Kubectl,
    request: &LogsRequest,
    configured_images: &[String],
    reporter: &Reporter,
) -> anyhow::Result<()> {
    let pods = list_pods(kubectl, request).await.map_err(|error| explain_list_error(kubectl, error))?;
    select::check_targets(&request.args, &request.targets, &pods, configured_images)?;
    let selected: Vec<Pod> = select::select(&pods, &request.targets).into_iter().cloned().collect();
    if let Some(container) = &request.container {
        select::check_container(container, &selected.iter().collect::<Vec<_>>())?;
    }

    let (sender, receiver) = mpsc::channel(CHANNEL_BATCHES);
    let writer = {
        let reporter = reporter.clone();
        tokio::task::spawn_blocking(move || write_all(receiver, &reporter))
    };
    let engine = Engine {
        kubectl: kubectl.clone(),
        request: request.clone(),
        grep: request.grep.as_deref().map(Arc::from),
        output: sender,
    };
    if request.follow {
        engine.follow(selected).await;
    } else {
        engine.once(selected).await;
    }
    writer.await?;
    Ok(())
}

/// The writer: the one place log lines become events, in the order they arrive.
fn write_all(mut receiver: mpsc::Receiver<Output>, reporter: &Reporter) {
    while let Some(output) = receiver.blocking_recv() {
        match output {
            Output::Lines { source, lines } => {
                let events: Vec<Event> = lines
                    .into_iter()
                    .map(|line| Event::Log {
                        pod: source.pod.clone(),
                        container: source.container.clone(),
                        namespace: source.namespace.clone(),
                        line,
                    })
                    .collect();
                reporter.emit_batch(&events);
            }
            Output::Notice(event) => reporter.emit(event),
        }
    }
}

async fn list_pods(kubectl: &Kubectl, request: &LogsRequest) -> Result<Vec<Pod>, Error> {
    let list = if request.targets.is_empty() {
        kubectl.get_json(["pods", "-A", "-l", MANAGED_BY_SELECTOR]).await?
    } else {
        // A workload named on the command line counts even without ohdev's label.
        kubectl.get_json(["pods", "-A"]).await?
    };
    Ok(parse_pod_list(&list))
}

fn explain_list_error(kubectl: &Kubectl, error: Error) -> Error {
    match &error {
        Error::CommandFailed { stderr, .. } if stderr.contains("context") && stderr.contains("does not exist") => {
            Error::work(
                format!("kubectl has no context {}: the kind cluster is not there", kubectl.context()),
                Some("ohdev up".into()),
            )
        }
        _ => error,
    }
}

struct Engine {
    kubectl: Kubectl,
    request: LogsRequest,
    grep: Option<Arc<str>>,
    output: mpsc::Sender<Output>,
}

impl Engine {
    fn options(&self, from_first_poll: bool) -> StreamOptions {
        StreamOptions {
            follow: self.request.follow,
            tail: self.request.tail.filter(|_| from_first_poll),
            since: self.request.since.clone().filter(|_| from_first_poll),
        }
    }

    fn spawn(
        &self,
        streams: &mut JoinSet<StreamEnd>,
        key: StreamKey,
        from_first_poll: bool,
        limit: Option<Arc<Semaphore>>,
    ) -> AbortHandle {
        let (kubectl, options, grep, output) =
            (self.kubectl.clone(), self.options(from_first_poll), self.grep.clone(), self.output.clone());
        streams.spawn(async move {
            let _permit = match limit {
                Some(limit) => limit.acquire_owned().await.ok(),
                None => None,
            };
            stream::run(kubectl, key, options, grep, output).await
        })
    }

    async fn notice(&self, event: Event) {
        let _ = self.output.send(Output::Notice(event)).await;
    }

    /// Print what the containers have logged so far, then end.
    async fn once(self, selected: Vec<Pod>) {
        if selected.is_empty() {
            self.notice(Event::warn(no_pods_message(&self.request), Some("ohdev up".into()))).await;
        }
        for pod in &selected {
            for container in &pod.containers {
                if self.request.container.as_deref().is_some_and(|name| name != container.name) || container.has_logs()
                {
                    continue;
                }
                if let pods::ContainerState::Waiting(reason) = &container.state {
                    self.notice(Event::warn(
                        format!("{}/{} has no logs yet: it is waiting ({reason})", pod.name, container.name),
                        None,
                    ))
                    .await;
                }
            }
        }
        let changes =
            Tracker::default().observe(&selected.iter().collect::<Vec<_>>(), self.request.container.as_deref());
        let limit = Arc::new(Semaphore::new(PARALLEL_WITHOUT_FOLLOW));
        let mut streams = JoinSet::new();
        for start in changes.start {
            self.spawn(&mut streams, start.key, true, Some(limit.clone()));
        }
        while streams.join_next().await.is_some() {}
    }

    /// Stream until stopped: poll the pod list, start streams for new containers (and restarted
    /// ones), and say when a pod went away once its streams have printed their last lines.
    async fn follow(self, initial: Vec<Pod>) {
        let mut tracker = Tracker::default();
        let mut streams: JoinSet<StreamEnd> = JoinSet::new();
        let mut handles: HashMap<StreamKey, AbortHandle> = HashMap::new();
        let mut vanishing: Vec<(PodKey, Instant)> = Vec::new();
        let mut next_pods = Some(initial);
        let mut poll_failing = false;
        let mut ticker = tokio::time::interval(POLL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    let pods = match next_pods.take() {
                        Some(pods) => pods,
                        None => match list_pods(&self.kubectl, &self.request).await {
                            Ok(pods) => {
                                poll_failing = false;
                                select::select(&pods, &self.request.targets).into_iter().cloned().collect()
                            }
                            Err(error) => {
                                if !poll_failing {
                                    self.notice(Event::warn(format!("cannot list pods (retrying every second): {error}"), None)).await;
                                }
                                poll_failing = true;
                                continue;
                            }
                        },
                    };
                    if tracker.polls() == 0 && pods.is_empty() {
                        self.notice(Event::info(format!("{}; waiting for pods to start", no_pods_message(&self.request)))).await;
                    }
                    let changes = tracker.observe(&pods.iter().collect::<Vec<_>>(), self.request.container.as_deref());
                    for pod_key in changes.appeared {
                        self.notice(Event::LogPod { pod: pod_key.pod, namespace: pod_key.namespace, state: LogPodState::Appeared }).await;
                    }
                    for start in changes.start {
                        let handle = self.spawn(&mut streams, start.key.clone(), start.from_first_poll, None);
                        handles.insert(start.key, handle);
                    }
                    let now = Instant::now();
                    vanishing.extend(changes.vanished.into_iter().map(|pod_key| (pod_key, now)));
                }
                Some(joined) = streams.join_next() => {
                    if let Ok(end) = joined {
                        handles.remove(&end.key);
                        tracker.stream_ended(&end.key, end.failed_early);
                    }
                }
            }
            self.settle_vanished(&mut vanishing, &mut tracker, &mut handles).await;
        }
    }

    /// Report a vanished pod once its streams ended (or the grace period is over: then stop them).
    async fn settle_vanished(
        &self,
        vanishing: &mut Vec<(PodKey, Instant)>,
        tracker: &mut Tracker,
        handles: &mut HashMap<StreamKey, AbortHandle>,
    ) {
        let mut index = 0;
        while index < vanishing.len() {
            let (pod_key, since) = &vanishing[index];
            if tracker.is_streaming_pod(pod_key) && since.elapsed() < GONE_GRACE {
                index += 1;
                continue;
            }
            let (pod_key, _) = vanishing.swap_remove(index);
            let stale: Vec<StreamKey> = handles.keys().filter(|key| key.pod_key() == pod_key).cloned().collect();
            for key in stale {
                if let Some(handle) = handles.remove(&key) {
                    handle.abort();
                }
                tracker.stream_ended(&key, false);
            }
            self.notice(Event::LogPod { pod: pod_key.pod, namespace: pod_key.namespace, state: LogPodState::Gone })
                .await;
        }
    }
}

fn no_pods_message(request: &LogsRequest) -> String {
    if request.args.is_empty() {
        format!("no pod carries the label {MANAGED_BY_SELECTOR}")
    } else {
        format!("no pod matches {}", request.args.join(" "))
    }
}
