//! `.dockerignore` rules, applied exactly as the docker CLI applies them to a build context.
//!
//! The daemon does not filter a context tar that arrives through the API: whatever the client
//! sends ends up in `COPY . …`. So ohdev must decide, file by file, what the docker CLI would
//! have sent, and its content digest must cover exactly those files. The reference is the
//! docker CLI's classic build path: `ignorefile.ReadAll` to read the file, moby's
//! `patternmatcher` to match, and `go-archive`'s `TarWithOptions` walk to decide which excluded
//! directories are still entered (see [`IgnoreRules::may_reinclude_under`]).
//!
//! Which file: `<Dockerfile path>.dockerignore` (e.g. `containers/app/Dockerfile.dockerignore`)
//! wins over the root `.dockerignore` when it exists. That is BuildKit's rule and the one the
//! ohdev design asks for; the classic docker CLI only ever reads the root file, so a parity test
//! against `DOCKER_BUILDKIT=0 docker build` must not use a Dockerfile-specific ignore file.
//!
//! Always sent: like `TrimBuildFilesFromExcludes` in the docker CLI, when the rules would exclude
//! the Dockerfile (or the root `.dockerignore`, when that is the file in use) an exception for
//! that exact path is appended, so the daemon can read it. (The classic daemon then removes
//! those two files from what `COPY` sees when they match; see `context.rs`.)

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::image::pattern::{clean, parent, Pattern, PatternError};

/// An ordered list of patterns; the last one that matches a path decides.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    patterns: Vec<Pattern>,
    has_exceptions: bool,
    source: Option<PathBuf>,
}

/// Which patterns matched a directory: the walk hands it to the directory's children, as
/// moby's `MatchesUsingParentResults` does (`MatchInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchInfo(Vec<bool>);

/// A bad line in an ignore file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {error}")]
pub struct ParseError {
    pub line: usize,
    pub error: PatternError,
}

/// Why the rules for a build could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    #[error("cannot read {}: {error}", path.display())]
    Read { path: PathBuf, error: io::Error },
    #[error("{}: {error}", path.display())]
    Parse { path: PathBuf, error: ParseError },
    #[error("{}: the ignore file is not valid UTF-8", path.display())]
    NotUtf8 { path: PathBuf },
    #[error("the Dockerfile path `{}` must be relative and inside the build context", path.display())]
    DockerfileOutsideContext { path: PathBuf },
}

impl From<IgnoreError> for io::Error {
    fn from(error: IgnoreError) -> io::Error {
        let kind = match &error {
            IgnoreError::Read { error, .. } => error.kind(),
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, error)
    }
}

