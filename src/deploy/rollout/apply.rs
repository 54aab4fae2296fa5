//! Apply the plan to the cluster like kapp: each object as soon as everything it depends on is
//! applied and ready, independent objects together, server-side apply with field manager `ohdev`;
//! webhook and discovery races retried with backoff until the deadline; readiness polled (fast
//! first, then backing off: `cadence`); a stuck workload diagnosed on one screen.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;

use super::cadence;
use super::explain::{diagnose_failure, fail_fast, fetch, is_workload, timeout, Check, Stuck};
use super::readiness::{self, Readiness};
use super::stderr::{api_unusable, first_line, immutable_field, is_retryable};
use crate::deploy::plan::graph::Plan;
use crate::deploy::plan::manifest::{Object, ObjectKey};
use crate::deploy::plan::resource::{namespace_args, resource_name, ResourceNames};
use crate::error::Error;
use crate::events::{Event, ProgressUnit, StepState};
use crate::schedule::Schedule;
use crate::tools::kubectl::Kubectl;
use crate::ui::Reporter;

const CONCURRENT_APPLIES: usize = 4;
/// Polls a workload may stay not-ready with a definite failure before ohdev stops waiting.
const FAIL_FAST_POLLS: u32 = 4;

/// Kinds whose readiness must be read back from the cluster; everything else is ready once applied.
const POLLED_KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "Pod",
    "Service",
];

#[derive(Debug, Clone)]
pub struct Options {
    pub timeout: Duration,
    pub replace_immutable: bool,
    /// Registry host → where ohdev's login for it came from (never the values): named when a node
    /// cannot pull from that registry.
    pub logins: BTreeMap<String, String>,
}

/// The logins of the registry images were pushed to, by every host the nodes may name it by.
pub fn logins_of(target: Option<&crate::registry::Target>) -> BTreeMap<String, String> {
    let Some(target) = target else { return BTreeMap::new() };
    let source = target.credentials.source.to_string();
    BTreeMap::from([(target.push_host.clone(), source.clone()), (target.runtime_host.clone(), source)])
}

/// Time spent pulling images does not count toward the deadline: from one look at the pods that
/// found a pull to the next that still finds one, the deadline moves on by the time between.
#[derive(Debug, Default)]
struct PullClock {
    /// When a look last found a pull going on.
    since: Option<Instant>,
    /// This round: a look found a pull; a look found none.
    pulling: bool,
    checked: bool,
}

