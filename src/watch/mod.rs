//! `ohdev up --watch` / `ohdev watch`: notify → filter → batch → route → a queue per image.
//!
//! Filtering happens before batching (ignored paths never open a window). The window opens at the
//! first accepted event and closes [`WINDOW`] later, never extended. One job per image at a time;
//! changes that arrive during a job coalesce into one follow-up. A failed build or rollout keeps
//! the previous version running and watching goes on. An image that keeps rebuilding from changes
//! made while it builds is stopped, naming the path to ignore.

pub mod queue;
pub mod route;
pub mod sync;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinSet;

use crate::engine::reapply::reapply;
use crate::engine::rebuild::{build_and_load, current_tags};
use crate::engine::Session;
use crate::error::Error;
use crate::events::{Event, WatchState};
use queue::{key_of, Finished, Queues};
use route::{Action, Roots};
use sync::SyncOutcome;

/// How long a batch collects changes after its first one. An editor's save (write, rename,
/// chmod) arrives within a few milliseconds; 50 ms is watchexec's default too. A `git checkout`
/// that takes longer is still one build: changes during a build coalesce into one follow-up.
pub const WINDOW: Duration = Duration::from_millis(50);
const POLL_INTERVAL: Duration = Duration::from_millis(500);

fn status(session: &Session, image: &str, state: WatchState, detail: Option<String>) {
    session.reporter.emit(Event::WatchStatus { image: image.to_string(), state, detail });
}

/// Start a recursive watch on every root; fall back to polling where the inotify budget runs out.
fn start_watchers(
    roots: &Roots,
    sender: mpsc::Sender<PathBuf>,
    session: &Session,
) -> Result<Vec<Box<dyn Watcher + Send>>, Error> {
    let mut paths: Vec<PathBuf> = roots
        .images
        .iter()
        .map(|image| image.context.clone())
        .chain(roots.manifests.iter().cloned())
        .chain(roots.rendered.iter().filter(|path| path.exists()).cloned())
        .collect();
    paths.sort();
    paths.dedup();
    // A root inside another root is already covered.
    let paths: Vec<PathBuf> = paths
        .iter()
        .filter(|path| !paths.iter().any(|other| other != *path && path.starts_with(other)))
        .cloned()
        .collect();
    let handler = move |result: notify::Result<notify::Event>| {
        if let Ok(event) = result {
            if matches!(event.kind, notify::EventKind::Access(_)) {
                return;
            }
            for path in event.paths {
                // Never block notify's thread: a full queue drops the event (a later one re-triggers).
                let _ = sender.try_send(path);
            }
        }
    };
    let mut watchers: Vec<Box<dyn Watcher + Send>> = Vec::new();
    let mut native = notify::recommended_watcher(handler.clone())
        .map_err(|error| Error::work(format!("cannot start watching files: {error}"), None))?;
    for path in &paths {
        match native.watch(path, RecursiveMode::Recursive) {
            Ok(()) => {}
            Err(error) if matches!(error.kind, notify::ErrorKind::MaxFilesWatch) => {
                session.reporter.emit(Event::warn(
                    format!("the inotify watch limit is too small to watch {}: polling it every {} ms instead", path.display(), POLL_INTERVAL.as_millis()),
                    Some("sudo sysctl fs.inotify.max_user_watches=524288 (persist it in /etc/sysctl.d/99-ohdev.conf), then restart ohdev".to_string()),
                ));
                let mut poller = notify::PollWatcher::new(
                    handler.clone(),
                    notify::Config::default().with_poll_interval(POLL_INTERVAL),
                )
                .map_err(|error| Error::work(format!("cannot poll {}: {error}", path.display()), None))?;
                poller
                    .watch(path, RecursiveMode::Recursive)
                    .map_err(|error| Error::work(format!("cannot poll {}: {error}", path.display()), None))?;
                watchers.push(Box::new(poller));
            }
            Err(error) => return Err(Error::work(format!("cannot watch {}: {error}", path.display()), None)),
        }
    }
    watchers.push(Box::new(native));
    Ok(watchers)
}

/// What one job did, for the queue.
struct JobDone {
    key: String,
    /// The job's final status (`idle` or `error`). The loop reports it only once it has marked the
    /// job finished: a change made after seeing it is a new change, never one made during the job.
    state: WatchState,
    detail: Option<String>,
}

type Final = (WatchState, Option<String>);