impl IgnoreRules {
    /// Parses the text of an ignore file like the docker CLI's `ignorefile.ReadAll` followed by
    /// `patternmatcher.New`: a UTF-8 BOM is dropped; a line starting with `#` (first column
    /// only) is a comment; surrounding whitespace is trimmed and blank lines skipped; a leading
    /// `!` marks an exception; each pattern goes through Go's `filepath.Clean` and loses one
    /// leading `/`, so `/build/` means `build` (and matches a file named `build` too).
    pub fn parse(text: &str) -> Result<IgnoreRules, ParseError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rules = IgnoreRules::default();
        for (index, line) in text.lines().enumerate() {
            if line.starts_with('#') {
                continue;
            }
            let Some(entry) = read_all_line(line) else {
                continue;
            };
            let pattern = Pattern::new(&entry).map_err(|error| ParseError { line: index + 1, error })?;
            if let Some(pattern) = pattern {
                rules.push(pattern);
            }
        }
        Ok(rules)
    }

    /// Builds rules from patterns already read, like moby's `patternmatcher.New` (no comment
    /// handling, no leading-`/` stripping: that is [`parse`](Self::parse)'s job).
    pub fn from_patterns<'text>(patterns: impl IntoIterator<Item = &'text str>) -> Result<IgnoreRules, PatternError> {
        let mut rules = IgnoreRules::default();
        for pattern in patterns {
            if let Some(pattern) = Pattern::new(pattern)? {
                rules.push(pattern);
            }
        }
        Ok(rules)
    }

    /// Loads the rules for building `dockerfile` (relative to `context_dir`): the
    /// Dockerfile-specific ignore file when present, else the root `.dockerignore`, else none;
    /// then makes sure the Dockerfile and the root `.dockerignore` in use are always sent.
    pub fn load(context_dir: &Path, dockerfile: &Path) -> Result<IgnoreRules, IgnoreError> {
        let dockerfile = dockerfile_path(dockerfile)?;
        let specific = context_dir.join(format!("{dockerfile}.dockerignore"));
        let root = context_dir.join(".dockerignore");
        let (source, root_in_use) = if specific.is_file() {
            (Some(specific), false)
        } else if root.exists() {
            (Some(root), true)
        } else {
            (None, false)
        };
        let mut rules = match &source {
            Some(path) => read_rules(path)?,
            None => IgnoreRules::default(),
        };
        rules.source = source;
        if root_in_use {
            rules.always_send(".dockerignore");
        }
        rules.always_send(&dockerfile);
        Ok(rules)
    }

    /// The ignore file these rules came from, if any.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// The patterns in order, as (cleaned text, is exception).
    pub fn patterns(&self) -> impl Iterator<Item = (&str, bool)> {
        self.patterns.iter().map(|pattern| (pattern.text(), pattern.is_exception()))
    }

    /// Whether any pattern is an exception (`!…`).
    pub fn has_exceptions(&self) -> bool {
        self.has_exceptions
    }

    /// Whether `path` (relative, `/`-separated) is excluded: moby's `MatchesOrParentMatches`.
    /// A pattern also matches when it matches any parent directory of the path, so
    /// `node_modules` excludes everything below it. Whether the path is a directory does not
    /// matter to Docker, so it is not asked for.
    pub fn is_excluded(&self, path: &str) -> bool {
        let path = clean(path);
        if path == "." {
            return false;
        }
        let ancestors = ancestors(&path);
        let mut matched = false;
        for pattern in &self.patterns {
            if pattern.is_exception() != matched {
                continue;
            }
            let hit = pattern.matches(&path) || ancestors.iter().any(|ancestor| pattern.matches(ancestor));
            if hit {
                matched = !pattern.is_exception();
            }
        }
        matched
    }

    /// The walk's question, moby's `MatchesUsingParentResults`: is `path` excluded, given what
    /// matched its parent directory (`None` for entries at the context root)? Returns the
    /// answer and what to hand to the path's own children. This differs from
    /// [`is_excluded`](Self::is_excluded) in rare orderings (`foo`, `!foo/bar`, `foo` sends
    /// `foo/bar`), and the docker CLI's tar is built with this one.
    pub fn matches_with_parent(&self, path: &str, parent: Option<&MatchInfo>) -> (bool, MatchInfo) {
        let inherited = parent.filter(|info| info.0.len() == self.patterns.len());
        let ancestors = if inherited.is_none() { ancestors(path) } else { Vec::new() };
        let mut matched = false;
        let mut info = vec![false; self.patterns.len()];
        for (index, pattern) in self.patterns.iter().enumerate() {
            let mut hit = inherited.is_some_and(|parent| parent.0[index]);
            if !hit {
                if pattern.is_exception() != matched {
                    continue;
                }
                hit = pattern.matches(path) || ancestors.iter().any(|ancestor| pattern.matches(ancestor));
            }
            info[index] = hit;
            if hit {
                matched = !pattern.is_exception();
            }
        }
        (matched, MatchInfo(info))
    }

    /// Whether the walk must still enter the excluded directory `dir`, because an exception's
    /// text starts with `dir/` (go-archive's "dirSlash" test). Only a literal prefix counts:
    /// `!*/keep` or `!**/keep` do not re-include anything inside an excluded directory.
    pub fn may_reinclude_under(&self, dir: &str) -> bool {
        let dir_slash = format!("{dir}/");
        self.patterns
            .iter()
            .filter(|pattern| pattern.is_exception())
            .any(|pattern| format!("{}/", pattern.text()).starts_with(&dir_slash))
    }

    fn push(&mut self, pattern: Pattern) {
        self.has_exceptions |= pattern.is_exception();
        self.patterns.push(pattern);
    }

    /// Appends an exception for `path` when the rules would exclude it. Docker decides with the
    /// older single-ancestor matcher; taking either answer only differs where Docker would fail
    /// to send its own Dockerfile.
    fn always_send(&mut self, path: &str) {
        if self.is_excluded(path) || self.matches_single_ancestor(path) {
            self.push(Pattern::literal_exception(path));
        }
    }

    /// moby's deprecated `Matches`: only the ancestor with as many components as the pattern
    /// is tried. The docker CLI still uses it to decide whether to keep the Dockerfile.
    pub fn matches_single_ancestor(&self, path: &str) -> bool {
        let path = clean(path);
        if path == "." {
            return false;
        }
        let parent_path = parent(&path);
        let parent_parts: Vec<&str> = parent_path.split('/').collect();
        let mut matched = false;
        for pattern in &self.patterns {
            if pattern.is_exception() != matched {
                continue;
            }
            let mut hit = pattern.matches(&path);
            if !hit && parent_path != "." && pattern.depth() <= parent_parts.len() {
                hit = pattern.matches(&parent_parts[..pattern.depth()].join("/"));
            }
            if hit {
                matched = !pattern.is_exception();
            }
        }
        matched
    }
}

