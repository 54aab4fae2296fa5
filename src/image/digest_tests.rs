//! What must and must not change the digest, and what the cache must and must not skip.

use super::*;
use crate::image::context::{tests::write_tree, walk};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

fn input() -> DigestInput {
    DigestInput { dockerfile_rel: PathBuf::from("Dockerfile"), ..DigestInput::default() }
}

fn sample(root: &Path) -> io::Result<()> {
    write_tree(
        root,
        &[
            (".dockerignore", "*.log\n"),
            ("Dockerfile", "FROM scratch\nCOPY . /app\n"),
            ("src/main.py", "print('hello')\n"),
            ("src/util.py", "x = 1\n"),
            ("debug.log", "ignored\n"),
        ],
    )
}

/// A cache that trusts files however recently they changed, so tests need not sleep.
fn trusting_cache() -> HashCache {
    let mut cache = HashCache::new();
    cache.set_racy_window(Duration::ZERO);
    cache
}

fn digest_of(root: &Path, input: &DigestInput) -> io::Result<DigestReport> {
    let files = walk(root, &input.dockerfile_rel)?;
    digest(&files, input, &mut HashCache::new())
}

#[test]
fn equal_trees_give_equal_digests_and_edits_change_them() -> io::Result<()> {
    let context = tempfile::tempdir()?;
    let root = context.path();
    sample(root)?;
    let base = digest_of(root, &input())?.digest;
    assert_eq!(base.hex().len(), 64);
    assert_eq!(base.short(), base.hex()[..16]);

    let twin = tempfile::tempdir()?;
    sample(twin.path())?;
    assert_eq!(digest_of(twin.path(), &input())?.digest, base, "same content elsewhere");

    fs::write(root.join("debug.log"), "changed but ignored\n")?;
    fs::write(root.join("more.log"), "new but ignored\n")?;
    assert_eq!(digest_of(root, &input())?.digest, base, "ignored files do not count");

    let mut seen = vec![base];
    let mut expect_new = |label: &str, digest: Digest| {
        assert!(!seen.contains(&digest), "{label} should change the digest");
        seen.push(digest);
    };
    fs::write(root.join("src/util.py"), "x = 2\n")?;
    expect_new("one byte", digest_of(root, &input())?.digest);
    fs::set_permissions(root.join("src/util.py"), fs::Permissions::from_mode(0o755))?;
    expect_new("mode", digest_of(root, &input())?.digest);
    fs::write(root.join("src/new.py"), "")?;
    expect_new("new empty file", digest_of(root, &input())?.digest);
    fs::rename(root.join("src/new.py"), root.join("src/renamed.py"))?;
    expect_new("rename", digest_of(root, &input())?.digest);
    fs::create_dir(root.join("src/empty"))?;
    expect_new("new empty directory", digest_of(root, &input())?.digest);
    std::os::unix::fs::symlink("main.py", root.join("src/link"))?;
    expect_new("symlink", digest_of(root, &input())?.digest);
    fs::remove_file(root.join("src/link"))?;
    std::os::unix::fs::symlink("util.py", root.join("src/link"))?;
    expect_new("symlink target", digest_of(root, &input())?.digest);
    fs::write(root.join("Dockerfile"), "FROM scratch\nCOPY . /srv\n")?;
    expect_new("Dockerfile", digest_of(root, &input())?.digest);

    let with = |change: &dyn Fn(&mut DigestInput)| {
        let mut changed = input();
        change(&mut changed);
        digest_of(root, &changed).map(|report| report.digest)
    };
    expect_new("target", with(&|input| input.target = Some("app".into()))?);
    expect_new("other target", with(&|input| input.target = Some("dev".into()))?);
    expect_new("empty target", with(&|input| input.target = Some(String::new()))?);
    expect_new(
        "build arg",
        with(&|input| {
            input.build_args.insert("VERSION".into(), "1".into());
        })?,
    );
    expect_new(
        "build arg value",
        with(&|input| {
            input.build_args.insert("VERSION".into(), "2".into());
        })?,
    );
    expect_new("platform", with(&|input| input.platform = Some("linux/arm64".into()))?);
    Ok(())
}

#[test]
fn build_args_are_order_independent_and_unambiguous() -> io::Result<()> {
    let context = tempfile::tempdir()?;
    sample(context.path())?;
    let with_args = |pairs: &[(&str, &str)]| {
        let mut input = input();
        input.build_args = pairs.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect();
        digest_of(context.path(), &input).map(|report| report.digest)
    };
    assert_eq!(with_args(&[("A", "1"), ("B", "2")])?, with_args(&[("B", "2"), ("A", "1")])?);
    assert_ne!(with_args(&[("AB", "")])?, with_args(&[("A", "B")])?);
    Ok(())
}

