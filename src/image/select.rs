//! Which images to work on (the named ones and what they depend on, in dependency order), and the
//! checks that run before anything changes: contexts, prebuild programs, `${image:X}`, platforms,
//! and what Docker would refuse in a Dockerfile, its `target` or its `.dockerignore`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::dockerfile;
use super::dockerignore::{IgnoreError, IgnoreRules};
use crate::config::yaml_error::nearest;
use crate::config::{Config, ImageConfig};
use crate::error::Error;

/// The images to work on: the named ones plus everything they depend on, in dependency order.
pub fn select(config: &Config, names: &[String]) -> Result<Vec<String>, Error> {
    for name in names {
        if !config.images.contains_key(name) {
            let known: Vec<String> = config.images.keys().cloned().collect();
            return Err(Error::Input {
                message: format!("no image named `{name}` in {}", config.file.display()),
                fix: match nearest(name, &known) {
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

/// Check, before anything changes, each image's context, prebuild program, `${image:X}`
/// references and platform, and (for images without a prebuild command, whose files exist now)
/// that Docker would accept its Dockerfile, `target` and `.dockerignore`.
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
        // A prebuild command may write the Dockerfile and ignore files: `prepare` checks them
        // after it ran.
        if image.prebuild.is_empty() {
            check_build_files(config, image)?;
        }
    }
    Ok(())
}

/// The files a build reads before it runs anything, checked as Docker would: the Dockerfile
/// exists and parses (and has the configured `target` stage), the `.dockerignore` in use is
/// readable and Docker would accept each of its patterns.
pub(super) fn check_build_files(config: &Config, image: &ImageConfig) -> Result<(), Error> {
    let name = &image.name;
    let path = image.context.join(&image.dockerfile);
    if !path.is_file() {
        return Err(Error::config(
            &config.file,
            image_key_line(config, name, "dockerfile"),
            format!(
                "images.{name}.dockerfile is {}, which is not a file in the context {}",
                image.dockerfile.display(),
                image.context.display()
            ),
            "give the Dockerfile's path relative to the context, as with `docker build -f`",
        ));
    }
    let bytes = std::fs::read(&path).map_err(|error| unreadable(&path, &error))?;
    let parsed = dockerfile::parse(&String::from_utf8_lossy(&bytes))
        .map_err(|error| Error::config(&path, error.line, error.message, error.fix))?;
    if let Some(target) = image.target.as_ref().filter(|_| parsed.custom_frontend.is_none()) {
        if parsed.stage(target).is_none() {
            let stages: Vec<String> = parsed.stages.iter().filter_map(|stage| stage.name.clone()).collect();
            let fix = if stages.is_empty() {
                format!("{} names no stage: add `AS {target}` to a FROM line, or remove `target`", path.display())
            } else {
                let listed = parsed.stage_list().join(", ");
                match nearest(&target.to_ascii_lowercase(), &stages) {
                    Some(candidate) => format!("did you mean `{candidate}`? its stages: {listed}"),
                    None => format!("set `target` to one of its stages: {listed}"),
                }
            };
            return Err(Error::config(
                &config.file,
                image_key_line(config, name, "target"),
                format!("images.{name}.target is `{target}`, which is not a stage of {}", path.display()),
                fix,
            ));
        }
    }
    IgnoreRules::load(&image.context, &image.dockerfile).map(drop).map_err(|error| match error {
        IgnoreError::Read { path, error } => unreadable(&path, &error),
        IgnoreError::Parse { path, error } => {
            Error::config(&path, Some(error.line), error.error.to_string(), error.error.fix())
        }
        IgnoreError::NotUtf8 { path } => {
            Error::config(&path, None, "it is not valid UTF-8 text", "save it as UTF-8, one pattern per line")
        }
        IgnoreError::DockerfileOutsideContext { path } => Error::config(
            &config.file,
            image_key_line(config, name, "dockerfile"),
            format!(
                "images.{name}.dockerfile is {}, which is outside the context {}",
                path.display(),
                image.context.display()
            ),
            "give the Dockerfile's path relative to the context, as with `docker build -f`",
        ),
    })
}

fn unreadable(path: &Path, error: &std::io::Error) -> Error {
    let fix = if error.kind() == std::io::ErrorKind::PermissionDenied {
        format!("make it readable for ohdev (`chmod a+r {}`)", path.display())
    } else {
        "make it a readable file".to_string()
    };
    Error::config(path, None, format!("cannot read it: {error}"), fix)
}

/// 1-based line of `key:` inside `images.<name>` in ohdev.yaml (block style), for messages.
fn image_key_line(config: &Config, name: &str, key: &str) -> Option<usize> {
    key_line_in_image(&std::fs::read_to_string(&config.file).ok()?, name, key)
}

fn key_line_in_image(text: &str, name: &str, key: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let indentation = |line: &str| line.len() - line.trim_start().len();
    let images = lines.iter().position(|line| line.trim_end() == "images:")?;
    let image = images
        + 1
        + lines[images + 1..].iter().position(|line| {
            let trimmed = line.trim_start();
            trimmed.strip_prefix(name).is_some_and(|rest| rest.starts_with(':')) && indentation(line) > 0
        })?;
    let depth = indentation(lines[image]);
    lines[image + 1..]
        .iter()
        .take_while(|line| line.trim().is_empty() || line.trim_start().starts_with('#') || indentation(line) > depth)
        .position(|line| line.trim_start().strip_prefix(key).is_some_and(|rest| rest.starts_with(':')))
        .map(|offset| image + 2 + offset)
}

/// A prebuild program on PATH, or a path relative to the context (where it runs).
pub(super) fn find_program(image: &ImageConfig) -> Result<PathBuf, which::Error> {
    which::which_in(&image.prebuild[0], std::env::var_os("PATH"), &image.context)
}

/// Names in `${image:NAME}` placeholders.
fn image_references(value: &str) -> Vec<String> {
    value.split("${image:").skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lines_are_found_inside_their_image() {
        let text = "cluster:\n  name: t\nimages:\n  api:\n    context: .\n    platform: linux/amd64\n\n  app:\n    # the app\n    context: app\n    target: final\n    platform: linux/amd46\n  web:\n    context: web\nmanifests: []\n";
        assert_eq!(key_line_in_image(text, "app", "platform"), Some(12));
        assert_eq!(key_line_in_image(text, "app", "target"), Some(11));
        assert_eq!(key_line_in_image(text, "api", "platform"), Some(6));
        assert_eq!(key_line_in_image(text, "api", "target"), None, "not another image's key");
        assert_eq!(key_line_in_image(text, "web", "platform"), None);
        assert_eq!(key_line_in_image(text, "nope", "context"), None);
        assert_eq!(key_line_in_image("images: {app: {target: x}}\n", "app", "target"), None);
    }

    #[test]
    fn unreadable_files_name_chmod_when_permission_is_denied() {
        let path = Path::new("/p/app/.dockerignore");
        let denied = unreadable(path, &std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        assert_eq!(
            denied.to_string(),
            "/p/app/.dockerignore: cannot read it: permission denied\n  fix: make it readable for ohdev (`chmod a+r /p/app/.dockerignore`)"
        );
        assert_eq!(denied.exit_code(), 2);
        let other = unreadable(path, &std::io::Error::from(std::io::ErrorKind::IsADirectory));
        assert!(other.to_string().ends_with("\n  fix: make it a readable file"), "{other}");
    }
}
