//! The build context: every file, directory and symlink the docker CLI would send.
//!
//! The walk mirrors go-archive's `TarWithOptions`, which the docker CLI's classic build uses:
//! entries are visited depth first with the names of each directory sorted bytewise; each path
//! is matched with its parent's match results; an excluded directory is skipped whole unless an
//! exception's text starts with its path, in which case it is entered but not itself sent.
//! Symlinks are recorded, never followed. The result carries enough metadata (size, times,
//! inode) for the digest's cache to avoid reading unchanged files, and is the single list both
//! the digest and the tar are made from, so the two cannot disagree about what is in the context.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::image::dockerignore::{dockerfile_path, IgnoreRules, MatchInfo};

/// What an entry is. Symlink targets are kept as the raw link text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Directory,
    Symlink { target: PathBuf },
}

/// A point in time as the file system reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp {
    pub seconds: i64,
    pub nanoseconds: u32,
}

/// One path that is sent, with the `lstat` facts the digest and the tar need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the context directory, `/`-separated, no trailing slash.
    pub path: String,
    pub kind: EntryKind,
    /// Permission bits plus setuid, setgid and sticky (`st_mode & 0o7777`), as Docker's tar keeps them.
    pub mode: u32,
    /// Bytes of content for files; 0 for directories and symlinks.
    pub size: u64,
    pub modified: Timestamp,
    pub changed: Timestamp,
    pub inode: u64,
    pub device: u64,
}

/// Everything a build of one Dockerfile would send from one context directory.
#[derive(Debug, Clone)]
pub struct ContextFiles {
    pub root: PathBuf,
    /// The Dockerfile, relative to `root`, `/`-separated.
    pub dockerfile: String,
    /// The ignore file that was applied, if any.
    pub ignore_file: Option<PathBuf>,
    /// In walk order: depth first, names sorted bytewise within each directory.
    pub entries: Vec<Entry>,
    /// Sockets, FIFOs and devices: not sent by ohdev (Docker would send FIFOs and devices).
    pub skipped_special: Vec<String>,
    /// Sent, but removed by the classic builder before `COPY` sees the context: the root
    /// `.dockerignore` and the Dockerfile, when the sent `.dockerignore` matches them.
    pub removed_by_classic_builder: Vec<String>,
}

impl ContextFiles {
    /// The sent paths (files, directories, symlinks) in walk order.
    pub fn paths(&self) -> Vec<String> {
        self.entries.iter().map(|entry| entry.path.clone()).collect()
    }

    /// What `COPY . /ctx` then `find /ctx` shows with the classic builder, sorted: the sent
    /// paths plus the directories their paths imply (an excluded directory entered for an
    /// exception is not sent, but extraction creates it), less the files the daemon removes.
    pub fn classic_image_paths(&self) -> Vec<String> {
        let mut paths = BTreeSet::new();
        for entry in &self.entries {
            let mut path = entry.path.as_str();
            paths.insert(path.to_string());
            while let Some((parent, _)) = path.rsplit_once('/') {
                paths.insert(parent.to_string());
                path = parent;
            }
        }
        // The daemon extracts everything, then deletes these files (their directories stay).
        for removed in &self.removed_by_classic_builder {
            paths.remove(removed);
        }
        paths.into_iter().collect()
    }

    /// Drops `relative` (a path under the context root, `/`-separated) and everything below it.
    /// ohdev drops its own state directory this way when the context contains the project root:
    /// ohdev rewrites those files on every run, so sending them would change every digest.
    pub fn exclude_subtree(&mut self, relative: &str) {
        let prefix = format!("{relative}/");
        self.entries.retain(|entry| entry.path != relative && !entry.path.starts_with(&prefix));
        self.skipped_special.retain(|path| path != relative && !path.starts_with(&prefix));
    }

    /// The regular files, in walk order.
    pub fn files(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|entry| entry.kind == EntryKind::File)
    }
}

