//! Manifest sources that are programs, not files: `kustomize: DIR` (rendered by `kubectl kustomize`,
//! built into kubectl, offline) and `command: [argv…]` (any renderer: `helm template`, jsonnet, a
//! script), run in the directory of ohdev.yaml through the process seam with a timeout. Their standard
//! output is the manifests; everything after it (parsing, substitution, the plan) is the same as for
//! files.
//!
//! A renderer that cannot run, fails, or runs too long is bad input (exit 2): nothing has been
//! applied, and its standard error is shown with every Secret value ohdev knows of hidden.

use std::path::Path;
use std::time::Duration;

use crate::config::{Config, ManifestSource};
use crate::error::Error;
use crate::tools::exec::Invocation;
use crate::tools::kubectl::Kubectl;

/// How much of a failing renderer's standard error is shown (its last lines).
const STDERR_LINES: usize = 30;

/// Runs the renderer of `source` (a `kustomize:` or `command:` entry) and returns its standard output.
/// `secrets` are values to hide if the renderer prints them on standard error.
pub async fn render(config: &Config, source: &ManifestSource, secrets: &[String]) -> Result<String, Error> {
    let label = source.label().unwrap_or_default();
    let (invocation, timeout) = match source {
        ManifestSource::Kustomize { dir, timeout, .. } => {
            if !dir.join("kustomization.yaml").is_file()
                && !dir.join("kustomization.yml").is_file()
                && !dir.join("Kustomization").is_file()
            {
                return Err(Error::config(
                    &config.file,
                    None,
                    format!(
                        "`manifests: - kustomize: {}` names {}, which holds no kustomization.yaml",
                        source_text(source),
                        dir.display()
                    ),
                    "point `kustomize:` at the directory that holds kustomization.yaml (an overlay or a base)",
                ));
            }
            let kubectl = Kubectl::locate(&config.context())?;
            (kubectl.invocation(["kustomize".to_string(), dir.display().to_string()]), *timeout)
        }
        ManifestSource::Command { argv, timeout, .. } => {
            let program = which::which_in(&argv[0], std::env::var_os("PATH"), &config.root).map_err(|_| {
                Error::config(
                    &config.file,
                    None,
                    format!(
                        "`{label}`: the renderer `{}` is neither on PATH nor in {}",
                        argv[0],
                        config.root.display()
                    ),
                    format!(
                        "install `{}`, or fix `command:` under `manifests:` (a script is found relative to ohdev.yaml's directory, e.g. `./render.sh`)",
                        argv[0]
                    ),
                )
            })?;
            (Invocation::new(program, &argv[0]).args(argv[1..].iter().cloned()), *timeout)
        }
        ManifestSource::Path(_) | ManifestSource::Remote { .. } => return Ok(String::new()),
    };
    let invocation = invocation.timeout(timeout).current_dir(&config.root);
    let argv = invocation.argv().join(" ");
    let output = invocation.run_unchecked().await.map_err(|error| match error {
        Error::CommandTimeout { timeout, .. } => failed(
            &label,
            &argv,
            &format!("did not finish within {} and was stopped", crate::units::human_duration(timeout)),
            "",
            secrets,
            &timeout_fix(source, timeout),
        ),
        Error::CommandStart { source: cause, .. } => failed(
            &label,
            &argv,
            &format!("could not be started: {cause}"),
            "",
            secrets,
            "check that the program exists and is executable",
        ),
        other => other,
    })?;
    if !output.success() {
        let status = match output.code {
            Some(code) => format!("exited with status {code}"),
            None => "was killed by a signal".to_string(),
        };
        let fix = match source {
            ManifestSource::Kustomize { dir, .. } => format!(
                "fix the kustomization (run `kubectl kustomize {}` to see the same error)",
                display_relative(dir, &config.root)
            ),
            _ => format!("fix the renderer's input (run `{argv}` in {} to see the same error)", config.root.display()),
        };
        return Err(failed(&label, &argv, &status, &output.stderr, secrets, &fix));
    }
    Ok(output.stdout)
}

fn source_text(source: &ManifestSource) -> String {
    match source {
        ManifestSource::Kustomize { as_written, .. } => as_written.clone(),
        _ => String::new(),
    }
}

fn display_relative(path: &Path, root: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

fn timeout_fix(source: &ManifestSource, timeout: Duration) -> String {
    // Whole seconds: what the `timeout:` key reads back.
    let doubled = format!("{}s", (timeout * 2).as_secs().max(1));
    match source {
        ManifestSource::Kustomize { as_written, .. } => {
            format!("if it is merely slow, allow more time: `- {{kustomize: {as_written}, timeout: {doubled}}}`")
        }
        _ => format!("if it is merely slow, allow more time with `timeout: {doubled}` next to `command:`"),
    }
}

/// A renderer's failure: exit 2, its label, argv, status and the tail of its standard error with
/// every known Secret value hidden.
fn failed(label: &str, argv: &str, status: &str, stderr: &str, secrets: &[String], fix: &str) -> Error {
    let mut shown = stderr.trim().to_string();
    for secret in secrets {
        shown = shown.replace(secret.as_str(), "<redacted>");
    }
    let lines: Vec<&str> = shown.lines().map(without_klog_header).collect();
    let tail = &lines[lines.len().saturating_sub(STDERR_LINES)..];
    let stderr_text = if tail.is_empty() { String::new() } else { format!(":\n    {}", tail.join("\n    ")) };
    Error::Input {
        message: format!("the manifests of {label} cannot be rendered: `{argv}` {status}{stderr_text}"),
        fix: format!("{fix}; nothing was applied"),
    }
}

/// kubectl's error lines start with klog's header (`E1203 12:58:07.446052    5895 run.go:72] `):
/// severity, date, time, thread, source line. Nothing in it helps the reader; the message follows.
fn without_klog_header(line: &str) -> &str {
    let Some((header, message)) = line.split_once("] ") else { return line };
    let mut parts = header.split_whitespace();
    let stamp = parts.next().unwrap_or("");
    let is_klog = stamp.len() == 5
        && stamp.starts_with(['I', 'W', 'E', 'F'])
        && stamp[1..].bytes().all(|byte| byte.is_ascii_digit())
        && parts.next().is_some_and(|time| time.contains(':'))
        && parts.next().is_some_and(|thread| thread.bytes().all(|byte| byte.is_ascii_digit()))
        && parts.next().is_some_and(|place| place.contains(':'))
        && parts.next().is_none();
    if is_klog {
        message
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn klog_headers_are_dropped_and_other_lines_kept() {
        assert_eq!(
            without_klog_header(r#"E1203 12:58:07.446052    5895 run.go:72] "command failed" err="x""#),
            r#""command failed" err="x""#
        );
        assert_eq!(without_klog_header("Error: [x] failed"), "Error: [x] failed");
        assert_eq!(without_klog_header("plain"), "plain");
    }

    #[test]
    fn secret_values_are_hidden_in_a_renderers_error() {
        let error = failed(
            "command:helm",
            "helm template",
            "exited with status 1",
            "key sk-123 bad\n",
            &["sk-123".into()],
            "fix",
        );
        let text = error.to_string();
        assert!(text.contains("key <redacted> bad"), "{text}");
        assert!(!text.contains("sk-123"), "{text}");
        assert_eq!(error.exit_code(), 2);
    }
}
