//! Preparing an image: run its prebuild command, walk its context with Docker's ignore rules and
//! digest it (using and refreshing the hash cache), so its exact content is known and named before
//! anything is built.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::context::{self, ContextFiles};
use super::digest::{self, DigestInput, HashCache};
use super::result::tag_for;
use super::select::{check_build_files, find_program, validate};
use crate::config::{Config, ImageConfig};
use crate::error::Error;
use crate::events::{Event, StepState};
use crate::tools::exec::Invocation;
use crate::ui::Reporter;

/// An image ready to build: its exact content is known and named.
#[derive(Debug, Clone)]
pub struct PreparedImage {
    pub name: String,
    pub tag: String,
    pub digest: String,
    pub context: ContextFiles,
    pub config: ImageConfig,
    pub build_args: BTreeMap<String, String>,
    pub files_hashed: usize,
}

/// Walk and digest one image's context (no prebuild), using and refreshing the hash cache.
pub async fn digest_image(
    config: &Config,
    image: &ImageConfig,
    build_args: &BTreeMap<String, String>,
    state_dir: &Path,
) -> Result<(ContextFiles, digest::DigestReport), Error> {
    let cache_path = cache_path(state_dir, &image.name);
    let input = DigestInput {
        dockerfile_rel: image.dockerfile.clone(),
        target: image.target.clone(),
        build_args: build_args.clone(),
        platform: image.platform.clone(),
    };
    let context_dir = image.context.clone();
    let dockerfile = image.dockerfile.clone();
    let name = image.name.clone();
    let own_state = state_dir_in_context(&context_dir, state_dir);
    let walked = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
        // Read the hash cache (20,000 entries: ~10 ms of JSON) while the walk runs.
        let (walked, mut cache) = std::thread::scope(|scope| {
            let loader = scope.spawn(|| HashCache::load(&cache_path).unwrap_or_default());
            let walked = context::walk(&context_dir, &dockerfile);
            (walked, loader.join().unwrap_or_default())
        });
        let mut files = walked?;
        if let Some(own_state) = &own_state {
            files.exclude_subtree(own_state);
        }
        let report = digest::digest(&files, &input, &mut cache)?;
        if let Some(parent) = cache_path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if cache.changed() {
            cache.save(&cache_path)?;
        }
        Ok((files, report))
    })
    .await
    .map_err(|error| Error::work(format!("digesting image {name} panicked: {error}"), None))?;
    walked.map_err(|error| {
        Error::work(
            format!("cannot read the build context of image {} ({}): {error}", image.name, image.context.display()),
            Some(format!(
                "check images.{}.context and images.{}.dockerfile in {}",
                image.name,
                image.name,
                config.file.display()
            )),
        )
    })
}

/// ohdev's state directory relative to `context`, when the context contains it (`context: .`).
/// It is never part of an image: ohdev rewrites it on every run (the hash cache, state.json), so
/// sending it would change the digest each time and could change under the tar as it streams.
fn state_dir_in_context(context: &Path, state_dir: &Path) -> Option<String> {
    let context = context.canonicalize().ok()?;
    let parent = state_dir.parent()?.canonicalize().ok()?;
    let state_dir = parent.join(state_dir.file_name()?);
    let relative = state_dir.strip_prefix(&context).ok()?;
    let relative = relative.to_str()?;
    (!relative.is_empty()).then(|| relative.to_string())
}

/// Run prebuild commands, walk and digest each image (in dependency order: `${image:X}` in build
/// args becomes X's tag, so a dependency's change changes its dependents' digests).
pub async fn prepare(
    config: &Config,
    names: &[String],
    state_dir: &Path,
    reporter: &Reporter,
) -> Result<Vec<PreparedImage>, Error> {
    let mut prepared: Vec<PreparedImage> = Vec::new();
    for name in names {
        let image = config.images[name].clone();
        // `rebuild` and the watch loop arrive here without `up`'s and `build`'s checks, and a
        // prebuild command may have just written the Dockerfile: nothing is built from files
        // Docker would refuse.
        validate(config, std::slice::from_ref(name))?;
        if !image.prebuild.is_empty() {
            run_prebuild(name, &image, &config.root, reporter).await?;
            check_build_files(config, &image)?;
        }
        let mut build_args = BTreeMap::new();
        for (key, value) in &image.build_args {
            build_args.insert(key.clone(), substitute_image_tags(value, &prepared, &config.file, name)?);
        }
        let started = Instant::now();
        let (files, report) = digest_image(config, &image, &build_args, state_dir).await?;
        let digest = report.digest.hex();
        reporter.emit(Event::step_done(
            format!("digest:{name}"),
            format!("digested image {name}"),
            Some(format!("{} files, {} hashed", files.files().count(), report.files_hashed)),
            started.elapsed(),
        ));
        prepared.push(PreparedImage {
            tag: tag_for(name, &digest),
            name: name.clone(),
            digest,
            context: files,
            config: image,
            build_args,
            files_hashed: report.files_hashed,
        });
    }
    Ok(prepared)
}

