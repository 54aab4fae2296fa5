//! Which work a batch of changed paths means: per image, a live sync (every changed file matches a
//! `sync` rule) or a rebuild; a manifest change means a re-apply. Ignored paths (the image's
//! .dockerignore, .gitignore and .ohdevignore at the context root) mean nothing. Pure data in, data out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{Config, ManifestSource, SyncRule};
use crate::image::dockerignore::IgnoreRules;

pub struct ImageRoot {
    pub name: String,
    pub context: PathBuf,
    dockerignore: IgnoreRules,
    gitignore: IgnoreRules,
    sync: Vec<(SyncRule, IgnoreRules, String)>,
}

pub struct Roots {
    pub images: Vec<ImageRoot>,
    pub manifests: Vec<PathBuf>,
    /// Directories and files a renderer reads (a kustomization and the local bases it names, a
    /// command's `watch:` paths): any change under them re-renders.
    pub rendered: Vec<PathBuf>,
    /// ohdev's own state directory: never a trigger.
    pub state_dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncFile {
    /// Where the file is (or was) on this machine.
    pub path: PathBuf,
    /// Its path under the rule's `dest` in the container.
    pub relative: String,
    pub dest: String,
    pub run: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Rebuild { image: String, paths: Vec<PathBuf> },
    Sync { image: String, files: Vec<SyncFile> },
    Reapply { paths: Vec<PathBuf> },
}

/// gitignore lines → Docker-style patterns: a pattern without an inner `/` matches at any depth.
pub fn gitignore_patterns(text: &str) -> Vec<String> {
    let mut patterns = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (negated, body) = match line.strip_prefix('!') {
            Some(body) => (true, body),
            None => (false, line),
        };
        let trimmed = body.trim_end_matches('/');
        let anchored = trimmed.starts_with('/') || trimmed.contains('/');
        let pattern = if anchored { trimmed.trim_start_matches('/').to_string() } else { format!("**/{trimmed}") };
        patterns.push(if negated { format!("!{pattern}") } else { pattern });
    }
    patterns
}

/// The part of a glob before its first wildcard segment: `openhands/**/*.py` → `openhands`.
/// A glob without wildcards names one file: its directory is the prefix.
pub fn static_prefix(glob: &str) -> String {
    let segments: Vec<&str> = glob.split('/').collect();
    let literal = segments.iter().take_while(|segment| !segment.contains(['*', '?', '['])).count();
    let take = if literal == segments.len() { literal.saturating_sub(1) } else { literal };
    segments[..take].join("/")
}

fn rules(patterns: &[String]) -> IgnoreRules {
    IgnoreRules::from_patterns(patterns.iter().map(String::as_str)).unwrap_or_default()
}

/// A kustomization directory and, recursively, the local directories its `resources:`,
/// `components:` and `bases:` name (an overlay's `../base`): what `kubectl kustomize` reads.
fn kustomize_dirs(dir: &Path, found: &mut Vec<PathBuf>) {
    if found.iter().any(|known| known == dir) {
        return;
    }
    found.push(dir.to_path_buf());
    let text = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .find_map(|name| std::fs::read_to_string(dir.join(name)).ok());
    let Some(document) = text.and_then(|text| serde_yaml::from_str::<serde_yaml::Value>(&text).ok()) else {
        return;
    };
    for key in ["resources", "components", "bases"] {
        let Some(entries) = document.get(key).and_then(serde_yaml::Value::as_sequence) else { continue };
        for entry in entries.iter().filter_map(serde_yaml::Value::as_str) {
            let local = crate::config::normalize(&dir.join(entry));
            if local.is_dir() {
                kustomize_dirs(&local.canonicalize().unwrap_or(local), found);
            }
        }
    }
}

