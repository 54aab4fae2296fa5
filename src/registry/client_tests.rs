use hyper::header::{HeaderMap, HeaderValue};

use super::*;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

#[test]
fn a_registry_is_recognised_by_its_header_or_its_empty_json() {
    assert_eq!(
        classify_probe(200, &headers(&[("docker-distribution-api-version", "registry/2.0")]), b"{}"),
        Probe::Registry { status: 200, api_version: Some("registry/2.0".into()) }
    );
    // One that wants credentials is still a registry.
    assert!(classify_probe(401, &headers(&[("docker-distribution-api-version", "registry/2.0")]), b"").is_registry());
    assert_eq!(classify_probe(200, &HeaderMap::new(), b"{}"), Probe::Registry { status: 200, api_version: None });
    // A web server that happens to listen there is not.
    assert_eq!(
        classify_probe(200, &headers(&[("server", "nginx")]), b"<html>hello</html>"),
        Probe::NotRegistry { status: 200, server: Some("nginx".into()) }
    );
    assert_eq!(classify_probe(404, &HeaderMap::new(), b"{}"), Probe::NotRegistry { status: 404, server: None });
}

#[test]
fn an_image_manifest_names_its_config_and_layers() {
    let body = br#"{
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1470, "digest": "sha256:c0"},
        "layers": [
            {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 977, "digest": "sha256:l1"},
            {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 2000, "digest": "sha256:l2"}
        ]
    }"#;
    let manifest = parse_manifest(Some("text/plain"), body).unwrap();
    assert_eq!(manifest.media_type, DOCKER_MANIFEST);
    assert!(!manifest.is_index());
    assert_eq!(manifest.config.as_ref().unwrap().digest, "sha256:c0");
    assert_eq!(
        manifest.layers.iter().map(|layer| layer.digest.as_str()).collect::<Vec<_>>(),
        ["sha256:l1", "sha256:l2"]
    );
    assert_eq!(manifest.content_size(), 1470 + 977 + 2000);
    assert_eq!(manifest.size, body.len() as u64);
}

#[test]
fn an_index_names_its_manifests_and_takes_the_media_type_from_the_header_when_the_body_has_none() {
    let body = br#"{
        "schemaVersion": 2,
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 500, "digest": "sha256:amd",
             "platform": {"architecture": "amd64", "os": "linux"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 501, "digest": "sha256:arm",
             "platform": {"architecture": "arm64", "os": "linux"}}
        ]
    }"#;
    let manifest = parse_manifest(Some("application/vnd.oci.image.index.v1+json; charset=utf-8"), body).unwrap();
    assert_eq!(manifest.media_type, OCI_INDEX);
    assert!(manifest.is_index());
    assert_eq!(manifest.manifests[1].platform.as_ref().unwrap().architecture, "arm64");
    assert_eq!(manifest.content_size(), 0);
}