fn substitute_image_tags(value: &str, prepared: &[PreparedImage], file: &Path, image: &str) -> Result<String, Error> {
    let mut output = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${image:") {
        output.push_str(&rest[..start]);
        let after = &rest[start + "${image:".len()..];
        let Some(end) = after.find('}') else {
            output.push_str(&rest[start..]);
            return Ok(output);
        };
        let name = &after[..end];
        match prepared.iter().find(|candidate| candidate.name == name) {
            Some(dependency) => output.push_str(&dependency.tag),
            None => {
                return Err(Error::config(
                    file,
                    None,
                    format!("images.{image}.build_args uses ${{image:{name}}}, but `{name}` is not built before it"),
                    format!("add `depends_on: [{name}]` to images.{image}"),
                ))
            }
        }
        rest = &after[end + 1..];
    }
    output.push_str(rest);
    Ok(output)
}

async fn run_prebuild(name: &str, image: &ImageConfig, ohdev_root: &Path, reporter: &Reporter) -> Result<(), Error> {
    let label = format!("prebuild for image {name}: {}", image.prebuild.join(" "));
    reporter.emit(Event::step(format!("prebuild:{name}"), StepState::Started, &label, None));
    let program = find_program(image).map_err(|_| Error::Input {
        message: format!("images.{name}.prebuild runs `{}`, which is not on PATH", image.prebuild[0]),
        fix: format!("install `{}` or change the prebuild command", image.prebuild[0]),
    })?;
    let invocation = Invocation::new(program, &image.prebuild[0])
        .args(image.prebuild[1..].iter().cloned())
        .env("OHDEV_ROOT", ohdev_root.display().to_string())
        .current_dir(&image.context)
        .timeout(Duration::from_secs(1800));
    let output = crate::heartbeat::beating(reporter, &format!("prebuild:{name}"), &label, invocation.run()).await;
    match output {
        Ok(_) => {
            reporter.emit(Event::step(format!("prebuild:{name}"), StepState::Done, &label, None));
            Ok(())
        }
        Err(error) => {
            reporter.emit(Event::step(format!("prebuild:{name}"), StepState::Failed, &label, None));
            Err(Error::work(
                format!("the prebuild command of image {name} failed: {error}"),
                Some(format!("fix it, then `ohdev build {name}`")),
            ))
        }
    }
}

/// The path of the digest cache for an image.
pub fn cache_path(state_dir: &Path, name: &str) -> PathBuf {
    state_dir.join("cache").join(format!("{name}.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_state_dir_is_found_only_inside_the_context() {
        let root = tempfile::tempdir().unwrap();
        let project = root.path().join("project");
        std::fs::create_dir_all(project.join("sub")).unwrap();
        let state = crate::state::state_dir(&project);
        assert_eq!(state_dir_in_context(&project, &state).as_deref(), Some(".ohdev"));
        assert_eq!(state_dir_in_context(root.path(), &state).as_deref(), Some("project/.ohdev"));
        assert_eq!(state_dir_in_context(&project.join("sub"), &state), None);
    }

    #[test]
    fn excluding_the_state_dir_drops_it_from_walk_and_digest() {
        let project = tempfile::tempdir().unwrap();
        std::fs::write(project.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::create_dir_all(project.path().join(".ohdev/cache")).unwrap();
        std::fs::write(project.path().join(".ohdev/cache/app.json"), "{}").unwrap();
        std::fs::write(project.path().join(".ohdevx"), "kept").unwrap();
        let mut files = context::walk(project.path(), Path::new("Dockerfile")).unwrap();
        files.exclude_subtree(".ohdev");
        assert_eq!(files.paths(), [".ohdevx", "Dockerfile"]);
    }
}
