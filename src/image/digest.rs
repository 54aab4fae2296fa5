//! The content digest of a build: it names the image (`ohdev.local/<name>:<short digest>`), so an
//! unchanged build is found by tag and never rebuilt.
//!
//! The digest is blake3 over, in the walk's order, each sent entry's path, kind, mode, symlink
//! target and content hash; then the Dockerfile's path and bytes, the target, the build args
//! (sorted) and the platform. Times, owners and inodes are left out: they do not change what
//! `COPY` produces (Docker sends uid/gid 0), and leaving them out keeps `touch` from causing
//! a rebuild.
//!
//! Reading every file on every `ohdev up` would cost more than Docker's own cached build, so a
//! [`HashCache`] remembers each file's content hash with the `lstat` facts it was computed from
//! (size, mtime, ctime, inode). A file whose facts all match is not read; any change re-reads it.
//! A file modified within [`HashCache::racy_window`] of the hashing is not remembered, because a
//! write landing in the same timestamp tick would leave its facts unchanged (git's "racy clean").

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::image::context::{with_path, ContextFiles, Entry, EntryKind, Timestamp};
use crate::image::dockerignore::dockerfile_path;

/// What besides the context decides the image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestInput {
    /// The Dockerfile, relative to the context directory.
    pub dockerfile_rel: std::path::PathBuf,
    pub target: Option<String>,
    pub build_args: BTreeMap<String, String>,
    pub platform: Option<String>,
}

/// A blake3 digest of a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    /// All 64 hex digits.
    pub fn hex(&self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }

    /// The first 16 hex digits: the image tag.
    pub fn short(&self) -> String {
        self.hex()[..16].to_string()
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.hex())
    }
}

/// A digest and what it cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestReport {
    pub digest: Digest,
    /// Files whose content was read and hashed.
    pub files_hashed: usize,
    /// Files whose hash came from the cache.
    pub files_cached: usize,
    pub bytes_hashed: u64,
}

/// The remembered hash of one file and the facts it was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CachedHash {
    size: u64,
    modified_seconds: i64,
    modified_nanoseconds: u32,
    changed_seconds: i64,
    changed_nanoseconds: u32,
    inode: u64,
    blake3: String,
}

#[derive(Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    files: BTreeMap<String, CachedHash>,
}

const CACHE_VERSION: u32 = 1;

/// Content hashes by relative path, kept between runs (one file per image).
#[derive(Debug, Clone)]
pub struct HashCache {
    files: BTreeMap<String, CachedHash>,
    racy_window: Duration,
    /// The entries differ from what was loaded (or nothing was loaded): worth saving.
    changed: bool,
}

impl Default for HashCache {
    fn default() -> Self {
        HashCache { files: BTreeMap::new(), racy_window: Duration::from_secs(2), changed: true }
    }
}

impl HashCache {
    pub fn new() -> HashCache {
        HashCache::default()
    }

