//! One container's log: a `kubectl logs` child whose stdout is cut into whole lines and sent, in
//! order, to the single writer. Lines are never forwarded in pieces, so output from many
//! containers can interleave only between lines.

use std::sync::Arc;

use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;

use super::track::StreamKey;
use crate::events::Event;
use crate::tools::kubectl::Kubectl;

/// A line longer than this without a newline is cut (a binary blob must not grow memory without bound).
const MAX_LINE: usize = 1 << 20;

/// What the writer receives: a batch of complete lines of one container, or a notice.
pub enum Output {
    Lines { source: Arc<StreamKey>, lines: Vec<String> },
    Notice(Event),
}

#[derive(Debug, Clone, Default)]
pub struct StreamOptions {
    pub follow: bool,
    pub tail: Option<u64>,
    pub since: Option<String>,
}

/// How a stream ended, for the supervisor's bookkeeping.
#[derive(Debug)]
pub struct StreamEnd {
    pub key: StreamKey,
    /// kubectl failed before printing a line (worth trying again on a later poll).
    pub failed_early: bool,
}

/// `kubectl --context kind-<name> logs POD -n NS -c CONTAINER [-f] [--tail=N] [--since=D]`.
pub fn argv(key: &StreamKey, options: &StreamOptions) -> Vec<String> {
    let mut argv = vec![
        "logs".to_string(),
        key.pod.clone(),
        "-n".into(),
        key.namespace.clone(),
        "-c".into(),
        key.container.clone(),
    ];
    if options.follow {
        argv.push("-f".into());
    }
    if let Some(tail) = options.tail {
        argv.push(format!("--tail={tail}"));
    }
    if let Some(since) = &options.since {
        argv.push(format!("--since={since}"));
    }
    argv
}

/// Run one stream to its end. Dropping the future (abort, Ctrl-C) drops the child, which stops
/// its process group: no `kubectl logs -f` outlives ohdev.
pub async fn run(
    kubectl: Kubectl,
    key: StreamKey,
    options: StreamOptions,
    grep: Option<Arc<str>>,
    output: mpsc::Sender<Output>,
) -> StreamEnd {
    let source = Arc::new(key.clone());
    let mut child = match kubectl.invocation(argv(&key, &options)).spawn_streaming(false) {
        Ok(child) => child,
        Err(error) => {
            let _ = output
                .send(Output::Notice(Event::warn(format!("no logs from {}/{}: {error}", key.pod, key.container), None)))
                .await;
            return StreamEnd { key, failed_early: true };
        }
    };
    let mut splitter = LineSplitter::default();
    let mut printed = false;
    let mut reader = tokio::io::BufReader::with_capacity(64 * 1024, &mut child.stdout);
    while let Ok(chunk) = reader.fill_buf().await {
        if chunk.is_empty() {
            break;
        }
        let length = chunk.len();
        let mut lines = Vec::new();
        splitter.push(chunk, &mut lines);
        reader.consume(length);
        if !send(&output, &source, lines, grep.as_deref(), &mut printed).await {
            return StreamEnd { key, failed_early: false };
        }
    }
    drop(reader);
    let mut rest = Vec::new();
    splitter.finish(&mut rest);
    if !send(&output, &source, rest, grep.as_deref(), &mut printed).await {
        return StreamEnd { key, failed_early: false };
    }
    let (code, stderr) = child.wait().await.unwrap_or((None, String::new()));
    if code == Some(0) {
        return StreamEnd { key, failed_early: false };
    }
    // A pod deleted between `get pods` and `kubectl logs` is reported once as gone, not as an error.
    let gone = stderr.contains("NotFound") || stderr.contains("not found");
    if !gone {
        let reason = stderr.trim().lines().last().unwrap_or("").to_string();
        let status = code.map(|code| format!("exited with status {code}")).unwrap_or_else(|| "was stopped".into());
        let message = format!(
            "no more logs from {}/{}: `kubectl logs` {status}{}",
            key.pod,
            key.container,
            if reason.is_empty() { String::new() } else { format!(": {reason}") }
        );
        let _ = output.send(Output::Notice(Event::warn(message, None))).await;
    }
    StreamEnd { key, failed_early: !printed && !gone }
}

/// Filter and send one batch; false when the writer is gone (ohdev is stopping).
async fn send(
    output: &mpsc::Sender<Output>,
    source: &Arc<StreamKey>,
    mut lines: Vec<String>,
    grep: Option<&str>,
    printed: &mut bool,
) -> bool {
    if lines.is_empty() {
        return true;
    }
    *printed = true;
    if let Some(needle) = grep {
        lines.retain(|line| line.contains(needle));
        if lines.is_empty() {
            return true;
        }
    }
    output.send(Output::Lines { source: source.clone(), lines }).await.is_ok()
}

/// Cuts a byte stream into whole lines (without `\n` or a trailing `\r`), keeping the unfinished
/// end for the next chunk. Invalid UTF-8 becomes U+FFFD rather than dropping the line.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    pub fn push(&mut self, mut bytes: &[u8], lines: &mut Vec<String>) {
        while let Some(end) = memchr_newline(bytes) {
            if self.partial.is_empty() {
                lines.push(line_text(&bytes[..end]));
            } else {
                self.partial.extend_from_slice(&bytes[..end]);
                lines.push(line_text(&self.partial));
                self.partial.clear();
            }
            bytes = &bytes[end + 1..];
        }
        self.partial.extend_from_slice(bytes);
        while self.partial.len() >= MAX_LINE {
            let rest = self.partial.split_off(MAX_LINE);
            lines.push(line_text(&self.partial));
            self.partial = rest;
        }
    }

    /// The stream ended: an unterminated last line is still a whole line.
    pub fn finish(&mut self, lines: &mut Vec<String>) {
        if !self.partial.is_empty() {
            lines.push(line_text(&self.partial));
            self.partial.clear();
        }
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&byte| byte == b'\n')
}

fn line_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_whole_across_chunks() {
        let mut splitter = LineSplitter::default();
        let mut lines = Vec::new();
        splitter.push(b"one\ntw", &mut lines);
        assert_eq!(lines, ["one"]);
        splitter.push(b"o\r\n", &mut lines);
        splitter.push(b"", &mut lines);
        splitter.push(b"\nthr", &mut lines);
        splitter.push(b"ee \xff", &mut lines);
        assert_eq!(lines, ["one", "two", ""]);
        splitter.finish(&mut lines);
        assert_eq!(lines, ["one", "two", "", "three \u{fffd}"]);
        splitter.finish(&mut lines);
        assert_eq!(lines.len(), 4);
    }

    #[test]
    fn endless_lines_are_cut() {
        let mut splitter = LineSplitter::default();
        let mut lines = Vec::new();
        splitter.push(&vec![b'x'; MAX_LINE + 10], &mut lines);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].len(), MAX_LINE);
        splitter.finish(&mut lines);
        assert_eq!(lines[1].len(), 10);
    }

    #[test]
    fn argv_names_pod_namespace_container_and_options() {
        let key = StreamKey { namespace: "app".into(), pod: "web-1".into(), container: "main".into() };
        assert_eq!(argv(&key, &StreamOptions::default()), ["logs", "web-1", "-n", "app", "-c", "main"]);
        let options = StreamOptions { follow: true, tail: Some(10), since: Some("5m".into()) };
        assert_eq!(argv(&key, &options), ["logs", "web-1", "-n", "app", "-c", "main", "-f", "--tail=10", "--since=5m"]);
    }
}
