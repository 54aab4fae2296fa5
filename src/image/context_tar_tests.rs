//! The tar read back must list exactly the walk, with Docker's header conventions.

use super::*;
use crate::image::context::{tests::write_tree, walk};
use std::fs;
use std::io::Read as _;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

#[derive(Debug, PartialEq, Eq)]
struct Read {
    path: String,
    kind: EntryType,
    mode: u32,
    size: u64,
    mtime: u64,
    owner: (u64, u64),
    link: Option<String>,
    content: Vec<u8>,
}

fn read_back(bytes: &[u8]) -> io::Result<Vec<Read>> {
    let mut archive = tar::Archive::new(bytes);
    let mut entries = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let header = entry.header();
        let link = entry.link_name()?.map(|link| link.to_string_lossy().into_owned());
        let mut read = Read {
            path: entry.path()?.to_string_lossy().trim_end_matches('/').to_string(),
            kind: header.entry_type(),
            mode: header.mode()?,
            size: header.size()?,
            mtime: header.mtime()?,
            owner: (header.uid()?, header.gid()?),
            link,
            content: Vec::new(),
        };
        entry.read_to_end(&mut read.content)?;
        entries.push(read);
    }
    Ok(entries)
}

#[test]
fn tar_lists_exactly_the_walk_with_docker_headers() -> io::Result<()> {
    let context = tempfile::tempdir()?;
    let root = context.path();
    let long_dir = "a-directory-name-that-is-long/".repeat(4);
    let long_file = format!("{long_dir}file-with-a-long-name.txt");
    write_tree(
        root,
        &[
            (".dockerignore", "**/*.tmp\nsecret/\n"),
            ("Dockerfile", "FROM scratch\nCOPY . /ctx\n"),
            ("bin/run.sh", "#!/bin/sh\necho run\n"),
            ("data/empty.txt", ""),
            ("data/skip.tmp", "ignored"),
            ("secret/key", "never sent"),
            ("empty/", ""),
            (long_file.as_str(), "deep"),
        ],
    )?;
    fs::set_permissions(root.join("bin/run.sh"), fs::Permissions::from_mode(0o755))?;
    fs::set_permissions(root.join("data/empty.txt"), fs::Permissions::from_mode(0o600))?;
    symlink("bin/run.sh", root.join("run"))?;
    let long_target = format!("../{}", "x".repeat(150));
    symlink(&long_target, root.join("far"))?;

    let files = walk(root, Path::new("Dockerfile"))?;
    let bytes = write_tar(&files, Vec::new())?;
    let read = read_back(&bytes)?;

    let expected: Vec<Read> = files
        .entries
        .iter()
        .map(|entry| {
            let (kind, link) = match &entry.kind {
                EntryKind::File => (EntryType::Regular, None),
                EntryKind::Directory => (EntryType::Directory, None),
                EntryKind::Symlink { target } => (EntryType::Symlink, Some(target.to_string_lossy().into_owned())),
            };
            let content = match entry.kind {
                EntryKind::File => fs::read(root.join(&entry.path)),
                _ => Ok(Vec::new()),
            };
            content.map(|content| Read {
                path: entry.path.clone(),
                kind,
                mode: entry.mode,
                size: entry.size,
                mtime: entry.modified.seconds as u64,
                owner: (0, 0),
                link,
                content,
            })
        })
        .collect::<io::Result<_>>()?;
    assert_eq!(read, expected);

    let names: Vec<&str> = read.iter().map(|entry| entry.path.as_str()).collect();
    assert!(names.contains(&long_file.as_str()) && names.contains(&"far"));
    assert!(!names.iter().any(|name| name.starts_with("secret") || name.ends_with(".tmp")));
    let run = read.iter().find(|entry| entry.path == "bin/run.sh").map(|entry| entry.mode);
    assert_eq!(run, Some(0o755));
    assert_eq!(content_bytes(&files), read.iter().map(|entry| entry.content.len() as u64).sum::<u64>());
    Ok(())
}

#[test]
fn a_file_changed_after_the_walk_is_an_error() -> io::Result<()> {
    let context = tempfile::tempdir()?;
    write_tree(context.path(), &[("Dockerfile", "FROM scratch\n"), ("grows.txt", "short")])?;
    let files = walk(context.path(), Path::new("Dockerfile"))?;
    fs::write(context.path().join("grows.txt"), "much longer now")?;
    let error = write_tar(&files, Vec::new()).err().map(|error| error.to_string()).unwrap_or_default();
    assert!(error.ends_with("grows.txt changed after the build context was scanned; scan it again"), "{error}");
    Ok(())
}
