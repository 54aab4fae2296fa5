//! What a one-line change costs to get into the cluster: through a local registry (`registry:` in
//! ohdev.yaml: ohdev pushes the changed layer only) against the `kind load` path (`docker save`
//! of the whole image, which kind then imports into every node). BENCHMARKS.md, "Registry".
//!
//! The image: `FROM <busybox>`, one 512 MiB layer of random (incompressible) bytes, then a small
//! app layer (`app.txt`). Each run appends one line to `app.txt` and runs `ohdev --json build`
//! (BuildKit through bollard, then tag + push through the Engine API), then measures:
//! - **bytes via the registry**: growth of the registry's storage (`du -sb /var/lib/registry` in
//!   its container) caused by that build, against the bytes `docker save` writes for the same tag;
//! - **push wall time**: from the image's `built` event to its `pushed` event (the `ts` of
//!   `--json` events), against the wall time of `docker save -o` of the same tag;
//! - **no change**: `ohdev --json build` again with nothing edited: registry growth (must be 0).
//!
//! Every figure is a ratio against the baseline measured in the same run. The registry runs in
//! the container ohdev creates for `registry: {host: localhost:<free port>, image: …}`; its image
//! is the integration tests' `ohdev-test/registry:*` (run `cargo test --test integration
//! stand_in_registry` once) or one imported here from Debian's docker-registry the same way.
//!
//! Usage: `cargo build --release -p ohdev -p ohdev-bench && ./target/release/registry_bytes
//! [--runs N (default 5)] [--keep]`. `ohdev` is taken from next to this binary or `$OHDEV_BIN`.
//! At the end the registry container, its volume, the images and the temp dir are removed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

const BIG_LAYER_BYTES: u64 = 512 * 1024 * 1024;

type Result<T> = std::result::Result<T, String>;

fn main() {
    if let Err(error) = run() {
        eprintln!("registry_bytes: {error}");
        std::process::exit(1);
    }
}

/// Everything this run created; removed on drop (also on an error) unless `--keep`.
struct Run {
    dir: PathBuf,
    image: String,
    port: u16,
    keep: bool,
    imported: Vec<String>,
}

