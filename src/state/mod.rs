//! `.ohdev/state.json`: what ohdev created, built, loaded and applied, so the next run can skip work
//! and detect drift.
//!
//! Written atomically (temp file + rename) under an exclusive lock on `.ohdev/lock`, so a Ctrl-C or a
//! second ohdev never leaves a half-written file. The directory carries its own `.gitignore`.
//! Secret values are never stored here.
//!
//! Each module owns a typed [`Section`] (`images`, `deploy`). A file or section that no longer
//! reads (edited by hand, written by another version) is never silently taken as empty: ohdev
//! warns, naming the file, and keeps a copy of it beside the original before anything overwrites it,
//! because an empty `deploy` section would make `--prune` and `down --keep-cluster` forget what to
//! delete. `deploy::ledger` records what ohdev applied around each apply.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::events::Event;
use crate::ui::Reporter;

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

/// A part of state.json owned by one module, stored under [`Section::KEY`].
pub trait Section: Serialize + DeserializeOwned + Default {
    const KEY: &'static str;
}

impl State {
    /// The typed section, its default when absent, or why it does not read.
    pub fn section<T: Section>(&self) -> Result<T, serde_json::Error> {
        match self.sections.get(T::KEY) {
            None => Ok(T::default()),
            Some(value) => serde_json::from_value(value.clone()),
        }
    }

    pub fn set_section<T: Section>(&mut self, value: &T) {
        if let Ok(value) = serde_json::to_value(value) {
            self.sections.insert(T::KEY.to_string(), value);
        }
    }
}

pub fn state_dir(project_root: &Path) -> PathBuf {
    project_root.join(DIR_NAME)
}

/// Reads `.ohdev/state.json`, reporting (once per run and part) what does not read.
pub struct StateReader {
    dir: PathBuf,
    reporter: Reporter,
    reported: Mutex<BTreeSet<String>>,
}

impl StateReader {
    /// Read-only access for commands that do not change anything (status).
    pub fn new(project_root: &Path, reporter: &Reporter) -> StateReader {
        StateReader { dir: state_dir(project_root), reporter: reporter.clone(), reported: Mutex::new(BTreeSet::new()) }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// The whole state; an unreadable file is reported and read as empty.
    pub fn load(&self) -> State {
        let Ok(text) = std::fs::read_to_string(self.file()) else {
            return State::default();
        };
        match serde_json::from_str(&text) {
            Ok(state) => state,
            Err(error) => {
                self.report("the file", &error);
                State::default()
            }
        }
    }

    /// One typed section; one that does not read is reported and read as empty.
    pub fn section<T: Section>(&self) -> T {
        self.load().section().unwrap_or_else(|error| {
            self.report(&format!("its `{}` section", T::KEY), &error);
            T::default()
        })
    }

    fn report(&self, part: &str, error: &serde_json::Error) {
        let first = self.reported.lock().map(|mut reported| reported.insert(part.to_string())).unwrap_or(false);
        if !first {
            return;
        }
        let file = self.file();
        let copy = match keep_copy(&file) {
            Ok(copy) => format!("a copy of the file is kept at {}", copy.display()),
            Err(copy_error) => format!("no copy could be kept ({copy_error})"),
        };
        self.reporter.emit(Event::warn(
            format!(
                "{}: {part} cannot be read ({error}); ohdev reads it as empty, so it may not know what it built or applied before; {copy}",
                file.display()
            ),
            Some("objects ohdev applied before may need `kubectl delete`; the next `ohdev up` records what it applies".to_string()),
        ));
    }
}

/// Copy `file` to `<file>.corrupt-<unix seconds>`, never over an existing copy.
fn keep_copy(file: &Path) -> std::io::Result<PathBuf> {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0);
    let mut copy = file.with_extension(format!("json.corrupt-{seconds}"));
    let mut attempt = 1;
    while copy.exists() {
        copy = file.with_extension(format!("json.corrupt-{seconds}-{attempt}"));
        attempt += 1;
    }
    std::fs::copy(file, &copy)?;
    Ok(copy)
}

/// Exclusive access to the project's state for one mutating command. Released on drop.
pub struct StateLock {
    reader: StateReader,
    _lock: File,
}

impl std::ops::Deref for StateLock {
    type Target = StateReader;

    fn deref(&self) -> &StateReader {
        &self.reader
    }
}

