//! `ohdev plan`: the ordered manifest set, rendered without a cluster, a tool or a build.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::deploy::plan::subset::Subset;
use crate::deploy::render::{self, Rendered};
use crate::error::Error;
use crate::image;

/// Placeholder tags: the plan does not depend on them, and computing real ones needs no cluster but
/// may run prebuild commands, which `plan` must not.
pub fn placeholder_tags(config: &Config) -> BTreeMap<String, String> {
    config.images.keys().map(|name| (name.clone(), image::tag_for(name, "0000000000000000"))).collect()
}

pub async fn plan(config: &Config) -> Result<Rendered, Error> {
    render::render(config, &placeholder_tags(config)).await
}

/// `ohdev plan NAME…`: the part of the plan the names need (all of it without names).
pub async fn plan_of(config: &Config, names: &[String]) -> Result<Rendered, Error> {
    let rendered = plan(config).await?;
    if names.is_empty() {
        return Ok(rendered);
    }
    let tags = placeholder_tags(config);
    let subset = super::subset::of(names, &tags, &rendered)?;
    rendered.only(Some(&subset), &tags)
}

/// The subset `names` mean (`None` without names), from the set rendered with placeholder tags.
pub async fn subset(config: &Config, names: &[String]) -> Result<Option<Subset>, Error> {
    if names.is_empty() {
        return Ok(None);
    }
    let tags = placeholder_tags(config);
    let rendered = render::render(config, &tags).await?;
    super::subset::of(names, &tags, &rendered).map(Some)
}
