//! How fast `ohdev watch` reacts to a save (BENCHMARKS.md, "Dev loop"), against the kind/kubectl
//! stand-in (`crates/fake-kube`) and the real Docker engine:
//!
//! 1. save → build start: write `app/main.txt` (a context file), take the wall-clock time when the
//!    write returns; the end is the `ts` of the `watch_status` `building` event of the image
//!    (RFC 3339, ns; if `ts` had no sub-second digits, the time the line was read instead, and the
//!    output says so). Each edit waits for `idle` (rebuild, `kind load`, rollout) before the next.
//!    Each rebuild is also traced phase by phase from the events' `ts` (batching window, build,
//!    `kind load`, render, apply, readiness, the end), with the kubectl calls the stand-in recorded
//!    (`at_ms` in its calls.jsonl) between the save and `idle`.
//! 2. save → file in the container: write `app/app/server/main.py` (under the fixture's sync rule
//!    `{src: "app/**/*.py", dest: /srv/app}`) and poll every 0.2 ms until the stand-in's
//!    `kubectl exec -i … -- tar -x` has unpacked exactly that content under
//!    `$FAKE_KUBE_STATE/fs/app/<pod>/web/srv/app/server/main.py`; then wait for `idle`.
//!
//! The project is tests/fixtures/watch (one busybox image, `COPY . /srv/`, a Deployment naming it)
//! in a temp dir, with the stand-in linked as `kind` and `kubectl` first on PATH; `ohdev up` first,
//! then `ohdev --json watch`. Needs a running Docker daemon, the docker CLI and a base image:
//! `busybox:latest` or the integration tests' `ohdev-test/busybox:*` (run `cargo test` once).
//!
//! Usage: `cargo build --release -p ohdev -p fake-kube -p ohdev-bench && ./target/release/watch_latency
//! [--edits N] [--rollout-ms MS] [--pause-ms MS] [--keep]`. `--rollout-ms` is the stand-in's rollout time
//! (`FAKE_KUBE_ROLLOUT_MS`, default 200: a workload is Ready that long after its apply, however
//! often it is read). Between one rebuild's `idle` and the next save the bench pauses 0–999 ms, a
//! different time each edit (`--pause-ms MS`: always MS): Docker Engine 20.10's BuildKit finishes
//! "exporting to image" just after a whole second of the wall clock (measured with plain API
//! builds too), so saves made right after `idle` would lock the loop to that tick and every
//! sample would be a whole number of seconds; real saves are not in step with the daemon. `ohdev` and `fake-kube` are taken from next to this binary, or from
//! `$OHDEV_BIN` / `$FAKE_KUBE_BIN`. At the end the watch gets SIGINT, and the temp dir and every
//! image labelled `dev.ohdev.image=<this run's image name>` are removed (unless `--keep`).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/watch");
const CLUSTER_YAML: &str = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n";
const POLL: Duration = Duration::from_micros(200);
/// How long any one awaited result may take (a rebuild on a loaded 2-core machine); not a measurement.
const DEADLINE: Duration = Duration::from_secs(180);
const SYNCED: &str = "srv/app/server/main.py";

type Result<T> = std::result::Result<T, String>;

fn main() {
    if let Err(error) = run() {
        eprintln!("watch_latency: {error}");
        std::process::exit(1);
    }
}