impl Drop for Run {
    fn drop(&mut self) {
        if self.keep {
            eprintln!(
                "kept {}, the registry on port {} and images labelled dev.ohdev.image={}",
                self.dir.display(),
                self.port,
                self.image
            );
            return;
        }
        for container in registry_containers(self.port) {
            quiet(&["rm", "-f", "-v", &container]);
        }
        let filter = format!("label=dev.ohdev.image={}", self.image);
        if let Ok(out) =
            Command::new("docker").args(["images", "-q", "--filter", &filter]).stderr(Stdio::null()).output()
        {
            let ids: std::collections::BTreeSet<String> =
                String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_string).collect();
            for id in ids {
                quiet(&["rmi", "-f", &id]);
            }
        }
        for tag in &self.imported {
            quiet(&["rmi", tag]);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn quiet(args: &[&str]) {
    let _ = Command::new("docker").args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
}

fn run() -> Result<()> {
    let (runs, keep) = options()?;
    let started = Instant::now();
    let ohdev = ohdev_binary()?;
    let id = format!(
        "{:x}",
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |t| t.as_nanos()) ^ u128::from(std::process::id())
    );
    let short = &id[id.len() - 10..];
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
    let mut run = Run {
        dir: std::env::temp_dir().join(format!("ohdev-registry-bench-{short}")),
        image: format!("bench-reg-{short}"),
        port,
        keep,
        imported: Vec::new(),
    };
    let base = base_image(&mut run)?;
    let registry_image = registry_image(&mut run)?;
    let dir = run.dir.clone();
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;

    progress(&format!("writing {} MiB of random bytes", BIG_LAYER_BYTES >> 20));
    let status = Command::new("dd")
        .args([
            "if=/dev/urandom",
            &format!("of={}", dir.join("big.bin").display()),
            "bs=1M",
            &format!("count={}", BIG_LAYER_BYTES >> 20),
        ])
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("dd: {e}"))?;
    ensure(status.success(), "dd wrote the big layer")?;
    write(&dir.join("app.txt"), "app v0\n")?;
    write(&dir.join("Dockerfile"), "ARG BASE\nFROM ${BASE}\nCOPY big.bin /data/big.bin\nCOPY app.txt /app/app.txt\n")?;
    let image = run.image.clone();
    write(
        &dir.join("ohdev.yaml"),
        &format!(
            "cluster:\n  name: bench\nimages:\n  {image}:\n    context: .\n    build_args: {{BASE: \"{base}\"}}\nregistry:\n  host: localhost:{port}\n  image: {registry_image}\nmanifests: []\n"
        ),
    )?;
    let build = || -> Result<Build> {
        let started_at = SystemTime::now();
        let out = Command::new(&ohdev)
            .args(["--json", "build"])
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("ohdev: {e}"))?;
        let ended_at = SystemTime::now();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            return Err(format!("ohdev build failed:\n{stdout}{}", String::from_utf8_lossy(&out.stderr)));
        }
        Build::from_events(&stdout, &image, started_at, ended_at)
    };

    progress("first build and push of the whole image (gzip of 512 MiB on push)");
    let first = build()?;
    let container =
        registry_containers(port).into_iter().next().ok_or("ohdev started no registry container on the port")?;
    let first_bytes = storage_bytes(&container)?;
    progress(&format!("first push: {} in {}", human(first_bytes), seconds(first.push)));

    let mut changed = Vec::new();
    let mut unchanged = Vec::new();
    let mut saves = Vec::new();
    let tar = dir.join("save.tar");
    for index in 1..=runs {
        progress(&format!("run {index}/{runs}: one-line change"));
        let mut app = std::fs::read_to_string(dir.join("app.txt")).map_err(|e| e.to_string())?;
        app.push_str(&format!("edit {index}\n"));
        write(&dir.join("app.txt"), &app)?;
        let before = storage_bytes(&container)?;
        let built = build()?;
        ensure(built.pushed, "the changed image was pushed (a `pushed` event)")?;
        let grown = storage_bytes(&container)?.saturating_sub(before);
        changed.push((built.push, grown));

        // The kind-load path: `docker save` of the same tag (kind then imports it into each node).
        let save_started = Instant::now();
        let status = Command::new("docker")
            .args(["save", "-o", &tar.display().to_string(), &built.tag])
            .status()
            .map_err(|e| format!("docker save: {e}"))?;
        ensure(status.success(), "docker save succeeded")?;
        let save_time = save_started.elapsed();
        let save_bytes = std::fs::metadata(&tar).map_err(|e| e.to_string())?.len();
        let _ = std::fs::remove_file(&tar);
        saves.push((save_time, save_bytes));

        progress(&format!("run {index}/{runs}: no change"));
        let before = storage_bytes(&container)?;
        let again = build()?;
        let grown = storage_bytes(&container)?.saturating_sub(before);
        unchanged.push((again.total, grown, again.pushed));
    }

    let median_time = |samples: Vec<Duration>| median(samples);
    let median_bytes = |mut samples: Vec<u64>| {
        samples.sort_unstable();
        samples[samples.len() / 2]
    };
    let save_time = median_time(saves.iter().map(|s| s.0).collect());
    let save_bytes = median_bytes(saves.iter().map(|s| s.1).collect());
    let push_time = median_time(changed.iter().map(|c| c.0).collect());
    let push_bytes = median_bytes(changed.iter().map(|c| c.1).collect());
    let noop_time = median_time(unchanged.iter().map(|u| u.0).collect());
    let noop_bytes_max = unchanged.iter().map(|u| u.1).max().unwrap_or(0);
    let noop_pushes = unchanged.iter().filter(|u| u.2).count();
    let range = |samples: Vec<Duration>| {
        let mut s = samples;
        s.sort();
        format!("{} – {}", seconds(s[0]), seconds(*s.last().expect("samples")))
    };

    println!("{}\n", machine(runs, &ohdev));
    println!("| one-line change → into the cluster | bytes (median) | time (median) | time range | vs `docker save` |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| `kind load` path: `docker save` of the new tag (baseline; kind then imports it into every node) | {} | {} | {} | baseline |",
        human(save_bytes),
        seconds(save_time),
        range(saves.iter().map(|s| s.0).collect())
    );
    println!(
        "| registry path: ohdev's push of the new tag (registry storage growth; `built` → `pushed`) | {} | {} | {} | {:.0}× fewer bytes, {:.1}× less time |",
        human(push_bytes),
        seconds(push_time),
        range(changed.iter().map(|c| c.0).collect()),
        save_bytes as f64 / (push_bytes.max(1)) as f64,
        save_time.as_secs_f64() / push_time.as_secs_f64().max(1e-9)
    );
    println!(
        "| no change: `ohdev build` again (tag in Docker and in the registry: nothing pushed) | {} | {} (whole command) | {} | {} of {runs} runs pushed |",
        human(noop_bytes_max),
        seconds(noop_time),
        range(unchanged.iter().map(|u| u.0).collect()),
        noop_pushes
    );
    println!(
        "\nOne-off: first push of the whole image {} (registry storage) in {}; image {} in `docker save`.",
        human(first_bytes),
        seconds(first.push),
        human(save_bytes)
    );
    eprintln!("(total {:.0}s)", started.elapsed().as_secs_f64());
    Ok(())
}

