use std::collections::BTreeMap;

use crate::image::images;
use crate::config::Config;
use crate::deploy::plan::graph;
use crate::deploy::render;
use crate::events::Event;
use crate::ui::Reporter;

/// Placeholder tags: the plan does not depend on them, and computing real ones needs no cluster but
/// may run prebuild commands, which `plan` must not.
pub fn placeholder_tags(config: &Config) -> BTreeMap<String, String> {
    config.images.keys().map(|name| (name.clone(), images::tag_for(name, "0000000000000000"))).collect()
}

pub async fn run(config: &Config, reporter: &Reporter) -> anyhow::Result<()> {
    let rendered = render::render(config, &placeholder_tags(config)).await?;
    for warning in &rendered.warnings {
        eprintln!("warning: {warning}");
    }
    let text = if reporter.is_json() { graph::render_json_lines(&rendered.plan) } else { graph::render_text(&rendered.plan) };
    print!("{text}");
    if !reporter.is_json() && rendered.plan.levels.is_empty() {
        reporter.emit(Event::info("no manifests: nothing to apply"));
    }
    Ok(())
}