impl PullClock {
    fn credit(&mut self, deadline: Instant, now: Instant) -> Instant {
        let credited = match (self.pulling, self.since) {
            (true, Some(since)) => deadline + (now - since),
            _ => deadline,
        };
        if self.pulling {
            self.since = Some(now);
        } else if self.checked {
            self.since = None;
        }
        (self.pulling, self.checked) = (false, false);
        credited
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Waiting,
    /// Applied, not ready yet: how often it was polled, the last status seen, and the failures of
    /// the readiness `kubectl get` in a row (with the last one's message).
    Applied {
        polls: u32,
        last: String,
        failures: u32,
        last_error: Option<String>,
    },
    Ready,
}

/// Failed readiness reads in a row after which the wait stops with kubectl's message: a cluster
/// that keeps refusing is not "not ready yet".
const READ_FAILURES: u32 = 3;

/// Tries of an apply that kubectl refuses with "no matches for kind" when no CRD for the kind is in
/// the set: kubectl has just run discovery, so after a few tries (a CRD being installed by someone
/// else gets that long) the kind is taken as unknown instead of retrying until the deadline.
const UNKNOWN_KIND_TRIES: u32 = 4;

async fn apply_one(
    kubectl: &Kubectl,
    object: &Object,
    crd_in_set: bool,
    deadline: Instant,
    options: &Options,
    reporter: &Reporter,
) -> Result<(), Error> {
    let body = serde_json::to_vec(&object.value)
        .map_err(|error| Error::work(format!("cannot encode {}: {error}", object.key()), None))?;
    let mut backoff = Duration::from_millis(250);
    let mut replaced = false;
    let mut unknown_kind_tries = 0;
    loop {
        let invocation = kubectl
            .invocation(["apply", "--server-side", "--field-manager=ohdev", "--force-conflicts", "-f", "-"])
            .stdin(body.clone());
        let argv = invocation.argv().to_vec();
        let output = invocation.run_unchecked().await?;
        if output.success() {
            return Ok(());
        }
        let stderr = output.stderr.trim().to_string();
        let unknown_kind = stderr.contains("no matches for kind") || stderr.contains("ensure CRDs are installed first");
        if unknown_kind && !crd_in_set {
            unknown_kind_tries += 1;
            if unknown_kind_tries >= UNKNOWN_KIND_TRIES {
                return Err(Error::work(
                    format!(
                        "{} from {}: no CRD for kind {} ({}) in the manifests or in the cluster (kubectl's discovery does not know it)",
                        object.key(),
                        object.source,
                        object.kind(),
                        object.api_version()
                    ),
                    Some(format!(
                        "add the CustomResourceDefinition for {} to the manifests (or install its operator first), or fix `apiVersion`/`kind`",
                        object.kind()
                    )),
                ));
            }
        }
        if is_retryable(&stderr) && Instant::now() + backoff < deadline {
            reporter.emit(Event::step(
                format!("apply:{}", object.key()),
                StepState::Started,
                format!("waiting to apply {}", object.key()),
                Some(first_line(&stderr)),
            ));
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(4));
            continue;
        }
        if let Some(field) = immutable_field(&stderr) {
            if options.replace_immutable && !replaced {
                reporter.emit(Event::warn(
                    format!(
                        "{}: `{field}` cannot change in place; deleting and recreating it (--replace-immutable)",
                        object.key()
                    ),
                    None,
                ));
                delete(kubectl, object, &resource_name(object, std::slice::from_ref(object)), true).await?;
                replaced = true;
                continue;
            }
            return Err(Error::work(
                format!("{} from {}: the cluster refuses to change `{field}` of the existing object (the field is immutable)", object.key(), object.source),
                Some("`ohdev up --replace-immutable` deletes and recreates it (its pods restart)".to_string()),
            ));
        }
        return Err(Error::CommandFailed {
            argv,
            code: output.code,
            stderr: format!("applying {} from {}:\n{stderr}", object.key(), object.source),
        });
    }
}

pub async fn delete(kubectl: &Kubectl, object: &Object, resource: &str, wait: bool) -> Result<(), Error> {
    let key = object.key();
    let mut args = vec!["delete".to_string(), resource.to_string(), key.name.clone()];
    args.extend(namespace_args(&key));
    args.push("--ignore-not-found".to_string());
    args.push(format!("--wait={wait}"));
    kubectl.invocation(args).timeout(Duration::from_secs(120)).run().await?;
    Ok(())
}

/// Apply every object in dependency order and wait until all are ready.
pub async fn deploy(
    kubectl: &Kubectl,
    objects: &[Object],
    plan: &Plan,
    options: &Options,
    reporter: &Reporter,
) -> Result<(), Error> {
    deploy_changed(kubectl, objects, plan, &BTreeSet::new(), options, reporter).await
}