async fn run_job(session: Arc<Session>, pipeline_lock: Arc<Mutex<()>>, action: Action) -> Final {
    let _serial = pipeline_lock.lock().await;
    let timeout = session.config.deploy_timeout;
    match action {
        Action::Rebuild { image, paths } => rebuild(&session, &image, &paths, timeout).await,
        Action::Sync { image, files } => {
            status(&session, &image, WatchState::Syncing, Some(format!("{} file(s)", files.len())));
            match sync::sync(session.kubectl(), &image, &files).await {
                Ok(SyncOutcome::Synced(containers)) => {
                    (WatchState::Idle, Some(format!("synced {} file(s) into {containers} container(s)", files.len())))
                }
                Ok(SyncOutcome::NoTar) => {
                    session.reporter.emit(Event::warn(
                        format!(
                            "image {image}: the container has no `tar`, so files cannot be synced; rebuilding instead"
                        ),
                        None,
                    ));
                    let paths: Vec<PathBuf> = files.iter().map(|file| file.path.clone()).collect();
                    rebuild(&session, &image, &paths, timeout).await
                }
                Ok(SyncOutcome::NoContainers) => {
                    session.reporter.emit(Event::warn(
                        format!("image {image}: no running container to sync into; rebuilding instead"),
                        None,
                    ));
                    let paths: Vec<PathBuf> = files.iter().map(|file| file.path.clone()).collect();
                    rebuild(&session, &image, &paths, timeout).await
                }
                Err(error) => (WatchState::Error, Some(error.to_string())),
            }
        }
        Action::Reapply { .. } => {
            status(&session, "manifests", WatchState::RollingOut, None);
            let tags = current_tags(&session, &[]);
            match reapply(&session, &tags, timeout).await {
                Ok(_) => (WatchState::Idle, None),
                Err(error) => (WatchState::Error, Some(error.to_string())),
            }
        }
    }
}

async fn rebuild(session: &Session, image: &str, paths: &[PathBuf], timeout: Duration) -> Final {
    let shown: Vec<String> = paths.iter().take(3).map(|path| path.display().to_string()).collect();
    // No paths: the dashboard asked for it, and a rebuild button rebuilds even an unchanged image.
    let requested = paths.is_empty();
    let why = if requested { REQUESTED.to_string() } else { shown.join(", ") };
    status(session, image, WatchState::Building, Some(why));
    let rebuilt = match build_and_load(session, &[image.to_string()], requested).await {
        Ok(rebuilt) => rebuilt,
        Err(error) => return (WatchState::Error, Some(error.to_string())),
    };
    if !rebuilt.failed.is_empty() {
        return (WatchState::Error, Some("build failed; the previous version keeps running".to_string()));
    }
    status(session, image, WatchState::RollingOut, None);
    let tags = current_tags(session, &rebuilt.results);
    match reapply(session, &tags, timeout).await {
        Ok(_) => {
            crate::engine::gc::after_rollout(session).await;
            (WatchState::Idle, None)
        }
        Err(error) => (WatchState::Error, Some(format!("{error}; the previous version keeps running"))),
    }
}

/// Why a rebuild without changed files started.
pub const REQUESTED: &str = "requested from the dashboard";

