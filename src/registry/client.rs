//! The registry's HTTP API (the distribution spec, `/v2/`), only as far as ohdev needs it: does
//! something answering on a port speak it, which tag points at which manifest, which blobs a
//! manifest names and how big they are, and deleting a manifest by digest (for `ohdev gc`).
//!
//! Pushing is not here: the Docker daemon pushes (it knows the layers and sends only what the
//! registry lacks). This client only asks questions, so it stays small: HTTP/1 over the same hyper
//! and rustls stack bollard uses, HTTPS or plain HTTP chosen like Docker chooses (`tls`), one
//! timeout per request, bodies bounded. Parsing is in pure functions (`parse_*`) so it is tested
//! without a registry.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, LINK, WWW_AUTHENTICATE};
use hyper::{Method, Request, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;

use super::credentials::{Credentials, Login};
use super::tls::{self, Scheme, SchemeChoice};
use crate::error::Error;

/// The header a registry answers `/v2/` with (`registry/2.0`).
pub const API_VERSION_HEADER: &str = "docker-distribution-api-version";
/// The header carrying a manifest's digest.
pub const DIGEST_HEADER: &str = "docker-content-digest";

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// Every manifest kind ohdev understands: without this Accept a registry may convert a manifest
/// to schema 1 (another digest) or answer 404 for an OCI index.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// How long one request may take: every request here is metadata, small and local.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The largest body read (a manifest, a tags list, a catalog page).
const BODY_LIMIT: usize = 8 * 1024 * 1024;
/// Page size asked for tags lists and the catalog.
const PAGE: usize = 1000;

/// A registry at `host:port`, over HTTPS, or plain HTTP for a registry on this machine that does
/// not speak TLS (as Docker does).
#[derive(Clone)]
pub struct Client {
    host: String,
    http: HttpClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// The scheme that worked, learned on the first request and shared by clones: one handshake
    /// attempt per client, not per request.
    scheme: std::sync::Arc<std::sync::Mutex<Option<Scheme>>>,
    timeout: Duration,
    credentials: Credentials,
    /// The `Authorization` value that last worked (Basic, or a Bearer token for a scope), sent
    /// up front on the next request so one 401 round trip is paid once, not per request.
    authorization: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

/// How a registry asks for credentials (`WWW-Authenticate` on a 401).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    /// The token flow: GET `realm?service=…&scope=…` with Basic credentials → `{"token": …}`.
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// `Bearer realm="https://auth.example/token",service="registry.example",scope="repository:app:pull"`.
pub fn parse_challenge(value: &str) -> Option<Challenge> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut params = BTreeMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (param, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        params.insert(key.trim().to_ascii_lowercase(), param.to_string());
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    Some(Challenge::Bearer {
        realm: params.remove("realm")?,
        service: params.remove("service"),
        scope: params.remove("scope"),
    })
}

/// The token endpoint's URL for a Bearer challenge (query values escaped).
pub fn token_url(realm: &str, service: Option<&str>, scope: Option<&str>) -> String {
    let mut query = Vec::new();
    if let Some(service) = service {
        query.push(format!("service={}", escape_query(service)));
    }
    if let Some(scope) = scope {
        query.push(format!("scope={}", escape_query(scope)));
    }
    if query.is_empty() {
        return realm.to_string();
    }
    let separator = if realm.contains('?') { '&' } else { '?' };
    format!("{realm}{separator}{}", query.join("&"))
}

/// The OAuth2 refresh-token form Docker posts to a token service for an identity token.
pub fn token_form(refresh_token: &str, service: Option<&str>, scope: Option<&str>) -> String {
    let mut fields = vec![
        "grant_type=refresh_token".to_string(),
        "client_id=ohdev".to_string(),
        format!("refresh_token={}", escape_query(refresh_token)),
    ];
    if let Some(service) = service {
        fields.push(format!("service={}", escape_query(service)));
    }
    if let Some(scope) = scope {
        fields.push(format!("scope={}", escape_query(scope)));
    }
    fields.join("&")
}

fn escape_query(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' | b'/' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// A token service's answer: `{"token": …}` or `{"access_token": …}`.
pub fn parse_token(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(default)]
        token: Option<String>,
        #[serde(default)]
        access_token: Option<String>,
    }
    let raw: Raw = serde_json::from_slice(body).ok()?;
    raw.token.filter(|token| !token.is_empty()).or(raw.access_token.filter(|token| !token.is_empty()))
}

/// What answered `GET /v2/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// A registry (it answered with the distribution API header, or 200 with a JSON object).
    /// `status` is 401 for one that wants credentials.
    Registry { status: u16, api_version: Option<String> },
    /// Something answers HTTP there, but it is not a registry.
    NotRegistry { status: u16, server: Option<String> },
    /// Nothing answers (connection refused, reset, timeout), or what answers does not speak HTTP.
    Nothing { cause: String },
}

