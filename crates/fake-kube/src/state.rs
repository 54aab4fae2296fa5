//! The simulated world, persisted as one JSON file (`$FAKE_KUBE_STATE/state.json`).
//! Every invocation that changes it holds an exclusive `flock` on `$FAKE_KUBE_STATE/.lock` for the
//! whole read-modify-write, and writes through a temp file + rename, so parallel kubectl calls
//! (ohdev runs several) never lose an update and readers never see half a file.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    #[serde(default)]
    pub clusters: BTreeMap<String, Cluster>,
    /// Clusters behind non-kind contexts (`FAKE_KUBE_CONTEXTS`), by context name. kind never sees them.
    #[serde(default)]
    pub contexts: BTreeMap<String, Cluster>,
    /// How many calls matched each fault so far (for `times` / `after`).
    #[serde(default)]
    pub fault_hits: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Cluster {
    pub name: String,
    /// The kind config text the cluster was created from.
    #[serde(default)]
    pub config: String,
    #[serde(default)]
    pub created: String,
    #[serde(default)]
    pub nodes: Vec<Node>,
    #[serde(default)]
    pub objects: Vec<Obj>,
    /// Number of kubectl invocations against this cluster so far (the simulated clock for CRDs).
    #[serde(default)]
    pub kubectl_calls: u64,
    #[serde(default)]
    pub resource_version: u64,
    /// Services that got a cluster IP so far (10.96.0.1 is the `kubernetes` Service).
    #[serde(default)]
    pub service_ips: u32,
    /// True when `kind create` ran a real container per node (`FAKE_KUBE_NODE_IMAGE`).
    #[serde(default)]
    pub node_containers: bool,
    /// This call's time (ms since the Unix epoch) and rollout length (`pace`), set for each
    /// kubectl call; never stored. 0/0 (kind's own objects at creation): long since rolled out.
    #[serde(skip)]
    pub now_ms: u64,
    #[serde(skip)]
    pub rollout_ms: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    /// `control-plane`, `worker` or `external-load-balancer` (the last is a kind container only).
    pub role: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Images loaded with `kind load docker-image`: tag as given → image ID (`sha256:…`).
    #[serde(default)]
    pub images: BTreeMap<String, String>,
}

impl Cluster {
    /// Rollout steps `o` has done by now (`pace::steps`).
    pub fn progress(&self, o: &Obj) -> u64 {
        crate::pace::steps(o.started_ms, self.now_ms, self.rollout_ms)
    }
}

impl Node {
    pub fn is_kubernetes_node(&self) -> bool {
        self.role != "external-load-balancer"
    }
}

/// One stored API object. `body` is what was applied plus server-set metadata; status is never
/// stored but computed on each read from the time since `started_ms` (`pace`), `polls` and the rest
/// of the cluster.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Obj {
    pub group: String,
    pub version: String,
    pub kind: String,
    /// Empty for cluster-scoped objects.
    #[serde(default)]
    pub namespace: String,
    pub name: String,
    pub body: Value,
    /// `kubectl get` calls that returned this object (or one of its pods) since its spec last changed.
    #[serde(default)]
    pub polls: u64,
    /// When its spec last changed (ms since the Unix epoch): the start of its rollout (`pace`).
    #[serde(default)]
    pub started_ms: u64,
    /// The cluster's `kubectl_calls` value when this object was last applied.
    #[serde(default)]
    pub applied_at_call: u64,
    /// Bumped when one of a workload's pods is deleted, so its pods get new names (a restart).
    #[serde(default)]
    pub pod_epoch: u64,
}

pub struct Store {
    pub dir: PathBuf,
}

impl Store {
    pub fn new(dir: &Path) -> Store {
        Store { dir: dir.to_path_buf() }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Exclusive lock, released when the returned file is dropped.
    pub fn lock(&self) -> io::Result<File> {
        let f = OpenOptions::new().create(true).truncate(false).write(true).open(self.path(".lock"))?;
        f.lock()?;
        Ok(f)
    }

    pub fn load(&self) -> io::Result<State> {
        match fs::read(self.path("state.json")) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("state.json: {e}"))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(e),
        }
    }

    pub fn save(&self, state: &State) -> io::Result<()> {
        let text = serde_json::to_vec_pretty(state).map_err(io::Error::other)?;
        write_atomic(&self.path("state.json"), &text)
    }

    /// Lock, load, let `f` change the state, save, unlock.
    pub fn transact<R>(&self, f: impl FnOnce(&mut State) -> R) -> io::Result<R> {
        let _guard = self.lock()?;
        let mut state = self.load()?;
        let r = f(&mut state);
        self.save(&state)?;
        Ok(r)
    }
}

pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, path)
}

#[cfg(test)]
pub mod testutil {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicU32, Ordering};

    static N: AtomicU32 = AtomicU32::new(0);

    /// A fresh empty directory, removed on drop unless the test is failing (kept for debugging).
    pub struct TempDir(PathBuf);

    impl std::ops::Deref for TempDir {
        type Target = std::path::Path;
        fn deref(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            if !std::thread::panicking() {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    pub fn temp_dir(tag: &str) -> TempDir {
        let n = N.fetch_add(1, Ordering::SeqCst);
        let d = std::env::temp_dir().join(format!("fake-kube-test-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transact_persists_and_concurrent_updates_are_not_lost() {
        let dir = testutil::temp_dir("state");
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let dir = dir.to_path_buf();
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        Store::new(&dir).transact(|s| *s.fault_hits.entry("k".into()).or_insert(0) += 1).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(Store::new(&dir).load().unwrap().fault_hits["k"], 80);
    }
}
