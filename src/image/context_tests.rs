//! Walks over temporary trees with the cases that trip context walkers up.

use super::*;
use std::os::unix::fs::{symlink, PermissionsExt};

/// Writes `files` (path → content; a path ending in `/` is an empty directory) under `root`.
pub(crate) fn write_tree(root: &Path, files: &[(&str, &str)]) -> io::Result<()> {
    for (path, content) in files {
        let full = root.join(path);
        if path.ends_with('/') {
            fs::create_dir_all(&full)?;
            continue;
        }
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&full, content)?;
    }
    Ok(())
}

const TRICKY_IGNORE: &str = "\
# build outputs
**/*.pyc
!keep.pyc
/build
node_modules/
.git
Dockerfile
.dockerignore
docs
!docs/README.md
vendor
!vendor/keep/**
!*/wild
cache
!**/important
";

fn tricky_tree(root: &Path) -> io::Result<()> {
    write_tree(
        root,
        &[
            (".dockerignore", TRICKY_IGNORE),
            ("Dockerfile", "FROM scratch\nCOPY . /ctx\n"),
            ("app.py", "print('hi')\n"),
            ("app.pyc", "bytecode"),
            ("keep.pyc", "kept at the root"),
            ("sub/keep.pyc", "excluded: the exception is for the root only"),
            ("sub/mod.py", "x = 1\n"),
            ("sub/deep/mod.pyc", "bytecode"),
            ("build/out.o", "object"),
            ("src/build/x.txt", "not the root build"),
            ("node_modules/pkg/index.js", "js"),
            ("web/node_modules/y.js", "not the root node_modules"),
            (".git/HEAD", "ref: refs/heads/main\n"),
            ("docs/README.md", "readme"),
            ("docs/other.md", "other"),
            ("vendor/keep/a.txt", "kept"),
            ("vendor/keep/deeper/b.txt", "kept"),
            ("vendor/drop.txt", "dropped"),
            ("vendor/wild", "re-included: vendor is entered anyway"),
            ("cache/important", "not re-included: !**/important has no literal prefix"),
            ("empty/", ""),
        ],
    )?;
    symlink("app.py", root.join("link"))?;
    symlink("nowhere", root.join("dangling"))?;
    symlink("sub", root.join("sub-link"))?;
    Ok(())
}

#[test]
fn walk_applies_docker_rules_to_a_tricky_tree() -> io::Result<()> {
    let context = tempfile::tempdir()?;
    tricky_tree(context.path())?;
    let files = walk(context.path(), Path::new("Dockerfile"))?;
    assert_eq!(
        files.paths(),
        [
            ".dockerignore",
            "Dockerfile",
            "app.py",
            "dangling",
            "docs/README.md",
            "empty",
            "keep.pyc",
            "link",
            "src",
            "src/build",
            "src/build/x.txt",
            "sub",
            "sub/deep",
            "sub/mod.py",
            "sub-link",
            "vendor/keep/a.txt",
            "vendor/keep/deeper",
            "vendor/keep/deeper/b.txt",
            "vendor/wild",
            "web",
            "web/node_modules",
            "web/node_modules/y.js",
        ]
    );
    assert_eq!(files.ignore_file.as_deref(), Some(context.path().join(".dockerignore").as_path()));
    // The sent .dockerignore matches both build files, so the classic builder drops them.
    assert_eq!(files.removed_by_classic_builder, [".dockerignore", "Dockerfile"]);
    let image = files.classic_image_paths();
    assert!(image.contains(&"docs".to_string()) && image.contains(&"vendor".to_string()));
    assert!(!image.contains(&"Dockerfile".to_string()));
    let link = files.entries.iter().find(|entry| entry.path == "link").map(|entry| entry.kind.clone());
    assert_eq!(link, Some(EntryKind::Symlink { target: PathBuf::from("app.py") }));
    Ok(())
}

#[test]
fn entries_carry_modes_sizes_and_kinds() -> io::Result<()> {
    let context = tempfile::tempdir()?;
    write_tree(context.path(), &[("Dockerfile", "FROM scratch\n"), ("bin/run.sh", "#!/bin/sh\n")])?;
    fs::set_permissions(context.path().join("bin/run.sh"), fs::Permissions::from_mode(0o4755))?;
    let files = walk(context.path(), Path::new("Dockerfile"))?;
    let script = files.entries.iter().find(|entry| entry.path == "bin/run.sh");
    let script = script.ok_or_else(|| io::Error::other("bin/run.sh missing"))?;
    assert_eq!((script.kind.clone(), script.mode, script.size), (EntryKind::File, 0o4755, 10));
    assert!(script.inode != 0 && script.modified.seconds > 0);
    let bin = files.entries.iter().find(|entry| entry.path == "bin").map(|entry| (entry.kind.clone(), entry.size));
    assert_eq!(bin, Some((EntryKind::Directory, 0)));
    assert!(files.removed_by_classic_builder.is_empty());
    Ok(())
}

