//! The state ledger: what ohdev applied, recorded around every apply so that no run, however it
//! ends, leaves ohdev forgetting an object it may have created.
//!
//! [`Ledger::begin`] records the planned objects *provisionally* before anything is applied (each
//! keeps the hash of what was applied before, so an interrupted or failed apply is retried next time
//! instead of being taken as done); [`Ledger::commit`] records them as applied. Objects recorded
//! before that the plan no longer has (orphans) stay recorded until they are deleted
//! ([`Ledger::forget`]), so a failed `up --prune` or `down --keep-cluster` can be run again.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::plan::manifest::Object;
use super::record::{self, Applied, AppliedObject};
use crate::error::Error;
use crate::state::StateLock;

/// What ohdev applied to each remote target (`config/target.rs`), by state key (`target:<name>`):
/// kept apart from the kind cluster's `deploy` section, so an `up` on one never takes the other's
/// objects for orphans, and `down --target` deletes only what was applied there.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TargetLedgers(BTreeMap<String, Applied>);

impl crate::state::Section for TargetLedgers {
    const KEY: &'static str = "deploy_targets";
}

fn is_target(key: &str) -> bool {
    key.starts_with("target:")
}

/// The record kept under `key` (a `Config::state_key`).
fn load(lock: &StateLock, key: &str) -> Applied {
    if is_target(key) {
        let ledgers: TargetLedgers = lock.section();
        ledgers.0.get(key).cloned().unwrap_or_else(|| Applied { cluster: key.to_string(), objects: Vec::new() })
    } else {
        lock.section()
    }
}

fn update(lock: &StateLock, key: &str, change: impl FnOnce(&mut Applied)) -> Result<(), Error> {
    if is_target(key) {
        lock.update_section(|ledgers: &mut TargetLedgers| {
            let entry = ledgers
                .0
                .entry(key.to_string())
                .or_insert_with(|| Applied { cluster: key.to_string(), objects: Vec::new() });
            change(entry);
        })
    } else {
        lock.update_section(change)
    }
}

pub struct Ledger<'a> {
    lock: &'a StateLock,
    before: Applied,
    /// The plan plus the orphans, as it will be recorded on commit.
    after: Applied,
    orphans: Vec<AppliedObject>,
}

