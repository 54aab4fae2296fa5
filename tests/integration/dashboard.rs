//! The dashboard (issue 13): `ohdev --json up --watch --ui-port 0` against the kind/kubectl
//! stand-ins and the real Docker engine (the watch fixture: image, Namespace, ConfigMap, Service,
//! Deployment `app/web`), spoken to over plain HTTP/1.1 on 127.0.0.1.
//!
//! - The URL is printed with a 128-bit token; the listener is bound to 127.0.0.1 only
//!   (/proc/net/tcp).
//! - 401 without a token or with a wrong one; 403 for a foreign Host (DNS rebinding) or Origin
//!   (a cross-site POST, which then rebuilds nothing); the token works as query, Bearer or cookie.
//! - `/api/state` after up: the cluster, the image with its tag and a build, the workload ready.
//! - `/api/logs?resource=Deployment/web` streams a line appended to the pod's log.
//! - `POST /api/rebuild` rebuilds the image (even unchanged): `/api/events` shows it building and
//!   built, and the state's history has the build, "requested from the dashboard".
//! - The page and its assets are served, and the page loads them from this server only.
//! - In headless Chromium (DevTools protocol over a pipe): the page shows the resource table,
//!   its rebuild button adds a build "requested from the dashboard" to the history, and a
//!   screenshot is written under target/ (skipped without `chromium`; scripts/test.sh installs it).
//!
//! Everything is waited for with a deadline; nothing asserts on timing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::docker::base_or_skip;
use crate::watch::{project, Watch};

const DEADLINE: Duration = Duration::from_secs(180);

struct Server {
    port: u16,
    token: String,
}

struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Server {
    fn from_events(events: &[Value]) -> Server {
        let url = events
            .iter()
            .find_map(|event| event["message"].as_str()?.strip_prefix("dashboard: ").map(str::to_string))
            .expect("the dashboard URL is printed");
        let rest = url.strip_prefix("http://127.0.0.1:").expect("a loopback URL");
        let (port, token) = rest.split_once("/?token=").expect("URL with the token");
        assert_eq!(token.len(), 32, "128 bits as hex: {token}");
        assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
        Server { port: port.parse().expect("port"), token: token.to_string() }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// One request (`Connection: close`); `headers` are extra lines.
    fn request(&self, method: &str, path: &str, headers: &[(&str, String)], body: &str) -> Answer {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        let has_host = headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host"));
        let mut request =
            format!("{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
        if !has_host {
            request.push_str(&format!("Host: {}\r\n", self.host()));
        }
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).expect("send");
        let mut text = String::new();
        stream.read_to_string(&mut text).expect("read");
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
        Answer { status, head: head.to_string(), body: body.to_string() }
    }

    fn get(&self, path: &str) -> Answer {
        self.request("GET", path, &[("Authorization", format!("Bearer {}", self.token))], "")
    }

    fn state(&self) -> Value {
        let answer = self.get("/api/state");
        assert_eq!(answer.status, 200, "{}", answer.body);
        serde_json::from_str(&answer.body).expect("state is JSON")
    }

    /// Polls `/api/state` until `done` holds.
    #[track_caller]
    fn wait_for_state(&self, watch: &Watch, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let state = self.state();
            if done(&state) {
                return state;
            }
            assert!(Instant::now() < deadline, "waited for {what}; state: {state:#}\n{}", watch.dump());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// An SSE stream, read in a thread; `lines()` gives the `data:` lines so far.
    fn stream(&self, path: &str) -> Stream {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nAccept: text/event-stream\r\n\r\n",
            self.host(),
            self.token
        );
        stream.write_all(request.as_bytes()).expect("send");
        let received = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = received.clone();
        let reader = stream.try_clone().expect("clone");
        std::thread::spawn(move || {
            let mut reader = reader;
            let mut buffer = [0u8; 8192];
            while let Ok(read) = reader.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buffer[..read]));
            }
        });
        Stream { received, _stream: stream }
    }
}

struct Stream {
    received: std::sync::Arc<std::sync::Mutex<String>>,
    _stream: TcpStream,
}

impl Stream {
    fn data(&self) -> Vec<Value> {
        let text = self.received.lock().unwrap().clone();
        text.lines()
            .filter_map(|line| line.strip_prefix("data: "))
            .filter_map(|json| serde_json::from_str(json).ok())
            .collect()
    }

    fn head(&self) -> String {
        let text = self.received.lock().unwrap().clone();
        text.split("\r\n\r\n").next().unwrap_or_default().to_string()
    }

