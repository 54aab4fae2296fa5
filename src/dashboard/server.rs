//! The HTTP side: hyper 1 on the runtime ohdev already runs (hyper is already built for bollard
//! and the registry client, so serving adds no crate). Routes: the page and its two assets,
//! `/api/state`, `/api/events` (SSE), `/api/logs` (SSE), `/api/rebuild`. Every request passes
//! [`security::check`] first.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::{broadcast, mpsc};

use super::hub::{Hub, LogLine};
use super::security::{self, Verdict};

pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// How often an idle SSE stream sends a comment (so a closed tab is noticed and proxies keep it).
const KEEPALIVE: Duration = Duration::from_secs(15);
/// A rebuild request's body is a short JSON object.
const MAX_REQUEST_BODY: usize = 64 * 1024;

const PAGE: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/app.css");

pub struct Context {
    pub hub: Arc<Hub>,
    pub token: String,
    pub port: u16,
    /// The images a rebuild may name.
    pub images: Vec<String>,
    /// To the watch loop: images to rebuild (empty: all).
    pub rebuilds: mpsc::Sender<Vec<String>>,
}

fn full(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()).boxed_unsync());
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, content_type.parse().expect("valid content type"));
    response.headers_mut().insert(CACHE_CONTROL, "no-store".parse().expect("valid header"));
    response
}

fn text(status: StatusCode, body: &str) -> Response<Body> {
    full(status, "text/plain; charset=utf-8", body.to_string())
}

pub async fn handle(request: Request<Incoming>, context: Arc<Context>) -> Result<Response<Body>, Infallible> {
    let (parts, body) = request.into_parts();
    let token_in_query = match security::check(&parts, &context.token, context.port) {
        Verdict::Allowed { token_in_query } => token_in_query,
        Verdict::Unauthorized(message) => return Ok(text(StatusCode::UNAUTHORIZED, message)),
        Verdict::Forbidden(message) => return Ok(text(StatusCode::FORBIDDEN, message)),
    };
    let query = parts.uri.query().unwrap_or_default().to_string();
    let response = match (&parts.method, parts.uri.path()) {
        (&Method::GET, "/") => {
            let mut response = full(StatusCode::OK, "text/html; charset=utf-8", PAGE);
            if token_in_query {
                response
                    .headers_mut()
                    .insert(SET_COOKIE, security::cookie(&context.token).parse().expect("valid cookie"));
            }
            response
        }
        (&Method::GET, "/app.js") => full(StatusCode::OK, "text/javascript; charset=utf-8", SCRIPT),
        (&Method::GET, "/app.css") => full(StatusCode::OK, "text/css; charset=utf-8", STYLE),
        (&Method::GET, "/api/state") => full(StatusCode::OK, "application/json", context.hub.state_json()),
        (&Method::GET, "/api/events") => events(&context.hub),
        (&Method::GET, "/api/logs") => {
            match security::query_value(&query, "resource").filter(|value| !value.is_empty()) {
                Some(resource) => logs(context.hub.clone(), resource),
                None => text(
                    StatusCode::BAD_REQUEST,
                    "bad request: name the resource, e.g. /api/logs?resource=Deployment/web\n",
                ),
            }
        }
        (&Method::POST, "/api/rebuild") => rebuild(body, &context).await,
        (_, "/" | "/app.js" | "/app.css" | "/api/state" | "/api/events" | "/api/logs" | "/api/rebuild") => {
            text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
        }
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    };
    Ok(response)
}