    /// Reads a cache saved by [`save`](Self::save). A missing, unreadable-as-JSON or
    /// other-version file gives an empty cache: the cache only saves time, it must never fail a
    /// build. Other I/O errors (e.g. permission denied) are returned.
    pub fn load(path: &Path) -> io::Result<HashCache> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(HashCache::new()),
            Err(error) => return Err(with_path(error, path)),
        };
        let files = match serde_json::from_slice::<CacheFile>(&bytes) {
            Ok(file) if file.version == CACHE_VERSION => file.files,
            _ => BTreeMap::new(),
        };
        Ok(HashCache { files, changed: false, ..HashCache::default() })
    }

    /// Writes the cache to `path` atomically (a temporary file in the same directory, then a
    /// rename), creating the directory if needed.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let directory = path.parent().filter(|parent| !parent.as_os_str().is_empty());
        if let Some(directory) = directory {
            fs::create_dir_all(directory).map_err(|error| with_path(error, directory))?;
        }
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or("cache");
        static SAVES: AtomicUsize = AtomicUsize::new(0);
        let unique = SAVES.fetch_add(1, Ordering::Relaxed);
        let temporary = path.with_file_name(format!(".{name}.{}-{unique}.tmp", std::process::id()));
        let file = CacheFile { version: CACHE_VERSION, files: self.files.clone() };
        let written = (|| {
            // One buffer, one write: serde_json on an unbuffered File makes a system call per
            // token (~270 ms for 20,000 files, most of a no-op `ohdev build`).
            let bytes = serde_json::to_vec(&file)?;
            let mut output = File::create(&temporary)?;
            output.write_all(&bytes)?;
            output.flush()?;
            output.sync_all()?;
            fs::rename(&temporary, path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        written.map_err(|error| with_path(error, path))
    }

    /// How recent a modification must be for the file not to be remembered (default 2 s, enough
    /// for file systems with whole-second timestamps).
    pub fn racy_window(&self) -> Duration {
        self.racy_window
    }

    pub fn set_racy_window(&mut self, window: Duration) {
        self.racy_window = window;
    }

    /// Whether the entries changed since [`load`](Self::load) (always true for a new cache):
    /// when false, [`save`](Self::save) would write what is already on disk.
    pub fn changed(&self) -> bool {
        self.changed
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    fn lookup(&self, entry: &Entry) -> Option<[u8; 32]> {
        let cached = self.files.get(&entry.path)?;
        let unchanged = cached.size == entry.size
            && cached.modified_seconds == entry.modified.seconds
            && cached.modified_nanoseconds == entry.modified.nanoseconds
            && cached.changed_seconds == entry.changed.seconds
            && cached.changed_nanoseconds == entry.changed.nanoseconds
            && cached.inode == entry.inode;
        if !unchanged {
            return None;
        }
        blake3::Hash::from_hex(&cached.blake3).ok().map(|hash| *hash.as_bytes())
    }
}

fn facts(entry: &Entry, hash: [u8; 32]) -> CachedHash {
    CachedHash {
        size: entry.size,
        modified_seconds: entry.modified.seconds,
        modified_nanoseconds: entry.modified.nanoseconds,
        changed_seconds: entry.changed.seconds,
        changed_nanoseconds: entry.changed.nanoseconds,
        inode: entry.inode,
        blake3: blake3::Hash::from_bytes(hash).to_hex().to_string(),
    }
}

/// Digests `context` built with `input`, reading only files the cache cannot vouch for, in
/// parallel. The cache is updated to hold exactly the context's files.
pub fn digest(context: &ContextFiles, input: &DigestInput, cache: &mut HashCache) -> io::Result<DigestReport> {
    let dockerfile = dockerfile_path(&input.dockerfile_rel)?;
    if dockerfile != context.dockerfile {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("digest asked for Dockerfile {dockerfile}, context was walked for {}", context.dockerfile),
        ));
    }
    let started = SystemTime::now();
    let mut hashes: HashMap<&str, [u8; 32]> = HashMap::new();
    let mut missing: Vec<&Entry> = Vec::new();
    for entry in context.files() {
        match cache.lookup(entry) {
            Some(hash) => {
                hashes.insert(&entry.path, hash);
            }
            None => missing.push(entry),
        }
    }
    let files_cached = hashes.len();
    let computed = hash_files(&context.root, &missing)?;
    // Every file found with unchanged facts, and nothing else remembered: the cache already
    // holds exactly what it would be rebuilt to (the common no-op case; skips 20,000 allocations).
    let all_hit = missing.is_empty() && files_cached == cache.files.len();
    if !all_hit {
        let racy_limit = started.checked_sub(cache.racy_window).unwrap_or(UNIX_EPOCH);
        let mut files = BTreeMap::new();
        for entry in context.files() {
            if let Some(hash) = hashes.get(entry.path.as_str()) {
                files.insert(entry.path.clone(), facts(entry, *hash));
            }
        }
        for (entry, hash) in missing.iter().zip(computed) {
            hashes.insert(&entry.path, hash);
            if !is_recent(entry.modified, racy_limit) && !is_recent(entry.changed, racy_limit) {
                files.insert(entry.path.clone(), facts(entry, hash));
            }
        }
        if cache.files != files {
            cache.files = files;
            cache.changed = true;
        }
    }

    let dockerfile_path = context.root.join(&dockerfile);
    let dockerfile_bytes = fs::read(&dockerfile_path).map_err(|error| with_path(error, &dockerfile_path))?;
    let mut hasher = blake3::Hasher::new();
    field(&mut hasher, b"ohdev build digest v1");
    for entry in &context.entries {
        field(&mut hasher, entry.path.as_bytes());
        field(&mut hasher, &entry.mode.to_le_bytes());
        match &entry.kind {
            EntryKind::File => {
                field(&mut hasher, b"file");
                field(&mut hasher, hashes.get(entry.path.as_str()).map_or(&[0; 32], |hash| hash));
            }
            EntryKind::Directory => field(&mut hasher, b"directory"),
            EntryKind::Symlink { target } => {
                field(&mut hasher, b"symlink");
                field(&mut hasher, std::os::unix::ffi::OsStrExt::as_bytes(target.as_os_str()));
            }
        }
    }
    field(&mut hasher, b"dockerfile");
    field(&mut hasher, dockerfile.as_bytes());
    field(&mut hasher, &dockerfile_bytes);
    optional(&mut hasher, b"target", input.target.as_deref());
    field(&mut hasher, b"build args");
    field(&mut hasher, &(input.build_args.len() as u64).to_le_bytes());
    for (name, value) in &input.build_args {
        field(&mut hasher, name.as_bytes());
        field(&mut hasher, value.as_bytes());
    }
    optional(&mut hasher, b"platform", input.platform.as_deref());
    Ok(DigestReport {
        digest: Digest(*hasher.finalize().as_bytes()),
        files_hashed: missing.len(),
        files_cached,
        bytes_hashed: missing.iter().map(|entry| entry.size).sum(),
    })
}