impl Roots {
    pub fn new(config: &Config, state_dir: &Path) -> Roots {
        let canonical = |path: &Path| path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let images = config
            .images
            .values()
            .map(|image| {
                let mut ignore_lines = Vec::new();
                for file in [".gitignore", ".ohdevignore"] {
                    if let Ok(text) = std::fs::read_to_string(image.context.join(file)) {
                        ignore_lines.extend(gitignore_patterns(&text));
                    }
                }
                ignore_lines.push("**/.git".to_string());
                ImageRoot {
                    name: image.name.clone(),
                    context: canonical(&image.context),
                    dockerignore: IgnoreRules::load(&image.context, &image.dockerfile).unwrap_or_else(|_| rules(&[])),
                    gitignore: rules(&ignore_lines),
                    // In dev mode, `dev.images.<name>.sync` rules follow the image's own.
                    sync: config
                        .sync_rules(&image.name)
                        .into_iter()
                        .map(|rule| {
                            let matcher = rules(std::slice::from_ref(&rule.src));
                            let prefix = static_prefix(&rule.src);
                            (rule, matcher, prefix)
                        })
                        .collect(),
                }
            })
            .collect();
        let manifests = config
            .manifests
            .iter()
            .filter_map(|source| match source {
                ManifestSource::Path(path) => Some(canonical(path)),
                _ => None,
            })
            .collect();
        let mut rendered = Vec::new();
        for source in &config.manifests {
            match source {
                ManifestSource::Kustomize { dir, .. } => kustomize_dirs(&canonical(dir), &mut rendered),
                ManifestSource::Command { watch, .. } => rendered.extend(watch.iter().map(|path| canonical(path))),
                ManifestSource::Path(_) | ManifestSource::Remote { .. } => {}
            }
        }
        Roots { images, manifests, rendered, state_dir: canonical(state_dir) }
    }

    /// With a subset (`ohdev watch NAME…`), only its images are watched and rebuilt.
    pub fn only_images(mut self, subset: Option<&crate::deploy::plan::subset::Subset>) -> Roots {
        if let Some(subset) = subset {
            self.images.retain(|image| subset.images.contains(&image.name));
        }
        self
    }

    /// Is this path something any root cares about? (Filtering happens before batching.)
    pub fn accepts(&self, path: &Path) -> bool {
        !path.starts_with(&self.state_dir) && (self.image_relative(path).next().is_some() || self.is_manifest(path))
    }

    fn is_manifest(&self, path: &Path) -> bool {
        let hidden = path.file_name().and_then(|name| name.to_str()).is_some_and(|name| name.starts_with('.'));
        let manifest_file = self.manifests.iter().any(|root| path.starts_with(root))
            && matches!(path.extension().and_then(|extension| extension.to_str()), Some("yaml" | "yml" | "json"));
        // A renderer may read any file under its directories (a kustomization's `configMapGenerator`
        // files, a chart's templates); editors' hidden swap files mean nothing.
        manifest_file || (!hidden && self.rendered.iter().any(|root| path.starts_with(root)))
    }