/// Like [`deploy`], treating the objects at `unchanged` as already applied and ready.
pub async fn deploy_changed(
    kubectl: &Kubectl,
    objects: &[Object],
    plan: &Plan,
    unchanged: &BTreeSet<usize>,
    options: &Options,
    reporter: &Reporter,
) -> Result<(), Error> {
    let started = Instant::now();
    // Moved on while a node is still pulling an image: a slow pull is progress, not a stall.
    let mut deadline = started + options.timeout;
    let mut pulls = PullClock::default();
    let heartbeat = crate::heartbeat::interval();
    let mut last_beat = started;
    let mut status: Vec<Status> = (0..objects.len())
        .map(|index| if unchanged.contains(&index) { Status::Ready } else { Status::Waiting })
        .collect();
    let changed = objects.len() - unchanged.len();
    let resources = &ResourceNames::new(objects);
    let index_of: BTreeMap<ObjectKey, usize> =
        plan.objects().map(|planned| (planned.key.clone(), planned.index)).collect();
    let mut dependencies: Vec<Vec<usize>> = vec![Vec::new(); objects.len()];
    for planned in plan.objects() {
        dependencies[planned.index] =
            planned.after.iter().filter_map(|dependency| index_of.get(&dependency.key).copied()).collect();
    }
    // Custom resources whose CRD the set does not hold: the cluster must already know the kind.
    let crd_missing: BTreeSet<usize> =
        plan.objects().filter(|planned| planned.crd_not_in_set).map(|planned| planned.index).collect();
    let crd_missing = &crd_missing;
    // The shared scheduler: an object is applied as soon as what it depends on is applied and ready.
    let mut schedule = Schedule::new(dependencies);
    for index in unchanged {
        schedule.mark_done(*index);
    }
    reporter.emit(Event::step("deploy", StepState::Started, format!("applying {changed} object(s)"), None));
    // Reads in a row in which nothing became ready: how long the next wait is (`cadence`).
    let mut idle_rounds = 0;
    loop {
        let ready_to_apply: Vec<usize> = std::iter::from_fn(|| schedule.next_ready()).collect();
        // Something became ready: what depends on it can be applied at once, without a wait. Objects
        // just applied are read below in this same round, so applying alone is no reason to read
        // them again at once (that read was a wasted `kubectl get` per apply).
        let mut progressed = false;
        let applied: Vec<(usize, Result<(), Error>)> =
            futures_util::stream::iter(ready_to_apply.into_iter().map(|index| async move {
                (
                    index,
                    apply_one(kubectl, &objects[index], !crd_missing.contains(&index), deadline, options, reporter)
                        .await,
                )
            }))
            .buffer_unordered(CONCURRENT_APPLIES)
            .collect()
            .await;
        for (index, result) in applied {
            if let Err(error) = result {
                reporter.emit(Event::step("deploy", StepState::Failed, "applying manifests", None));
                return Err(error);
            }
            let key = objects[index].key();
            reporter.emit(Event::step(format!("apply:{key}"), StepState::Done, format!("applied {key}"), None));
            if POLLED_KINDS.contains(&objects[index].kind()) {
                status[index] = Status::Applied { polls: 0, last: String::new(), failures: 0, last_error: None };
            } else {
                status[index] = Status::Ready;
                schedule.finish(index, true);
                progressed = true;
            }
        }
        let polled: Vec<usize> =
            (0..objects.len()).filter(|index| matches!(status[*index], Status::Applied { .. })).collect();
        let fetched: Vec<(usize, Result<Value, Error>)> = futures_util::stream::iter(
            polled.into_iter().map(|index| async move { (index, fetch(kubectl, &objects[index], resources).await) }),
        )
        .buffer_unordered(CONCURRENT_APPLIES)
        .collect()
        .await;
        for (index, live) in fetched {
            let live = match live {
                Ok(live) => {
                    if let Status::Applied { failures, last_error, .. } = &mut status[index] {
                        *failures = 0;
                        *last_error = None;
                    }
                    live
                }
                Err(error) => {
                    let message = error.to_string();
                    let stderr = match &error {
                        Error::CommandFailed { stderr, .. } => stderr.as_str(),
                        _ => message.as_str(),
                    };
                    // An object that is not visible yet is "not ready yet"; anything else counts.
                    let not_found = stderr.contains("NotFound") || stderr.contains("not found");
                    if let Status::Applied { failures, last_error, .. } = &mut status[index] {
                        *last_error = Some(first_line(stderr));
                        if !not_found {
                            *failures += 1;
                            if api_unusable(stderr) || *failures >= READ_FAILURES {
                                reporter.emit(Event::step("deploy", StepState::Failed, "waiting for readiness", None));
                                return Err(Error::work(
                                    format!(
                                        "cannot read the status of {} ({} failed read(s) in a row): {message}",
                                        objects[index].key(),
                                        failures
                                    ),
                                    Some(
                                        "check that the cluster answers: `kubectl --context <context> get nodes` (`ohdev status`)"
                                            .to_string(),
                                    ),
                                ));
                            }
                        }
                    }
                    continue;
                }
            };
            match readiness::evaluate(&live) {
                Readiness::Ready => {
                    status[index] = Status::Ready;
                    schedule.finish(index, true);
                    progressed = true;
                }
                Readiness::Failed(reason) => {
                    return Err(diagnose_failure(
                        kubectl,
                        &objects[index],
                        &live,
                        Some(reason),
                        &options.logins,
                        reporter,
                    )
                    .await)
                }
                Readiness::InProgress(what) => {
                    if let Status::Applied { polls, last, .. } = &mut status[index] {
                        *polls += 1;
                        *last = what;
                        if *polls % FAIL_FAST_POLLS == 0 && is_workload(objects[index].kind()) {
                            match fail_fast(kubectl, &objects[index], &live, &options.logins, reporter).await {
                                Check::Failed(error) => return Err(error),
                                Check::Pulling(image) => {
                                    *last = format!("pulling {image}");
                                    pulls.pulling = true;
                                }
                                Check::Waiting => pulls.checked = true,
                            }
                        }
                    }
                }
            }
        }
        deadline = pulls.credit(deadline, Instant::now());
        if schedule.all_succeeded() {
            reporter.emit(Event::step_done(
                "deploy",
                format!("{changed} object(s) applied and ready"),
                None,
                started.elapsed(),
            ));
            return Ok(());
        }
        if Instant::now() >= deadline {
            let stuck = status
                .iter()
                .enumerate()
                .filter_map(|(index, state)| match state {
                    Status::Waiting => Some((index, Stuck::NotApplied)),
                    Status::Applied { last, last_error, .. } => {
                        Some((index, Stuck::NotReady { last: last.clone(), last_error: last_error.clone() }))
                    }
                    Status::Ready => None,
                })
                .collect();
            return Err(timeout(kubectl, objects, stuck, options.timeout, &options.logins, reporter).await);
        }
        let waiting: Vec<String> = (0..objects.len())
            .filter_map(|index| match &status[index] {
                Status::Applied { last, .. } => Some(format!("{} ({last})", objects[index].key())),
                _ => None,
            })
            .collect();
        if !waiting.is_empty() {
            let text = format!("waiting for {}", waiting.join(", "));
            if last_beat.elapsed() >= heartbeat {
                // Plain and JSON output show no bars: say that the wait goes on, and for what.
                last_beat = Instant::now();
                reporter.emit(Event::StillRunning {
                    id: "deploy".to_string(),
                    label: text.clone(),
                    elapsed_ms: crate::events::millis(started.elapsed()),
                });
            }
            reporter.emit(Event::Progress {
                id: "deploy".to_string(),
                current: schedule.succeeded_count() as u64,
                total: objects.len() as u64,
                unit: ProgressUnit::Objects,
                text,
            });
        }
        if progressed {
            idle_rounds = 0;
        } else {
            tokio::time::sleep(cadence::delay(idle_rounds).min(deadline.saturating_duration_since(Instant::now())))
                .await;
            idle_rounds += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_between_two_looks_that_find_a_pull_is_credited_and_nothing_else() {
        let start = Instant::now();
        let deadline = start + Duration::from_secs(10);
        let mut clock = PullClock::default();
        let at = |seconds| start + Duration::from_secs(seconds);
        // The first look that finds a pull credits nothing (when it began is unknown).
        clock.pulling = true;
        assert_eq!(clock.credit(deadline, at(2)), deadline);
        // A round without any look keeps the clock; the next look still pulling credits 2..6.
        assert_eq!(clock.credit(deadline, at(4)), deadline);
        clock.pulling = true;
        let deadline = clock.credit(deadline, at(6));
        assert_eq!(deadline, start + Duration::from_secs(14));
        // A look that finds no pull stops the clock: later pulls start over.
        clock.checked = true;
        assert_eq!(clock.credit(deadline, at(8)), deadline);
        clock.pulling = true;
        assert_eq!(clock.credit(deadline, at(10)), deadline);
    }
}
