//! What the image phase produced for each image, and the content-addressed tag that names it.

use crate::error::Error;
use crate::names::IMAGE_REPOSITORY_HOST;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Built {
        image_id: String,
    },
    UpToDate {
        image_id: String,
    },
    Failed,
    /// Not built because an image it depends on failed.
    Skipped,
}

#[derive(Debug, Clone)]
pub struct BuildResult {
    pub name: String,
    pub tag: String,
    pub digest: String,
    pub outcome: Outcome,
}

impl BuildResult {
    pub fn image_id(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Built { image_id } | Outcome::UpToDate { image_id } => Some(image_id),
            _ => None,
        }
    }
}

pub fn tag_for(name: &str, digest_hex: &str) -> String {
    format!("{IMAGE_REPOSITORY_HOST}/{name}:{}", &digest_hex[..16.min(digest_hex.len())])
}

/// The image phase failed when any image did: name them and what to do.
pub fn fail_if_any_failed(results: &[BuildResult]) -> Result<(), Error> {
    let failed: Vec<&str> =
        results.iter().filter(|result| result.outcome == Outcome::Failed).map(|result| result.name.as_str()).collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(Error::work(
        format!("image(s) failed to build: {}; nothing that depends on them was loaded", failed.join(", ")),
        Some(format!("fix the failing step shown above, then `ohdev build {}`", failed.join(" "))),
    ))
}
