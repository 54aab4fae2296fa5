//! A real registry without pulling, and node containers for the kind stand-in.
//!
//! [`registry_image`]: Debian's `docker-registry` (the CNCF distribution registry, linked only
//! against libc) as `/bin/registry` with libc and the loader, busybox (`sh`, `du`) and
//! `/etc/docker/registry/config.yml`, laid out like the official `registry:2` image, imported once
//! per test run. Tests pass it as `registry.image`.
//!
//! [`node_image`]: busybox plus a `crictl` stand-in, for `FAKE_KUBE_NODE_IMAGE` (fake-kube's
//! `kind create` then runs one real container per node on the Docker network `kind`).
//!
//! [`Api`] reads a registry's HTTP API on loopback; [`Containers`] removes what a test started.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use super::busybox;

pub const REGISTRY_REPOSITORY: &str = "ohdev-test/registry";
pub const NODE_REPOSITORY: &str = "ohdev-test/kind-node";

const CONFIG: &str = "version: 0.1
log:
  level: warn
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
";

/// `crictl` inside a stand-in node: records its argv; `images -o json` and `rmi REF…` work on
/// `/var/lib/crictl-images` (one `ref size` per line; fake-kube appends an image when a pod pulls it).
const CRICTL: &str = r#"#!/bin/sh
# crictl stand-in (tests only): records argv, lists and removes images from /var/lib/crictl-images.
echo "$*" >> /var/log/crictl.calls
db=/var/lib/crictl-images
touch "$db"
case "$1" in
images)
    printf '{"images":['
    sep=''
    while read -r ref size; do
        [ -n "$ref" ] || continue
        repo=${ref%:*}
        printf '%s{"id":"sha256:%s","repoTags":["%s"],"repoDigests":[],"size":"%s"}' "$sep" "$(echo "$ref" | md5sum | cut -c1-32)" "$ref" "$size"
        sep=','
    done < "$db"
    printf ']}\n'
    ;;
rmi)
    shift
    status=0
    for ref in "$@"; do
        if grep -q "^$ref " "$db"; then
            grep -v "^$ref " "$db" > "$db.new"; mv "$db.new" "$db"
            echo "Deleted: $ref"
        else
            echo "E0000 00:00:00.000000 1 remote_image.go:214] \"RemoveImage from image service failed\" err=\"rpc error: code = NotFound desc = no such image $ref\"" >&2
            status=1
        fi
    done
    exit $status
    ;;
*)
    echo "crictl stand-in: unsupported command: $*" >&2
    exit 1
    ;;
esac
"#;

/// The registry image, or None (reason printed) when Docker is absent and not required.
pub fn registry_image() -> Option<String> {
    static IMAGE: OnceLock<Option<String>> = OnceLock::new();
    IMAGE.get_or_init(make_registry_image).clone()
}

/// The node image for `FAKE_KUBE_NODE_IMAGE`, or None (reason printed).
pub fn node_image() -> Option<String> {
    static IMAGE: OnceLock<Option<String>> = OnceLock::new();
    IMAGE.get_or_init(make_node_image).clone()
}

fn required() -> bool {
    std::env::var("OHDEV_REQUIRE_DOCKER").as_deref() == Ok("1")
}

fn skip(reason: &str) -> Option<String> {
    if required() {
        panic!("{reason}");
    }
    eprintln!("SKIPPED: {reason}");
    None
}

fn make_registry_image() -> Option<String> {
    let docker = super::docker::client()?;
    let Some(busybox_path) = busybox::busybox_path() else {
        return skip("no /bin/busybox: install Debian's busybox-static (scripts/test.sh does)");
    };
    let files = ["/usr/bin/docker-registry", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"];
    if let Some(missing) = files.iter().find(|path| !std::path::Path::new(path).exists()) {
        return skip(&format!("no {missing}: install Debian's docker-registry (scripts/test.sh does)"));
    }
    let contents: Vec<Vec<u8>> = files.iter().map(|path| std::fs::read(path).expect("read registry files")).collect();
    let mut hasher = blake3::Hasher::new();
    for content in &contents {
        hasher.update(content);
    }
    hasher.update(CONFIG.as_bytes());
    hasher.update(&std::fs::read(busybox_path).expect("busybox"));
    let tag = hasher.finalize().to_hex()[..16].to_string();
    let reference = format!("{REGISTRY_REPOSITORY}:{tag}");
    let runtime = super::docker::runtime();
    if runtime.block_on(docker.inspect_image(&reference)).is_ok() {
        return Some(reference);
    }
    let mut builder = busybox::rootfs_tar(
        busybox_path,
        &[("bin/registry", 0o755, &contents[0]), ("etc/docker/registry/config.yml", 0o644, CONFIG.as_bytes())],
    );
    for dir in ["lib", "lib/x86_64-linux-gnu", "lib64", "var/lib/registry"] {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(0o755);
        header.set_size(0);
        builder.append_data(&mut header, dir, std::io::empty()).expect("dir");
    }
    for (path, content) in
        [("lib/x86_64-linux-gnu/libc.so.6", &contents[1]), ("lib64/ld-linux-x86-64.so.2", &contents[2])]
    {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o755);
        header.set_size(content.len() as u64);
        builder.append_data(&mut header, path, &content[..]).expect("lib");
    }
    let rootfs = builder.into_inner().expect("tar");
    busybox::import(
        &docker,
        REGISTRY_REPOSITORY,
        &tag,
        rootfs,
        &[
            r#"ENTRYPOINT ["/bin/registry", "serve", "/etc/docker/registry/config.yml"]"#,
            "EXPOSE 5000",
            r#"VOLUME ["/var/lib/registry"]"#,
        ],
    );
    Some(reference)
}