impl Probe {
    pub fn is_registry(&self) -> bool {
        matches!(self, Probe::Registry { .. })
    }
}

/// A content descriptor: what a manifest says about its config, a layer or a child manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub platform: Option<Platform>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
}

/// A manifest (image manifest: `config` and `layers`) or an index (manifest list: `manifests`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub media_type: String,
    /// From the `Docker-Content-Digest` header, when the registry sent it.
    pub digest: Option<String>,
    pub config: Option<Descriptor>,
    pub layers: Vec<Descriptor>,
    pub manifests: Vec<Descriptor>,
    /// Bytes of the manifest itself.
    pub size: u64,
}

impl Manifest {
    pub fn is_index(&self) -> bool {
        self.media_type == OCI_INDEX || self.media_type == DOCKER_MANIFEST_LIST
    }

    /// Bytes of the config and layers (what pulling this image manifest transfers at most).
    pub fn content_size(&self) -> u64 {
        self.config.iter().chain(&self.layers).map(|descriptor| descriptor.size).sum()
    }
}

/// What `HEAD` on a manifest said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestHead {
    pub digest: Option<String>,
    pub media_type: Option<String>,
    pub size: Option<u64>,
}

/// What a `DELETE` of a manifest did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    Yes,
    /// The registry has no such manifest (already gone).
    NotFound,
    /// The registry refuses deletes (`REGISTRY_STORAGE_DELETE_ENABLED` is not set).
    Unsupported,
}

/// A registry error body: `{"errors": [{"code": "MANIFEST_UNKNOWN", "message": "…"}]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub errors: Vec<ErrorEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorEntry {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

/// A request that got no answer: why, and whether the TLS handshake said so.
struct Failed {
    cause: String,
    tls: Option<tls::Failure>,
}

impl Failed {
    fn new(cause: impl Into<String>) -> Failed {
        Failed { cause: cause.into(), tls: None }
    }
}

