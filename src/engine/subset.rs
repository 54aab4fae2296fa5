//! `NAME…` arguments of `up`, `rebuild`, `watch` and `plan`: resolved against the rendered manifest
//! set before anything changes (an unknown name is exit 2 with a suggestion). See
//! `deploy::plan::subset` for what a subset holds; `engine::plan::subset` renders and resolves.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::deploy::plan::subset::{self, Subset};
use crate::deploy::render::Rendered;
use crate::error::Error;

/// The subset `names` mean in a set rendered with `tags` (one distinct tag per image).
pub fn of(names: &[String], tags: &BTreeMap<String, String>, rendered: &Rendered) -> Result<Subset, Error> {
    subset::select(names, tags, &rendered.objects, &rendered.plan)
        .map_err(|error| Error::Input { message: error.to_string(), fix: error.fix() })
}

/// The images to build for `subset` (all when `None`), with what they depend on, in build order.
pub fn images(config: &Config, subset: Option<&Subset>) -> Result<Vec<String>, Error> {
    match subset {
        None => crate::image::select(config, &[]),
        Some(subset) if subset.images.is_empty() => Ok(Vec::new()),
        Some(subset) => crate::image::select(config, &subset.images.iter().cloned().collect::<Vec<_>>()),
    }
}
