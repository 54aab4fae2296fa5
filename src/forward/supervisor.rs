//! One forward, kept up: find a ready pod of the target, run `kubectl port-forward` to it until
//! the pod goes away or kubectl exits, then wait (backoff) and do it again, for as long as ohdev
//! runs. Plain `kubectl port-forward` stays bound to the pod it started with and dies with it
//! (kubectl#686, tilt#2099, skaffold#2408): this loop is what users wanted instead.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};

use super::backoff::Backoff;
use super::pods;
use super::record::Recorder;
use crate::config::{ForwardKind, PortForward};
use crate::error::Error;
use crate::events::{millis, Event, ForwardState};
use crate::tools::kubectl::Kubectl;
use crate::ui::Reporter;

/// How often a forwarding pod is checked: replaced or no longer ready, the forward moves on even
/// if kubectl has not noticed yet.
const POD_CHECK: Duration = Duration::from_secs(2);
/// How long one check may take: a cluster that does not answer leaves the decision to kubectl's
/// own connection, and the output of the running kubectl is read again.
const POD_CHECK_LIMIT: Duration = Duration::from_secs(10);
/// How long kubectl may take to say `Forwarding from …`.
const START_LIMIT: Duration = Duration::from_secs(60);
/// How many of kubectl's last stderr lines are kept to say why it exited.
const STDERR_LINES: usize = 5;

pub(super) struct Supervisor {
    pub forward: PortForward,
    pub kubectl: Kubectl,
    pub reporter: Reporter,
    pub recorder: Arc<Recorder>,
}

/// Why one connection ended, and for how long it forwarded.
struct Ended {
    pod: Option<String>,
    lasted: Option<Duration>,
    why: String,
}

impl Supervisor {
    /// Runs until the task is dropped (the forwards are stopped, or ohdev is).
    pub async fn run(self) {
        let mut backoff = Backoff::default();
        self.change(ForwardState::Starting, None, None, backoff.attempt(), None, None);
        // The last reconnect's reason while no connection came in between: the same failure again
        // (a target that does not exist yet) is not a new state, and is not announced again.
        let mut repeated: Option<String> = None;
        loop {
            let ended = self.connect_once(backoff.attempt()).await;
            if ended.lasted.is_some() {
                repeated = None;
            }
            let wait = backoff.failed(ended.lasted);
            if repeated.as_deref() != Some(ended.why.as_str()) {
                repeated = Some(ended.why.clone());
                self.change(
                    ForwardState::Reconnecting,
                    ended.pod,
                    None,
                    backoff.attempt(),
                    Some(millis(wait)),
                    Some(ended.why),
                );
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Record and announce a state change.
    fn change(
        &self,
        state: ForwardState,
        pod: Option<String>,
        kubectl_pid: Option<u32>,
        attempt: u32,
        backoff_ms: Option<u64>,
        detail: Option<String>,
    ) {
        if !self.recorder.set(self.forward.local, state, pod.clone(), kubectl_pid, detail.clone()) {
            return;
        }
        self.reporter.emit(Event::Forward {
            local: self.forward.local,
            target: self.forward.target(),
            namespace: self.forward.namespace.clone(),
            remote: self.forward.remote,
            pod,
            state,
            attempt,
            backoff_ms,
            detail,
        });
    }

    /// One connection: a pod, a kubectl, until either goes away.
    async fn connect_once(&self, attempt: u32) -> Ended {
        let forward = &self.forward;
        let (pod, port) = match self.find_pod().await {
            Ok(found) => found,
            Err(why) => return Ended { pod: None, lasted: None, why },
        };
        let ended = |lasted, why| Ended { pod: Some(pod.clone()), lasted, why };
        let mut child = match self
            .kubectl
            .invocation([
                "port-forward".to_string(),
                "--address".to_string(),
                "127.0.0.1".to_string(),
                format!("pod/{pod}"),
                format!("{}:{port}", forward.local),
                "-n".to_string(),
                forward.namespace.clone(),
            ])
            .spawn_streaming(false)
        {
            Ok(child) => child,
            Err(error) => return ended(None, brief(&error)),
        };
        let stderr = Arc::new(Mutex::new(Vec::<String>::new()));
        let collector = child.take_stderr().map(|pipe| {
            let stderr = stderr.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(pipe).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut kept = stderr.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    kept.push(line);
                    let excess = kept.len().saturating_sub(STDERR_LINES);
                    kept.drain(..excess);
                }
            })
        });
        let pid = child.id();
        let mut lines = BufReader::new(&mut child.stdout).lines();
        // kubectl prints this once it listens: before it, a connection would be refused.
        let ready_line = format!("Forwarding from 127.0.0.1:{}", forward.local);
        let started = tokio::time::timeout(START_LIMIT, async {
            loop {
                match lines.next_line().await {
                    Ok(Some(line)) if line.starts_with(&ready_line) => return true,
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => return false,
                }
            }
        })
        .await;
        match started {
            Ok(true) => {}
            Ok(false) => {
                drop(lines);
                return ended(None, exited(child, collector, &stderr).await);
            }
            Err(_) => {
                return ended(None, format!("kubectl port-forward did not start listening within {START_LIMIT:?}"))
            }
        }
        let since = Instant::now();
        self.change(ForwardState::Forwarding, Some(pod.clone()), pid, attempt, None, None);
        let mut check = tokio::time::interval_at(tokio::time::Instant::now() + POD_CHECK, POD_CHECK);
        let gone = loop {
            tokio::select! {
                line = lines.next_line() => match line {
                    // `Handling connection for …`: read so that kubectl never blocks on a full pipe.
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break None,
                },
                _ = check.tick() => {
                    if let Some(why) = self.pod_gone(&pod).await {
                        break Some(why);
                    }
                }
            }
        };
        drop(lines);
        let why = match gone {
            // Dropping the child stops kubectl (SIGTERM, grace, SIGKILL).
            Some(why) => why,
            None => exited(child, collector, &stderr).await,
        };
        ended(Some(since.elapsed()), why)
    }