/// Everything this run created; removed on drop (also on an error) unless `--keep`.
struct Run {
    dir: PathBuf,
    image: String,
    keep: bool,
    watch: Option<Child>,
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Some(mut child) = self.watch.take() {
            // SAFETY: signalling the child this process spawned and has not reaped yet.
            unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
            for _ in 0..1500 {
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20)); // 30 s at most, then SIGKILL below
            }
            let _ = child.kill().and_then(|()| child.wait().map(drop));
        }
        if self.keep {
            eprintln!("kept {} (project, watch-events.jsonl, the stand-in's state in .fake-kube) and the images labelled dev.ohdev.image={}", self.dir.display(), self.image);
            return;
        }
        let filter = format!("label=dev.ohdev.image={}", self.image);
        if let Ok(output) =
            Command::new("docker").args(["images", "-q", "--filter", &filter]).stderr(Stdio::null()).output()
        {
            let ids: std::collections::BTreeSet<String> =
                String::from_utf8_lossy(&output.stdout).split_whitespace().map(str::to_string).collect();
            if !ids.is_empty() {
                let _ = Command::new("docker")
                    .args(["rmi", "-f"])
                    .args(&ids)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run() -> Result<()> {
    let Options { edits, rollout_ms, pause_ms, keep } = options()?;
    let exe_dir = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .parent()
        .ok_or("no directory for this binary")?
        .to_path_buf();
    let ohdev = binary(&exe_dir, "OHDEV_BIN", "ohdev")?;
    let fake_kube = binary(&exe_dir, "FAKE_KUBE_BIN", "fake-kube")?;
    let base = base_image()?;
    let id = format!(
        "{:x}",
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |time| time.as_nanos()) ^ u128::from(std::process::id())
    );
    let mut run = Run {
        dir: std::env::temp_dir().join(format!("ohdev-watch-bench-{id}")),
        image: format!("bench-watch-{}", &id[id.len() - 10..]),
        keep,
        watch: None,
    };
    let dir = run.dir.clone();
    let (image, state) = (run.image.clone(), dir.join(".fake-kube"));

    // The fixture project, with this run's image name, and the stand-in as kind and kubectl.
    copy_dir(&Path::new(FIXTURE).join("app"), &dir.join("app"))?;
    let manifest = std::fs::read_to_string(Path::new(FIXTURE).join("k8s/app.yaml"))
        .map_err(|e| format!("the watch fixture: {e}"))?;
    write(&dir.join("k8s/app.yaml"), &manifest.replace("image: IMAGE", &format!("image: {image}")))?;
    write(&dir.join("kind/cluster.yaml"), CLUSTER_YAML)?;
    let config = format!("cluster:\n  name: bench\nnamespace: app\nimages:\n  {image}:\n    context: app\n    dockerfile: Dockerfile\n    build_args: {{BASE: \"{base}\"}}\n    sync:\n      - {{src: \"app/**/*.py\", dest: /srv/app}}\nmanifests: [k8s]\n");
    write(&dir.join("ohdev.yaml"), &config)?;
    std::fs::create_dir_all(dir.join(".bin"))
        .and_then(|()| std::fs::create_dir_all(&state))
        .map_err(|e| e.to_string())?;
    for tool in ["kind", "kubectl"] {
        std::os::unix::fs::symlink(&fake_kube, dir.join(".bin").join(tool))
            .map_err(|e| format!("linking {tool}: {e}"))?;
    }
    let path = format!("{}:{}", dir.join(".bin").display(), std::env::var("PATH").unwrap_or_default());
    let command = |args: &[&str]| {
        let mut command = Command::new(&ohdev);
        command
            .args(args)
            .current_dir(&dir)
            .env("PATH", &path)
            .env("FAKE_KUBE_STATE", &state)
            .env("FAKE_KUBE_ROLLOUT_MS", rollout_ms.to_string())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        command
    };

    progress(&format!("ohdev up ({image}, base {base}) in {}", dir.display()));
    let up = command(&["--json", "up"]).output().map_err(|e| format!("ohdev: {e}"))?;
    if !up.status.success() {
        return Err(format!(
            "ohdev up failed:\n{}{}",
            String::from_utf8_lossy(&up.stdout),
            String::from_utf8_lossy(&up.stderr)
        ));
    }
    let stderr = std::fs::File::create(dir.join("watch-stderr.txt")).map_err(|e| e.to_string())?;
    let mut child = command(&["--json", "watch"])
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("ohdev watch: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    run.watch = Some(child);
    let events = read_events(stdout, dir.join("watch-events.jsonl"))?;
    wait_for(&events, "the `watching … for changes` message", |event| {
        event["type"] == "message" && event["message"].as_str().is_some_and(|m| m.starts_with("watching "))
    })?;

    // 1. A context file: save → `building`, each edit on an idle loop, traced phase by phase.
    let (mut to_build, mut to_idle, mut on_receipt) = (Vec::new(), Vec::new(), 0);
    let (mut phases, mut windows) = (vec![Vec::new(); PHASES.len()], Vec::new());
    for edit in 1..=edits {
        progress(&format!("rebuild {edit}/{edits}"));
        std::thread::sleep(pause(pause_ms, edit));
        let saved = save(&dir.join("app/main.txt"), &format!("v{edit} {id}\n"))?;
        let seen =
            wait_for_all(&events, "watch_status idle after the rebuild", |event| is_status(event, &image, "idle"))?;
        let (building, received) = seen
            .iter()
            .find(|(event, _)| is_status(event, &image, "building"))
            .ok_or_else(|| format!("rebuild {edit}: `idle` came without `building`"))?;
        let (start, exact) = event_time(building, *received)?;
        on_receipt += usize::from(!exact);
        to_build.push(millis(saved, start));
        let (idle, received) = seen.last().ok_or("no events")?;
        let idle = event_time(idle, *received)?.0;
        to_idle.push(millis(saved, idle));
        for (phase, ms) in trace(saved, &seen)?.into_iter().enumerate() {
            phases[phase].push(ms);
        }
        windows.push((saved, idle));
    }
    let (reads, kubectl_calls) = calls_during(&state.join("calls.jsonl"), &windows)?;

    // 2. A file under the sync rule: save → the new content in the stand-in's container fs.
    let mut to_file = Vec::new();
    for edit in 1..=edits {
        progress(&format!("sync {edit}/{edits}"));
        let content = format!("print(\"v{edit} {id}\")\n");
        let saved = save(&dir.join("app/app/server/main.py"), &content)?;
        let deadline = Instant::now() + DEADLINE;
        while !synced(&state.join("fs/app"), &content) {
            if Instant::now() > deadline {
                return Err(format!(
                    "sync {edit}: the file never appeared under {}",
                    state.join("fs/app/<pod>/web").join(SYNCED).display()
                ));
            }
            std::thread::sleep(POLL);
        }
        to_file.push(millis(saved, SystemTime::now()));
        let (idle, _) = wait_for(&events, "watch_status idle after the sync", |event| {
            is_status(event, &image, "idle") || is_status(event, &image, "building")
        })?;
        if idle["state"] != "idle" || !idle["detail"].as_str().is_some_and(|detail| detail.starts_with("synced 1 file"))
        {
            return Err(format!("sync {edit} did not end in a sync: {idle}"));
        }
    }

    let cores = std::thread::available_parallelism().map_or(0, |count| count.get());
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let args: String = std::env::args().skip(1).map(|arg| format!(" {arg}")).collect();
    println!("`cargo build --release -p ohdev -p fake-kube -p ohdev-bench && ./target/release/watch_latency{args}`\n");
    println!(
        "{date}, Linux {}, {cores} cores, release build, {edits} edits each; stand-in rollout {rollout_ms} ms; base image {base}; build start = {}:\n",
        std::env::consts::ARCH,
        if on_receipt == 0 {
            "the `ts` of the `building` event (RFC 3339, sub-second)".to_string()
        } else {
            format!("the time the `building` line was read in {on_receipt} of {edits} edits (their `ts` had no sub-second digits), else its `ts`")
        }
    );
    println!("| measurement (ms) | p50 | p90 | p95 | min | max |\n|---|---:|---:|---:|---:|---:|");
    println!("| save → build start | {} |", stats(&to_build));
    println!("| save → file in the container, sync rule (stand-in) | {} |", stats(&to_file));
    println!(
        "| save → rolled out (`idle` after build, `kind load`, apply, readiness; stand-in) | {} |",
        stats(&to_idle)
    );
    println!("\nOne rebuild, phase by phase (each phase's own p50/p90 over the {edits} rebuilds; events' `ts`):\n");
    println!("| phase (ms) | p50 | p90 | p95 | min | max |\n|---|---:|---:|---:|---:|---:|");
    for (name, samples) in PHASES.iter().zip(&phases) {
        println!("| {name} | {} |", stats(samples));
    }
    println!(
        "\nkubectl calls per rebuild (save → `idle`), p50 (max): {} ({}), of which readiness reads of the Deployment {} ({}).",
        median(&kubectl_calls),
        kubectl_calls.iter().max().unwrap_or(&0),
        median(&reads),
        reads.iter().max().unwrap_or(&0)
    );
    Ok(())
}

/// The pause before edit `edit`: `fixed`, or a spread of 0–999 ms (golden-ratio steps, so any
/// run of edits covers the second evenly).
fn pause(fixed: Option<u64>, edit: usize) -> Duration {
    let spread = (edit as f64 * 0.618_033_988_75).fract() * 1000.0;
    Duration::from_millis(fixed.unwrap_or(spread as u64))
}

/// The phases of one rebuild, in order; [`trace`] measures each from the events' `ts`.
const PHASES: [&str; 7] = [
    "save → `building` (batching window, inotify)",
    "digest + BuildKit build (→ image `built`)",
    "into the cluster: `kubectl get nodes`, `kind load` (→ `loaded`)",
    "render, ledger (→ step `deploy` started)",
    "apply (→ last `apply:…` done)",
    "readiness: the stand-in's rollout + ohdev seeing it (→ `deploy` done)",
    "record, report (→ `idle`)",
];

/// Each phase's duration (ms) from the events of one rebuild (`seen`, ending with `idle`).
fn trace(saved: SystemTime, seen: &[(Value, SystemTime)]) -> Result<Vec<f64>> {
    let time = |what: &str, pick: &dyn Fn(&Value) -> bool, last: bool| -> Result<SystemTime> {
        let mut matching = seen.iter().filter(|(event, _)| pick(event));
        let found = if last { matching.last() } else { matching.next() };
        let (event, received) = found.ok_or_else(|| format!("no {what} event in a rebuild"))?;
        Ok(event_time(event, *received)?.0)
    };
    let image_state = |states: &'static [&'static str]| {
        move |event: &Value| event["type"] == "image" && states.iter().any(|state| event["state"] == *state)
    };
    let step = |id: &'static str, state: &'static str| {
        move |event: &Value| {
            event["type"] == "step"
                && event["state"] == state
                && event["id"]
                    .as_str()
                    .is_some_and(|event_id| event_id == id || (id == "apply:" && event_id.starts_with(id)))
        }
    };
    let building = time("building", &|event| event["type"] == "watch_status" && event["state"] == "building", false)?;
    let built = time("image built", &image_state(&["built", "up_to_date"]), false)?;
    let loaded = time("image loaded", &image_state(&["built", "up_to_date", "loaded", "already_loaded"]), true)?;
    let deploy = time("deploy started", &step("deploy", "started"), false)?;
    let applied = time("apply done", &step("apply:", "done"), true)?;
    let ready = time("deploy done", &step("deploy", "done"), false)?;
    let idle = time("idle", &|event| event["type"] == "watch_status" && event["state"] == "idle", true)?;
    Ok([saved, building, built, loaded, deploy, applied, ready, idle]
        .windows(2)
        .map(|pair| millis(pair[0], pair[1]))
        .collect())
}

/// Per window (save → `idle`): the readiness reads of a Deployment and all kubectl calls the
/// stand-in recorded (`at_ms`).
fn calls_during(calls: &Path, windows: &[(SystemTime, SystemTime)]) -> Result<(Vec<usize>, Vec<usize>)> {
    let text = std::fs::read_to_string(calls).map_err(|e| format!("{}: {e}", calls.display()))?;
    let recorded: Vec<(u64, bool)> = text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|call| call["tool"] == "kubectl")
        .filter_map(|call| {
            let argv: Vec<&str> = call["argv"].as_array()?.iter().filter_map(Value::as_str).collect();
            let read = argv.contains(&"get") && argv.iter().any(|arg| arg.starts_with("deployment"));
            Some((call["at_ms"].as_u64()?, read))
        })
        .collect();
    let ms = |time: SystemTime| time.duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as u64);
    let mut reads = Vec::new();
    let mut all = Vec::new();
    for (from, to) in windows {
        let inside: Vec<&(u64, bool)> = recorded.iter().filter(|(at, _)| (ms(*from)..=ms(*to)).contains(at)).collect();
        all.push(inside.len());
        reads.push(inside.iter().filter(|(_, read)| *read).count());
    }
    if all.iter().all(|count| *count == 0) {
        return Err(format!(
            "no kubectl call with `at_ms` in {}: is the stand-in older than this benchmark?",
            calls.display()
        ));
    }
    Ok((reads, all))
}