#[test]
fn cache_skips_unchanged_files_and_rehashes_touched_ones() -> io::Result<()> {
    let context = tempfile::tempdir()?;
    let root = context.path();
    sample(root)?;
    let mut cache = trusting_cache();
    let files = walk(root, Path::new("Dockerfile"))?;
    let first = digest(&files, &input(), &mut cache)?;
    assert_eq!((first.files_hashed, first.files_cached), (4, 0));
    assert_eq!(first.bytes_hashed, files.files().map(|entry| entry.size).sum::<u64>());

    let files = walk(root, Path::new("Dockerfile"))?;
    let second = digest(&files, &input(), &mut cache)?;
    assert_eq!((second.files_hashed, second.files_cached, second.bytes_hashed), (0, 4, 0));
    assert_eq!(second.digest, first.digest);

    let touched = File::options().write(true).open(root.join("src/main.py"))?;
    touched.set_modified(SystemTime::now() - Duration::from_secs(3600))?;
    let files = walk(root, Path::new("Dockerfile"))?;
    let third = digest(&files, &input(), &mut cache)?;
    assert_eq!((third.files_hashed, third.files_cached), (1, 3));
    assert_eq!(third.digest, first.digest, "same content, same digest");

    // Same size and a restored mtime: the ctime still moved, so the edit is seen.
    let before = fs::metadata(root.join("src/util.py"))?.modified()?;
    fs::write(root.join("src/util.py"), "x = 9\n")?;
    File::options().write(true).open(root.join("src/util.py"))?.set_modified(before)?;
    let files = walk(root, Path::new("Dockerfile"))?;
    let fourth = digest(&files, &input(), &mut cache)?;
    assert_eq!(fourth.files_hashed, 1);
    assert_ne!(fourth.digest, first.digest);

    fs::remove_file(root.join("src/util.py"))?;
    let files = walk(root, Path::new("Dockerfile"))?;
    digest(&files, &input(), &mut cache)?;
    assert_eq!(cache.len(), 3, "entries of deleted files are dropped");
    Ok(())
}

#[test]
fn recently_modified_files_are_not_trusted_yet() -> io::Result<()> {
    let context = tempfile::tempdir()?;
    sample(context.path())?;
    let mut cache = HashCache::new();
    assert_eq!(cache.racy_window(), Duration::from_secs(2));
    let files = walk(context.path(), Path::new("Dockerfile"))?;
    digest(&files, &input(), &mut cache)?;
    assert!(cache.is_empty(), "files written just now could change within the same tick");
    let again = digest(&files, &input(), &mut cache)?;
    assert_eq!(again.files_hashed, 4);
    Ok(())
}

#[test]
fn cache_round_trips_through_an_atomic_json_file() -> io::Result<()> {
    let context = tempfile::tempdir()?;
    sample(context.path())?;
    let mut cache = trusting_cache();
    let files = walk(context.path(), Path::new("Dockerfile"))?;
    let first = digest(&files, &input(), &mut cache)?;

    let state = tempfile::tempdir()?;
    let path = state.path().join(".ohdev/cache/app.json");
    cache.save(&path)?;
    let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap_or(state.path()))?.collect::<Result<_, _>>()?;
    assert_eq!(leftovers.len(), 1, "only the cache file remains");

    let mut loaded = HashCache::load(&path)?;
    assert_eq!(loaded.len(), 4);
    assert!(!loaded.changed(), "nothing to save right after loading");
    let second = digest(&files, &input(), &mut loaded)?;
    assert_eq!((second.files_hashed, second.digest), (0, first.digest));
    assert!(!loaded.changed(), "an unchanged tree leaves the cache as loaded (no save needed)");
    fs::write(context.path().join("src/util.py"), "x = 22\n")?;
    let files = walk(context.path(), Path::new("Dockerfile"))?;
    digest(&files, &input(), &mut loaded)?;
    assert!(loaded.changed(), "an edit changes the cache");
    assert!(HashCache::new().changed(), "a new cache is worth saving");

    fs::write(&path, "{ not json")?;
    assert!(HashCache::load(&path)?.is_empty(), "a corrupt cache is an empty cache");
    assert!(HashCache::load(&state.path().join("missing.json"))?.is_empty());
    Ok(())
}

#[test]
fn many_files_hash_in_parallel_to_the_same_result() -> io::Result<()> {
    let context = tempfile::tempdir()?;
    let root = context.path();
    write_tree(root, &[("Dockerfile", "FROM scratch\n")])?;
    for index in 0..300 {
        fs::create_dir_all(root.join(format!("d{}", index % 7)))?;
        fs::write(root.join(format!("d{}/f{index}", index % 7)), index.to_string().repeat(index))?;
    }
    let files = walk(root, Path::new("Dockerfile"))?;
    let mut cache = trusting_cache();
    let parallel = digest(&files, &input(), &mut cache)?;
    assert_eq!(parallel.files_hashed, 301);
    // Recompute each file's hash one by one and check the cache recorded exactly those.
    for entry in files.files() {
        let expected = blake3::hash(&fs::read(root.join(&entry.path))?);
        assert_eq!(cache.lookup(entry), Some(*expected.as_bytes()), "{}", entry.path);
    }
    Ok(())
}

#[test]
fn errors_name_the_file_and_the_mismatch() -> io::Result<()> {
    let context = tempfile::tempdir()?;
    sample(context.path())?;
    let files = walk(context.path(), Path::new("Dockerfile"))?;
    let mut other = input();
    other.dockerfile_rel = PathBuf::from("Dockerfile.dev");
    let error = digest(&files, &other, &mut HashCache::new()).err();
    assert_eq!(error.map(|error| error.kind()), Some(io::ErrorKind::InvalidInput));

    fs::remove_file(context.path().join("src/util.py"))?;
    let error = digest(&files, &input(), &mut HashCache::new()).err();
    let message = error.map(|error| error.to_string()).unwrap_or_default();
    assert!(message.starts_with(&context.path().join("src/util.py").display().to_string()), "{message}");
    Ok(())
}
