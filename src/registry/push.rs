//! Push instead of `kind load`: the built image is tagged `<host>/<name>:<content tag>` and pushed
//! through the Engine API, so the daemon sends only the layers the registry lacks. A tag the
//! registry already has is not pushed at all: the content tag names exactly this content.

use std::collections::BTreeMap;

use bollard::query_parameters::{PushImageOptionsBuilder, TagImageOptionsBuilder};
use bollard::Docker;
use futures_util::StreamExt;

use super::Target;
use crate::error::Error;
use crate::events::{Event, ImageState, ProgressUnit};
use crate::image::load::ImageRecords;
use crate::image::BuildResult;
use crate::state::StateLock;
use crate::tools::docker::describe;
use crate::ui::Reporter;

/// How often the push bar is updated at most.
const PROGRESS_INTERVAL: std::time::Duration = std::time::Duration::from_millis(200);

/// What pushing one image did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushReport {
    /// Layers the daemon sent, and layers the registry already had.
    pub layers_sent: usize,
    pub layers_present: usize,
    /// The manifest digest the daemon reported.
    pub digest: Option<String>,
}

/// Layer progress as the daemon reports it. bollard's `PushImageInfo` drops the layer `id`, so
/// layers are told apart by their size (`total`): two layers of exactly the same size share one
/// entry, which only makes the bar a little short.
#[derive(Debug, Default)]
struct Progress {
    layers: BTreeMap<i64, i64>,
}

impl Progress {
    fn update(&mut self, current: i64, total: i64) -> (u64, u64) {
        self.layers.insert(total, current.min(total));
        let sent: i64 = self.layers.values().sum();
        let total: i64 = self.layers.keys().sum();
        (sent.max(0) as u64, total.max(1) as u64)
    }
}

/// `<tag>: digest: sha256:… size: 1234` (the daemon's last status line) → the digest.
pub fn parse_digest(status: &str) -> Option<String> {
    let (_, rest) = status.split_once("digest: ")?;
    Some(rest.split_whitespace().next()?.to_string())
}

/// The daemon's words for a registry that wants (other) credentials.
pub fn is_auth_refusal(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    ["no basic auth credentials", "unauthorized", "authentication required", "denied: requested access"]
        .iter()
        .any(|needle| message.contains(needle))
}

/// The content tag of `ohdev.local/app:0123…` → `0123…`.
pub fn content_tag(tag: &str) -> &str {
    tag.rsplit_once(':').map(|(_, content)| content).unwrap_or(tag)
}

/// Push every built image the registry lacks; record where each is.
pub async fn push_all(
    docker: &Docker,
    target: &Target,
    results: &[BuildResult],
    lock: &StateLock,
    reporter: &Reporter,
) -> Result<usize, Error> {
    let client = target.client();
    let mut pushes = 0;
    for result in results {
        let Some(image_id) = result.image_id() else { continue };
        let content = content_tag(&result.tag);
        let pushed_reference = target.push_reference(&result.name, content);
        let present = client
            .manifest_head(&target.repository(&result.name), content)
            .await
            .map_err(|error| target.explain(error))?;
        let digest = match present {
            Some(head) => {
                reporter.emit(Event::image(
                    result.name.clone(),
                    pushed_reference.clone(),
                    ImageState::AlreadyPushed,
                    None,
                ));
                head.digest
            }
            None => {
                reporter.emit(Event::image(result.name.clone(), pushed_reference.clone(), ImageState::Pushing, None));
                let report = push(docker, target, &result.name, &result.tag, content, reporter).await?;
                pushes += 1;
                reporter.emit(Event::image(
                    result.name.clone(),
                    pushed_reference.clone(),
                    ImageState::Pushed,
                    Some(format!(
                        "{} layer(s) sent, {} already in the registry",
                        report.layers_sent, report.layers_present
                    )),
                ));
                report.digest
            }
        };
        lock.update_section(|records: &mut ImageRecords| {
            let record = records.entry(result.name.clone()).or_default();
            record.set_built(result, image_id);
            record.pushed.insert(
                target.push_host.clone(),
                crate::image::load::PushRecord {
                    reference: pushed_reference.clone(),
                    runtime_reference: target.runtime_reference(&result.name, content),
                    manifest_digest: digest.clone(),
                },
            );
        })?;
    }
    Ok(pushes)
}