fn median(counts: &[usize]) -> usize {
    let mut sorted = counts.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or(0)
}

struct Options {
    edits: usize,
    rollout_ms: u64,
    /// A pause between one rebuild's `idle` and the next save; `None`: a different one each time,
    /// 0–999 ms (see [`pause`]).
    pause_ms: Option<u64>,
    keep: bool,
}

fn options() -> Result<Options> {
    let (mut edits, mut rollout_ms, mut pause_ms, mut keep) = (50, 200, None, false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--edits" => {
                let value = args.next().ok_or("--edits needs a number")?;
                edits = value.parse().map_err(|_| format!("--edits {value}: not a number"))?;
                if edits < 5 {
                    return Err("--edits must be at least 5".into());
                }
            }
            "--rollout-ms" => {
                let value = args.next().ok_or("--rollout-ms needs a number of milliseconds")?;
                rollout_ms = value.parse().map_err(|_| format!("--rollout-ms {value}: not a number"))?;
            }
            "--pause-ms" => {
                let value = args.next().ok_or("--pause-ms needs a number of milliseconds")?;
                pause_ms = Some(value.parse().map_err(|_| format!("--pause-ms {value}: not a number"))?);
            }
            "--keep" => keep = true,
            "-h" | "--help" => {
                println!("usage: ./target/release/watch_latency [--edits N (default 50, at least 5)] [--rollout-ms MS (the stand-in's rollout time, default 200)] [--pause-ms MS (between a rebuild's idle and the next save; default a different one each time, 0-999)] [--keep]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other} (try --help)")),
        }
    }
    Ok(Options { edits, rollout_ms, pause_ms, keep })
}