    /// (image, path relative to its context) for every image whose context holds the path and does not ignore it.
    fn image_relative<'a>(&'a self, path: &'a Path) -> impl Iterator<Item = (&'a ImageRoot, String)> + 'a {
        self.images.iter().filter_map(move |image| {
            let relative = path.strip_prefix(&image.context).ok()?.to_str()?.to_string();
            if relative.is_empty()
                || image.dockerignore.is_excluded(&relative)
                || image.gitignore.is_excluded(&relative)
            {
                return None;
            }
            Some((image, relative))
        })
    }

    pub fn route(&self, batch: &[PathBuf]) -> Vec<Action> {
        let mut per_image: BTreeMap<String, (Vec<PathBuf>, Vec<SyncFile>, bool)> = BTreeMap::new();
        let mut manifests = Vec::new();
        for path in batch {
            if path.starts_with(&self.state_dir) {
                continue;
            }
            if self.is_manifest(path) {
                manifests.push(path.clone());
            }
            for (image, relative) in self.image_relative(path) {
                let entry = per_image.entry(image.name.clone()).or_default();
                entry.0.push(path.clone());
                let rule = image.sync.iter().find(|(_, matcher, _)| matcher.is_excluded(&relative));
                match rule {
                    Some((rule, _, prefix)) => {
                        let under = relative
                            .strip_prefix(prefix.as_str())
                            .unwrap_or(&relative)
                            .trim_start_matches('/')
                            .to_string();
                        entry.1.push(SyncFile {
                            path: path.clone(),
                            relative: under,
                            dest: rule.dest.clone(),
                            run: rule.run.clone(),
                        });
                    }
                    None => entry.2 = true,
                }
            }
        }
        let mut actions: Vec<Action> = per_image
            .into_iter()
            .map(
                |(image, (paths, files, needs_rebuild))| {
                    if needs_rebuild {
                        Action::Rebuild { image, paths }
                    } else {
                        Action::Sync { image, files }
                    }
                },
            )
            .collect();
        if !manifests.is_empty() {
            actions.push(Action::Reapply { paths: manifests });
        }
        actions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(dir: &Path) -> Roots {
        std::fs::create_dir_all(dir.join("app/openhands/server")).unwrap();
        std::fs::create_dir_all(dir.join("kind/manifests")).unwrap();
        std::fs::write(dir.join("app/Dockerfile"), "FROM x\n").unwrap();
        std::fs::write(dir.join("app/.dockerignore"), "*.log\nnode_modules\n").unwrap();
        std::fs::write(dir.join("app/.gitignore"), "__pycache__/\n/build\n").unwrap();
        std::fs::write(
            dir.join("ohdev.yaml"),
            "images:\n  app:\n    context: app\n    sync:\n      - {src: \"openhands/**/*.py\", dest: /app/openhands}\nmanifests: [kind/manifests]\n",
        )
        .unwrap();
        let config = crate::config::load(&dir.join("ohdev.yaml")).unwrap();
        Roots::new(&config, &dir.join(".ohdev"))
    }

    #[test]
    fn routes_changes_to_sync_rebuild_reapply_or_nothing() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().canonicalize().unwrap();
        let roots = roots(&dir);
        let app = dir.join("app");
        assert_eq!(roots.route(&[app.join("debug.log")]), []);
        assert_eq!(roots.route(&[app.join("openhands/server/__pycache__/x.pyc")]), []);
        assert_eq!(roots.route(&[app.join("build/out.txt")]), []);
        assert_eq!(roots.route(&[dir.join(".ohdev/state.json")]), []);
        assert!(!roots.accepts(&app.join("node_modules/a/b.js")));
        assert!(roots.accepts(&app.join("openhands/server/app.py")));
        assert_eq!(
            roots.route(&[app.join("openhands/server/app.py")]),
            [Action::Sync {
                image: "app".into(),
                files: vec![SyncFile {
                    path: app.join("openhands/server/app.py"),
                    relative: "server/app.py".into(),
                    dest: "/app/openhands".into(),
                    run: vec![],
                }]
            }]
        );
        let mixed = roots.route(&[app.join("openhands/server/app.py"), app.join("pyproject.toml")]);
        assert!(
            matches!(&mixed[..], [Action::Rebuild { image, paths }] if image == "app" && paths.len() == 2),
            "{mixed:?}"
        );
        let manifest = roots.route(&[dir.join("kind/manifests/app.yaml")]);
        assert!(matches!(&manifest[..], [Action::Reapply { .. }]), "{manifest:?}");
    }

    #[test]
    fn a_change_a_renderer_reads_is_a_reapply() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().canonicalize().unwrap();
        std::fs::create_dir_all(dir.join("base")).unwrap();
        std::fs::create_dir_all(dir.join("overlay")).unwrap();
        std::fs::create_dir_all(dir.join("chart/templates")).unwrap();
        std::fs::write(dir.join("base/kustomization.yaml"), "resources: [d.yaml]\n").unwrap();
        std::fs::write(dir.join("overlay/kustomization.yaml"), "resources: [../base, ns.yaml]\n").unwrap();
        std::fs::write(
            dir.join("ohdev.yaml"),
            "images: {}\nmanifests:\n  - kustomize: overlay\n  - {command: [helm, template, chart], watch: [chart, values.yaml]}\n",
        )
        .unwrap();
        let config = crate::config::load(&dir.join("ohdev.yaml")).unwrap();
        let roots = Roots::new(&config, &dir.join(".ohdev"));
        for changed in ["overlay/ns.yaml", "base/d.yaml", "base/env.properties", "chart/templates/x.tpl", "values.yaml"]
        {
            let path = dir.join(changed);
            assert!(roots.accepts(&path), "{changed}");
            assert!(matches!(&roots.route(&[path])[..], [Action::Reapply { .. }]), "{changed}");
        }
        for unrelated in ["other/x.yaml", "overlay/.ns.yaml.swp", "values.yaml.bak"] {
            assert_eq!(roots.route(&[dir.join(unrelated)]), [], "{unrelated}");
        }
    }

    #[test]
    fn with_a_subset_only_its_images_are_watched() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().canonicalize().unwrap();
        for image in ["web", "worker"] {
            std::fs::create_dir_all(dir.join(image)).unwrap();
        }
        std::fs::write(
            dir.join("ohdev.yaml"),
            "images:\n  web: {context: web}\n  worker: {context: worker}\nmanifests: []\n",
        )
        .unwrap();
        let config = crate::config::load(&dir.join("ohdev.yaml")).unwrap();
        let subset = crate::deploy::plan::subset::Subset {
            images: ["worker".to_string()].into_iter().collect(),
            ..Default::default()
        };
        let roots = Roots::new(&config, &dir.join(".ohdev")).only_images(Some(&subset));
        assert_eq!(roots.images.iter().map(|image| image.name.as_str()).collect::<Vec<_>>(), ["worker"]);
        assert_eq!(roots.route(&[dir.join("web/main.py")]), []);
        assert!(
            matches!(&roots.route(&[dir.join("worker/main.py")])[..], [Action::Rebuild { image, .. }] if image == "worker")
        );
        let all = Roots::new(&config, &dir.join(".ohdev")).only_images(None);
        assert_eq!(all.images.len(), 2);
    }

    #[test]
    fn a_dev_sync_rule_routes_to_a_sync_only_in_dev_mode() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().canonicalize().unwrap();
        std::fs::create_dir_all(dir.join("app/openhands")).unwrap();
        std::fs::write(dir.join("app/Dockerfile"), "FROM x\n").unwrap();
        std::fs::write(
            dir.join("ohdev.yaml"),
            "images:\n  app:\n    context: app\nmanifests: []\ndev:\n  images:\n    app:\n      sync:\n        - {src: \"openhands/**/*.py\", dest: /app/openhands, run: [sh, -c, kill -HUP 1]}\n",
        )
        .unwrap();
        let config = crate::config::load(&dir.join("ohdev.yaml")).unwrap();
        let edit = [dir.join("app/openhands/x.py")];
        let production = Roots::new(&config, &dir.join(".ohdev")).route(&edit);
        assert_eq!(production, [Action::Rebuild { image: "app".into(), paths: edit.to_vec() }]);
        let dev = Roots::new(&config.with_mode(crate::config::Mode::Dev), &dir.join(".ohdev")).route(&edit);
        assert_eq!(
            dev,
            [Action::Sync {
                image: "app".into(),
                files: vec![SyncFile {
                    path: edit[0].clone(),
                    relative: "x.py".into(),
                    dest: "/app/openhands".into(),
                    run: vec!["sh".into(), "-c".into(), "kill -HUP 1".into()],
                }]
            }]
        );
    }

    /// The repository's own ohdev.yaml, with OPENHANDS_ROOT at a temporary checkout.
    #[test]
    fn the_root_environment_syncs_a_python_edit_in_dev_mode_and_rebuilds_it_in_production() {
        let temp = tempfile::tempdir().unwrap();
        let checkout = temp.path().canonicalize().unwrap();
        std::fs::create_dir_all(checkout.join("openhands/server")).unwrap();
        std::fs::write(checkout.join(".gitignore"), "__pycache__/\n").unwrap();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(repo.join("ohdev.yaml")).unwrap();
        let root = checkout.display().to_string();
        let env = |name: &str| (name == "OPENHANDS_ROOT").then(|| root.clone());
        let config = crate::config::parse_text(&repo.join("ohdev.yaml"), &text, &env).unwrap();
        let state = checkout.join(".ohdev-state");
        let edit = checkout.join("openhands/server/listen.py");

        let dev = Roots::new(&config.clone().with_mode(crate::config::Mode::Dev), &state);
        assert_eq!(
            dev.route(std::slice::from_ref(&edit)),
            [Action::Sync {
                image: "app".into(),
                files: vec![SyncFile {
                    path: edit.clone(),
                    relative: "server/listen.py".into(),
                    dest: "/app/openhands".into(),
                    run: vec!["sh".into(), "-c".into(), "kill -HUP 1".into()],
                }]
            }]
        );
        let lock = checkout.join("poetry.lock");
        let both = dev.route(&[edit.clone(), lock.clone()]);
        assert!(
            matches!(&both[..], [Action::Rebuild { image, .. }] if image == "app"),
            "a dependency change is still a rebuild: {both:?}"
        );
        assert_eq!(dev.route(&[checkout.join("openhands/server/__pycache__/listen.cpython-312.pyc")]), []);

        let production = Roots::new(&config, &state);
        assert_eq!(
            production.route(std::slice::from_ref(&edit)),
            [Action::Rebuild { image: "app".into(), paths: vec![edit] }]
        );
    }

    #[test]
    fn gitignore_translation() {
        assert_eq!(
            gitignore_patterns("# c\n\n__pycache__/\n/build\ndocs/*.md\n!keep.log\n"),
            ["**/__pycache__", "build", "docs/*.md", "!**/keep.log"]
        );
        assert_eq!(static_prefix("openhands/**/*.py"), "openhands");
        assert_eq!(static_prefix("*.py"), "");
        assert_eq!(static_prefix("a/b/c.py"), "a/b");
    }
}