#[test]
fn dockerfile_specific_ignore_file_wins() -> io::Result<()> {
    let context = tempfile::tempdir()?;
    write_tree(
        context.path(),
        &[
            (".dockerignore", "app-only\n"),
            ("containers/app/Dockerfile", "FROM scratch\n"),
            ("containers/app/Dockerfile.dockerignore", "*\n!openhands\n!containers/app/entrypoint.sh\n"),
            ("containers/app/entrypoint.sh", "#!/bin/sh\n"),
            ("containers/other/Dockerfile", "FROM scratch\n"),
            ("openhands/main.py", "main\n"),
            ("app-only", "excluded only by the root file\n"),
            ("README.md", "readme\n"),
        ],
    )?;
    let files = walk(context.path(), Path::new("containers/app/Dockerfile"))?;
    // `containers` is excluded but entered for the exceptions under it; it is not sent itself.
    assert_eq!(
        files.paths(),
        ["containers/app/Dockerfile", "containers/app/entrypoint.sh", "openhands", "openhands/main.py"]
    );
    assert_eq!(
        files.ignore_file.as_deref(),
        Some(context.path().join("containers/app/Dockerfile.dockerignore").as_path())
    );
    let other = walk(context.path(), Path::new("containers/other/Dockerfile"))?;
    assert!(other.paths().contains(&"README.md".to_string()));
    assert!(!other.paths().contains(&"app-only".to_string()));
    Ok(())
}

#[test]
fn excluded_build_files_are_still_sent() -> io::Result<()> {
    let context = tempfile::tempdir()?;
    write_tree(
        context.path(),
        &[
            (".dockerignore", "*\n!src\n"),
            ("docker/Dockerfile", "FROM scratch\n"),
            ("docker/notes.txt", "not sent\n"),
            ("src/lib.rs", "\n"),
            ("README.md", "not sent\n"),
        ],
    )?;
    let files = walk(context.path(), Path::new("docker/Dockerfile"))?;
    assert_eq!(files.paths(), [".dockerignore", "docker/Dockerfile", "src", "src/lib.rs"]);
    assert_eq!(files.removed_by_classic_builder, [".dockerignore", "docker/Dockerfile"]);
    assert_eq!(files.classic_image_paths(), ["docker", "src", "src/lib.rs"]);
    Ok(())
}

#[test]
fn walk_errors_name_the_problem() -> io::Result<()> {
    let context = tempfile::tempdir()?;
    write_tree(context.path(), &[("Dockerfile", "FROM scratch\n"), ("other", "")])?;
    let missing = walk(context.path(), Path::new("containers/Dockerfile")).err();
    let message = missing.map(|error| (error.kind(), error.to_string()));
    assert_eq!(
        message,
        Some((
            io::ErrorKind::NotFound,
            format!("cannot locate Dockerfile {}", context.path().join("containers/Dockerfile").display())
        ))
    );

    fs::write(context.path().join(".dockerignore"), "ok\n[z-a]\n")?;
    let invalid = walk(context.path(), Path::new("Dockerfile")).err();
    let message = invalid.map(|error| error.to_string()).unwrap_or_default();
    assert!(
        message
            .ends_with(".dockerignore: line 2: invalid pattern `[z-a]`: character class range `z-a` is out of order"),
        "{message}"
    );

    fs::write(context.path().join(".dockerignore"), "")?;
    let bad_name = std::os::unix::ffi::OsStrExt::from_bytes(b"bad\xffname");
    let bad_name: &std::ffi::OsStr = bad_name;
    fs::write(context.path().join(bad_name), "")?;
    let invalid = walk(context.path(), Path::new("Dockerfile")).err();
    let message = invalid.map(|error| error.to_string()).unwrap_or_default();
    assert!(message.contains("bad") && message.ends_with("file name is not valid UTF-8"), "{message}");
    Ok(())
}

#[test]
fn sockets_are_skipped_and_reported() -> io::Result<()> {
    let context = tempfile::tempdir()?;
    write_tree(context.path(), &[("Dockerfile", "FROM scratch\n")])?;
    let _listener = std::os::unix::net::UnixListener::bind(context.path().join("agent.sock"))?;
    let files = walk(context.path(), Path::new("Dockerfile"))?;
    assert_eq!(files.paths(), ["Dockerfile"]);
    assert_eq!(files.skipped_special, ["agent.sock"]);
    Ok(())
}