    #[track_caller]
    fn wait_for(&self, watch: &Watch, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let data = self.data();
            if done(&data) {
                return data;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {what}; stream:\n{}\n{}",
                self.received.lock().unwrap(),
                watch.dump()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Local addresses (hex `ADDR:PORT`) of listening TCP sockets on `port`, from /proc/net/tcp{,6}.
fn listeners(port: u16) -> Vec<String> {
    let mut found = Vec::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // st 0A = LISTEN
            if fields.len() > 3 && fields[3] == "0A" && fields[1].ends_with(&format!(":{port:04X}")) {
                found.push(fields[1].to_string());
            }
        }
    }
    found
}

fn builds(state: &Value, image: &str) -> Vec<Value> {
    state["images"][image]["builds"].as_array().cloned().unwrap_or_default()
}

#[test]
fn up_watch_serves_state_events_logs_and_rebuilds_behind_the_token() {
    let Some(base) = base_or_skip() else { return };
    let mut project = project(&base, "", "{}");
    project.test.set_env("OHDEV_NO_UI", "0");
    let mut watch = Watch::start_with(&mut project.test, &["--json", "up", "--watch", "--ui-port", "0"]);
    let server = Server::from_events(&watch.events());
    let image = project.image.clone();

    // Bound to loopback only.
    assert_eq!(listeners(server.port), vec![format!("0100007F:{:04X}", server.port)]);

    // Security.
    let none = server.request("GET", "/api/state", &[], "");
    assert_eq!(none.status, 401, "{}", none.body);
    let wrong = server.request("GET", "/api/state?token=0123", &[], "");
    assert_eq!(wrong.status, 401);
    let rebinding = server.request(
        "GET",
        &format!("/api/state?token={}", server.token),
        &[("Host", format!("evil.example:{}", server.port))],
        "",
    );
    assert_eq!(rebinding.status, 403, "{}", rebinding.body);
    let cross_site = server.request(
        "POST",
        &format!("/api/rebuild?token={}", server.token),
        &[("Origin", "http://evil.example".to_string()), ("Content-Type", "text/plain".to_string())],
        "{}",
    );
    assert_eq!(cross_site.status, 403, "{}", cross_site.body);
    assert!(!cross_site.head.to_ascii_lowercase().contains("access-control-"), "{}", cross_site.head);
    let page = server.request("GET", &format!("/?token={}", server.token), &[], "");
    assert_eq!(page.status, 200);
    let cookie = page
        .head
        .lines()
        .find_map(|line| line.strip_prefix("set-cookie: "))
        .expect("the page sets the cookie")
        .to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_string();
    let by_cookie = server.request("GET", "/app.js", &[("Cookie", pair)], "");
    assert_eq!(by_cookie.status, 200);
    assert!(page.body.contains("app.js") && !page.body.contains("https://"), "assets come from this server only");

    // The state after up.
    let state = server.wait_for_state(&watch, "the Deployment ready", |state| {
        state["workloads"].as_array().is_some_and(|rows| {
            rows.iter().any(|row| row["resource"] == "Deployment/web" && row["ready"] == 1 && row["desired"] == 1)
        }) && state["cluster"]["nodes"].as_array().is_some_and(|nodes| !nodes.is_empty())
    });
    assert_eq!(state["cluster"]["name"], "t");
    let tag = state["images"][&image]["tag"].as_str().expect("the image's tag").to_string();
    assert!(tag.starts_with(&project.tag_prefix()), "{tag}");
    let first_builds = builds(&state, &image);
    assert_eq!(first_builds.len(), 1, "{state:#}");
    assert_eq!(first_builds[0]["result"], "built");
    assert!(first_builds[0]["duration_ms"].is_u64());

    // Logs: a line appended to the pod's log reaches the stream.
    let pods = project
        .test
        .tool("kubectl")
        .args(["--context", "kind-t", "get", "pods", "-n", "app", "-o", "json"])
        .output()
        .unwrap();
    let pods: Value = serde_json::from_slice(&pods.stdout).expect("pods");
    let pod = pods["items"][0]["metadata"]["name"].as_str().expect("a pod").to_string();
    let logs = server.stream("/api/logs?resource=Deployment/web");
    let log_file = project.test.state_dir().join("logs/app").join(&pod).join("web.log");
    std::fs::create_dir_all(log_file.parent().unwrap()).unwrap();
    std::fs::write(&log_file, "hello from the dashboard test\n").unwrap();
    logs.wait_for(&watch, "the log line", |lines| {
        lines.iter().any(|line| line["line"] == "hello from the dashboard test" && line["pod"] == pod.as_str())
    });
    assert!(logs.head().contains("text/event-stream"), "{}", logs.head());

    // A rebuild through the API, seen on the event stream and in the history.
    let events = server.stream("/api/events");
    events.wait_for(&watch, "the replay", |events| events.iter().any(|event| event["type"] == "ready"));
    let unknown = server.request(
        "POST",
        "/api/rebuild",
        &[("Authorization", format!("Bearer {}", server.token))],
        r#"{"images": ["nope"]}"#,
    );
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    assert!(unknown.body.contains(&image), "names the images: {}", unknown.body);
    let accepted = server.request(
        "POST",
        "/api/rebuild",
        &[("Authorization", format!("Bearer {}", server.token)), ("Origin", format!("http://{}", server.host()))],
        &format!(r#"{{"images": ["{image}"]}}"#),
    );
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    let seen = events.wait_for(&watch, "the rebuild built and rolled out", |events| {
        let building = events.iter().position(|event| {
            event["type"] == "watch_status"
                && event["image"] == image.as_str()
                && event["detail"] == "requested from the dashboard"
        });
        building.is_some_and(|at| {
            events[at..]
                .iter()
                .any(|event| event["type"] == "image" && event["image"] == image.as_str() && event["state"] == "built")
                && events[at..].iter().any(|event| {
                    event["type"] == "watch_status" && event["image"] == image.as_str() && event["state"] == "idle"
                })
        })
    });
    assert!(seen.iter().all(|event| event["ts"].is_string()), "the same objects as --json");
    let state = server.state();
    let history = builds(&state, &image);
    assert_eq!(history.len(), 2, "{state:#}");
    assert_eq!(history[1]["why"], "requested from the dashboard");
    assert_eq!(history[1]["result"], "built");
    assert_eq!(watch.interrupt(), 130, "{}", watch.dump());
    assert!(listeners(server.port).is_empty(), "the dashboard stops with ohdev");
}

// ------------------------------------------------------------------------------------------
// The page in headless Chromium, driven over the DevTools protocol on a pipe
// (`--remote-debugging-pipe`: fd 3 in, fd 4 out, NUL-separated JSON), so no WebSocket client.

struct Browser {
    child: std::process::Child,
    to_browser: std::fs::File,
    from_browser: std::io::BufReader<std::fs::File>,
    next_id: u64,
    session: Option<String>,
    _profile: tempfile::TempDir,
}

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|name| {
        std::process::Command::new(name)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}

impl Browser {
    fn start(program: &str) -> Browser {
        use std::os::fd::FromRawFd;
        use std::os::unix::process::CommandExt;
        let mut to_child = [0i32; 2];
        let mut from_child = [0i32; 2];
        // SAFETY: pipe(2) into arrays of two fds.
        unsafe {
            assert_eq!(libc::pipe(to_child.as_mut_ptr()), 0);
            assert_eq!(libc::pipe(from_child.as_mut_ptr()), 0);
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let mut command = std::process::Command::new(program);
        command
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-pipe",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--disable-domain-reliability",
                "--window-size=1280,800",
                "about:blank",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let (child_reads, child_writes) = (to_child[0], from_child[1]);
        // SAFETY: between fork and exec only dup2(2), which is async-signal-safe.
        unsafe {
            command.pre_exec(move || {
                if libc::dup2(child_reads, 3) < 0 || libc::dup2(child_writes, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("chromium starts");
        // SAFETY: the fds come from pipe(2) above and are owned here from now on.
        let (to_browser, from_browser) = unsafe {
            libc::close(child_reads);
            libc::close(child_writes);
            (std::fs::File::from_raw_fd(to_child[1]), std::fs::File::from_raw_fd(from_child[0]))
        };
        Browser {
            child,
            to_browser,
            from_browser: std::io::BufReader::new(from_browser),
            next_id: 0,
            session: None,
            _profile: profile,
        }
    }

    /// One DevTools command; its result (events in between are skipped).
    fn call(&mut self, method: &str, params: Value) -> Value {
        use std::io::BufRead;
        self.next_id += 1;
        let id = self.next_id;
        let mut message = serde_json::json!({"id": id, "method": method, "params": params});
        if let Some(session) = &self.session {
            message["sessionId"] = Value::String(session.clone());
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.to_browser.write_all(&bytes).expect("write to chromium");
        loop {
            let mut buffer = Vec::new();
            let read = self.from_browser.read_until(0, &mut buffer).expect("read from chromium");
            assert!(read > 0, "chromium closed the DevTools pipe");
            buffer.pop();
            let answer: Value = serde_json::from_slice(&buffer).expect("DevTools JSON");
            if answer["id"] == id {
                assert!(answer.get("error").is_none(), "{method}: {answer}");
                return answer["result"].clone();
            }
        }
    }

    fn open(&mut self, url: &str) {
        let target = self.call("Target.createTarget", serde_json::json!({"url": url}));
        let attached =
            self.call("Target.attachToTarget", serde_json::json!({"targetId": target["targetId"], "flatten": true}));
        self.session = attached["sessionId"].as_str().map(str::to_string);
    }

    fn eval(&mut self, expression: &str) -> Value {
        let result =
            self.call("Runtime.evaluate", serde_json::json!({"expression": expression, "returnByValue": true}));
        result["result"]["value"].clone()
    }

    /// Evaluates `expression` until it is `true`.
    #[track_caller]
    fn wait_for(&mut self, watch: &Watch, what: &str, expression: &str) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if self.eval(expression) == Value::Bool(true) {
                return;
            }
            let page = self.eval("document.body.innerText");
            assert!(Instant::now() < deadline, "waited for {what}; page:\n{page}\n{}", watch.dump());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn screenshot(&mut self, path: &std::path::Path) {
        let shot = self.call("Page.captureScreenshot", serde_json::json!({"format": "png"}));
        let bytes = base64_decode(shot["data"].as_str().expect("screenshot data"));
        std::fs::write(path, bytes).expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |byte: u8| -> u32 {
        match byte {
            b'A'..=b'Z' => (byte - b'A') as u32,
            b'a'..=b'z' => (byte - b'a' + 26) as u32,
            b'0'..=b'9' => (byte - b'0' + 52) as u32,
            b'+' => 62,
            _ => 63,
        }
    };
    let clean: Vec<u8> = text.bytes().filter(|byte| *byte != b'=' && !byte.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut bits = 0u32;
        for (index, byte) in chunk.iter().enumerate() {
            bits |= value(*byte) << (18 - 6 * index);
        }
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

#[test]
fn the_page_shows_the_resources_and_its_rebuild_button_adds_a_build_to_the_history() {
    let Some(base) = base_or_skip() else { return };
    let Some(program) = chromium() else {
        eprintln!("skipped: no chromium (scripts/test.sh installs Debian's `chromium`)");
        return;
    };
    let mut project = project(&base, "", "{}");
    project.test.set_env("OHDEV_NO_UI", "0");
    let watch = Watch::start_with(&mut project.test, &["--json", "up", "--watch", "--ui-port", "0"]);
    let server = Server::from_events(&watch.events());
    let image = project.image.clone();

    let mut browser = Browser::start(program);
    browser.open(&format!("http://127.0.0.1:{}/?token={}", server.port, server.token));
    browser.wait_for(
        &watch,
        "the resource table with the image and the workload",
        &format!(
            r#"!!document.querySelector('#resources tr[data-image="{image}"]') && !!document.querySelector('#resources tr[data-resource="Deployment/web"]') && document.querySelector('#connection').textContent === 'live'"#
        ),
    );
    assert_eq!(browser.eval("location.search"), Value::String(String::new()), "the token leaves the address bar");
    browser.eval(&format!(r#"location.hash = '#/{image}'"#));
    browser.wait_for(
        &watch,
        "the history with the first build",
        "document.querySelectorAll('#history tbody tr[data-result]').length === 1",
    );
    browser.eval(&format!(r#"document.querySelector('#detail-actions button.rebuild[data-image="{image}"]').click()"#));
    browser.wait_for(
        &watch,
        "the requested build in the history",
        r#"(() => { const rows = document.querySelectorAll('#history tbody tr[data-result]'); return rows.length === 2 && rows[0].dataset.result === 'built' && rows[0].textContent.includes('requested from the dashboard'); })()"#,
    );
    browser.eval("location.hash = ''");
    browser.wait_for(&watch, "the overview again", "!document.querySelector('#overview').hidden");
    let overview = screenshot(&mut browser, "dashboard.png");

    // The workload's page follows its logs.
    let pods = project
        .test
        .tool("kubectl")
        .args(["--context", "kind-t", "get", "pods", "-n", "app", "-o", "json"])
        .output()
        .unwrap();
    let pods: Value = serde_json::from_slice(&pods.stdout).expect("pods");
    let pod = pods["items"][0]["metadata"]["name"].as_str().expect("a pod").to_string();
    browser.eval("location.hash = '#/' + encodeURIComponent('Deployment/web')");
    let log_file = project.test.state_dir().join("logs/app").join(&pod).join("web.log");
    std::fs::create_dir_all(log_file.parent().unwrap()).unwrap();
    let lines: String = (1..=5).map(|index| format!("GET /api/health 200 ({index})\n")).collect();
    std::fs::write(&log_file, lines).unwrap();
    browser.wait_for(&watch, "the log lines on the page", "document.querySelectorAll('#logs > div').length === 5");
    browser.eval("document.querySelector('#filter').value = '(3)'; document.querySelector('#filter').dispatchEvent(new Event('input'))");
    browser.wait_for(&watch, "the filter", "document.querySelectorAll('#logs > div').length === 1");
    browser.eval("document.querySelector('#filter').value = ''; document.querySelector('#filter').dispatchEvent(new Event('input'))");
    browser.wait_for(&watch, "the filter cleared", "document.querySelectorAll('#logs > div').length === 5");
    let resource = screenshot(&mut browser, "dashboard-resource.png");
    assert!(overview.exists() && resource.exists());
}

/// Saves a screenshot under target/ and checks it was written as a PNG.
fn screenshot(browser: &mut Browser, name: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_file(&path);
    browser.screenshot(&path);
    let written = std::fs::read(&path).expect("the screenshot was written");
    assert!(written.starts_with(b"\x89PNG\r\n\x1a\n") && written.len() > 1000, "a PNG: {} bytes", written.len());
    path
}

#[test]
fn a_busy_port_is_a_warning_and_watch_goes_on_without_the_dashboard() {
    let Some(base) = base_or_skip() else { return };
    let mut project = project(&base, "", "{}");
    project.test.set_env("OHDEV_NO_UI", "0");
    project.up();
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("a port to hold");
    let port = holder.local_addr().unwrap().port();
    // Watch::start_with returns once the loop says it is watching.
    let mut watch = Watch::start_with(&mut project.test, &["--json", "watch", "--ui-port", &port.to_string()]);
    let events = watch.events();
    let warning = events
        .iter()
        .find(|event| {
            event["level"] == "warn"
                && event["message"]
                    .as_str()
                    .is_some_and(|text| text.starts_with(&format!("no dashboard: cannot listen on 127.0.0.1:{port}")))
        })
        .unwrap_or_else(|| panic!("the busy port is a warning\n{}", watch.dump()));
    assert!(
        warning["hint"].as_str().is_some_and(|hint| hint.contains("--ui-port") && hint.contains("--no-ui")),
        "{warning}"
    );
    assert!(
        !events.iter().any(|event| event["message"].as_str().is_some_and(|text| text.starts_with("dashboard: "))),
        "no URL is printed for a dashboard that is not there"
    );
    assert_eq!(watch.interrupt(), 130, "{}", watch.dump());
}

#[test]
fn open_hands_the_dashboard_url_with_its_token_to_the_browser() {
    let Some(base) = base_or_skip() else { return };
    let mut project = project(&base, "", "{}");
    project.test.set_env("OHDEV_NO_UI", "0");
    project.up();
    let opened = project.test.project().join("opened.txt");
    let browser = project.test.project().join("browser.sh");
    std::fs::write(&browser, format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", opened.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    project.test.set_env("BROWSER", &browser.display().to_string());
    let mut watch = Watch::start_with(&mut project.test, &["--json", "watch", "--ui-port", "0", "--open"]);
    let url = watch
        .events()
        .iter()
        .find_map(|event| {
            event["message"].as_str().and_then(|text| text.strip_prefix("dashboard: ")).map(str::to_string)
        })
        .unwrap_or_else(|| panic!("the dashboard's URL is printed\n{}", watch.dump()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !opened.exists() {
        assert!(std::time::Instant::now() < deadline, "--open never ran $BROWSER\n{}", watch.dump());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The script writes the whole URL at once; read until it is there.
    let mut text = std::fs::read_to_string(&opened).unwrap();
    while text.len() < url.len() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        text = std::fs::read_to_string(&opened).unwrap();
    }
    assert_eq!(text, url, "the browser got the URL with its token");
    assert!(url.starts_with("http://127.0.0.1:") && url.contains("/?token="), "{url}");
    assert_eq!(watch.interrupt(), 130, "{}", watch.dump());
}
