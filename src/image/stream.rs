//! The build context as a streamed HTTP body: a blocking thread writes the tar from the walk into
//! a bounded channel, so a 200 MB context is never held in memory or copied to disk.

use std::io::Write;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::context::ContextFiles;
use super::context_tar;

const CHUNK: usize = 256 * 1024;

struct ChannelWriter {
    sender: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buffer: Vec<u8>,
}

impl ChannelWriter {
    fn send_buffer(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK)));
        self.sender.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the Docker daemon stopped reading the build context")
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.send_buffer()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send_buffer()
    }
}

/// Why writing the context failed, if it did. The HTTP client reports a failed request body only
/// as "client error (SendRequest)", so the caller reads the real cause (e.g. a file that changed
/// after the walk) from here.
pub type TarFailure = std::sync::Arc<std::sync::Mutex<Option<String>>>;

/// The body, where a tar failure is reported, and a counter of the bytes handed to the daemon so far.
pub fn context_body(
    context: ContextFiles,
) -> (
    futures_util::stream::BoxStream<'static, Result<Bytes, std::io::Error>>,
    TarFailure,
    std::sync::Arc<std::sync::atomic::AtomicU64>,
) {
    let (sender, receiver) = mpsc::channel(8);
    let error_sender = sender.clone();
    let failure = TarFailure::default();
    let failure_slot = failure.clone();
    tokio::task::spawn_blocking(move || {
        let writer = ChannelWriter { sender, buffer: Vec::with_capacity(CHUNK) };
        let result = context_tar::write_tar(&context, writer).and_then(|mut writer| writer.flush());
        if let Err(error) = result {
            if error.kind() != std::io::ErrorKind::BrokenPipe {
                if let Ok(mut slot) = failure_slot.lock() {
                    *slot = Some(error.to_string());
                }
            }
            let _ = error_sender.blocking_send(Err(error));
        }
    });
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = sent.clone();
    let stream = futures_util::stream::unfold(receiver, move |mut receiver| {
        let counter = counter.clone();
        async move {
            let item = receiver.recv().await?;
            if let Ok(chunk) = &item {
                counter.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
            }
            Some((item, receiver))
        }
    });
    (Box::pin(stream), failure, sent)
}