impl<'a> Ledger<'a> {
    /// Record `planned` provisionally, keeping the orphans of the same cluster recorded.
    pub fn begin(lock: &'a StateLock, planned: Applied) -> Result<Ledger<'a>, Error> {
        let key = planned.cluster.clone();
        let before = load(lock, &key);
        let same_cluster = before.cluster == planned.cluster;
        let orphans = if same_cluster { record::orphans(&before, &planned) } else { Vec::new() };
        let mut after = planned;
        after.objects.extend(orphans.iter().cloned());
        let pending = record::provisional(&before, &after);
        update(lock, &key, |section| *section = pending)?;
        Ok(Ledger { lock, before, after, orphans })
    }

    /// Indexes (into `objects`) whose rendered content is exactly what was last applied to this cluster.
    pub fn unchanged(&self, objects: &[Object]) -> BTreeSet<usize> {
        if self.before.cluster == self.after.cluster {
            record::unchanged(&self.before, objects)
        } else {
            BTreeSet::new()
        }
    }

    /// The apply succeeded: record the plan (and the orphans, until they are deleted).
    pub fn commit(self) -> Result<Vec<AppliedObject>, Error> {
        let after = self.after;
        let key = after.cluster.clone();
        update(self.lock, &key, |section| *section = after)?;
        Ok(self.orphans)
    }

    /// Objects that were deleted: stop recording them.
    pub fn forget(lock: &StateLock, key: &str, deleted: &[AppliedObject]) -> Result<(), Error> {
        update(lock, key, |section| record::without(&mut section.objects, deleted))
    }

    /// Everything ohdev applied is gone (the cluster was deleted, or `down --keep-cluster`).
    pub fn clear(lock: &StateLock, key: &str) -> Result<(), Error> {
        if is_target(key) {
            lock.update_section(|ledgers: &mut TargetLedgers| {
                ledgers.0.remove(key);
            })
        } else {
            lock.update_section(|section: &mut Applied| *section = Applied::default())
        }
    }

    /// What is recorded now (for teardown).
    pub fn recorded(lock: &StateLock, key: &str) -> Applied {
        load(lock, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::Reporter;

    fn object(name: &str, hash: &str) -> AppliedObject {
        AppliedObject {
            level: 0,
            kind: "ConfigMap".into(),
            resource: "configmaps".into(),
            namespace: Some("ns".into()),
            name: name.into(),
            hash: Some(hash.into()),
        }
    }

    fn applied(cluster: &str, objects: Vec<AppliedObject>) -> Applied {
        Applied { cluster: cluster.into(), objects }
    }

    fn lock(dir: &std::path::Path) -> StateLock {
        StateLock::acquire(
            dir,
            std::time::Duration::from_secs(1),
            &Reporter::new(std::sync::Arc::new(crate::ui::PlainRenderer::new())),
        )
        .unwrap()
    }

    #[test]
    fn begin_records_provisionally_and_commit_for_real() {
        let dir = tempfile::tempdir().unwrap();
        let lock = lock(dir.path());
        lock.update_section(|section: &mut Applied| {
            *section = applied("c", vec![object("a", "old"), object("gone", "g")])
        })
        .unwrap();
        let ledger = Ledger::begin(&lock, applied("c", vec![object("a", "new"), object("b", "b1")])).unwrap();
        let pending: Applied = lock.section();
        // Before the apply: `a` keeps its old hash (a failed apply is retried), `b` has none yet, the orphan stays.
        let hashes: Vec<(String, Option<String>)> =
            pending.objects.iter().map(|object| (object.name.clone(), object.hash.clone())).collect();
        assert_eq!(hashes, [("a".into(), Some("old".into())), ("b".into(), None), ("gone".into(), Some("g".into()))]);
        let orphans = ledger.commit().unwrap();
        assert_eq!(orphans.iter().map(|object| object.name.as_str()).collect::<Vec<_>>(), ["gone"]);
        let done: Applied = lock.section();
        assert_eq!(
            done.objects.iter().map(|object| object.hash.clone().unwrap()).collect::<Vec<_>>(),
            ["new", "b1", "g"]
        );
        Ledger::forget(&lock, "c", &orphans).unwrap();
        let pruned: Applied = lock.section();
        assert_eq!(pruned.objects.iter().map(|object| object.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn another_clusters_records_are_neither_orphans_nor_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let lock = lock(dir.path());
        lock.update_section(|section: &mut Applied| *section = applied("old", vec![object("x", "h")])).unwrap();
        let ledger = Ledger::begin(&lock, applied("new", vec![object("a", "h")])).unwrap();
        assert!(ledger.commit().unwrap().is_empty());
        let done: Applied = lock.section();
        assert_eq!(done.cluster, "new");
        assert_eq!(done.objects.len(), 1);
    }

    #[test]
    fn a_corrupt_section_is_reported_and_a_copy_kept() {
        let dir = tempfile::tempdir().unwrap();
        let lock = lock(dir.path());
        let state_file = dir.path().join(".ohdev/state.json");
        std::fs::write(&state_file, r#"{"version": 1, "deploy": {"cluster": 7, "objects": "nope"}}"#).unwrap();
        let recorded = Ledger::recorded(&lock, "c");
        assert!(recorded.objects.is_empty());
        let copies: Vec<String> = std::fs::read_dir(dir.path().join(".ohdev"))
            .unwrap()
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("state.json.corrupt-"))
            .collect();
        assert_eq!(copies.len(), 1, "{copies:?}");
        let kept = std::fs::read_to_string(dir.path().join(".ohdev").join(&copies[0])).unwrap();
        assert!(kept.contains("\"nope\""));
    }

    #[test]
    fn each_target_keeps_its_own_record_apart_from_the_kind_cluster() {
        let dir = tempfile::tempdir().unwrap();
        let lock = lock(dir.path());
        Ledger::begin(&lock, applied("local", vec![object("kind-only", "k")])).unwrap().commit().unwrap();
        let ledger = Ledger::begin(&lock, applied("target:shared", vec![object("shared-only", "s")])).unwrap();
        assert!(ledger.commit().unwrap().is_empty(), "the kind cluster's objects are not the target's orphans");
        let orphans = Ledger::begin(&lock, applied("local", vec![object("kind-only", "k")])).unwrap().commit().unwrap();
        assert!(orphans.is_empty(), "nor the other way round");
        let names = |key: &str| -> Vec<String> {
            Ledger::recorded(&lock, key).objects.into_iter().map(|object| object.name).collect()
        };
        assert_eq!(names("local"), ["kind-only"]);
        assert_eq!(names("target:shared"), ["shared-only"]);
        Ledger::clear(&lock, "target:shared").unwrap();
        assert!(names("target:shared").is_empty());
        assert_eq!(names("local"), ["kind-only"]);
    }
}