#[test]
fn unreadable_manifests_say_why() {
    assert!(parse_manifest(None, b"not json").unwrap_err().contains("expected"));
    assert_eq!(
        parse_manifest(None, br#"{"schemaVersion": 1, "fsLayers": []}"#).unwrap_err(),
        "schema version 1 (only version 2 is understood)"
    );
    assert_eq!(
        parse_manifest(None, br#"{"schemaVersion": 2}"#).unwrap_err(),
        "neither `config`, `layers` nor `manifests`"
    );
}

#[test]
fn tags_and_catalog() {
    assert_eq!(parse_tags(br#"{"name": "app", "tags": ["a", "b"]}"#).unwrap(), ["a", "b"]);
    // What distribution answers once every tag of a repository is deleted.
    assert!(parse_tags(br#"{"name": "app", "tags": null}"#).unwrap().is_empty());
    assert!(parse_tags(b"[").is_err());
    assert_eq!(parse_catalog(br#"{"repositories": ["app", "ohdev/web"]}"#).unwrap(), ["app", "ohdev/web"]);
    assert!(parse_catalog(br#"{"repositories": null}"#).unwrap().is_empty());
}

#[test]
fn pages_follow_the_link_header_on_the_same_registry_only() {
    assert_eq!(parse_link_next(r#"</v2/_catalog?last=b&n=2>; rel="next""#).as_deref(), Some("/v2/_catalog?last=b&n=2"));
    assert_eq!(
        parse_link_next(r#"</v2/app/tags/list?last=x&n=1>;rel=next"#).as_deref(),
        Some("/v2/app/tags/list?last=x&n=1")
    );
    assert_eq!(parse_link_next(r#"<https://elsewhere.example/v2/_catalog>; rel="next""#), None);
    assert_eq!(parse_link_next(r#"</v2/_catalog?last=b>; rel="prev""#), None);
    assert_eq!(
        next_page(&headers(&[("link", r#"</v2/_catalog?last=z&n=1000>; rel="next""#)])).as_deref(),
        Some("/v2/_catalog?last=z&n=1000")
    );
    assert_eq!(next_page(&HeaderMap::new()), None);
}

#[test]
fn error_bodies_are_told_in_the_registrys_words() {
    assert_eq!(
        describe_error_body(br#"{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}"#)
            .as_deref(),
        Some("UNSUPPORTED: The operation is unsupported.")
    );
    assert_eq!(describe_error_body(br#"{"errors":[{"code":"A"},{"message":"b"}]}"#).as_deref(), Some("A; b"));
    assert_eq!(describe_error_body(b"<html>"), None);
    assert_eq!(describe_error_body(br#"{"errors":[]}"#), None);
}

/// A one-shot HTTP server on loopback that answers every connection with `response`.
async fn serve(response: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    address
}

#[tokio::test]
async fn the_probe_tells_a_registry_from_a_web_server_from_nothing() {
    let registry = serve(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDocker-Distribution-Api-Version: registry/2.0\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    )
    .await;
    assert_eq!(
        Client::new(registry).probe().await,
        Probe::Registry { status: 200, api_version: Some("registry/2.0".into()) }
    );

    let web = serve("HTTP/1.1 404 Not Found\r\nServer: nginx\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
    assert_eq!(Client::new(web).probe().await, Probe::NotRegistry { status: 404, server: Some("nginx".into()) });

    // A port nobody listens on: bind one, learn its number, close it.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    match Client::new(closed).probe().await {
        Probe::Nothing { cause } => assert!(cause.to_lowercase().contains("refused"), "{cause}"),
        other => panic!("expected nothing to answer, got {other:?}"),
    }
}

#[tokio::test]
async fn unexpected_answers_name_the_registry_the_request_and_the_registrys_words() {
    let host = serve(
        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 57\r\nConnection: close\r\n\r\n{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"disk is full\"}]}\n",
    )
    .await;
    let error = Client::new(host.clone()).tags("app").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "registry {host}: GET /v2/app/tags/list?n=1000 answered 500 Internal Server Error: UNKNOWN: disk is full"
        )
    );
    let refused = Client::new("127.0.0.1:1").manifest_head("app", "x").await.unwrap_err().to_string();
    assert!(refused.starts_with("registry 127.0.0.1:1: HEAD /v2/app/manifests/x failed: "), "{refused}");
    assert!(refused.contains("curl -si http://127.0.0.1:1/v2/"), "{refused}");
}

#[tokio::test]
async fn a_manifest_is_deleted_by_digest_only() {
    let error = Client::new("127.0.0.1:1").delete_manifest("app", "latest").await.unwrap_err().to_string();
    assert!(error.contains("a manifest is deleted by digest"), "{error}");
}

#[test]
fn challenges_basic_and_bearer() {
    assert_eq!(parse_challenge(r#"Basic realm="Registry Realm""#), Some(Challenge::Basic));
    assert_eq!(
        parse_challenge(
            r#"Bearer realm="http://127.0.0.1:9/token",service="registry.local",scope="repository:app:pull,push""#
        ),
        Some(Challenge::Bearer {
            realm: "http://127.0.0.1:9/token".into(),
            service: Some("registry.local".into()),
            scope: Some("repository:app:pull,push".into()),
        })
    );
    assert_eq!(parse_challenge("Bearer service=x"), None, "a Bearer challenge without realm cannot be answered");
    assert_eq!(parse_challenge("Negotiate abc"), None);
    assert_eq!(
        token_url("http://a/token", Some("reg"), Some("repository:app:pull,push")),
        "http://a/token?service=reg&scope=repository:app:pull%2Cpush"
    );
    assert_eq!(
        token_form("r/t", Some("reg"), Some("repository:app:pull")),
        "grant_type=refresh_token&client_id=ohdev&refresh_token=r/t&service=reg&scope=repository:app:pull"
    );
    assert_eq!(parse_token(br#"{"token":"t1"}"#).as_deref(), Some("t1"));
    assert_eq!(parse_token(br#"{"access_token":"t2"}"#).as_deref(), Some("t2"));
    assert_eq!(parse_token(b"{}"), None);
}

/// A registry that wants a Bearer token (as Docker Hub, GHCR or a distribution registry with
/// `auth: token:` do): `/v2/` answers 401 with a challenge whose realm is on the same server;
/// the token endpoint wants Basic `alice:hunter2` and hands out `tok`. It speaks plain HTTP: a TLS
/// ClientHello (the client tries HTTPS first on loopback) gets a 400, as a Go HTTP server answers.
async fn bearer_registry() -> (String, tokio::task::JoinHandle<Vec<String>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let realm = format!("http://{host}/token");
    let server = tokio::spawn(async move {
        let mut seen = Vec::new();
        while seen.len() < 3 {
            let (mut socket, _) = listener.accept().await.unwrap();
            // The head, then as much body as Content-Length says (a form may come in a second packet).
            let mut buffer = Vec::new();
            let mut chunk = vec![0; 4096];
            let head = loop {
                let read = socket.read(&mut chunk).await.unwrap();
                if buffer.is_empty() && chunk[..read].first() == Some(&0x16) {
                    break String::new();
                }
                buffer.extend_from_slice(&chunk[..read]);
                let text = String::from_utf8_lossy(&buffer).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length: ").map(str::to_string))
                        .and_then(|length| length.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if read == 0 || text.len() >= end + 4 + length {
                        break text;
                    }
                }
                if read == 0 {
                    break text;
                }
            };
            if head.is_empty() {
                let _ = socket.write_all(b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n").await;
                continue;
            }
            let line = head.lines().next().unwrap_or_default().to_string();
            let authorization = head
                .lines()
                .find_map(|line| line.strip_prefix("authorization: ").or_else(|| line.strip_prefix("Authorization: ")))
                .unwrap_or("")
                .to_string();
            seen.push(format!("{line} [{authorization}]"));
            let basic = format!("Basic {}", STANDARD.encode("alice:hunter2"));
            let refreshed = line.starts_with("POST /token")
                && head.contains("grant_type=refresh_token")
                && head.contains("refresh_token=idtok");
            let response = if (line.starts_with("GET /token") && authorization == basic) || refreshed {
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\nconnection: close\r\n\r\n{\"token\":\"tok\"}".to_string()
            } else if line.starts_with("GET /v2/") && authorization == "Bearer tok" {
                "HTTP/1.1 200 OK\r\ndocker-distribution-api-version: registry/2.0\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}".to_string()
            } else {
                format!("HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Bearer realm=\"{realm}\",service=\"test\"\r\ndocker-distribution-api-version: registry/2.0\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            };
            socket.write_all(response.as_bytes()).await.unwrap();
        }
        seen
    });
    (host, server)
}

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

#[tokio::test]
async fn the_bearer_flow_gets_a_token_with_basic_credentials_and_retries() {
    use crate::registry::credentials::{Credentials, Login, Secret, Source};
    let (host, server) = bearer_registry().await;
    let credentials = Credentials {
        host: host.clone(),
        source: Source::None { file: None },
        login: Some(Login::Password { username: "alice".into(), password: Secret::new("hunter2") }),
    };
    let probe = Client::new(&host).with_credentials(credentials).probe().await;
    assert_eq!(probe, Probe::Registry { status: 200, api_version: Some("registry/2.0".into()) });
    let seen = server.await.unwrap();
    assert_eq!(seen[0], "GET /v2/ HTTP/1.1 []");
    assert!(seen[1].starts_with("GET /token?service=test HTTP/1.1 [Basic "), "{seen:?}");
    assert_eq!(seen[2], "GET /v2/ HTTP/1.1 [Bearer tok]");
}

#[tokio::test]
async fn an_identity_token_is_exchanged_with_a_refresh_token_post() {
    use crate::registry::credentials::{Credentials, Login, Secret, Source};
    let (host, server) = bearer_registry().await;
    let credentials = Credentials {
        host: host.clone(),
        source: Source::None { file: None },
        login: Some(Login::IdentityToken(Secret::new("idtok"))),
    };
    let probe = Client::new(&host).with_credentials(credentials).probe().await;
    assert_eq!(probe, Probe::Registry { status: 200, api_version: Some("registry/2.0".into()) });
    let seen = server.await.unwrap();
    assert_eq!(seen[1], "POST /token HTTP/1.1 []", "{seen:?}");
    assert_eq!(seen[2], "GET /v2/ HTTP/1.1 [Bearer tok]");
}

/// A plain-HTTP registry on loopback that counts connections and TLS ClientHellos.
async fn counting_registry() -> (String, std::sync::Arc<std::sync::Mutex<(usize, usize)>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let counts = std::sync::Arc::new(std::sync::Mutex::new((0, 0)));
    let seen = counts.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 4096];
            let read = socket.read(&mut buffer).await.unwrap_or(0);
            let hello = buffer[..read].first() == Some(&0x16);
            {
                let mut counts = seen.lock().unwrap();
                counts.0 += 1;
                counts.1 += usize::from(hello);
            }
            let response: &[u8] = if hello {
                b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n"
            } else {
                b"HTTP/1.1 404 Not Found\r\ndocker-distribution-api-version: registry/2.0\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            };
            let _ = socket.write_all(response).await;
            let _ = socket.shutdown().await;
        }
    });
    (host, counts)
}

#[tokio::test]
async fn a_plain_http_registry_on_loopback_is_found_by_one_tls_attempt_per_client() {
    let (host, counts) = counting_registry().await;
    let client = Client::new(&host);
    assert_eq!(client.manifest_head("app", "one").await.unwrap(), None);
    assert_eq!(*counts.lock().unwrap(), (2, 1), "HTTPS first, then plain HTTP");
    assert_eq!(client.scheme(), super::Scheme::Http);
    // The scheme is remembered: later requests (also a clone's) go straight to plain HTTP.
    assert_eq!(client.clone().manifest_head("app", "two").await.unwrap(), None);
    assert_eq!(client.tags("app").await.unwrap(), Vec::<String>::new());
    assert_eq!(*counts.lock().unwrap(), (4, 1));
}