fn make_node_image() -> Option<String> {
    let docker = super::docker::client()?;
    let Some(busybox_path) = busybox::busybox_path() else {
        return skip("no /bin/busybox: install Debian's busybox-static (scripts/test.sh does)");
    };
    let mut hasher = blake3::Hasher::new();
    hasher.update(CRICTL.as_bytes());
    hasher.update(&std::fs::read(busybox_path).expect("busybox"));
    let tag = hasher.finalize().to_hex()[..16].to_string();
    let reference = format!("{NODE_REPOSITORY}:{tag}");
    if super::docker::runtime().block_on(docker.inspect_image(&reference)).is_ok() {
        return Some(reference);
    }
    let mut builder = busybox::rootfs_tar(busybox_path, &[("usr/bin/crictl", 0o755, CRICTL.as_bytes())]);
    for dir in ["var/log", "var/lib", "etc/containerd"] {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(0o755);
        header.set_size(0);
        builder.append_data(&mut header, dir, std::io::empty()).expect("dir");
    }
    busybox::import(&docker, NODE_REPOSITORY, &tag, builder.into_inner().expect("tar"), &[]);
    Some(reference)
}

/// A loopback TCP port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Containers (by name) removed with `docker rm -f` when the guard drops, also when the test fails.
#[derive(Default)]
pub struct Containers(pub Vec<String>);

impl Containers {
    pub fn add(&mut self, name: impl Into<String>) {
        self.0.push(name.into());
    }
}