impl Client {
    /// A client for the registry at `host` (`localhost:5001`, `127.0.0.1:5001`, `registry.local:5000`).
    pub fn new(host: impl Into<String>) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        connector.set_nodelay(true);
        // `https://` URIs get TLS, `http://` ones not; which one a request uses is `exchange`'s choice.
        connector.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls::config())
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let http =
            HttpClient::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector);
        let host = host.into();
        Client {
            credentials: Credentials::none(&host),
            host,
            http,
            scheme: Default::default(),
            timeout: REQUEST_TIMEOUT,
            authorization: Default::default(),
        }
    }

    /// The same client presenting `credentials` when the registry asks (Basic, or a Bearer token).
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self.authorization = Default::default();
        self
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// The scheme requests use: the one learned, else the one a hint should show.
    pub fn scheme(&self) -> Scheme {
        self.known_scheme().unwrap_or_else(|| tls::assumed(&self.host))
    }

    fn known_scheme(&self) -> Option<Scheme> {
        self.scheme.lock().ok().and_then(|scheme| *scheme)
    }

    fn remember(&self, scheme: Scheme) {
        if let Ok(mut known) = self.scheme.lock() {
            *known = Some(scheme);
        }
    }

    /// `GET /v2/`: is a registry answering here?
    pub async fn probe(&self) -> Probe {
        match self.request(Method::GET, "/v2/", None).await {
            Ok(answer) => classify_probe(answer.status.as_u16(), &answer.headers, &answer.body),
            Err(failed) => Probe::Nothing { cause: failed.cause },
        }
    }

    /// [`Client::probe`], but a certificate ohdev cannot trust is an error naming the registry, the
    /// reason and the fix: input (exit 2) when `before_changes`, else a failure of the work.
    pub async fn probe_checked(&self, before_changes: bool) -> Result<Probe, Error> {
        match self.request(Method::GET, "/v2/", None).await {
            Ok(answer) => Ok(classify_probe(answer.status.as_u16(), &answer.headers, &answer.body)),
            Err(Failed { tls: Some(tls::Failure::Certificate(certificate)), .. }) => {
                let (message, fix) = tls::explain(&self.host, &certificate);
                Err(if before_changes { Error::Input { message, fix } } else { Error::work(message, Some(fix)) })
            }
            Err(failed) => Ok(Probe::Nothing { cause: failed.cause }),
        }
    }

    /// `HEAD /v2/<repository>/manifests/<reference>`: the manifest's digest, or `None` when the
    /// registry does not have it.
    pub async fn manifest_head(&self, repository: &str, reference: &str) -> Result<Option<ManifestHead>, Error> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let answer = self.call(Method::HEAD, &path, Some(MANIFEST_ACCEPT)).await?;
        match answer.status {
            StatusCode::OK => Ok(Some(ManifestHead {
                digest: header(&answer.headers, DIGEST_HEADER),
                media_type: header(&answer.headers, CONTENT_TYPE.as_str()),
                size: header(&answer.headers, CONTENT_LENGTH.as_str()).and_then(|size| size.parse().ok()),
            })),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(self.unexpected("HEAD", &path, &answer)),
        }
    }

    /// `GET /v2/<repository>/manifests/<reference>`, parsed; `None` when the registry does not have it.
    pub async fn manifest(&self, repository: &str, reference: &str) -> Result<Option<Manifest>, Error> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let answer = self.call(Method::GET, &path, Some(MANIFEST_ACCEPT)).await?;
        match answer.status {
            StatusCode::OK => {
                let content_type = header(&answer.headers, CONTENT_TYPE.as_str());
                let mut manifest = parse_manifest(content_type.as_deref(), &answer.body).map_err(|cause| {
                    Error::work(
                        format!("registry {}: the manifest at {path} is not readable: {cause}", self.host),
                        None,
                    )
                })?;
                manifest.digest = header(&answer.headers, DIGEST_HEADER);
                Ok(Some(manifest))
            }
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(self.unexpected("GET", &path, &answer)),
        }
    }

    /// `GET /v2/<repository>/tags/list`, every page; empty when the repository does not exist.
    pub async fn tags(&self, repository: &str) -> Result<Vec<String>, Error> {
        let mut path = format!("/v2/{repository}/tags/list?n={PAGE}");
        let mut tags = Vec::new();
        loop {
            let answer = self.call(Method::GET, &path, None).await?;
            match answer.status {
                StatusCode::OK => {}
                StatusCode::NOT_FOUND => return Ok(tags),
                _ => return Err(self.unexpected("GET", &path, &answer)),
            }
            tags.extend(parse_tags(&answer.body).map_err(|cause| {
                Error::work(format!("registry {}: the tags list at {path} is not readable: {cause}", self.host), None)
            })?);
            match next_page(&answer.headers) {
                Some(next) => path = next,
                None => return Ok(tags),
            }
        }
    }

    /// `GET /v2/_catalog`, every page: the repositories the registry holds.
    pub async fn catalog(&self) -> Result<Vec<String>, Error> {
        let mut path = format!("/v2/_catalog?n={PAGE}");
        let mut repositories = Vec::new();
        loop {
            let answer = self.call(Method::GET, &path, None).await?;
            if answer.status != StatusCode::OK {
                return Err(self.unexpected("GET", &path, &answer));
            }
            repositories.extend(parse_catalog(&answer.body).map_err(|cause| {
                Error::work(format!("registry {}: the catalog at {path} is not readable: {cause}", self.host), None)
            })?);
            match next_page(&answer.headers) {
                Some(next) => path = next,
                None => return Ok(repositories),
            }
        }
    }

    /// `DELETE /v2/<repository>/manifests/<digest>`: removes the manifest and every tag on it (the
    /// blobs stay until the registry's own garbage collection).
    pub async fn delete_manifest(&self, repository: &str, digest: &str) -> Result<Deleted, Error> {
        if !digest.contains(':') {
            return Err(Error::work(
                format!("registry {}: refusing to delete `{repository}:{digest}`: a manifest is deleted by digest (`sha256:…`), not by tag", self.host),
                None,
            ));
        }
        let path = format!("/v2/{repository}/manifests/{digest}");
        let answer = self.call(Method::DELETE, &path, None).await?;
        match answer.status {
            StatusCode::ACCEPTED | StatusCode::OK => Ok(Deleted::Yes),
            StatusCode::NOT_FOUND => Ok(Deleted::NotFound),
            StatusCode::METHOD_NOT_ALLOWED => Ok(Deleted::Unsupported),
            _ => Err(self.unexpected("DELETE", &path, &answer)),
        }
    }

    /// `HEAD /v2/<repository>/blobs/<digest>`: the blob's size, or `None` when the registry lacks it.
    pub async fn blob_size(&self, repository: &str, digest: &str) -> Result<Option<u64>, Error> {
        let path = format!("/v2/{repository}/blobs/{digest}");
        let answer = self.call(Method::HEAD, &path, None).await?;
        match answer.status {
            StatusCode::OK => Ok(Some(
                header(&answer.headers, CONTENT_LENGTH.as_str()).and_then(|size| size.parse().ok()).unwrap_or(0),
            )),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(self.unexpected("HEAD", &path, &answer)),
        }
    }

    /// `GET /v2/<repository>/blobs/<digest>`: a small blob's bytes (an image config, for `ohdev
    /// gc`'s label check), or `None` when the registry lacks it. Bodies are bounded like manifests.
    pub async fn blob(&self, repository: &str, digest: &str) -> Result<Option<Bytes>, Error> {
        let path = format!("/v2/{repository}/blobs/{digest}");
        let answer = self.call(Method::GET, &path, None).await?;
        match answer.status {
            StatusCode::OK => Ok(Some(answer.body)),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(self.unexpected("GET", &path, &answer)),
        }
    }

    /// One request whose transport failure is an [`Error`] naming the registry.
    async fn call(&self, method: Method, path: &str, accept: Option<&str>) -> Result<Answer, Error> {
        let shown = method.to_string();
        self.request(method, path, accept).await.map_err(|failed| match failed.tls {
            Some(tls::Failure::Certificate(certificate)) => {
                let (message, fix) = tls::explain(&self.host, &certificate);
                Error::work(message, Some(fix))
            }
            _ => Error::work(
                format!("registry {}: {shown} {path} failed: {}", self.host, failed.cause),
                Some(format!(
                    "check that the registry runs and answers: `curl -si {}://{}/v2/`",
                    self.scheme().as_str(),
                    self.host
                )),
            ),
        })
    }

    /// One request; a 401 whose challenge ohdev can answer with its credentials is answered once.
    async fn request(&self, method: Method, path: &str, accept: Option<&str>) -> Result<Answer, Failed> {
        let sent = self.authorization.lock().map(|value| value.clone()).unwrap_or_default();
        let answer = self.exchange(method.clone(), path, accept, sent.as_deref()).await?;
        if answer.status != StatusCode::UNAUTHORIZED || self.credentials.login.is_none() {
            return Ok(answer);
        }
        let Some(challenge) =
            header(&answer.headers, WWW_AUTHENTICATE.as_str()).and_then(|value| parse_challenge(&value))
        else {
            return Ok(answer);
        };
        let authorization = match challenge {
            Challenge::Basic => match self.credentials.basic_header() {
                Some(basic) => basic,
                None => return Ok(answer),
            },
            Challenge::Bearer { realm, service, scope } => {
                format!("Bearer {}", self.token(&realm, service.as_deref(), scope.as_deref()).await?)
            }
        };
        if sent.as_deref() == Some(authorization.as_str()) {
            return Ok(answer);
        }
        let retried = self.exchange(method, path, accept, Some(&authorization)).await?;
        if retried.status != StatusCode::UNAUTHORIZED {
            if let Ok(mut cached) = self.authorization.lock() {
                *cached = Some(authorization);
            }
        }
        Ok(retried)
    }

    /// A Bearer token from the registry's token service (`https://` or `http://`, as the realm
    /// says), asked with the Basic credentials.
    async fn token(&self, realm: &str, service: Option<&str>, scope: Option<&str>) -> Result<String, Failed> {
        if !(realm.starts_with("https://") || realm.starts_with("http://")) {
            return Err(Failed::new(format!(
                "the registry's token service is `{realm}`, which is not an http:// or https:// URL"
            )));
        }
        let answer = match &self.credentials.login {
            // An identity token (a refresh token) is exchanged as Docker does: an OAuth2 form POST.
            Some(Login::IdentityToken(token)) => {
                let form = token_form(token.expose(), service, scope);
                self.send(Method::POST, realm, None, None, Some(form)).await?
            }
            _ => {
                let basic = self.credentials.basic_header();
                self.send(Method::GET, &token_url(realm, service, scope), None, basic.as_deref(), None).await?
            }
        };
        if answer.status != StatusCode::OK {
            return Err(Failed::new(format!("the token service at {realm} answered {}", answer.status)));
        }
        parse_token(&answer.body).ok_or_else(|| Failed::new(format!("the token service at {realm} sent no token")))
    }

    /// One exchange with the registry at `path`, over the scheme learned; before one is learned,
    /// HTTPS, and for a registry on this machine plain HTTP when what answers does not speak TLS.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        accept: Option<&str>,
        authorization: Option<&str>,
    ) -> Result<Answer, Failed> {
        if let Some(scheme) = self.known_scheme() {
            return self.send(method, &self.url(scheme, path), accept, authorization, None).await;
        }
        let https = self.send(method.clone(), &self.url(Scheme::Https, path), accept, authorization, None).await;
        match &https {
            Ok(_) => self.remember(Scheme::Https),
            Err(Failed { tls: Some(tls::Failure::NotTls(_)), .. })
                if tls::choice(&self.host) == SchemeChoice::HttpsThenHttp =>
            {
                let http = self.send(method, &self.url(Scheme::Http, path), accept, authorization, None).await;
                if http.is_ok() {
                    self.remember(Scheme::Http);
                }
                return http;
            }
            Err(_) => {}
        }
        https
    }

    fn url(&self, scheme: Scheme, path: &str) -> String {
        format!("{}://{}{path}", scheme.as_str(), self.host)
    }

    /// One HTTP exchange; `form` is an `application/x-www-form-urlencoded` body.
    async fn send(
        &self,
        method: Method,
        uri: &str,
        accept: Option<&str>,
        authorization: Option<&str>,
        form: Option<String>,
    ) -> Result<Answer, Failed> {
        let mut builder = Request::builder().method(method.clone()).uri(uri);
        if form.is_some() {
            builder = builder.header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        if let Some(accept) = accept {
            builder = builder.header(ACCEPT, accept);
        }
        if let Some(authorization) = authorization {
            builder = builder.header(AUTHORIZATION, authorization);
        }
        let body = Full::new(form.map(Bytes::from).unwrap_or_default());
        let request = builder.body(body).map_err(|error| Failed::new(format!("bad request {uri}: {error}")))?;
        let exchange = async {
            let response = self.http.request(request).await.map_err(|error| {
                let tls = tls::failure(&error);
                let cause = match &tls {
                    Some(tls::Failure::NotTls(text) | tls::Failure::Other(text)) => format!("TLS handshake: {text}"),
                    Some(tls::Failure::Certificate(certificate)) => tls::explain(&self.host, certificate).0,
                    None => innermost(&error),
                };
                Failed { cause, tls }
            })?;
            let (parts, body) = response.into_parts();
            let body = if method == Method::HEAD {
                Bytes::new()
            } else {
                Limited::new(body, BODY_LIMIT)
                    .collect()
                    .await
                    .map_err(|error| Failed::new(error.to_string()))?
                    .to_bytes()
            };
            Ok(Answer { status: parts.status, headers: parts.headers, body })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(Failed::new(format!("no answer within {}s", self.timeout.as_secs()))),
        }
    }

    fn unexpected(&self, method: &str, path: &str, answer: &Answer) -> Error {
        if matches!(answer.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            return self.credentials.rejected(answer.status.as_u16(), &format!("{method} {path}"), false);
        }
        Error::work(
            format!(
                "registry {}: {method} {path} answered {}{}",
                self.host,
                answer.status,
                describe_error_body(&answer.body).map(|text| format!(": {text}")).unwrap_or_default()
            ),
            None,
        )
    }
}