/// Walks `context_dir` and returns what a build of `dockerfile` (relative to it) would send.
/// Errors name the path: an unreadable directory, a name that is not UTF-8, an invalid ignore
/// file, or a Dockerfile that is missing from the result.
pub fn walk(context_dir: &Path, dockerfile: &Path) -> io::Result<ContextFiles> {
    let rules = IgnoreRules::load(context_dir, dockerfile)?;
    let dockerfile = dockerfile_path(dockerfile)?;
    let mut walker = Walker { rules: &rules, entries: Vec::new(), skipped_special: Vec::new() };
    walker.visit(context_dir, "", None)?;
    let Walker { entries, skipped_special, .. } = walker;
    if !entries.iter().any(|entry| entry.path == dockerfile && entry.kind != EntryKind::Directory) {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("cannot locate Dockerfile {}", context_dir.join(&dockerfile).display()),
        ));
    }
    let removed_by_classic_builder = removed_by_classic_builder(context_dir, &dockerfile, &entries);
    Ok(ContextFiles {
        root: context_dir.to_path_buf(),
        dockerfile,
        ignore_file: rules.source().map(Path::to_path_buf),
        entries,
        skipped_special,
        removed_by_classic_builder,
    })
}

struct Walker<'rules> {
    rules: &'rules IgnoreRules,
    entries: Vec<Entry>,
    skipped_special: Vec<String>,
}