/// Length-prefixed, so no two different inputs produce the same byte stream.
fn field(hasher: &mut blake3::Hasher, bytes: &[u8]) {
    hasher.update(&(bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

fn optional(hasher: &mut blake3::Hasher, name: &[u8], value: Option<&str>) {
    field(hasher, name);
    match value {
        Some(value) => {
            field(hasher, b"some");
            field(hasher, value.as_bytes());
        }
        None => field(hasher, b"none"),
    }
}

fn is_recent(time: Timestamp, limit: SystemTime) -> bool {
    let Ok(limit) = limit.duration_since(UNIX_EPOCH) else {
        return true;
    };
    let limit = Timestamp { seconds: limit.as_secs() as i64, nanoseconds: limit.subsec_nanos() };
    time >= limit
}

/// Hashes the files' contents on up to `available_parallelism` threads, in input order.
fn hash_files(root: &Path, entries: &[&Entry]) -> io::Result<Vec<[u8; 32]>> {
    let threads = std::thread::available_parallelism().map_or(1, |count| count.get()).min(entries.len());
    if threads <= 1 {
        return entries.iter().map(|entry| hash_file(root, entry)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<io::Result<[u8; 32]>>> = entries.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(entry) = entries.get(index) else {
                            return done;
                        };
                        done.push((index, hash_file(root, entry)));
                    }
                })
            })
            .collect();
        for worker in workers {
            let done = worker.join().map_err(|_| io::Error::other("a hashing thread panicked"))?;
            for (index, result) in done {
                results[index] = Some(result);
            }
        }
        Ok::<(), io::Error>(())
    })?;
    results.into_iter().map(|result| result.unwrap_or_else(|| Err(io::Error::other("a file was not hashed")))).collect()
}

fn hash_file(root: &Path, entry: &Entry) -> io::Result<[u8; 32]> {
    let path = root.join(&entry.path);
    let file = File::open(&path).map_err(|error| with_path(error, &path))?;
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(file).map_err(|error| with_path(error, &path))?;
    Ok(*hasher.finalize().as_bytes())
}

#[cfg(test)]
#[path = "digest_tests.rs"]
mod tests;