fn binary(exe_dir: &Path, variable: &str, name: &str) -> Result<PathBuf> {
    let path = std::env::var_os(variable).map_or_else(|| exe_dir.join(name), PathBuf::from);
    let missing = format!(
        "{} not found: run `cargo build --release -p ohdev -p fake-kube` first, or set {variable}",
        path.display()
    );
    path.is_file().then_some(path).ok_or(missing)
}

/// `busybox:latest`, else the integration tests' `ohdev-test/busybox:*` (never imported here).
fn base_image() -> Result<String> {
    let inspect = Command::new("docker")
        .args(["image", "inspect", "busybox:latest"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if inspect.map_err(|e| format!("docker: {e}"))?.success() {
        return Ok("busybox:latest".into());
    }
    let listed = Command::new("docker")
        .args(["images", "--format", "{{.Repository}}:{{.Tag}}", "ohdev-test/busybox"])
        .output()
        .map_err(|e| format!("docker: {e}"))?;
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    listed.lines().next().filter(|line| !line.is_empty()).map(str::to_string).ok_or_else(|| {
        "no busybox:latest nor ohdev-test/busybox:* image: `docker pull busybox` or run `cargo test` once".to_string()
    })
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let target = to.join(entry.file_name());
        if entry.file_type().map_err(|e| e.to_string())?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            write(&target, &std::fs::read_to_string(entry.path()).map_err(|e| e.to_string())?)?;
        }
    }
    Ok(())
}