/// The deepest cause of a hyper error ("Connection refused"), which is the part a person can act on.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text = cause.to_string();
        source = cause.source();
    }
    text
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_string)
}

/// What an answer to `GET /v2/` says about the server.
pub fn classify_probe(status: u16, headers: &HeaderMap, body: &[u8]) -> Probe {
    if let Some(api_version) = header(headers, API_VERSION_HEADER) {
        return Probe::Registry { status, api_version: Some(api_version) };
    }
    let json_object = serde_json::from_slice::<serde_json::Value>(body).map(|value| value.is_object()).unwrap_or(false);
    if status == 200 && json_object {
        return Probe::Registry { status, api_version: None };
    }
    Probe::NotRegistry { status, server: header(headers, "server") }
}

/// A manifest body. The media type comes from the body's `mediaType`, else the Content-Type.
pub fn parse_manifest(content_type: Option<&str>, body: &[u8]) -> Result<Manifest, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Raw {
        #[serde(default)]
        media_type: Option<String>,
        #[serde(default)]
        schema_version: Option<u32>,
        #[serde(default)]
        config: Option<Descriptor>,
        #[serde(default)]
        layers: Vec<Descriptor>,
        #[serde(default)]
        manifests: Vec<Descriptor>,
    }
    let raw: Raw = serde_json::from_slice(body).map_err(|error| error.to_string())?;
    if raw.schema_version.is_some_and(|version| version != 2) {
        return Err(format!("schema version {} (only version 2 is understood)", raw.schema_version.unwrap_or(0)));
    }
    let media_type = raw
        .media_type
        .or_else(|| content_type.map(|value| value.split(';').next().unwrap_or(value).trim().to_string()))
        .unwrap_or_default();
    if raw.config.is_none() && raw.manifests.is_empty() && raw.layers.is_empty() {
        return Err("neither `config`, `layers` nor `manifests`".to_string());
    }
    Ok(Manifest {
        media_type,
        digest: None,
        config: raw.config,
        layers: raw.layers,
        manifests: raw.manifests,
        size: body.len() as u64,
    })
}