/// One `ohdev --json build`: the image's tag, whether it was pushed, the push's wall time
/// (`built`/`up_to_date` → `pushed`), and the whole command's.
struct Build {
    tag: String,
    pushed: bool,
    push: Duration,
    total: Duration,
}

impl Build {
    fn from_events(stdout: &str, image: &str, started: SystemTime, ended: SystemTime) -> Result<Build> {
        let events: Vec<Value> = stdout.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
        let of_image =
            |state: &str| events.iter().find(|e| e["type"] == "image" && e["image"] == image && e["state"] == state);
        let built = of_image("built")
            .or_else(|| of_image("up_to_date"))
            .ok_or_else(|| format!("no built/up_to_date event for {image} in:\n{stdout}"))?;
        let tag = built["tag"].as_str().unwrap_or_default().to_string();
        let pushed = of_image("pushed");
        let push = match pushed {
            Some(event) => {
                let from = ts(built).ok_or("a `built` event without a sub-second ts")?;
                let to = ts(event).ok_or("a `pushed` event without a sub-second ts")?;
                Duration::from_nanos((to - from).max(0) as u64)
            }
            None => Duration::ZERO,
        };
        let total = ended.duration_since(started).unwrap_or_default();
        Ok(Build { tag, pushed: pushed.is_some(), push, total })
    }
}

/// RFC 3339 `ts` → nanoseconds since the epoch (UTC, `Z`), only when it has sub-second digits.
fn ts(event: &Value) -> Option<i128> {
    let text = event["ts"].as_str()?;
    let (date, time) = text.strip_suffix('Z')?.split_once('T')?;
    let mut ymd = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (ymd.next()??, ymd.next()??, ymd.next()??);
    let (hms, fraction) = time.split_once('.')?;
    let mut parts = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (parts.next()??, parts.next()??, parts.next()??);
    let nanos: i64 = format!("{fraction:0<9}")[..9].parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hh * 3600 + mm * 60 + ss) as i128) * 1_000_000_000 + nanos as i128)
}

/// Containers publishing `127.0.0.1:<port>` (the registry ohdev runs for this benchmark).
fn registry_containers(port: u16) -> Vec<String> {
    Command::new("docker")
        .args(["ps", "-a", "--filter", &format!("publish={port}"), "--format", "{{.Names}}"])
        .stderr(Stdio::null())
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

fn storage_bytes(container: &str) -> Result<u64> {
    let out = Command::new("docker")
        .args(["exec", container, "du", "-sb", "/var/lib/registry"])
        .output()
        .map_err(|e| format!("docker exec du: {e}"))?;
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().and_then(|n| n.parse().ok()).ok_or_else(|| {
        format!("`du -sb /var/lib/registry` in {container} printed nothing (the registry image needs `du`)")
    })
}

fn options() -> Result<(usize, bool)> {
    let (mut runs, mut keep) = (5, false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => {
                let value = args.next().ok_or("--runs needs a number")?;
                runs = value.parse().map_err(|_| format!("--runs {value}: not a number"))?;
                ensure(runs >= 3, "--runs at least 3")?;
            }
            "--keep" => keep = true,
            "-h" | "--help" => {
                println!("usage: registry_bytes [--runs N (default 5)] [--keep]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other} (try --help)")),
        }
    }
    Ok((runs, keep))
}

fn ohdev_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("OHDEV_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let binary = exe.parent().ok_or("no directory for this binary")?.join("ohdev");
    ensure(
        binary.is_file(),
        "ohdev next to this binary (cargo build --release -p ohdev -p ohdev-bench) or $OHDEV_BIN",
    )?;
    Ok(binary)
}

fn image_exists(reference: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", reference])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn first_listed(repository: &str) -> Option<String> {
    let out =
        Command::new("docker").args(["images", "--format", "{{.Repository}}:{{.Tag}}", repository]).output().ok()?;
    String::from_utf8_lossy(&out.stdout).lines().next().filter(|l| !l.is_empty()).map(str::to_string)
}

fn busybox() -> Result<&'static str> {
    ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .ok_or_else(|| "no /bin/busybox: apt-get install busybox-static".to_string())
}