/// One line as `ignorefile.ReadAll` leaves it (comments were already dropped).
fn read_all_line(line: &str) -> Option<String> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    let (invert, pattern) = match line.strip_prefix('!') {
        Some(rest) => (true, rest.trim()),
        None => (false, line),
    };
    let mut pattern = pattern.to_string();
    if !pattern.is_empty() {
        pattern = clean(&pattern);
        if pattern.len() > 1 && pattern.starts_with('/') {
            pattern.remove(0);
        }
    }
    Some(if invert { format!("!{pattern}") } else { pattern })
}

/// Every proper ancestor of a cleaned relative path: `a/b/c` → `a`, `a/b`.
fn ancestors(path: &str) -> Vec<String> {
    let parent_path = parent(path);
    if parent_path == "." {
        return Vec::new();
    }
    let parts: Vec<&str> = parent_path.split('/').collect();
    (1..=parts.len()).map(|count| parts[..count].join("/")).collect()
}

fn read_rules(path: &Path) -> Result<IgnoreRules, IgnoreError> {
    let bytes = fs::read(path).map_err(|error| IgnoreError::Read { path: path.to_path_buf(), error })?;
    let text = String::from_utf8(bytes).map_err(|_| IgnoreError::NotUtf8 { path: path.to_path_buf() })?;
    IgnoreRules::parse(&text).map_err(|error| IgnoreError::Parse { path: path.to_path_buf(), error })
}

/// The Dockerfile's path relative to the context, `/`-separated and cleaned.
pub fn dockerfile_path(dockerfile: &Path) -> Result<String, IgnoreError> {
    let outside = || IgnoreError::DockerfileOutsideContext { path: dockerfile.to_path_buf() };
    let text = dockerfile.to_str().ok_or_else(outside)?;
    let cleaned = clean(text);
    if dockerfile.is_absolute() || cleaned == "." || cleaned == ".." || cleaned.starts_with("../") {
        return Err(outside());
    }
    Ok(cleaned)
}

#[cfg(test)]
#[path = "dockerignore_tests.rs"]
mod tests;
