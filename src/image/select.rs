//! Which images to work on (the named ones and what they depend on, in dependency order), and the
//! checks that run before anything changes: contexts, Dockerfiles, prebuild programs, `${image:X}`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::config::{Config, ImageConfig};
use crate::error::Error;

/// The images to work on: the named ones plus everything they depend on, in dependency order.
pub fn select(config: &Config, names: &[String]) -> Result<Vec<String>, Error> {
    for name in names {
        if !config.images.contains_key(name) {
            let known: Vec<String> = config.images.keys().cloned().collect();
            return Err(Error::Input {
                message: format!("no image named `{name}` in {}", config.file.display()),
                fix: match crate::config::yaml_error::nearest(name, &known) {
                    Some(candidate) => format!("did you mean `{candidate}`? images: {}", known.join(", ")),
                    None => {
                        format!("images: {}", if known.is_empty() { "(none)".to_string() } else { known.join(", ") })
                    }
                },
            });
        }
    }
    let wanted: Vec<String> = if names.is_empty() { config.images.keys().cloned().collect() } else { names.to_vec() };
    let mut ordered = Vec::new();
    let mut visiting = BTreeSet::new();
    for name in &wanted {
        visit(config, name, &mut visiting, &mut ordered)?;
    }
    Ok(ordered)
}

fn visit(config: &Config, name: &str, visiting: &mut BTreeSet<String>, ordered: &mut Vec<String>) -> Result<(), Error> {
    if ordered.iter().any(|done| done == name) {
        return Ok(());
    }
    if !visiting.insert(name.to_string()) {
        return Err(Error::config(
            &config.file,
            None,
            format!("images depend on each other in a cycle through `{name}`"),
            "remove one of the `depends_on` entries",
        ));
    }
    for dependency in &config.images[name].depends_on {
        visit(config, dependency, visiting, ordered)?;
    }
    visiting.remove(name);
    ordered.push(name.to_string());
    Ok(())
}

/// Check, before anything changes, that each image's context and Dockerfile exist.
pub fn validate(config: &Config, names: &[String]) -> Result<(), Error> {
    for name in names {
        let image = &config.images[name];
        if !image.context.is_dir() {
            return Err(Error::config(
                &config.file,
                None,
                format!("images.{name}.context is {}, which is not a directory", image.context.display()),
                "point `context` at the build context (for OpenHands: export OPENHANDS_ROOT=/path/to/OpenHands)",
            ));
        }
        let missing: Vec<&String> =
            image.expect.iter().filter(|path| !image.context.join(path.as_str()).exists()).collect();
        if !missing.is_empty() {
            return Err(Error::config(
                &config.file,
                None,
                format!(
                    "images.{name}.context is {} (from `{}`), which lacks {}: it does not look like the expected checkout",
                    image.context.display(),
                    image.context_as_written,
                    missing.iter().map(|path| path.as_str()).collect::<Vec<_>>().join(", ")
                ),
                "point it at the right directory; for OpenHands: git clone https://github.com/All-Hands-AI/OpenHands and export OPENHANDS_ROOT=/path/to/OpenHands",
            ));
        }
        if !image.prebuild.is_empty() && find_program(image).is_err() {
            return Err(Error::config(
                &config.file,
                None,
                format!(
                    "images.{name}.prebuild runs `{}`, which is neither on PATH nor in {}",
                    image.prebuild[0],
                    image.context.display()
                ),
                format!("install `{}`, or fix the command", image.prebuild[0]),
            ));
        }
        for (argument, value) in &image.build_args {
            for reference in image_references(value) {
                if !image.depends_on.contains(&reference) {
                    return Err(Error::config(
                        &config.file,
                        None,
                        format!("images.{name}.build_args.{argument} uses ${{image:{reference}}}, but `{reference}` is not in images.{name}.depends_on"),
                        if config.images.contains_key(&reference) {
                            format!("add `depends_on: [{reference}]` to images.{name}")
                        } else {
                            format!("`{reference}` is not an image in ohdev.yaml: fix the name")
                        },
                    ));
                }
            }
        }
        if image.prebuild.is_empty() && !image.context.join(&image.dockerfile).is_file() {
            return Err(Error::config(
                &config.file,
                None,
                format!(
                    "images.{name}.dockerfile is {}, which is not a file in the context {}",
                    image.dockerfile.display(),
                    image.context.display()
                ),
                "give the Dockerfile's path relative to the context, as with `docker build -f`",
            ));
        }
    }
    Ok(())
}

/// A prebuild program on PATH, or a path relative to the context (where it runs).
pub(super) fn find_program(image: &ImageConfig) -> Result<PathBuf, which::Error> {
    which::which_in(&image.prebuild[0], std::env::var_os("PATH"), &image.context)
}

/// Names in `${image:NAME}` placeholders.
fn image_references(value: &str) -> Vec<String> {
    value.split("${image:").skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string())).collect()
}