/// A tags list: `{"name": "app", "tags": ["a", "b"]}`; `tags` is `null` when every tag is gone.
pub fn parse_tags(body: &[u8]) -> Result<Vec<String>, String> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(default)]
        tags: Option<Vec<String>>,
    }
    let raw: Raw = serde_json::from_slice(body).map_err(|error| error.to_string())?;
    Ok(raw.tags.unwrap_or_default())
}

/// A catalog page: `{"repositories": ["app", "ohdev/web"]}`.
pub fn parse_catalog(body: &[u8]) -> Result<Vec<String>, String> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(default)]
        repositories: Option<Vec<String>>,
    }
    let raw: Raw = serde_json::from_slice(body).map_err(|error| error.to_string())?;
    Ok(raw.repositories.unwrap_or_default())
}

/// The next page from a `Link: </v2/_catalog?last=b&n=2>; rel="next"` header (a path on the
/// same registry; an absolute URL elsewhere is not followed).
pub fn next_page(headers: &HeaderMap) -> Option<String> {
    let value = header(headers, LINK.as_str())?;
    parse_link_next(&value)
}

pub fn parse_link_next(value: &str) -> Option<String> {
    value.split(',').find_map(|link| {
        let (target, params) = link.trim().split_once(';')?;
        let is_next = params.split(';').any(|param| {
            let param = param.trim().replace(' ', "");
            param == "rel=\"next\"" || param == "rel=next"
        });
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        (is_next && target.starts_with("/v2/")).then(|| target.to_string())
    })
}

/// The registry's own words from an error body ("MANIFEST_UNKNOWN: manifest unknown"), when it sent some.
pub fn describe_error_body(body: &[u8]) -> Option<String> {
    let parsed: ErrorBody = serde_json::from_slice(body).ok()?;
    let text: Vec<String> = parsed
        .errors
        .iter()
        .map(|entry| match (entry.code.is_empty(), entry.message.is_empty()) {
            (false, false) => format!("{}: {}", entry.code, entry.message),
            (false, true) => entry.code.clone(),
            _ => entry.message.clone(),
        })
        .filter(|text| !text.is_empty())
        .collect();
    (!text.is_empty()).then(|| text.join("; "))
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