fn write(path: &Path, content: &str) -> Result<()> {
    std::fs::create_dir_all(path.parent().ok_or("no parent")?)
        .and_then(|()| std::fs::write(path, content))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes the file; the save time is when the write (open, write, close) has returned.
fn save(path: &Path, content: &str) -> Result<SystemTime> {
    write(path, content)?;
    Ok(SystemTime::now())
}

/// A reader thread: every stdout line of the watch, stamped when read, also kept in `log`.
fn read_events(stdout: impl std::io::Read + Send + 'static, log: PathBuf) -> Result<Receiver<(Value, SystemTime)>> {
    let mut log = std::fs::File::create(log).map_err(|e| e.to_string())?;
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(|line| line.ok()) {
            let received = SystemTime::now();
            let _ = writeln!(log, "{line}");
            let event =
                serde_json::from_str(&line).unwrap_or_else(|_| serde_json::json!({"type": "not-json", "line": line}));
            if sender.send((event, received)).is_err() {
                break;
            }
        }
    });
    Ok(receiver)
}

/// The next event matching `done`; an `error` or `stopped` watch status, or the end of the watch, is an error.
fn wait_for(
    events: &Receiver<(Value, SystemTime)>,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Result<(Value, SystemTime)> {
    wait_for_all(events, what, done)?.pop().ok_or_else(|| format!("no {what}"))
}

/// Like [`wait_for`], returning every event up to and including the one matching `done`.
fn wait_for_all(
    events: &Receiver<(Value, SystemTime)>,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Result<Vec<(Value, SystemTime)>> {
    let deadline = Instant::now() + DEADLINE;
    let mut seen = Vec::new();
    loop {
        let (event, received) = match events.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(next) => next,
            Err(RecvTimeoutError::Timeout) => return Err(format!("no {what} within {DEADLINE:?}")),
            Err(RecvTimeoutError::Disconnected) => {
                return Err(format!("no {what} (ohdev watch ended? see watch-stderr.txt, --keep)"))
            }
        };
        if event["type"] == "watch_status" && (event["state"] == "error" || event["state"] == "stopped") {
            return Err(format!("ohdev watch: {event}"));
        }
        let matched = done(&event);
        seen.push((event, received));
        if matched {
            return Ok(seen);
        }
    }
}

fn is_status(event: &Value, image: &str, state: &str) -> bool {
    event["type"] == "watch_status" && event["image"] == image && event["state"] == state
}

/// The event's `ts` and true when it has sub-second digits; else the time it was read and false.
fn event_time(event: &Value, received: SystemTime) -> Result<(SystemTime, bool)> {
    let ts = event["ts"].as_str().ok_or_else(|| format!("no ts in {event}"))?;
    let nanos = parse_ts(ts).ok_or_else(|| format!("ts {ts}: not RFC 3339 in UTC"))?;
    if !ts.contains('.') {
        return Ok((received, false));
    }
    Ok((UNIX_EPOCH + Duration::from_nanos(u64::try_from(nanos).map_err(|_| format!("ts {ts}: before 1970"))?), true))
}

/// `ts` as ohdev writes it (RFC 3339 in UTC: `2026-11-29T19:55:01.123456789Z`) → ns since the Unix epoch.
fn parse_ts(ts: &str) -> Option<i128> {
    let number = |range: std::ops::Range<usize>| ts.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let seconds = number(11..13)? * 3600 + number(14..16)? * 60 + number(17..19)?;
    let fraction = ts.get(19..)?.strip_suffix('Z')?;
    let nanos = if fraction.is_empty() {
        0
    } else {
        format!("{:0<9}", fraction.strip_prefix('.')?).get(..9)?.parse::<i64>().ok()?
    };
    // Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let (era, year_of_era) = (y.div_euclid(400), y.rem_euclid(400));
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let days = era * 146_097 + year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year - 719_468;
    Some(i128::from(days * 86_400 + seconds) * 1_000_000_000 + i128::from(nanos))
}

/// True when some pod's `web` container under `fs_app` holds exactly `content` at [`SYNCED`].
fn synced(fs_app: &Path, content: &str) -> bool {
    let Ok(pods) = std::fs::read_dir(fs_app) else { return false };
    pods.filter_map(|pod| pod.ok())
        .any(|pod| std::fs::read(pod.path().join("web").join(SYNCED)).is_ok_and(|bytes| bytes == content.as_bytes()))
}

fn millis(from: SystemTime, to: SystemTime) -> f64 {
    match to.duration_since(from) {
        Ok(elapsed) => elapsed.as_secs_f64() * 1000.0,
        Err(before) => -before.duration().as_secs_f64() * 1000.0,
    }
}

/// `p50 | p90 | p95 | min | max` in ms (p90, p95: nearest rank).
fn stats(samples: &[f64]) -> String {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let p50 = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
    let rank = |percent: usize| sorted[(n * percent).div_ceil(100) - 1];
    format!("{p50:.1} | {:.1} | {:.1} | {:.1} | {:.1}", rank(90), rank(95), sorted[0], sorted[n - 1])
}

fn progress(message: &str) {
    eprintln!("watch_latency: {message}");
}
