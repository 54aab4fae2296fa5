//! `.ohdev/state.json`: what ohdev created, built, loaded and applied, so the next run can skip work
//! and detect drift.
//!
//! Written atomically (temp file + rename) under an exclusive lock on `.ohdev/lock`, so a Ctrl-C or a
//! second ohdev never leaves a half-written file. The directory carries its own `.gitignore`.
//! Secret values are never stored here.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::Error;

pub const DIR_NAME: &str = ".ohdev";
const VERSION: u32 = 1;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    #[serde(default)]
    pub version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterRecord>,
    /// Sections owned by other modules (images, deploy), kept verbatim when this version does not know them.
    #[serde(flatten)]
    pub sections: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ClusterRecord {
    pub name: String,
    pub config_path: PathBuf,
    /// blake3 of the cluster.yaml bytes handed to kind.
    pub config_digest: String,
    /// The text itself, to show what changed when the file drifts.
    pub config_text: String,
    /// False while `kind create cluster` runs: an interrupted create is recreated next time.
    pub complete: bool,
    pub created_at: String,
}

impl State {
    /// A typed section stored under `key`, or its default.
    pub fn section<T: for<'de> Deserialize<'de> + Default>(&self, key: &str) -> T {
        self.sections
            .get(key)
            .and_then(|value| serde_json::from_value(value.clone()).ok())
            .unwrap_or_default()
    }

    pub fn set_section<T: Serialize>(&mut self, key: &str, value: &T) {
        if let Ok(value) = serde_json::to_value(value) {
            self.sections.insert(key.to_string(), value);
        }
    }
}

pub fn state_dir(project_root: &Path) -> PathBuf {
    project_root.join(DIR_NAME)
}

/// Read-only access for commands that do not change anything (status, doctor).
pub fn read(project_root: &Path) -> State {
    let path = state_dir(project_root).join("state.json");
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Exclusive access to the project's state for one mutating command. Released on drop.
pub struct StateLock {
    dir: PathBuf,
    _lock: File,
}

impl StateLock {
    /// Take the lock, waiting up to `wait` for another ohdev to finish.
    pub fn acquire(project_root: &Path, wait: Duration) -> Result<StateLock, Error> {
        let dir = state_dir(project_root);
        let io_error = |what: &str, error: std::io::Error| {
            Error::work(format!("cannot {what} in {}: {error}", dir.display()), Some("check the directory's permissions".to_string()))
        };
        std::fs::create_dir_all(&dir).map_err(|error| io_error("create the state directory", error))?;
        let ignore = dir.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(&ignore, "# created by ohdev: local state, never committed\n*\n").map_err(|error| io_error("write .gitignore", error))?;
        }
        let lock_path = dir.join("lock");
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|error| io_error("open the lock file", error))?;
        let deadline = Instant::now() + wait;
        loop {
            // SAFETY: flock on a file descriptor we own; released when the file is closed.
            let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
            if locked {
                let _ = file.set_len(0);
                let _ = file.rewind();
                let _ = write!(file, "{}", std::process::id());
                let _ = file.flush();
                return Ok(StateLock { dir, _lock: file });
            }
            if Instant::now() >= deadline {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = describe_holder(holder.trim());
                return Err(Error::Locked { holder, lock: lock_path });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn load(&self) -> State {
        read(self.dir.parent().unwrap_or(&self.dir))
    }

    pub fn save(&self, state: &State) -> Result<(), Error> {
        let mut state = state.clone();
        state.version = VERSION;
        let text = serde_json::to_string_pretty(&state).map_err(|error| Error::work(format!("cannot encode state: {error}"), None))?;
        write_atomic(&self.dir.join("state.json"), text.as_bytes())
            .map_err(|error| Error::work(format!("cannot write {}: {error}", self.dir.join("state.json").display()), None))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn describe_holder(pid: &str) -> String {
    if pid.is_empty() {
        return "unknown".to_string();
    }
    match std::fs::read_to_string(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) if !cmdline.is_empty() => format!("{pid}: {}", cmdline.replace('\0', " ").trim()),
        _ => pid.to_string(),
    }
}

/// Write to a temp file in the same directory, fsync, then rename over the target.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|name| name.to_str()).unwrap_or("state");
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_unknown_sections() {
        let dir = tempfile::tempdir().unwrap();
        let lock = StateLock::acquire(dir.path(), Duration::from_secs(1)).unwrap();
        let mut state = lock.load();
        state.sections.insert("future".into(), serde_json::json!({"x": 1}));
        state.cluster = Some(ClusterRecord {
            name: "c".into(),
            config_path: "k.yaml".into(),
            config_digest: "d".into(),
            config_text: "t".into(),
            complete: true,
            created_at: "now".into(),
        });
        lock.save(&state).unwrap();
        let again = read(dir.path());
        assert_eq!(again.cluster, state.cluster);
        assert_eq!(again.sections["future"]["x"], 1);
        assert_eq!(again.version, VERSION);
        assert!(dir.path().join(".ohdev/.gitignore").exists());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join(".ohdev"))
            .unwrap()
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn second_holder_is_refused_with_the_pid() {
        let dir = tempfile::tempdir().unwrap();
        let _first = StateLock::acquire(dir.path(), Duration::from_secs(1)).unwrap();
        // flock locks are per open file description, so a second open in this process conflicts too.
        let error = match StateLock::acquire(dir.path(), Duration::from_millis(200)) {
            Err(error) => error,
            Ok(_) => panic!("second lock was granted"),
        };
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains(&std::process::id().to_string()), "{error}");
    }
}
