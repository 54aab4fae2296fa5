//! `ohdev_snapshot!`: an insta snapshot of one run of ohdev (arguments, exit code, stderr and
//! stdout), with what changes from run to run redacted:
//!
//! | what | becomes |
//! |---|---|
//! | the test's project directory | `[PROJECT]` |
//! | other temp paths (`/tmp/.tmpXXXXXX`) | `[TMP]` |
//! | content tags `ohdev.local/<name>:<16 hex>` | `ohdev.local/<name>:[TAG]` |
//! | Docker image IDs `sha256:<64 hex>`, the classic builder's ` ---> <12 hex>` | `sha256:[IMAGE_ID]`, ` ---> [IMAGE_ID]` |
//! | RFC 3339 timestamps | `[TIMESTAMP]` |
//! | the classic builder's step containers, Kubernetes UIDs | `[CONTAINER_ID]`, `[UID]` |
//! | durations `350ms`, `2 ms`, `1.2s`, `12s`, `1m30s` | `[DURATION]` |
//! | `pid 12345` | `pid [PID]` |
//! | the digest step's `N hashed`, a bundle's cache file name | `[N] hashed`, `bundles/[URL_HASH]-…` |
//! | the path of the ohdev binary under test | `[OHDEV_BIN]` |
//!
//! Values only the test knows (a unique image name, a random port, a URL) are passed as literal
//! replacements (anything `Display`), applied before the filters:
//!
//! ```ignore
//! let output = test.expect(2);
//! ohdev_snapshot!(output);                                   // named after the test function
//! ohdev_snapshot!("busy_port", output, [(port, "[PORT]")]);
//! ohdev_snapshot!(name = format!("case_{name}"), output);
//! ohdev_snapshot!(output.without_stdout());                  // only when stdout is not deterministic
//! ```
//!
//! New or changed snapshots: review, then accept with `cargo insta review` or `INSTA_UPDATE=always`.

use std::path::Path;

use super::Output;