fn sse_response(stream: impl futures_util::Stream<Item = Bytes> + Send + 'static) -> Response<Body> {
    let body = StreamBody::new(stream.map(|bytes| Ok::<_, Infallible>(Frame::data(bytes))));
    let mut response = Response::new(BodyExt::boxed_unsync(body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, "text/event-stream".parse().expect("valid header"));
    headers.insert(CACHE_CONTROL, "no-store".parse().expect("valid header"));
    response
}

/// One SSE stream from a replay and a broadcast receiver: what arrives together goes in one chunk.
fn sse<T: Clone + Send + 'static>(
    replay: Vec<T>,
    receiver: broadcast::Receiver<T>,
    render: impl Fn(&T) -> Option<String> + Send + 'static,
) -> Response<Body> {
    let first: String = replay.iter().filter_map(&render).collect();
    let state = (Some(first), receiver, render);
    let stream = futures_util::stream::unfold(state, |(first, mut receiver, render)| async move {
        if let Some(first) = first {
            let first = if first.is_empty() { ": connected\n\n".to_string() } else { first };
            return Some((Bytes::from(first), (None, receiver, render)));
        }
        loop {
            let chunk = match tokio::time::timeout(KEEPALIVE, receiver.recv()).await {
                Err(_) => ": keepalive\n\n".to_string(),
                Ok(Err(broadcast::error::RecvError::Closed)) => return None,
                Ok(Err(broadcast::error::RecvError::Lagged(skipped))) => lagged(skipped),
                Ok(Ok(item)) => {
                    let mut chunk = render(&item).unwrap_or_default();
                    while chunk.len() < 256 * 1024 {
                        match receiver.try_recv() {
                            Ok(item) => {
                                if let Some(text) = render(&item) {
                                    chunk.push_str(&text);
                                }
                            }
                            Err(broadcast::error::TryRecvError::Lagged(skipped)) => {
                                chunk.push_str(&lagged(skipped));
                            }
                            Err(_) => break,
                        }
                    }
                    chunk
                }
            };
            if !chunk.is_empty() {
                return Some((Bytes::from(chunk), (None, receiver, render)));
            }
        }
    });
    sse_response(stream)
}

/// A client fell behind by more than the channel holds: it is told how much it missed.
fn lagged(skipped: u64) -> String {
    format!("event: lagged\ndata: {{\"skipped\":{skipped}}}\n\n")
}

fn events(hub: &Hub) -> Response<Body> {
    let (replay, receiver) = hub.subscribe_events();
    sse(replay, receiver, |line: &Arc<str>| Some(format!("data: {line}\n\n")))
}

fn logs(hub: Arc<Hub>, resource: String) -> Response<Body> {
    let (replay, receiver) = hub.subscribe_logs(&resource);
    let replay: Vec<Arc<LogLine>> = replay;
    let already = replay.last().map(|line| line.seq).unwrap_or(0);
    sse(replay, receiver, move |line: &Arc<LogLine>| {
        if line.seq <= already || !hub.belongs(line, &resource) {
            return None;
        }
        serde_json::to_string(line.as_ref()).ok().map(|json| format!("data: {json}\n\n"))
    })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RebuildRequest {
    #[serde(default)]
    images: Vec<String>,
}

async fn rebuild(body: Incoming, context: &Context) -> Response<Body> {
    let limited = http_body_util::Limited::new(body, MAX_REQUEST_BODY);
    let bytes = match limited.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n"),
    };
    let request: RebuildRequest = if bytes.iter().all(u8::is_ascii_whitespace) {
        RebuildRequest { images: Vec::new() }
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(request) => request,
            Err(error) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    &format!("bad request: {error}; send {{\"images\": [\"app\"]}}, or {{}} for every image\n"),
                )
            }
        }
    };
    if let Some(unknown) = request.images.iter().find(|image| !context.images.contains(image)) {
        return text(
            StatusCode::BAD_REQUEST,
            &format!(
                "bad request: `{unknown}` is not an image this watch rebuilds (images: {})\n",
                context.images.join(", ")
            ),
        );
    }
    let queued = if request.images.is_empty() { context.images.clone() } else { request.images.clone() };
    match context.rebuilds.try_send(request.images) {
        Ok(()) => full(StatusCode::ACCEPTED, "application/json", serde_json::json!({ "queued": queued }).to_string()),
        Err(mpsc::error::TrySendError::Full(_)) => {
            text(StatusCode::SERVICE_UNAVAILABLE, "busy: rebuild requests are already waiting; try again in a moment\n")
        }
        Err(mpsc::error::TrySendError::Closed(_)) => {
            text(StatusCode::SERVICE_UNAVAILABLE, "the watch loop has stopped: nothing can be rebuilt\n")
        }
    }
}