impl StateLock {
    /// Take the lock, waiting up to `wait` for another ohdev to finish.
    pub fn acquire(project_root: &Path, wait: Duration, reporter: &Reporter) -> Result<StateLock, Error> {
        let reader = StateReader::new(project_root, reporter);
        let dir = reader.dir.clone();
        // The state directory is the project's, so what stops ohdev using it is bad input (exit 2).
        let io_error = |what: &str, error: std::io::Error| {
            let fix = match error.kind() {
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => format!(
                    "ohdev keeps its state in {}: make {} writable (`ls -ld {}` shows who owns it), or run ohdev from a copy you can write to",
                    dir.display(),
                    project_root.display(),
                    project_root.display()
                ),
                _ => "check the directory's permissions and free space".to_string(),
            };
            Error::Input { message: format!("cannot {what} in {}: {error}", dir.display()), fix }
        };
        if dir.exists() && !dir.is_dir() {
            return Err(Error::Input {
                message: format!("{} is a file, but ohdev keeps its state in a directory of that name", dir.display()),
                fix: format!("move the file away (`mv {} {}.bak`), then run ohdev again", dir.display(), dir.display()),
            });
        }
        std::fs::create_dir_all(&dir).map_err(|error| io_error("create the state directory", error))?;
        let ignore = dir.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(&ignore, "# created by ohdev: local state, never committed\n*\n")
                .map_err(|error| io_error("write .gitignore", error))?;
        }
        let lock_path = dir.join("lock");
        if lock_path.is_dir() {
            return Err(Error::Input {
                message: format!(
                    "{} is a directory, but ohdev keeps its lock in a file of that name",
                    lock_path.display()
                ),
                fix: format!(
                    "remove it (`rm -r {}`; ohdev creates the file), then run ohdev again",
                    lock_path.display()
                ),
            });
        }
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
                return Ok(StateLock { reader, _lock: file });
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

    pub fn save(&self, state: &State) -> Result<(), Error> {
        let mut state = state.clone();
        state.version = VERSION;
        let file = self.file();
        let text = serde_json::to_string_pretty(&state)
            .map_err(|error| Error::work(format!("cannot encode state: {error}"), None))?;
        write_atomic(&file, text.as_bytes())
            .map_err(|error| Error::work(format!("cannot write {}: {error}", file.display()), None))
    }

    /// Read, change and write the whole state in one step.
    pub fn update(&self, change: impl FnOnce(&mut State)) -> Result<(), Error> {
        let mut state = self.load();
        change(&mut state);
        self.save(&state)
    }

    /// Read, change and write one section (an unreadable one is reported first, then replaced).
    pub fn update_section<T: Section>(&self, change: impl FnOnce(&mut T)) -> Result<(), Error> {
        let mut section: T = self.section();
        change(&mut section);
        self.update(|state| state.set_section(&section))
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
    // Unique per write, not only per process: two threads writing the same file at once must not
    // share (and truncate) one temp file, or the rename could publish half of the other's bytes.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let serial = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temp = dir.join(format!(".{name}.{}.{serial}.tmp", std::process::id()));
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

    fn reporter() -> Reporter {
        Reporter::new(std::sync::Arc::new(crate::ui::PlainRenderer::new()))
    }

    #[test]
    fn round_trip_keeps_unknown_sections() {
        let dir = tempfile::tempdir().unwrap();
        let lock = StateLock::acquire(dir.path(), Duration::from_secs(1), &reporter()).unwrap();
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
        let again = StateReader::new(dir.path(), &reporter()).load();
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
    fn a_file_where_the_state_directory_goes_is_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".ohdev"), "not a directory").unwrap();
        let error = match StateLock::acquire(dir.path(), Duration::from_secs(1), &reporter()) {
            Err(error) => error,
            Ok(_) => panic!("a lock inside a file"),
        };
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("is a file, but ohdev keeps its state in a directory"), "{error}");
        assert!(error.to_string().contains("move the file away"), "{error}");
    }

    #[test]
    fn a_directory_where_the_lock_file_goes_is_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".ohdev/lock")).unwrap();
        let error = match StateLock::acquire(dir.path(), Duration::from_secs(1), &reporter()) {
            Err(error) => error,
            Ok(_) => panic!("a lock on a directory"),
        };
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("lock is a directory, but ohdev keeps its lock in a file"), "{error}");
        assert!(error.to_string().contains("remove it (`rm -r "), "{error}");
    }

    #[test]
    fn second_holder_is_refused_with_the_pid() {
        let dir = tempfile::tempdir().unwrap();
        let _first = StateLock::acquire(dir.path(), Duration::from_secs(1), &reporter()).unwrap();
        // flock locks are per open file description, so a second open in this process conflicts too.
        let error = match StateLock::acquire(dir.path(), Duration::from_millis(200), &reporter()) {
            Err(error) => error,
            Ok(_) => panic!("second lock was granted"),
        };
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains(&std::process::id().to_string()), "{error}");
    }
}