impl Walker<'_> {
    /// Sorted names in `dir`, with their `lstat` facts read relative to the open directory
    /// (`DirEntry::metadata` is `fstatat` on the directory: no path lookup per file).
    fn children(dir: &Path) -> io::Result<Vec<(std::ffi::OsString, fs::Metadata)>> {
        let mut children = Vec::new();
        for child in fs::read_dir(dir).map_err(|error| with_path(error, dir))? {
            let child = child.map_err(|error| with_path(error, dir))?;
            let metadata = child.metadata().map_err(|error| with_path(error, &child.path()))?;
            children.push((child.file_name(), metadata));
        }
        children.sort_by(|left, right| left.0.cmp(&right.0));
        Ok(children)
    }

    fn visit(&mut self, dir: &Path, relative: &str, parent: Option<&MatchInfo>) -> io::Result<()> {
        let children = Self::children(dir)?;
        // The top level's subtrees are walked on all cores, then spliced back in walk order.
        let mut subtrees =
            if relative.is_empty() { self.walk_subtrees_in_parallel(dir, &children)? } else { Vec::new() };
        for (name, metadata) in children {
            let absolute = dir.join(&name);
            let name = name.to_str().ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: file name is not valid UTF-8", absolute.display()),
                )
            })?;
            let path = if relative.is_empty() { name.to_string() } else { format!("{relative}/{name}") };
            let is_dir = metadata.is_dir();
            let (excluded, info) = self.rules.matches_with_parent(&path, parent);
            let walked = if is_dir && relative.is_empty() {
                subtrees.iter_mut().find(|(subtree, _)| subtree == name).and_then(|(_, walked)| walked.take())
            } else {
                None
            };
            if excluded {
                if is_dir && self.rules.has_exceptions() && self.rules.may_reinclude_under(&path) {
                    self.descend(&absolute, &path, &info, walked)?;
                }
                continue;
            }
            let file_type = metadata.file_type();
            let kind = if is_dir {
                EntryKind::Directory
            } else if file_type.is_file() {
                EntryKind::File
            } else if file_type.is_symlink() {
                let target = fs::read_link(&absolute).map_err(|error| with_path(error, &absolute))?;
                EntryKind::Symlink { target }
            } else {
                self.skipped_special.push(path);
                continue;
            };
            let size = if kind == EntryKind::File { metadata.size() } else { 0 };
            self.entries.push(Entry {
                path: path.clone(),
                kind,
                mode: metadata.mode() & 0o7777,
                size,
                modified: timestamp(metadata.mtime(), metadata.mtime_nsec()),
                changed: timestamp(metadata.ctime(), metadata.ctime_nsec()),
                inode: metadata.ino(),
                device: metadata.dev(),
            });
            if is_dir {
                self.descend(&absolute, &path, &info, walked)?;
            }
        }
        Ok(())
    }

    /// Walk a subdirectory, or splice in the result of walking it already.
    fn descend(
        &mut self,
        absolute: &Path,
        path: &str,
        info: &MatchInfo,
        walked: Option<io::Result<Walked>>,
    ) -> io::Result<()> {
        match walked {
            Some(result) => {
                let walked = result?;
                self.entries.extend(walked.entries);
                self.skipped_special.extend(walked.skipped_special);
                Ok(())
            }
            None => self.visit(absolute, path, Some(info)),
        }
    }

    /// Each top-level directory that the sequential walk would enter, walked on a pool of threads.
    fn walk_subtrees_in_parallel(
        &self,
        dir: &Path,
        children: &[(std::ffi::OsString, fs::Metadata)],
    ) -> io::Result<Vec<(String, Option<io::Result<Walked>>)>> {
        let jobs: Vec<(String, MatchInfo)> = children
            .iter()
            .filter(|(_, metadata)| metadata.is_dir())
            .filter_map(|(name, _)| name.to_str().map(str::to_string))
            .filter_map(|name| {
                let (excluded, info) = self.rules.matches_with_parent(&name, None);
                let entered = !excluded || (self.rules.has_exceptions() && self.rules.may_reinclude_under(&name));
                entered.then_some((name, info))
            })
            .collect();
        let threads = std::thread::available_parallelism().map(usize::from).unwrap_or(1).min(jobs.len());
        if threads < 2 {
            return Ok(Vec::new());
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<std::sync::Mutex<Option<io::Result<Walked>>>> =
            jobs.iter().map(|_| std::sync::Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((name, info)) = jobs.get(index) else { break };
                    let mut walker = Walker { rules: self.rules, entries: Vec::new(), skipped_special: Vec::new() };
                    let result = walker
                        .visit(&dir.join(name), name, Some(info))
                        .map(|()| Walked { entries: walker.entries, skipped_special: walker.skipped_special });
                    if let Ok(mut slot) = results[index].lock() {
                        *slot = Some(result);
                    }
                });
            }
        });
        Ok(jobs
            .into_iter()
            .zip(results)
            .map(|((name, _), result)| (name, result.into_inner().ok().flatten()))
            .collect())
    }
}

/// One subtree's share of the walk.
struct Walked {
    entries: Vec<Entry>,
    skipped_special: Vec<String>,
}

fn timestamp(seconds: i64, nanoseconds: i64) -> Timestamp {
    Timestamp { seconds, nanoseconds: u32::try_from(nanoseconds).unwrap_or(0) }
}

/// Adds the path to an I/O error, keeping its kind.
pub fn with_path(error: io::Error, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

/// The classic builder reads the root `.dockerignore` from the tar and drops it and the
/// Dockerfile when they match (moby `builder/remotecontext/detect.go`, `removeDockerfile`).
fn removed_by_classic_builder(root: &Path, dockerfile: &str, entries: &[Entry]) -> Vec<String> {
    let sent = |path: &str| entries.iter().any(|entry| entry.path == path);
    if !sent(".dockerignore") {
        return Vec::new();
    }
    let Ok(text) = fs::read_to_string(root.join(".dockerignore")) else {
        return Vec::new();
    };
    let Ok(rules) = IgnoreRules::parse(&text) else {
        return Vec::new();
    };
    [".dockerignore", dockerfile]
        .into_iter()
        .filter(|path| sent(path) && rules.is_excluded(path))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
#[path = "context_tests.rs"]
pub(crate) mod tests;
