//! The work queues of `ohdev watch` as a pure state machine: one queue per key (an image, or
//! `manifests`), at most one job per key at a time, work that arrives during a job coalesced into
//! one follow-up, and the loop guard. No I/O and no clock: `watch::run` feeds it routed actions and
//! finished jobs and does what it answers, so every rule here is tested without a runtime.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::route::Action;

/// Rebuilds in a row triggered only by changes made during the image's own job before it is stopped.
pub const LOOP_LIMIT: u32 = 3;

/// What to do once a key's job has finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finished {
    /// Work arrived during the job: start this follow-up now.
    Start(Action),
    /// Nothing waits; the key is idle.
    Idle,
    /// The key kept rebuilding from changes made during its own jobs: it was stopped, and takes no
    /// more work. `culprit` is the path changed most often in that run, `count` the jobs in a row.
    Stopped { culprit: PathBuf, count: u32 },
}

/// Every key's queue.
#[derive(Debug, Default)]
pub struct Queues {
    queues: BTreeMap<String, Queue>,
}

#[derive(Debug, Default)]
struct Queue {
    running: bool,
    /// Work that arrived while running: coalesced into one follow-up.
    pending: Option<Action>,
    /// Paths changed while the current job ran.
    changed_during_job: Vec<PathBuf>,
    /// Consecutive jobs triggered only by changes made during the previous job, and by which paths.
    self_triggered: u32,
    loop_paths: BTreeMap<PathBuf, u32>,
    stopped: bool,
}

impl Queues {
    /// New work for its key: the action to start now when the key is idle; `None` when it waits
    /// for the running job (merged with what already waits) or the key was stopped.
    pub fn offer(&mut self, action: Action) -> Option<Action> {
        let queue = self.queues.entry(key_of(&action)).or_default();
        if queue.stopped {
            return None;
        }
        if queue.running {
            queue.changed_during_job.extend(paths_of(&action));
            queue.pending = Some(merge(queue.pending.take(), action));
            return None;
        }
        queue.running = true;
        queue.self_triggered = 0;
        queue.loop_paths.clear();
        Some(action)
    }

    /// The job of `key` finished (whether it succeeded or not): start what waited, go idle, or stop
    /// the key when this would be one self-triggered job too many.
    pub fn finished(&mut self, key: &str) -> Finished {
        let queue = self.queues.entry(key.to_string()).or_default();
        queue.running = false;
        let during = std::mem::take(&mut queue.changed_during_job);
        let Some(next) = queue.pending.take() else { return Finished::Idle };
        // A loop rewrites the same path every time: a run counts only while some path was
        // changed during every job of it, so unrelated edits during builds do not add up.
        let during: BTreeSet<PathBuf> = during.into_iter().collect();
        queue.loop_paths.retain(|path, _| during.contains(path));
        if queue.loop_paths.is_empty() {
            queue.self_triggered = 1;
            queue.loop_paths = during.into_iter().map(|path| (path, 1)).collect();
        } else {
            queue.self_triggered += 1;
            for count in queue.loop_paths.values_mut() {
                *count += 1;
            }
        }
        if queue.self_triggered > LOOP_LIMIT {
            queue.stopped = true;
            let culprit = queue
                .loop_paths
                .iter()
                .max_by_key(|(_, count)| **count)
                .map(|(path, _)| path.clone())
                .unwrap_or_default();
            return Finished::Stopped { culprit, count: queue.self_triggered };
        }
        queue.running = true;
        Finished::Start(next)
    }
}

/// The queue an action belongs to: its image, or `manifests`.
pub fn key_of(action: &Action) -> String {
    match action {
        Action::Rebuild { image, .. } | Action::Sync { image, .. } => image.clone(),
        Action::Reapply { .. } => "manifests".to_string(),
    }
}

fn paths_of(action: &Action) -> Vec<PathBuf> {
    match action {
        Action::Rebuild { paths, .. } | Action::Reapply { paths } => paths.clone(),
        Action::Sync { files, .. } => files.iter().map(|file| file.path.clone()).collect(),
    }
}