/// Regex filters, in the order insta applies them.
pub fn filters(project: &Path) -> Vec<(String, String)> {
    let mut filters = Vec::new();
    for project in with_canonical(project) {
        filters.push((escape(&project), "[PROJECT]".to_string()));
    }
    // The lock holder is described by its command line, which starts with this binary's path.
    filters.push((escape(env!("CARGO_BIN_EXE_ohdev")), "[OHDEV_BIN]".to_string()));
    for tmp in with_canonical(&std::env::temp_dir()) {
        filters.push((format!(r"{}/\.tmp[A-Za-z0-9_]+", escape(&tmp)), "[TMP]".to_string()));
    }
    for (regex, replacement) in [
        (r#"ohdev\.local/([^\s:"'`]+):[0-9a-f]{16}\b"#, "ohdev.local/$1:[TAG]"),
        (r"sha256:[0-9a-f]{64}\b", "sha256:[IMAGE_ID]"),
        (r" ---> [0-9a-f]{12}\b", " ---> [IMAGE_ID]"),
        // The classic builder's step containers.
        (r"\b(Running in|intermediate container) [0-9a-f]{12}\b", "$1 [CONTAINER_ID]"),
        (r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "[UID]"),
        (r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?", "[TIMESTAMP]"),
        (r"\b(?:\d+h)?\d+m\d+(?:\.\d+)?s\b", "[DURATION]"),
        (r"\b\d+(?:\.\d+)? ?(?:ms|µs)\b", "[DURATION]"),
        (r"\b\d+(?:\.\d+)?s\b", "[DURATION]"),
        (r"\bpid \d+\b", "pid [PID]"),
        // How many files the digest step re-read depends on their mtimes against the clock.
        (r"\b(\d+) files, \d+ hashed\b", "$1 files, [N] hashed"),
        // Remote bundles are cached under a hash of their URL (a random port in tests).
        (r"/bundles/[0-9a-f]{16}-", "/bundles/[URL_HASH]-"),
    ] {
        filters.push((regex.to_string(), replacement.to_string()));
    }
    filters
}

fn with_canonical(path: &Path) -> Vec<String> {
    let mut paths = vec![path.display().to_string()];
    if let Ok(real) = path.canonicalize() {
        let real = real.display().to_string();
        if !paths.contains(&real) {
            paths.push(real);
            // The longer one first, so that it is not half-replaced by the shorter one.
            paths.sort_by_key(|path| std::cmp::Reverse(path.len()));
        }
    }
    paths
}

/// `regex::escape` (the regex crate is not a dependency of the tests).
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if r"\.+*?()|[]{}^$#&-~".contains(character) {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

impl Output {
    /// The same output with stdout left out of the snapshot (for runs whose stdout interleaves
    /// concurrent work); its targeted asserts still see it.
    pub fn without_stdout(&self) -> Output {
        Output { stdout: String::new(), snapshot_stdout: false, ..self.clone() }
    }

    /// The text a snapshot holds, before the filters: the command, the exit code and each stream.
    pub fn snapshot_text(&self, replacements: &[(String, String)]) -> String {
        let mut text = format!("$ ohdev {}\nexit code: {}\n", self.args.join(" "), self.code);
        let mut stream = |name: &str, content: &str| {
            let content = console::strip_ansi_codes(content);
            if content.is_empty() {
                text.push_str(&format!("── {name}: (empty)\n"));
            } else {
                text.push_str(&format!("── {name}:\n{}", content));
                if !content.ends_with('\n') {
                    text.push('\n');
                }
            }
        };
        stream("stderr", &self.stderr);
        if self.snapshot_stdout {
            stream("stdout", &self.stdout);
        }
        for (from, to) in replacements {
            assert!(!from.is_empty(), "an empty replacement would match everywhere");
            text = text.replace(from.as_str(), to);
        }
        text
    }
}

/// Snapshot an [`Output`](crate::support::Output): `ohdev_snapshot!(output)` (named after the
/// test function, numbered when it snapshots more than once), `ohdev_snapshot!("name", output)`, or
/// `ohdev_snapshot!(name = expression, output)`; each with `[(from, to), …]` literal replacements last.
#[macro_export]
macro_rules! ohdev_snapshot {
    (name = $name:expr, $output:expr $(, [$(($from:expr, $to:expr)),* $(,)?])? $(,)?) => {{
        let name: String = ::std::string::ToString::to_string(&$name);
        $crate::ohdev_snapshot!(@assert Some(name), $output $(, [$(($from, $to)),*])?);
    }};
    ($name:literal, $output:expr $(, [$(($from:expr, $to:expr)),* $(,)?])? $(,)?) => {
        $crate::ohdev_snapshot!(@assert Some($name.to_string()), $output $(, [$(($from, $to)),*])?)
    };
    (@assert $name:expr, $output:expr $(, [$(($from:expr, $to:expr)),*])?) => {{
        let output: &$crate::support::Output = &$output;
        let replacements: Vec<(String, String)> =
            vec![$($((::std::string::ToString::to_string(&$from), ::std::string::ToString::to_string(&$to))),*)?];
        let text = output.snapshot_text(&replacements);
        let mut settings = ::insta::Settings::clone_current();
        for (regex, replacement) in $crate::support::snapshot::filters(&output.project) {
            settings.add_filter(&regex, replacement);
        }
        settings.set_omit_expression(true);
        let name: Option<String> = $name;
        // None: insta names it after the test function.
        settings.bind(|| ::insta::assert_snapshot!(name, text));
    }};
    ($output:expr $(, [$(($from:expr, $to:expr)),* $(,)?])? $(,)?) => {
        $crate::ohdev_snapshot!(@assert None, $output $(, [$(($from, $to)),*])?)
    };
}

#[test]
fn filters_redact_what_changes_between_runs() {
    let project = tempfile::tempdir().expect("temp dir");
    let other = tempfile::tempdir().expect("temp dir");
    let stderr = format!(
        "\u{1b}[31merror:\u{1b}[0m {project}/kind/cluster.yaml:3: bad\n\
         cache {other}/bundles/x\n\
         built ohdev.local/app-1:0123456789abcdef in 1.2s (350ms sending, 12s total, 1m30s wall, 2 ms digest)\n\
         ✓ digested image [IMAGE] (2 files, 1 hashed) → ohdev.local/[IMAGE]:fedcba9876543210\n\
         ---> Running in 0123456789ab; Removing intermediate container 0123456789ab\n\
         pod crash-x_app(18385ee9-e6b9-4662-84d8-c4282bc15ce1)\n\
         delete {other}/bundles/30e93631a62f6cd8-bundle.yaml\n\
         image sha256:{id} ---> 0123456789ab\n\
         another ohdev (pid 4242: {binary} up) since 2026-12-03T10:11:12.123456Z\n\
         k8s v1.32.2 on port 8080 (unchanged)\n",
        project = project.path().display(),
        other = other.path().display(),
        id = "ab".repeat(32),
        binary = env!("CARGO_BIN_EXE_ohdev"),
    );
    let output = Output {
        code: 2,
        stdout: String::new(),
        stderr,
        project: project.path().to_path_buf(),
        args: vec!["up".to_string()],
        snapshot_stdout: true,
    };
    crate::ohdev_snapshot!(output, [(8080, "[PORT]")]);
}