    /// A ready pod of the target, and the pod's port for the forward's remote port.
    async fn find_pod(&self) -> Result<(String, u16), String> {
        let forward = &self.forward;
        let namespace = forward.namespace.as_str();
        if forward.kind == ForwardKind::Pod {
            let pod =
                self.kubectl.get_json(["pod", forward.name.as_str(), "-n", namespace]).await.map_err(|e| brief(&e))?;
            return if pods::is_ready(&pod) {
                Ok((forward.name.clone(), forward.remote))
            } else {
                Err(format!("pod {} is not ready yet", forward.name))
            };
        }
        let resource = match forward.kind {
            ForwardKind::Deployment => "deployment",
            ForwardKind::StatefulSet => "statefulset",
            ForwardKind::Service | ForwardKind::Pod => "service",
        };
        let target = forward.target();
        let object =
            self.kubectl.get_json([resource, forward.name.as_str(), "-n", namespace]).await.map_err(|e| brief(&e))?;
        let selector = pods::selector(forward.kind, &target, &object)?;
        let list =
            self.kubectl.get_json(["pods", "-n", namespace, "-l", selector.as_str()]).await.map_err(|e| brief(&e))?;
        let pod = pods::pick(&list).ok_or_else(|| format!("no ready pod of {target} yet"))?;
        Ok((pods::name(pod), pods::pod_port(forward.kind, &object, pod, forward.remote)))
    }

    /// Why the pod no longer takes the forward, or None while it does (or the cluster cannot be
    /// asked: then kubectl's own connection decides).
    async fn pod_gone(&self, pod: &str) -> Option<String> {
        let invocation = self
            .kubectl
            .invocation(["get", "pod", pod, "-n", self.forward.namespace.as_str(), "-o", "json"])
            .timeout(POD_CHECK_LIMIT);
        let output = invocation.run_unchecked().await.ok()?;
        if !output.success() {
            return output.stderr.contains("NotFound").then(|| format!("pod {pod} was deleted"));
        }
        let value: serde_json::Value = serde_json::from_str(&output.stdout).ok()?;
        (!pods::is_ready(&value)).then(|| format!("pod {pod} is no longer ready"))
    }
}

/// kubectl exited (its stdout ended): how, in one line.
async fn exited(
    child: crate::tools::exec::StreamingChild,
    collector: Option<tokio::task::JoinHandle<()>>,
    stderr: &Mutex<Vec<String>>,
) -> String {
    let code = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
    if let Some(collector) = collector {
        let _ = tokio::time::timeout(Duration::from_secs(1), collector).await;
    }
    let last = stderr.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).last().cloned();
    let status = match code {
        Ok(Ok((Some(code), _))) => format!("exited {code}"),
        Ok(Ok((None, _))) => "was killed".to_string(),
        Ok(Err(error)) => format!("could not be waited for ({error})"),
        Err(_) => "closed its output".to_string(),
    };
    match last {
        Some(line) => format!("kubectl port-forward {status}: {line}"),
        None => format!("kubectl port-forward {status}"),
    }
}

/// The line of a kubectl error that says what went wrong (its last stderr line).
fn brief(error: &Error) -> String {
    match error {
        Error::CommandFailed { stderr, .. } => {
            stderr.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or("kubectl failed").to_string()
        }
        other => other.to_string().lines().next().unwrap_or_default().to_string(),
    }
}
