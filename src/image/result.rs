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
    Failed(BuildFailure),
    /// Not built because an image it depends on failed.
    Skipped,
}

/// What the builder said when a build failed: the step, its message and the step's last output
/// lines (all shown on stdout as it happened; a bounded summary goes into the final error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildFailure {
    pub step: String,
    pub message: String,
    pub output: Vec<String>,
}

/// Lines of the builder's message, and of the step's output, repeated in the final error.
pub const SUMMARY_LINES: usize = 8;
/// Characters kept of each of those lines.
const SUMMARY_WIDTH: usize = 300;

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

/// The image phase failed when any image did: name them, say why (so stderr alone explains it)
/// and what to do.
pub fn fail_if_any_failed(results: &[BuildResult]) -> Result<(), Error> {
    let failed: Vec<&str> = results
        .iter()
        .filter(|result| matches!(result.outcome, Outcome::Failed(_)))
        .map(|result| result.name.as_str())
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(Error::work(
        format!(
            "image(s) failed to build: {}; nothing that depends on them was loaded{}",
            failed.join(", "),
            failure_summary(results)
        ),
        Some(format!("fix the failing step, then `ohdev build {}`", failed.join(" "))),
    ))
}

/// For each failed image: the failing step, the first lines of the builder's message and the
/// last lines of the step's output, each bounded; empty when nothing failed.
pub fn failure_summary(results: &[BuildResult]) -> String {
    let mut text = String::new();
    for result in results {
        let Outcome::Failed(failure) = &result.outcome else { continue };
        text.push_str(&format!("\n  image {}: step `{}` failed", result.name, bounded(&failure.step)));
        let message: Vec<&str> = failure.message.lines().filter(|line| !line.trim().is_empty()).collect();
        for line in message.iter().take(SUMMARY_LINES) {
            text.push_str(&format!("\n    {}", bounded(line)));
        }
        if message.len() > SUMMARY_LINES {
            text.push_str(&format!("\n    … ({} more line(s) of the message above)", message.len() - SUMMARY_LINES));
        }
        let shown = &failure.output[failure.output.len().saturating_sub(SUMMARY_LINES)..];
        if !shown.is_empty() {
            text.push_str(&format!("\n    last {} line(s) of its output:", shown.len()));
            for line in shown {
                text.push_str(&format!("\n    │ {}", bounded(line)));
            }
        }
    }
    text
}

fn bounded(line: &str) -> String {
    let line = line.trim_end();
    match line.char_indices().nth(SUMMARY_WIDTH) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, outcome: Outcome) -> BuildResult {
        BuildResult { name: name.into(), tag: format!("ohdev.local/{name}:0"), digest: "0".into(), outcome }
    }

    #[test]
    fn the_final_error_says_which_step_failed_and_why() {
        let failure = BuildFailure {
            step: "[2/3] RUN make".into(),
            message: "process \"/bin/sh -c make\" did not complete successfully: exit code: 2".into(),
            output: (1..=12).map(|index| format!("out {index}")).collect(),
        };
        let results = [
            result("api", Outcome::Built { image_id: "sha256:1".into() }),
            result("app", Outcome::Failed(failure)),
            result("web", Outcome::Skipped),
        ];
        let error = fail_if_any_failed(&results).unwrap_err();
        assert_eq!(
            error.to_string(),
            "image(s) failed to build: app; nothing that depends on them was loaded
  image app: step `[2/3] RUN make` failed
    process \"/bin/sh -c make\" did not complete successfully: exit code: 2
    last 8 line(s) of its output:
    │ out 5
    │ out 6
    │ out 7
    │ out 8
    │ out 9
    │ out 10
    │ out 11
    │ out 12
  next: fix the failing step, then `ohdev build app`"
        );
        assert_eq!(error.exit_code(), 1);
        assert!(fail_if_any_failed(&results[..1]).is_ok());
    }

    #[test]
    fn long_messages_are_bounded() {
        let failure = BuildFailure {
            step: "build".into(),
            message: format!(
                "{}\n\n{}",
                "x".repeat(400),
                (1..=20).map(|i| format!("m{i}")).collect::<Vec<_>>().join("\n")
            ),
            output: Vec::new(),
        };
        let summary = failure_summary(&[result("app", Outcome::Failed(failure))]);
        let lines: Vec<&str> = summary.lines().collect();
        assert_eq!(lines[1], "  image app: step `build` failed");
        assert_eq!(lines[2], format!("    {}…", "x".repeat(SUMMARY_WIDTH)));
        assert_eq!(lines.len(), 2 + SUMMARY_LINES + 1, "{summary}");
        assert_eq!(lines.last().unwrap(), &"    … (13 more line(s) of the message above)");
    }
}