/// The next rebuild request, if there is a dashboard (never, without one).
async fn next_request(requests: &mut Option<mpsc::Receiver<Vec<String>>>) -> Option<Vec<String>> {
    match requests {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// Set once the watch loop runs: from then on Ctrl-C is the normal way out, not an error.
static WATCHING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn was_watching() -> bool {
    WATCHING.load(std::sync::atomic::Ordering::Relaxed)
}

/// What `ohdev watch` checks before it opens the Session, as `ohdev up` does: every image's context
/// and Dockerfile (the watch roots, and what a change rebuilds) and the manifests (what a change
/// re-applies). Without it a missing context was "cannot watch" (exit 1) and a broken manifest
/// waited, silently, for the first change.
pub async fn validate(
    config: &crate::config::Config,
    names: &[String],
) -> Result<Option<crate::deploy::plan::subset::Subset>, Error> {
    crate::engine::up::validate(config, names).await.map(|(_, subset)| subset)
}

/// Watch until interrupted. `requests`: images the dashboard asks to rebuild (empty: every one).
pub async fn run(session: Session, mut requests: Option<mpsc::Receiver<Vec<String>>>) -> Result<(), Error> {
    WATCHING.store(true, std::sync::atomic::Ordering::Relaxed);
    // Which registry (if any) the cluster pulls from, decided before the first change: a manifest
    // change re-applies with the references the images have there (after `up`, already decided).
    crate::engine::ship::target(&session, None).await?;
    let session = Arc::new(session);
    let roots = Roots::new(&session.config, session.lock().dir()).only_images(session.subset());
    let (sender, mut receiver) = mpsc::channel::<PathBuf>(8192);
    let _watchers = start_watchers(&roots, sender, &session)?;
    let pipeline_lock = Arc::new(Mutex::new(()));
    let mut jobs: JoinSet<JobDone> = JoinSet::new();
    // Which key each running task works for, so a task that panicked still frees its queue.
    let mut task_keys: BTreeMap<tokio::task::Id, String> = BTreeMap::new();
    let mut queues = Queues::default();
    let watched: BTreeSet<String> = roots.images.iter().map(|image| image.context.display().to_string()).collect();
    session.reporter.emit(Event::info(format!(
        "watching {} for changes (Ctrl-C to stop)",
        watched.into_iter().collect::<Vec<_>>().join(", ")
    )));
    let start = |jobs: &mut JoinSet<JobDone>, task_keys: &mut BTreeMap<tokio::task::Id, String>, action: Action| {
        let key = key_of(&action);
        let session = session.clone();
        let pipeline_lock = pipeline_lock.clone();
        let task_key = key.clone();
        let handle = jobs.spawn(async move {
            let (state, detail) = run_job(session, pipeline_lock, action).await;
            JobDone { key, state, detail }
        });
        task_keys.insert(handle.id(), task_key);
    };
    loop {
        tokio::select! {
            // Ctrl-C or SIGTERM: stop taking work; the running job is dropped with the session.
            _ = session.cancel.cancelled() => return Ok(()),
            first = receiver.recv() => {
                let Some(first) = first else { return Ok(()) };
                if !roots.accepts(&first) {
                    continue;
                }
                let deadline = tokio::time::Instant::now() + WINDOW;
                let mut batch = vec![first];
                while let Ok(Some(path)) = tokio::time::timeout_at(deadline, receiver.recv()).await {
                    if roots.accepts(&path) {
                        batch.push(path);
                    }
                }
                batch.sort();
                batch.dedup();
                for action in roots.route(&batch) {
                    if let Some(action) = queues.offer(action) {
                        start(&mut jobs, &mut task_keys, action);
                    }
                }
            }
            Some(images) = next_request(&mut requests) => {
                // Into the same queues as file changes: never two jobs of one image at once.
                for root in roots.images.iter().filter(|root| images.is_empty() || images.contains(&root.name)) {
                    let action = route::Action::Rebuild { image: root.name.clone(), paths: Vec::new() };
                    if let Some(action) = queues.offer(action) {
                        start(&mut jobs, &mut task_keys, action);
                    }
                }
            }
            Some(joined) = jobs.join_next_with_id(), if !jobs.is_empty() => {
                let done = match joined {
                    Ok((id, done)) => {
                        task_keys.remove(&id);
                        done
                    }
                    Err(error) => {
                        let key = task_keys.remove(&error.id()).unwrap_or_default();
                        JobDone { key, state: WatchState::Error, detail: Some(format!("internal error: {error}; watching goes on")) }
                    }
                };
                let next = queues.finished(&done.key);
                status(&session, &done.key, done.state, done.detail.clone());
                match next {
                    Finished::Start(action) => start(&mut jobs, &mut task_keys, action),
                    Finished::Idle => {}
                    Finished::Stopped { culprit, count } => {
                        let relative = roots
                            .images
                            .iter()
                            .find(|image| image.name == done.key)
                            .and_then(|image| culprit.strip_prefix(&image.context).ok())
                            .map(|path| path.display().to_string())
                            .unwrap_or_else(|| culprit.display().to_string());
                        session.reporter.emit(Event::WatchStatus {
                            image: done.key.clone(),
                            state: WatchState::Stopped,
                            detail: Some(format!(
                                "rebuilt {count} times in a row from files changed while it was building or rolling out (most often {}); stopped rebuilding it. Add `{relative}` to .dockerignore (or .ohdevignore), then restart `ohdev watch`",
                                culprit.display()
                            )),
                        });
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// What the case is, the project files (path, content), what the error says.
    type Case = (&'static str, &'static [(&'static str, &'static str)], &'static str);

    #[tokio::test]
    async fn bad_input_is_refused_before_watching() {
        let cases: &[Case] = &[
            (
                "no context",
                &[("ohdev.yaml", "cluster: {name: t}\nimages:\n  app: {context: src}\nmanifests: []\n")],
                "images.app.context is",
            ),
            (
                "no Dockerfile",
                &[("ohdev.yaml", "cluster: {name: t}\nimages:\n  app: {}\nmanifests: []\n")],
                "images.app.dockerfile is Dockerfile",
            ),
            (
                "a manifest path that does not exist",
                &[("ohdev.yaml", "cluster: {name: t}\nimages: {}\nmanifests: [k8s]\n")],
                "manifest path",
            ),
        ];
        for (what, files, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            for (path, content) in *files {
                std::fs::write(dir.path().join(path), content).unwrap();
            }
            let config = crate::config::load(&dir.path().join("ohdev.yaml")).unwrap();
            let error = super::validate(&config, &[]).await.unwrap_err();
            assert_eq!(error.exit_code(), 2, "{what}: {error}");
            assert!(error.to_string().contains(expected), "{what}: {error}");
        }
    }
}
