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
