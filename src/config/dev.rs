//! Dev mode: the difference between the environment a contributor edits and the one that would
//! ship, written once in ohdev.yaml's `dev:` section.
//!
//! Why a mode and not a second file: production manifests stay the only manifests (a read-only
//! root filesystem stays read-only there), and the few changes that make live editing possible
//! (a writable copy of the sources, a process that restarts on a signal) are patches a reader sees
//! next to the sync rules that rely on them. `ohdev up --watch` deploys in dev mode by default,
//! `ohdev up` in production mode; the mode that was deployed is recorded (`deploy::mode`), so
//! `rebuild` and `watch` render the same manifests and never switch modes behind the user's back.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::raw::{RawDev, RawSyncRule};
use super::{yaml_error, ImageConfig, Patch, SyncRule};
use crate::error::Error;

/// Which manifests and sync rules are in force.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The manifests as written plus the top-level `patches:`.
    #[default]
    Production,
    /// Production plus the `dev:` section.
    Dev,
}

/// `dev:` resolved: patches and sync rules validated like their top-level counterparts.
#[derive(Debug, Clone, Default)]
pub struct DevConfig {
    /// ohdev.yaml has a `dev:` section (so the mode changes something worth saying).
    pub declared: bool,
    pub patches: Vec<Patch>,
    /// Image name → its dev-only sync rules.
    pub sync: BTreeMap<String, Vec<SyncRule>>,
}

impl DevConfig {
    /// What dev mode adds, for a person: "2 patches, sync rules for app".
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        match self.patches.len() {
            0 => {}
            1 => parts.push("1 patch".to_string()),
            count => parts.push(format!("{count} patches")),
        }
        let synced: Vec<&str> =
            self.sync.iter().filter(|(_, rules)| !rules.is_empty()).map(|(name, _)| name.as_str()).collect();
        if !synced.is_empty() {
            parts.push(format!("sync rules for {}", synced.join(", ")));
        }
        if parts.is_empty() {
            "nothing".to_string()
        } else {
            parts.join(", ")
        }
    }
}

impl super::Config {
    /// Which mode is in force and what `dev:` adds, for a person; `None` when ohdev.yaml has no
    /// `dev:` section (both modes deploy the same thing, so there is nothing to say).
    pub fn describe_mode(&self) -> Option<String> {
        if !self.dev.declared {
            return None;
        }
        Some(match self.mode {
            Mode::Dev => format!("dev mode: the `dev:` section of ohdev.yaml is applied ({})", self.dev.summary()),
            Mode::Production => {
                format!("production mode: the `dev:` section of ohdev.yaml ({}) is not applied", self.dev.summary())
            }
        })
    }
}

/// Resolves the sync rules of a key (`dev.images.app.sync`) as `images.<name>.sync` are.
pub(super) type SyncRules<'a> = dyn Fn(&str, Vec<RawSyncRule>) -> Result<Vec<SyncRule>, Error> + 'a;

/// Line of `needle` at or after the `dev:` line, so `dev.images.app` is not found at `images.app`.
fn dev_line_of(text: &str, needle: &str) -> Option<usize> {
    let start = text.lines().position(|line| line.starts_with("dev:"))?;
    text.lines().skip(start).position(|line| line.contains(needle)).map(|index| start + index + 1)
}

/// `dev:` resolved against the resolved `images`; `sync_rules` resolves rules as for
/// `images.<name>.sync` (interpolation, absolute `dest`), naming the key it is given.
pub(super) fn resolve(
    raw: Option<RawDev>,
    images: &BTreeMap<String, ImageConfig>,
    file: &Path,
    text: &str,
    sync_rules: &SyncRules,
) -> Result<DevConfig, Error> {
    let Some(raw) = raw else { return Ok(DevConfig::default()) };
    let mut sync = BTreeMap::new();
    for (name, image) in raw.images {
        if !images.contains_key(&name) {
            let known: Vec<String> = images.keys().cloned().collect();
            return Err(Error::config(
                file,
                dev_line_of(text, &format!("{name}:")),
                format!("`dev.images.{name}` names an image that is not under `images:`"),
                match yaml_error::nearest(&name, &known) {
                    Some(candidate) => {
                        format!("did you mean `{candidate}`? dev sync rules belong to an image ohdev builds")
                    }
                    None if known.is_empty() => "define the image under `images:` first".to_string(),
                    None => format!("use one of: {}", known.join(", ")),
                },
            ));
        }
        sync.insert(name.clone(), sync_rules(&format!("dev.images.{name}.sync"), image.sync)?);
    }
    Ok(DevConfig { declared: true, patches: raw.patches.into_iter().map(Patch::from_raw).collect(), sync })
}

#[cfg(test)]
#[path = "dev_tests.rs"]
mod tests;
