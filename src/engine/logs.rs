//! `ohdev logs`: every container of the environment as one ordered, prefixed stream.

use super::Session;
use crate::logs::LogsRequest;

pub async fn logs(session: &Session, request: &LogsRequest) -> anyhow::Result<()> {
    let images: Vec<String> = session.config.images.keys().cloned().collect();
    crate::logs::run(session.kubectl(), request, &images, &session.reporter).await
}
