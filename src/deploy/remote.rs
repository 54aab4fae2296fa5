//! Remote manifest bundles (`- url: …` in ohdev.yaml): fetched once into a cache, pinned by the
//! `sha256` written next to the URL or, failing that, by the digest recorded in `ohdev.lock` at the
//! first fetch (meant to be committed). A cache hit works offline. Downloads go through curl (the
//! process seam), which honours the user's proxy settings and system certificates.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::tools::exec::Invocation;
use crate::tools::Tool;

pub const LOCK_FILE: &str = "ohdev.lock";

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockFile {
    #[serde(default)]
    bundles: BTreeMap<String, String>,
}

pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("OHDEV_CACHE_DIR") {
        return PathBuf::from(dir).join("bundles");
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("ohdev").join("bundles")
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn cache_file(url: &str) -> PathBuf {
    let name = url.rsplit('/').next().filter(|name| !name.is_empty()).unwrap_or("bundle.yaml");
    let name: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
    cache_dir().join(format!("{}-{name}", &sha256_hex(url.as_bytes())[..16]))
}

fn read_lock(project_root: &Path) -> Result<LockFile, Error> {
    let path = project_root.join(LOCK_FILE);
    match std::fs::read_to_string(&path) {
        Err(_) => Ok(LockFile::default()),
        Ok(text) => {
            serde_yaml::from_str(&text).map_err(|error| crate::config::yaml_error::to_config_error(&path, &error))
        }
    }
}

fn write_lock(project_root: &Path, lock: &LockFile) -> Result<(), Error> {
    let path = project_root.join(LOCK_FILE);
    let mut text = String::from("# Written by ohdev on the first fetch of each remote manifest bundle. Commit it:\n# it pins what `url:` entries in ohdev.yaml resolve to.\n");
    text.push_str(&serde_yaml::to_string(lock).unwrap_or_default());
    crate::state::write_atomic(&path, text.as_bytes())
        .map_err(|error| Error::work(format!("cannot write {}: {error}", path.display()), None))
}

/// The checks every bundle must pass before anything is fetched or applied.
pub fn validate_pin(url: &str, sha256: Option<&str>, config_file: &Path) -> Result<(), Error> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(Error::config(
            config_file,
            None,
            format!("manifest url `{url}` is not http(s)"),
            "use an https:// URL",
        ));
    }
    if let Some(sha) = sha256 {
        if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::config(
                config_file,
                None,
                format!("sha256 `{sha}` for {url} is not 64 hex digits"),
                "copy the digest from `sha256sum` of the file, or remove the key to pin via ohdev.lock",
            ));
        }
    }
    Ok(())
}

/// Resolve a bundle to a local file: cache hit (verified) or download (verified, then cached).
pub async fn fetch(url: &str, sha256: Option<&str>, project_root: &Path, config_file: &Path) -> Result<PathBuf, Error> {
    validate_pin(url, sha256, config_file)?;
    let mut lock = read_lock(project_root)?;
    let expected = sha256.map(str::to_lowercase).or_else(|| lock.bundles.get(url).cloned());
    let cached = cache_file(url);
    let mismatch = |actual: &str, expected: &str, origin: &str| {
        Error::Input {
        message: format!("the bundle {url} has sha256 {actual}, but {origin} pins {expected}; nothing was applied"),
        fix: format!("if the upstream change is expected, update the digest in {origin}; otherwise the download was tampered with or corrupted (delete {} to fetch again)", cached.display()),
    }
    };
    let origin = if sha256.is_some() { "ohdev.yaml" } else { LOCK_FILE };
    if let Ok(bytes) = std::fs::read(&cached) {
        let actual = sha256_hex(&bytes);
        match &expected {
            Some(expected) if expected != &actual => return Err(mismatch(&actual, expected, origin)),
            Some(_) => return Ok(cached),
            None => {
                lock.bundles.insert(url.to_string(), actual);
                write_lock(project_root, &lock)?;
                return Ok(cached);
            }
        }
    }
    let curl = Tool::Curl.locate()?;
    std::fs::create_dir_all(cache_dir())
        .map_err(|error| Error::work(format!("cannot create {}: {error}", cache_dir().display()), None))?;
    let partial = cached.with_extension(format!("partial-{}", std::process::id()));
    let result = Invocation::new(curl, "curl")
        .args(["--fail", "--silent", "--show-error", "--location", "--max-time", "120", "--output"])
        .arg(partial.display().to_string())
        .arg(url)
        .timeout(Duration::from_secs(150))
        .run()
        .await;
    if let Err(error) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(Error::work(
            format!(
                "cannot download the manifest bundle {url}, and it is not in the cache ({}): {}",
                cached.display(),
                error.to_string().lines().last().unwrap_or("")
            ),
            Some(
                "check your network or proxy (HTTPS_PROXY); once fetched, the bundle is cached and works offline"
                    .to_string(),
            ),
        ));
    }
    let bytes = std::fs::read(&partial)
        .map_err(|error| Error::work(format!("cannot read the download of {url}: {error}"), None))?;
    let actual = sha256_hex(&bytes);
    if let Some(expected) = &expected {
        if expected != &actual {
            let _ = std::fs::remove_file(&partial);
            return Err(mismatch(&actual, expected, origin));
        }
    }
    std::fs::rename(&partial, &cached)
        .map_err(|error| Error::work(format!("cannot store {}: {error}", cached.display()), None))?;
    if expected.is_none() {
        lock.bundles.insert(url.to_string(), actual);
        write_lock(project_root, &lock)?;
    }
    Ok(cached)
}
