//! The build context as a tar stream, written straight from the source tree to any writer so the
//! caller can stream it into the Docker API without copying the tree first.
//!
//! Headers follow what the docker CLI sends (go-archive's `addTarFile` with `ChownOpts` 0:0):
//! mode bits kept, modification time kept to the second, uid and gid 0, no user or group names,
//! directories and symlinks as entries of their own (symlinks are never followed). The entries
//! come from the same walk the digest was computed from, and a file whose size or modification
//! time changed since that walk is an error rather than a silent mismatch between the image and
//! its tag: the caller walks and digests again.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;

use tar::{Builder, EntryType, Header};

use crate::image::context::{with_path, ContextFiles, Entry, EntryKind};

/// Total bytes of file content in the context (for a progress bar; the tar adds headers and
/// padding on top).
pub fn content_bytes(context: &ContextFiles) -> u64 {
    context.files().map(|entry| entry.size).sum()
}

/// Writes the context as an uncompressed tar to `output` and returns the writer.
pub fn write_tar<W: Write>(context: &ContextFiles, output: W) -> io::Result<W> {
    let mut builder = Builder::new(output);
    builder.follow_symlinks(false);
    for entry in &context.entries {
        let mut header = header_for(entry);
        match &entry.kind {
            EntryKind::Directory => {
                builder.append_data(&mut header, format!("{}/", entry.path), io::empty())?;
            }
            EntryKind::Symlink { target } => {
                builder.append_link(&mut header, &entry.path, target)?;
            }
            EntryKind::File => {
                let path = context.root.join(&entry.path);
                let file = File::open(&path).map_err(|error| with_path(error, &path))?;
                let metadata = file.metadata().map_err(|error| with_path(error, &path))?;
                let unchanged = metadata.is_file()
                    && metadata.size() == entry.size
                    && metadata.mtime() == entry.modified.seconds
                    && metadata.mtime_nsec() == i64::from(entry.modified.nanoseconds);
                if !unchanged {
                    return Err(changed(&path.display().to_string()));
                }
                let reader = ExactReader { inner: file.take(entry.size), remaining: entry.size, path: &entry.path };
                builder.append_data(&mut header, &entry.path, reader)?;
            }
        }
    }
    builder.into_inner()
}

fn header_for(entry: &Entry) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(match entry.kind {
        EntryKind::File => EntryType::Regular,
        EntryKind::Directory => EntryType::Directory,
        EntryKind::Symlink { .. } => EntryType::Symlink,
    });
    header.set_mode(entry.mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(u64::try_from(entry.modified.seconds).unwrap_or(0));
    header.set_size(if entry.kind == EntryKind::File { entry.size } else { 0 });
    header
}

fn changed(path: &str) -> io::Error {
    io::Error::other(format!("{path} changed after the build context was scanned; scan it again"))
}

/// Yields exactly `remaining` bytes or fails: the tar header already promised that size.
struct ExactReader<'path, R> {
    inner: R,
    remaining: u64,
    path: &'path str,
}

impl<R: Read> Read for ExactReader<'_, R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let count = self.inner.read(buffer)?;
        if count == 0 {
            return Err(changed(self.path));
        }
        self.remaining -= count as u64;
        Ok(count)
    }
}

#[cfg(test)]
#[path = "context_tar_tests.rs"]
mod tests;
