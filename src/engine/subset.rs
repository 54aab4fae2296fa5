//! `NAME…` arguments of `up`, `rebuild`, `watch` and `plan`: resolved against the rendered manifest
//! set before anything changes (an unknown name is exit 2 with a suggestion). See
//! `deploy::plan::subset` for what a subset holds.

use crate::config::Config;
use crate::deploy::plan::subset::{self, Subset};
use crate::deploy::render::{self, Rendered};
use crate::error::Error;

/// The subset `names` mean (`None` without names), from the set rendered with placeholder tags.
pub async fn resolve(config: &Config, names: &[String]) -> Result<Option<Subset>, Error> {
    if names.is_empty() {
        return Ok(None);
    }
    let tags = super::plan::placeholder_tags(config);
    let rendered = render::render(config, &tags).await?;
    of(config, names, &rendered).map(Some)
}

/// The subset `names` mean in a set rendered with [`super::plan::placeholder_tags`].
pub fn of(config: &Config, names: &[String], rendered: &Rendered) -> Result<Subset, Error> {
    let tags = super::plan::placeholder_tags(config);
    subset::select(names, &tags, &rendered.objects, &rendered.plan)
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