/// Two pieces of work for one key become one: anything together with a rebuild is a rebuild.
fn merge(earlier: Option<Action>, later: Action) -> Action {
    match (earlier, later) {
        (None, later) => later,
        (Some(Action::Sync { image, mut files }), Action::Sync { files: more, .. }) => {
            files.extend(more);
            Action::Sync { image, files }
        }
        (Some(Action::Reapply { mut paths }), Action::Reapply { paths: more }) => {
            paths.extend(more);
            Action::Reapply { paths }
        }
        (Some(earlier), later) => {
            let mut paths = paths_of(&earlier);
            paths.extend(paths_of(&later));
            Action::Rebuild { image: key_of(&later), paths }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::route::SyncFile;

    fn file(path: &str) -> SyncFile {
        SyncFile { path: path.into(), relative: path.into(), dest: "/d".into(), run: vec![] }
    }

    fn sync(image: &str, paths: &[&str]) -> Action {
        Action::Sync { image: image.into(), files: paths.iter().map(|path| file(path)).collect() }
    }

    fn rebuild(image: &str, paths: &[&str]) -> Action {
        Action::Rebuild { image: image.into(), paths: paths.iter().map(PathBuf::from).collect() }
    }

    fn reapply(paths: &[&str]) -> Action {
        Action::Reapply { paths: paths.iter().map(PathBuf::from).collect() }
    }

    fn stopped(culprit: &str, count: u32) -> Finished {
        Finished::Stopped { culprit: culprit.into(), count }
    }

    /// One event fed to the queues, with what they must answer.
    enum Step {
        Offer(Action, Option<Action>),
        Finish(&'static str, Finished),
    }
    use Step::{Finish, Offer};

    /// A job of `image` triggered by `path` changing during the previous job: offered while it
    /// runs, started when that job finishes.
    fn self_triggered(image: &'static str, path: &str) -> [Step; 2] {
        [Offer(rebuild(image, &[path]), None), Finish(image, Finished::Start(rebuild(image, &[path])))]
    }

    #[test]
    fn scenarios() {
        let loop_run: Vec<Step> = [
            vec![Offer(rebuild("app", &["src/edit.py"]), Some(rebuild("app", &["src/edit.py"])))],
            // The build writes gen.txt every time; other.txt only now and then (so it drops out).
            vec![Offer(rebuild("app", &["z/other.txt"]), None), Offer(rebuild("app", &["a/gen.txt"]), None)],
            vec![Finish("app", Finished::Start(rebuild("app", &["z/other.txt", "a/gen.txt"])))],
            self_triggered("app", "a/gen.txt").into(),
            vec![Offer(rebuild("app", &["a/gen.txt", "z/other.txt"]), None)],
            vec![Finish("app", Finished::Start(rebuild("app", &["a/gen.txt", "z/other.txt"])))],
            // The fourth self-triggered job in a row is one too many.
            vec![Offer(rebuild("app", &["a/gen.txt"]), None), Finish("app", stopped("a/gen.txt", LOOP_LIMIT + 1))],
        ]
        .into_iter()
        .flatten()
        .collect();

        let unrelated: Vec<Step> =
            std::iter::once(Offer(rebuild("app", &["edit-0"]), Some(rebuild("app", &["edit-0"]))))
                .chain((1..=3 * LOOP_LIMIT).flat_map(|round| self_triggered("app", &format!("edit-{round}"))))
                .chain([Finish("app", Finished::Idle)])
                .collect();

        let scenarios: Vec<(&str, Vec<Step>)> = vec![
            (
                "work during a job coalesces into one follow-up",
                vec![
                    Offer(sync("app", &["a"]), Some(sync("app", &["a"]))),
                    Offer(sync("app", &["b"]), None),
                    Offer(sync("app", &["c"]), None),
                    Finish("app", Finished::Start(sync("app", &["b", "c"]))),
                    Finish("app", Finished::Idle),
                    Offer(sync("app", &["d"]), Some(sync("app", &["d"]))),
                ],
            ),
            (
                "a sync and a rebuild waiting together become one rebuild of both",
                vec![
                    Offer(sync("app", &["a"]), Some(sync("app", &["a"]))),
                    Offer(sync("app", &["b"]), None),
                    Offer(rebuild("app", &["c"]), None),
                    Offer(sync("app", &["d"]), None),
                    Finish("app", Finished::Start(rebuild("app", &["b", "c", "d"]))),
                ],
            ),
            (
                "images and manifests queue apart",
                vec![
                    Offer(rebuild("app", &["a"]), Some(rebuild("app", &["a"]))),
                    Offer(rebuild("web", &["w"]), Some(rebuild("web", &["w"]))),
                    Offer(reapply(&["k/a.yaml"]), Some(reapply(&["k/a.yaml"]))),
                    Offer(reapply(&["k/b.yaml"]), None),
                    Offer(reapply(&["k/c.yaml"]), None),
                    Finish("web", Finished::Idle),
                    Finish("manifests", Finished::Start(reapply(&["k/b.yaml", "k/c.yaml"]))),
                    Finish("app", Finished::Idle),
                ],
            ),
            (
                "the loop guard stops the fourth self-triggered job in a row, naming the path changed in every one",
                loop_run,
            ),
            ("edits of different paths during builds never add up to a loop", unrelated),
            (
                "an idle moment starts the count again",
                [
                    vec![Offer(rebuild("app", &["x"]), Some(rebuild("app", &["x"])))],
                    self_triggered("app", "gen").into(),
                    self_triggered("app", "gen").into(),
                    self_triggered("app", "gen").into(),
                    vec![
                        Finish("app", Finished::Idle),
                        Offer(rebuild("app", &["gen"]), Some(rebuild("app", &["gen"]))),
                    ],
                    self_triggered("app", "gen").into(),
                    self_triggered("app", "gen").into(),
                    self_triggered("app", "gen").into(),
                    vec![Offer(rebuild("app", &["gen"]), None), Finish("app", stopped("gen", LOOP_LIMIT + 1))],
                ]
                .into_iter()
                .flatten()
                .collect(),
            ),
            (
                "a stopped key takes no more work; other keys go on",
                [
                    vec![Offer(rebuild("app", &["x"]), Some(rebuild("app", &["x"])))],
                    self_triggered("app", "gen").into(),
                    self_triggered("app", "gen").into(),
                    self_triggered("app", "gen").into(),
                    vec![
                        Offer(rebuild("app", &["gen"]), None),
                        Finish("app", stopped("gen", LOOP_LIMIT + 1)),
                        Offer(rebuild("app", &["src/new.py"]), None),
                        Offer(sync("app", &["src/new.py"]), None),
                        Finish("app", Finished::Idle),
                        Offer(rebuild("web", &["w"]), Some(rebuild("web", &["w"]))),
                    ],
                ]
                .into_iter()
                .flatten()
                .collect(),
            ),
            (
                "a finished job nobody started (a lost task) leaves the key idle",
                vec![Finish("", Finished::Idle), Finish("app", Finished::Idle)],
            ),
        ];

        for (name, steps) in scenarios {
            let mut queues = Queues::default();
            for (number, step) in steps.into_iter().enumerate() {
                match step {
                    Offer(action, expected) => {
                        assert_eq!(queues.offer(action.clone()), expected, "{name}: step {number}, offer {action:?}")
                    }
                    Finish(key, expected) => {
                        assert_eq!(queues.finished(key), expected, "{name}: step {number}, {key} finished")
                    }
                }
            }
        }
    }

    #[test]
    fn merging_work() {
        let cases = [
            (Some(sync("app", &["a"])), sync("app", &["b"]), sync("app", &["a", "b"])),
            (Some(sync("app", &["a"])), rebuild("app", &["b"]), rebuild("app", &["a", "b"])),
            (Some(rebuild("app", &["a"])), sync("app", &["b"]), rebuild("app", &["a", "b"])),
            (Some(rebuild("app", &["a"])), rebuild("app", &["b"]), rebuild("app", &["a", "b"])),
            (Some(reapply(&["a"])), reapply(&["b"]), reapply(&["a", "b"])),
            (None, rebuild("app", &["a"]), rebuild("app", &["a"])),
        ];
        for (earlier, later, merged) in cases {
            assert_eq!(merge(earlier.clone(), later.clone()), merged, "{earlier:?} + {later:?}");
        }
    }
}