/// `tar` of a busybox rootfs (plus `extra`, a shell snippet run in `$root`) piped to `docker import`.
fn import(reference: &str, extra: &str, changes: &[&str]) -> Result<()> {
    let busybox = busybox()?;
    let changes: String = changes.iter().map(|c| format!(" -c '{c}'")).collect();
    let script = format!(
        "set -e; root=$(mktemp -d); trap 'rm -rf \"$root\"' EXIT; mkdir -p \"$root/bin\" \"$root/tmp\" \"$root/etc\"; cp {busybox} \"$root/bin/busybox\"; \
         for applet in $({busybox} --list); do [ \"$applet\" = busybox ] || ln -s /bin/busybox \"$root/bin/$applet\"; done; {extra} \
         tar -C \"$root\" -c . | docker import{changes} - {reference} >/dev/null"
    );
    let status = Command::new("sh").args(["-c", &script]).status().map_err(|e| e.to_string())?;
    ensure(status.success(), &format!("importing {reference}"))
}

fn base_image(run: &mut Run) -> Result<String> {
    if image_exists("busybox:latest") {
        return Ok("busybox:latest".into());
    }
    if let Some(found) = first_listed("ohdev-test/busybox") {
        return Ok(found);
    }
    let reference = "ohdev-bench/busybox:latest".to_string();
    import(&reference, "", &[])?;
    run.imported.push(reference.clone());
    Ok(reference)
}

fn registry_image(run: &mut Run) -> Result<String> {
    if let Some(found) = first_listed("ohdev-test/registry") {
        return Ok(found);
    }
    for file in ["/usr/bin/docker-registry", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"] {
        ensure(Path::new(file).exists(), &format!("{file} (apt-get install docker-registry)"))?;
    }
    let reference = "ohdev-bench/registry:latest".to_string();
    progress(&format!("importing Debian's docker-registry as {reference}"));
    let extra = "mkdir -p \"$root/lib/x86_64-linux-gnu\" \"$root/lib64\" \"$root/var/lib/registry\" \"$root/etc/docker/registry\"; \
         cp /usr/bin/docker-registry \"$root/bin/registry\"; cp /lib/x86_64-linux-gnu/libc.so.6 \"$root/lib/x86_64-linux-gnu/\"; \
         cp /lib64/ld-linux-x86-64.so.2 \"$root/lib64/\"; \
         printf 'version: 0.1\\nlog:\\n  level: warn\\nstorage:\\n  filesystem:\\n    rootdirectory: /var/lib/registry\\n  delete:\\n    enabled: true\\nhttp:\\n  addr: :5000\\n' > \"$root/etc/docker/registry/config.yml\";";
    import(
        &reference,
        extra,
        &["ENTRYPOINT [\"/bin/registry\", \"serve\", \"/etc/docker/registry/config.yml\"]", "EXPOSE 5000"],
    )?;
    run.imported.push(reference.clone());
    Ok(reference)
}

fn write(path: &Path, content: &str) -> Result<()> {
    std::fs::write(path, content).map_err(|e| format!("{}: {e}", path.display()))
}

fn ensure(condition: bool, what: &str) -> Result<()> {
    if condition {
        Ok(())
    } else {
        Err(format!("expected: {what}"))
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let middle = samples.len() / 2;
    if samples.len() % 2 == 1 {
        samples[middle]
    } else {
        (samples[middle - 1] + samples[middle]) / 2
    }
}

fn seconds(duration: Duration) -> String {
    let s = duration.as_secs_f64();
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

fn human(bytes: u64) -> String {
    if bytes >= 10 * 1024 * 1024 {
        format!("{:.0} MiB", bytes as f64 / 1024.0 / 1024.0)
    } else if bytes >= 10 * 1024 {
        format!("{:.0} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

fn machine(runs: usize, ohdev: &Path) -> String {
    let build = if ohdev.components().any(|part| part.as_os_str() == "debug") {
        "debug build of ohdev"
    } else {
        "release build"
    };
    let cores = std::thread::available_parallelism().map_or(0, |c| c.get());
    let docker = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("{date}; {cores} cores; Docker Engine {docker}; {build}; medians of {runs} runs per row")
}

fn progress(message: &str) {
    eprintln!("registry_bytes: {message}");
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn rfc3339_timestamps_with_fractions() {
        assert_eq!(super::ts(&json!({"ts": "1970-01-01T00:00:01.5Z"})), Some(1_500_000_000));
        assert_eq!(super::ts(&json!({"ts": "2026-12-03T12:40:47.123456789Z"})), Some(1_796_301_647_123_456_789));
        assert_eq!(super::ts(&json!({"ts": "2026-12-03T12:40:47Z"})), None, "no sub-second digits");
    }
}