/// Tag `source` as `<host>/<name>:<content>` and push it, reporting bytes on the image's bar.
async fn push(
    docker: &Docker,
    target: &Target,
    name: &str,
    source: &str,
    content: &str,
    reporter: &Reporter,
) -> Result<PushReport, Error> {
    let repository = format!("{}/{}", target.push_host, target.repository(name));
    let options = TagImageOptionsBuilder::default().repo(&repository).tag(content).build();
    docker.tag_image(source, Some(options)).await.map_err(|error| {
        Error::work(format!("tagging {source} as {repository}:{content} failed: {}", describe(&error)), None)
    })?;
    let options = PushImageOptionsBuilder::default().tag(content).build();
    let mut stream = docker.push_image(&repository, Some(options), target.credentials.for_docker());
    let mut progress = Progress::default();
    let mut report = PushReport::default();
    let id = format!("image:{name}");
    // The daemon reports every few hundred kilobytes: a bar needs a few updates a second.
    let mut last_shown: Option<std::time::Instant> = None;
    while let Some(item) = stream.next().await {
        let info = item.map_err(|error| {
            let said = describe(&error);
            if is_auth_refusal(&said) {
                return target.explain(target.credentials.rejected(
                    401,
                    &format!("the push of {repository}:{content} (the daemon said: {said})"),
                    false,
                ));
            }
            target.explain(Error::work(
                format!("pushing {repository}:{content} to {} failed: {}", target.push_host, said),
                Some(format!(
                    "check that the registry answers and accepts pushes (`curl -si {}://{}/v2/`), then run the same command again: it pushes what the registry lacks",
                    super::tls::assumed(&target.push_host).as_str(),
                    target.push_host
                )),
            ))
        })?;
        let status = info.status.unwrap_or_default();
        if let Some(detail) = info.progress_detail.filter(|_| status == "Pushing") {
            if let (Some(current), Some(total)) = (detail.current, detail.total) {
                let (sent, total) = progress.update(current, total);
                let due = last_shown.is_none_or(|shown| shown.elapsed() >= PROGRESS_INTERVAL);
                if !due && sent < total {
                    continue;
                }
                last_shown = Some(std::time::Instant::now());
                reporter.emit(Event::Progress {
                    id: id.clone(),
                    current: sent,
                    total,
                    unit: ProgressUnit::Bytes,
                    text: format!("pushing to {}", target.push_host),
                });
            }
        }
        match status.as_str() {
            "Pushed" => report.layers_sent += 1,
            "Layer already exists" => report.layers_present += 1,
            _ => {}
        }
        if let Some(digest) = parse_digest(&status) {
            report.digest = Some(digest);
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daemons_last_line_carries_the_digest() {
        assert_eq!(parse_digest("0123456789abcdef: digest: sha256:4f2d size: 739").as_deref(), Some("sha256:4f2d"));
        assert_eq!(parse_digest("Pushed"), None);
        assert_eq!(content_tag("ohdev.local/app:0123456789abcdef"), "0123456789abcdef");
        assert!(is_auth_refusal("Docker stream error: no basic auth credentials"));
        assert!(is_auth_refusal("unauthorized: authentication required"));
        assert!(!is_auth_refusal("connection refused"));
    }

    #[test]
    fn progress_sums_the_layers() {
        let mut progress = Progress::default();
        assert_eq!(progress.update(10, 100), (10, 100));
        assert_eq!(progress.update(5, 50), (15, 150));
        assert_eq!(progress.update(100, 100), (105, 150));
        // The daemon sometimes reports past the end: never more than the total.
        assert_eq!(progress.update(60, 50), (150, 150));
    }
}