impl Drop for Containers {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            let _ = std::process::Command::new("docker")
                .args(["rm", "-f", "-v"])
                .args(&self.0)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

/// Start a registry container from [`registry_image`] on `127.0.0.1:<port>` (a registry "someone
/// else" runs) and wait until it answers. The guard removes it.
pub fn start_registry(name: &str, port: u16, guard: &mut Containers) -> Api {
    let image = registry_image().expect("registry image");
    guard.add(name);
    let status = std::process::Command::new("docker")
        .args(["run", "-d", "--name", name, "-p", &format!("127.0.0.1:{port}:5000"), &image])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("docker run");
    assert!(status.success(), "starting the test registry {name} failed");
    let api = Api::new(port);
    api.wait_until_up();
    api
}

/// `htpasswd -Bbn user password` (bcrypt, the only scheme distribution's htpasswd auth reads), or
/// None (reason printed) without apache2-utils' `htpasswd` (scripts/test.sh installs it).
pub fn htpasswd(user: &str, password: &str) -> Option<String> {
    match std::process::Command::new("htpasswd").args(["-Bbn", user, password]).output() {
        Ok(output) if output.status.success() => Some(String::from_utf8_lossy(&output.stdout).trim().to_string()),
        Ok(output) => panic!("htpasswd failed: {}", String::from_utf8_lossy(&output.stderr)),
        Err(_) => skip("no `htpasswd`: install Debian's apache2-utils (scripts/test.sh does)"),
    }
}

/// Like [`start_registry`], but wanting a login: distribution's `auth: htpasswd:` (set through its
/// environment overrides) with the file `htpasswd_dir/htpasswd`. Waits until `/v2/` answers 401.
pub fn start_auth_registry(name: &str, port: u16, htpasswd_dir: &std::path::Path, guard: &mut Containers) -> Api {
    let image = registry_image().expect("registry image");
    guard.add(name);
    let status = std::process::Command::new("docker")
        .args(["run", "-d", "--name", name, "-p", &format!("127.0.0.1:{port}:5000")])
        .args(["-v", &format!("{}:/auth:ro", htpasswd_dir.display())])
        .args(["-e", "REGISTRY_AUTH=htpasswd", "-e", "REGISTRY_AUTH_HTPASSWD_REALM=ohdev-test"])
        .args(["-e", "REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd", &image])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("docker run");
    assert!(status.success(), "starting the test registry {name} failed");
    let api = Api::new(port);
    for _ in 0..100 {
        if api.request("GET", "/v2/").is_ok_and(|r| r.status == 401) {
            return api;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the registry on 127.0.0.1:{port} did not answer /v2/ with 401 within 10s");
}

/// Like [`start_registry`], but serving HTTPS with `certs/server.pem` and `certs/server.key`
/// (distribution's `http.tls`, set through its environment overrides). Waits until the port
/// answers a plain HTTP request the way a Go TLS server does (400, "an HTTPS server").
pub fn start_tls_registry(name: &str, port: u16, certs: &std::path::Path, guard: &mut Containers) {
    let image = registry_image().expect("registry image");
    guard.add(name);
    let status = std::process::Command::new("docker")
        .args(["run", "-d", "--name", name, "-p", &format!("127.0.0.1:{port}:5000")])
        .args(["-v", &format!("{}:/certs:ro", certs.display())])
        .args([
            "-e",
            "REGISTRY_HTTP_TLS_CERTIFICATE=/certs/server.pem",
            "-e",
            "REGISTRY_HTTP_TLS_KEY=/certs/server.key",
        ])
        .arg(&image)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("docker run");
    assert!(status.success(), "starting the test registry {name} failed");
    let api = Api::new(port);
    for _ in 0..100 {
        if api
            .request("GET", "/v2/")
            .is_ok_and(|r| r.status == 400 && String::from_utf8_lossy(&r.body).contains("HTTPS"))
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the TLS registry on 127.0.0.1:{port} did not answer within 10s");
}

/// The tags a registry container stores for `repository` (read from its storage, no login needed).
pub fn stored_tags(container: &str, repository: &str) -> Vec<String> {
    let output = std::process::Command::new("docker")
        .args([
            "exec",
            container,
            "ls",
            &format!("/var/lib/registry/docker/registry/v2/repositories/{repository}/_manifests/tags"),
        ])
        .output()
        .expect("docker exec ls");
    let mut tags: Vec<String> =
        String::from_utf8_lossy(&output.stdout).split_whitespace().map(str::to_string).collect();
    tags.sort();
    tags
}

/// Bytes under the registry's storage (`du -sb /var/lib/registry` inside its container).
pub fn storage_bytes(container: &str) -> u64 {
    let out = std::process::Command::new("docker")
        .args(["exec", container, "du", "-sb", "/var/lib/registry"])
        .output()
        .expect("docker exec du");
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// What one HTTP request got back.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

const MANIFEST_TYPES: &str = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

/// A registry's HTTP API on `127.0.0.1:<port>` (loopback only).
pub struct Api {
    pub port: u16,
}

impl Api {
    pub fn new(port: u16) -> Api {
        Api { port }
    }

    pub fn request(&self, method: &str, path: &str) -> std::io::Result<Response> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAccept: {MANIFEST_TYPES}\r\nConnection: close\r\n\r\n",
            self.port
        )?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4).unwrap_or(raw.len());
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let mut lines = head.lines();
        let status =
            lines.next().and_then(|line| line.split_whitespace().nth(1)).and_then(|c| c.parse().ok()).unwrap_or(0);
        let headers: BTreeMap<String, String> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let mut body = raw[split..].to_vec();
        if headers.get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            body = dechunk(&body);
        }
        Ok(Response { status, headers, body })
    }

    /// Wait (bounded) until `/v2/` answers.
    pub fn wait_until_up(&self) {
        for _ in 0..100 {
            if self.request("GET", "/v2/").is_ok_and(|r| r.status == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the registry on 127.0.0.1:{} did not answer /v2/ within 10s", self.port);
    }

    /// The repository's tags, sorted (empty when it has none or does not exist).
    pub fn tags(&self, repository: &str) -> Vec<String> {
        let response = self.request("GET", &format!("/v2/{repository}/tags/list")).expect("tags list");
        let mut tags: Vec<String> = response.json()["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect();
        tags.sort();
        tags
    }

    /// The repositories (`/v2/_catalog`).
    pub fn catalog(&self) -> Vec<String> {
        let response = self.request("GET", "/v2/_catalog").expect("catalog");
        response.json()["repositories"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect()
    }

    /// The manifest (JSON) and its digest, when the tag exists.
    pub fn manifest(&self, repository: &str, reference: &str) -> Option<(Value, String)> {
        let response = self.request("GET", &format!("/v2/{repository}/manifests/{reference}")).expect("manifest");
        (response.status == 200)
            .then(|| (response.json(), response.headers.get("docker-content-digest").cloned().unwrap_or_default()))
    }

    /// Every layer digest and its compressed size of a tag's manifest.
    pub fn layers(&self, repository: &str, reference: &str) -> Vec<(String, u64)> {
        let Some((manifest, _)) = self.manifest(repository, reference) else { return Vec::new() };
        manifest["layers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|layer| {
                (layer["digest"].as_str().unwrap_or_default().to_string(), layer["size"].as_u64().unwrap_or(0))
            })
            .collect()
    }

    /// The size of a blob, when the registry has it.
    pub fn blob_size(&self, repository: &str, digest: &str) -> Option<u64> {
        let response = self.request("HEAD", &format!("/v2/{repository}/blobs/{digest}")).expect("blob head");
        (response.status == 200)
            .then(|| response.headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0))
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&body[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&body[start..(start + size).min(body.len())]);
        body = &body[(start + size + 2).min(body.len())..];
    }
    out
}
