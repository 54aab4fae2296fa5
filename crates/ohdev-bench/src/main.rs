//! ohdev's image-phase benchmarks, each against a baseline measured in the same run:
//!
//! 1. the digest of a generated 20,000-file / 200 MB context, without and with the hash cache,
//!    against `tar -c | sha256sum` of the same tree;
//! 2. a no-op `ohdev build` (the tag exists) against a fully cached build of the same image,
//!    BuildKit through bollard (`ohdev build --force`) and the classic `docker build` CLI;
//! 3. BuildKit through bollard (`ohdev build`) against the classic `docker build` CLI on one
//!    multi-stage Dockerfile (two independent stages the target needs, one it does not).
//!
//! Usage: `cargo run --release -p ohdev-bench [-- --runs N] [-- --keep]`. Needs a running Docker
//! daemon and the docker CLI; the base image is `busybox:latest`, else the test suite's
//! `ohdev-test/busybox:*`, else one imported here from Debian's busybox-static. Prints a
//! markdown table of medians (of `--runs`, default 7, at least 5) and ratios. Everything it
//! creates (the temp tree, images, tags) is removed at the end unless `--keep`.
//!
//! The `ohdev` binary measured is the release build of this workspace (`cargo build --release
//! --bin ohdev`, run first), or `$OHDEV_BIN`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ohdev::image::context;
use ohdev::image::digest::{self, DigestInput, HashCache};

const FILES: usize = 20_000;
const BYTES: u64 = 200_000_000;

type Result<T> = std::result::Result<T, String>;

fn main() {
    match run() {
        Ok(()) => {}
        Err(error) => {
            eprintln!("ohdev-bench: {error}");
            std::process::exit(1);
        }
    }
}

struct Options {
    runs: usize,
    keep: bool,
}

fn options() -> Result<Options> {
    let mut options = Options { runs: 7, keep: false };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => {
                let value = args.next().ok_or("--runs needs a number")?;
                options.runs = value.parse().map_err(|_| format!("--runs {value}: not a number"))?;
                if options.runs < 5 {
                    return Err("--runs must be at least 5 (medians of ≥ 5 runs)".into());
                }
            }
            "--keep" => options.keep = true,
            "-h" | "--help" => {
                println!("usage: cargo run --release -p ohdev-bench [-- --runs N (default 7, ≥ 5)] [-- --keep]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other} (try --help)")),
        }
    }
    Ok(options)
}

fn run() -> Result<()> {
    let options = options()?;
    let started = Instant::now();
    let ohdev = ohdev_binary()?;
    check(
        Command::new("docker").args(["version", "--format", "{{.Server.Version}}"]),
        "the docker CLI and a running daemon",
    )?;
    let mut cleanup = Cleanup::default();
    cleanup.keep = options.keep;
    let base = base_image(&mut cleanup)?;
    let id = format!("{:x}", std::process::id() as u64 ^ now_nanos());
    let work = std::env::temp_dir().join(format!("ohdev-bench-{id}"));
    std::fs::create_dir_all(&work).map_err(|error| format!("{}: {error}", work.display()))?;
    cleanup.dirs.push(work.clone());
    let result = benchmarks(&options, &ohdev, &base, &id, &work, &mut cleanup);
    drop(cleanup);
    let report = result?;
    println!("{report}");
    eprintln!("(total {:.0}s)", started.elapsed().as_secs_f64());
    Ok(())
}

fn benchmarks(
    options: &Options,
    ohdev: &Path,
    base: &str,
    id: &str,
    work: &Path,
    cleanup: &mut Cleanup,
) -> Result<String> {
    let runs = options.runs;
    let ctx = work.join("ctx");
    progress(&format!("generating {FILES} files / {} MB in {}", BYTES / 1_000_000, ctx.display()));
    let (files, bytes) = generate(&ctx)?;
    std::fs::write(ctx.join(".dockerignore"), "**/*.log\n").map_err(io)?;
    std::fs::write(ctx.join("Dockerfile"), "ARG BASE\nFROM ${BASE}\nCOPY . /ctx\nRUN find /ctx -type f | wc -l\n")
        .map_err(io)?;
    // Files modified within the hash cache's racy window (2 s) are not remembered.
    std::thread::sleep(Duration::from_millis(2_200));

    // 1. Digest: cold (no hash cache: every file read), warm (cache: stat only), tar | sha256sum.
    progress("1/3 digest");
    let input = DigestInput {
        dockerfile_rel: PathBuf::from("Dockerfile"),
        target: None,
        build_args: BTreeMap::from([("BASE".to_string(), base.to_string())]),
        platform: None,
    };
    let cache_file = work.join("digest-cache.json");
    // As `ohdev::image::digest_image` does it: the cache is read while the walk runs,
    // and written only when it changed.
    let digest_once = |cold: bool| -> Result<(Duration, usize, String)> {
        let started = Instant::now();
        let (walked, cache) = std::thread::scope(|scope| {
            let loader = scope.spawn(|| if cold { Ok(HashCache::new()) } else { HashCache::load(&cache_file) });
            let walked = context::walk(&ctx, Path::new("Dockerfile"));
            (walked, loader.join().expect("cache loader"))
        });
        let (walked, mut cache) = (walked.map_err(io)?, cache.map_err(io)?);
        let report = digest::digest(&walked, &input, &mut cache).map_err(io)?;
        if cache.changed() {
            cache.save(&cache_file).map_err(io)?;
        }
        Ok((started.elapsed(), report.files_hashed, report.digest.hex()))
    };
    let tar_command = format!("tar -cf - -C '{}' . | sha256sum >/dev/null", ctx.display());
    let (mut cold, mut warm, mut tar) = (Vec::new(), Vec::new(), Vec::new());
    let (_, _, reference) = digest_once(true)?;
    for _ in 0..runs {
        let (time, hashed, digest) = digest_once(true)?;
        ensure(hashed >= FILES && digest == reference, "a cold digest read every file and gave the same digest")?;
        cold.push(time);
        let (time, hashed, digest) = digest_once(false)?;
        ensure(hashed == 0 && digest == reference, "a warm digest read no file and gave the same digest")?;
        warm.push(time);
        tar.push(timed(Command::new("sh").args(["-c", &tar_command]), "tar | sha256sum")?.0);
    }

    // 2. No-op `ohdev build` against fully cached builds of the same image.
    progress("2/3 no-op build vs cached builds");
    let project = work.join("project");
    let image = format!("bench-{id}");
    cleanup.ohdev_images.push(image.clone());
    write_project(&project, &image, &ctx, &[("BASE", base)])?;
    let ohdev_build = |extra: &[&str]| -> Result<(Duration, String)> {
        let mut command = Command::new(ohdev);
        command.args(["--color", "never", "-C"]).arg(&project).arg("build").args(extra);
        timed(&mut command, "ohdev build")
    };
    let (first_build, _) = ohdev_build(&[])?;
    let (_, warmup) = ohdev_build(&[])?;
    ensure(warmup.contains("is up to date"), "the second `ohdev build` found its tag")?;
    let classic_tag = format!("ohdev-bench/ctx-classic:{id}");
    cleanup.tags.push(classic_tag.clone());
    let classic_build = |dir: &Path, tag: &str, args: &[(&str, &str)], cleanup: &mut Cleanup| -> Result<Duration> {
        let mut command = Command::new("docker");
        command.env("DOCKER_BUILDKIT", "0").args(["build", "--force-rm", "-t", tag, "-f"]).arg(dir.join("Dockerfile"));
        for (key, value) in args {
            command.args(["--build-arg", &format!("{key}={value}")]);
        }
        command.arg(dir);
        let (time, output) = timed(&mut command, "DOCKER_BUILDKIT=0 docker build")?;
        cleanup.stage_images.extend(stage_images(&output));
        Ok(time)
    };
    let classic_first = classic_build(&ctx, &classic_tag, &[("BASE", base)], cleanup)?;
    let (mut noop, mut buildkit_cached, mut classic_cached) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let (time, output) = ohdev_build(&[])?;
        ensure(output.contains("is up to date"), "a no-op `ohdev build` built nothing")?;
        noop.push(time);
        let (time, output) = ohdev_build(&["--force"])?;
        ensure(output.contains("built image"), "`ohdev build --force` built")?;
        buildkit_cached.push(time);
        classic_cached.push(classic_build(&ctx, &classic_tag, &[("BASE", base)], cleanup)?);
    }

    // 3. Multi-stage: BuildKit through bollard against the classic CLI, every run uncached
    // (a new CACHEBUST value), on a small context so the builders, not the upload, are compared.
    progress("3/3 multi-stage build: BuildKit through bollard vs classic docker build");
    let multi = work.join("multi");
    std::fs::create_dir_all(&multi).map_err(io)?;
    std::fs::write(multi.join("Dockerfile"), MULTI_STAGE).map_err(io)?;
    std::fs::write(multi.join("app.sh"), "#!/bin/sh\necho app\n").map_err(io)?;
    let multi_project = work.join("multi-project");
    let multi_image = format!("bench-multi-{id}");
    cleanup.ohdev_images.push(multi_image.clone());
    let (mut buildkit_multi, mut classic_multi) = (Vec::new(), Vec::new());
    for round in 0..runs {
        let bust = format!("buildkit-{id}-{round}");
        write_project(&multi_project, &multi_image, &multi, &[("BASE", base), ("CACHEBUST", &bust)])?;
        let mut command = Command::new(ohdev);
        command.args(["--color", "never", "-C"]).arg(&multi_project).arg("build");
        let (time, output) = timed(&mut command, "ohdev build (multi-stage)")?;
        ensure(
            output.contains("built image") && output.contains("(BuildKit,"),
            "the multi-stage build ran with BuildKit",
        )?;
        buildkit_multi.push(time);

        let tag = format!("ohdev-bench/multi-classic:{id}-{round}");
        cleanup.tags.push(tag.clone());
        let bust = format!("classic-{id}-{round}");
        classic_multi.push(classic_build(&multi, &tag, &[("BASE", base), ("CACHEBUST", &bust)], cleanup)?);
    }

    let mut table = String::new();
    let row = |table: &mut String, what: &str, samples: &[Duration], baseline: Option<&[Duration]>, note: &str| {
        let ratio = match baseline {
            None => "baseline".to_string(),
            Some(baseline) => ratio(median(baseline), median(samples)),
        };
        let _ = writeln!(
            table,
            "| {what} | {} | {} – {} | {ratio} | {note} |",
            seconds(median(samples)),
            seconds(min(samples)),
            seconds(max(samples))
        );
    };
    let _ = writeln!(table, "| measurement | median | range | speed-up vs baseline | notes |");
    let _ = writeln!(table, "|---|---:|---:|---:|---|");
    let _ = writeln!(table, "| **1. digest of the context** ({files} files, {:.0} MB) | | | | |", bytes as f64 / 1e6);
    row(&mut table, "`tar -c <ctx> \\| sha256sum`", &tar, None, "reads every byte; page cache warm for all three");
    row(
        &mut table,
        "ohdev digest, cold (no hash cache)",
        &cold,
        Some(&tar),
        "walk + .dockerignore + blake3 of every file (2 threads) + cache written",
    );
    row(
        &mut table,
        "ohdev digest, warm (hash cache)",
        &warm,
        Some(&tar),
        "walk (lstat) + cache read; no file read (asserted), nothing written",
    );
    let _ = writeln!(table, "| **2. `ohdev build` when nothing changed** (same context and image) | | | | |");
    row(
        &mut table,
        "fully cached BuildKit build through bollard (`ohdev build --force`)",
        &buildkit_cached,
        None,
        "walk + warm digest + 200 MB context streamed + every step cached",
    );
    row(
        &mut table,
        "fully cached classic build (`DOCKER_BUILDKIT=0 docker build`)",
        &classic_cached,
        Some(&buildkit_cached),
        "the docker CLI tars and sends the context; every step cached",
    );
    row(
        &mut table,
        "no-op `ohdev build` (tag exists)",
        &noop,
        Some(&buildkit_cached),
        &format!(
            "whole process; {} faster than the cached classic build (goal: ≥ 10× the cached BuildKit build)",
            ratio(median(&classic_cached), median(&noop))
        ),
    );
    let _ = writeln!(
        table,
        "| **3. multi-stage build, uncached** (2 needed stages, 1 unneeded, each ~200 MB of sha256 work) | | | | |"
    );
    row(&mut table, "classic `docker build` CLI", &classic_multi, None, "builds all three stages, one after another");
    row(
        &mut table,
        "BuildKit through bollard (`ohdev build`)",
        &buildkit_multi,
        Some(&classic_multi),
        "needed stages in parallel, unneeded stage skipped",
    );

    let mut report = String::new();
    let _ = writeln!(report, "{}", machine(runs));
    let _ = writeln!(report);
    report.push_str(&table);
    let _ = writeln!(report);
    let _ = writeln!(
        report,
        "One-off, not in the table: first (uncached) `ohdev build` of the 200 MB image {}, first classic `docker build` of it {}.",
        seconds(first_build),
        seconds(classic_first)
    );
    Ok(report)
}

const MULTI_STAGE: &str = "\
ARG BASE
FROM ${BASE} AS deps
ARG CACHEBUST
RUN echo \"deps $CACHEBUST\" && dd if=/dev/zero bs=1M count=200 2>/dev/null | sha256sum > /deps.sum

FROM ${BASE} AS assets
ARG CACHEBUST
RUN echo \"assets $CACHEBUST\" && dd if=/dev/zero bs=1M count=200 2>/dev/null | sha256sum > /assets.sum

FROM ${BASE} AS docs
ARG CACHEBUST
RUN echo \"docs, which the final stage does not use $CACHEBUST\" && dd if=/dev/zero bs=1M count=200 2>/dev/null | sha256sum > /docs.sum

FROM ${BASE}
COPY --from=deps /deps.sum /deps.sum
COPY --from=assets /assets.sum /assets.sum
COPY . /app
";

// ------------------------------------------------------------------------------------------
// The generated tree

/// 100 modules × 4 directories × 50 files, sizes spread uniformly around 10 kB so the total is
/// 200 MB, contents pseudo-random (incompressible, deterministic). A few ignored `.log` files.
fn generate(root: &Path) -> Result<(usize, u64)> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let per_file = BYTES / FILES as u64;
    let mut buffer = Vec::new();
    let (mut files, mut bytes) = (0, 0);
    for module in 0..100 {
        for dir in 0..4 {
            let path = root.join(format!("src/module{module:03}/part{dir}"));
            std::fs::create_dir_all(&path).map_err(io)?;
            for file in 0..50 {
                // Pairs of sizes sum to 2 × per_file, so the total is exact.
                let spread = next() % (per_file * 9 / 10);
                let size = if file % 2 == 0 { per_file - spread } else { per_file + spread };
                buffer.clear();
                while (buffer.len() as u64) < size {
                    buffer.extend_from_slice(&next().to_le_bytes());
                }
                buffer.truncate(size as usize);
                std::fs::write(path.join(format!("file{file:02}.dat")), &buffer).map_err(io)?;
                files += 1;
                bytes += size;
            }
        }
        std::fs::write(root.join(format!("src/module{module:03}/debug.log")), "ignored\n").map_err(io)?;
    }
    Ok((files, bytes))
}

// ------------------------------------------------------------------------------------------
// Processes, Docker and cleanup

/// A project whose ohdev.yaml has one image `name` built from `context`'s `Dockerfile`.
fn write_project(dir: &Path, name: &str, context: &Path, build_args: &[(&str, &str)]) -> Result<()> {
    std::fs::create_dir_all(dir.join("kind")).map_err(io)?;
    std::fs::write(
        dir.join("kind/cluster.yaml"),
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n",
    )
    .map_err(io)?;
    let mut text = format!(
        "cluster:\n  name: bench\nimages:\n  {name}:\n    context: {}\n    dockerfile: Dockerfile\n    build_args:\n",
        context.display()
    );
    for (key, value) in build_args {
        let _ = writeln!(text, "      {key}: \"{value}\"");
    }
    text.push_str("manifests: []\n");
    std::fs::write(dir.join("ohdev.yaml"), text).map_err(io)
}

/// Runs `command` to completion; its time, and stdout+stderr; an error if it fails.
fn timed(command: &mut Command, what: &str) -> Result<(Duration, String)> {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let output = command.output().map_err(|error| format!("{what}: cannot start: {error}"))?;
    let elapsed = started.elapsed();
    let text = text(&output);
    if !output.status.success() {
        return Err(format!("{what} failed ({}):\n{text}", output.status));
    }
    Ok((elapsed, text))
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn check(command: &mut Command, what: &str) -> Result<String> {
    match command.stdin(Stdio::null()).output() {
        Ok(output) if output.status.success() => Ok(String::from_utf8_lossy(&output.stdout).trim().to_string()),
        Ok(output) => Err(format!("needs {what}:\n{}", text(&output))),
        Err(error) => Err(format!("needs {what}: {error}")),
    }
}

fn ensure(condition: bool, what: &str) -> Result<()> {
    if condition {
        Ok(())
    } else {
        Err(format!("expected: {what}"))
    }
}

/// The release `ohdev` of this workspace (built now, a no-op when current), or `$OHDEV_BIN`.
fn ohdev_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("OHDEV_BIN") {
        return Ok(PathBuf::from(path));
    }
    progress("cargo build --release --bin ohdev");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet", "-p", "ohdev", "--bin", "ohdev"])
        .current_dir(&workspace)
        .status()
        .map_err(|error| format!("cargo: {error}"))?;
    ensure(status.success(), "`cargo build --release --bin ohdev` succeeded")?;
    let exe = std::env::current_exe().map_err(io)?;
    let binary = exe.parent().ok_or("no directory for the bench binary")?.join("ohdev");
    ensure(binary.is_file(), "target/release/ohdev next to the bench binary (or set OHDEV_BIN)")?;
    Ok(binary)
}

/// `busybox:latest`, else the test suite's `ohdev-test/busybox:*`, else one imported now.
fn base_image(cleanup: &mut Cleanup) -> Result<String> {
    let exists = |reference: &str| {
        Command::new("docker")
            .args(["image", "inspect", reference])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    if exists("busybox:latest") {
        return Ok("busybox:latest".into());
    }
    let listed = check(
        Command::new("docker").args(["images", "--format", "{{.Repository}}:{{.Tag}}", "ohdev-test/busybox"]),
        "docker images",
    )?;
    if let Some(reference) = listed.lines().next().filter(|line| !line.is_empty()) {
        return Ok(reference.to_string());
    }
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|path| Path::new(path).exists())
        .ok_or("no base image and no /bin/busybox: apt-get install busybox-static")?;
    let reference = "ohdev-bench/busybox:latest".to_string();
    progress(&format!("importing {busybox} as {reference}"));
    let script = format!(
        "set -e; root=$(mktemp -d); trap 'rm -rf \"$root\"' EXIT; mkdir -p \"$root/bin\" \"$root/tmp\" \"$root/etc\"; cp {busybox} \"$root/bin/busybox\"; \
         for applet in $({busybox} --list); do [ \"$applet\" = busybox ] || ln -s /bin/busybox \"$root/bin/$applet\"; done; \
         tar -C \"$root\" -c . | docker import - {reference} >/dev/null"
    );
    timed(Command::new("sh").args(["-c", &script]), "importing busybox")?;
    cleanup.tags.push(reference.clone());
    Ok(reference)
}

/// The classic builder's step images (" ---> <id>"), to remove while untagged.
fn stage_images(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|line| line.trim().strip_prefix("---> "))
        .filter(|id| id.len() == 12 && id.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_string)
        .collect()
}

#[derive(Default)]
struct Cleanup {
    keep: bool,
    dirs: Vec<PathBuf>,
    /// Image names in ohdev.yaml: every image labelled `dev.ohdev.image=<name>`.
    ohdev_images: Vec<String>,
    tags: Vec<String>,
    stage_images: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("kept: {:?}, images {:?}, tags {:?}", self.dirs, self.ohdev_images, self.tags);
            return;
        }
        let docker =
            |args: &[&str]| Command::new("docker").args(args).stdin(Stdio::null()).stderr(Stdio::null()).output().ok();
        for name in &self.ohdev_images {
            if let Some(output) = docker(&["images", "-q", "--filter", &format!("label=dev.ohdev.image={name}")]) {
                let ids: Vec<String> =
                    String::from_utf8_lossy(&output.stdout).split_whitespace().map(str::to_string).collect();
                for id in ids {
                    docker(&["rmi", "-f", &id]);
                }
            }
        }
        for tag in &self.tags {
            docker(&["rmi", tag]);
        }
        // Newest first; only while untagged, so the base image and anything else tagged is kept.
        let mut seen = std::collections::BTreeSet::new();
        for id in self.stage_images.iter().rev() {
            if !seen.insert(id.clone()) {
                continue;
            }
            let untagged = docker(&["image", "inspect", "-f", "{{len .RepoTags}}", id])
                .is_some_and(|output| output.status.success() && String::from_utf8_lossy(&output.stdout).trim() == "0");
            if untagged {
                docker(&["rmi", id]);
            }
        }
        for dir in &self.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

// ------------------------------------------------------------------------------------------
// Figures

fn sorted(samples: &[Duration]) -> Vec<Duration> {
    let mut samples = samples.to_vec();
    samples.sort();
    samples
}

fn median(samples: &[Duration]) -> Duration {
    let samples = sorted(samples);
    let middle = samples.len() / 2;
    if samples.len() % 2 == 1 {
        samples[middle]
    } else {
        (samples[middle - 1] + samples[middle]) / 2
    }
}

fn min(samples: &[Duration]) -> Duration {
    sorted(samples)[0]
}

fn max(samples: &[Duration]) -> Duration {
    *sorted(samples).last().expect("samples")
}

fn seconds(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1000.0)
    } else {
        format!("{seconds:.2} s")
    }
}

fn ratio(baseline: Duration, measured: Duration) -> String {
    format!("{:.1}×", baseline.as_secs_f64() / measured.as_secs_f64().max(1e-9))
}

fn machine(runs: usize) -> String {
    let cores = std::thread::available_parallelism().map_or(0, |count| count.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel =
        std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|text| text.trim().to_string()).unwrap_or_default();
    let docker = check(
        Command::new("docker").args(["version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})"]),
        "docker",
    )
    .unwrap_or_default();
    let date = check(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]), "date").unwrap_or_default();
    format!("{date}; {cores} cores ({cpu}); Linux {kernel}; Docker Engine {docker}; medians of {runs} runs per row, rows interleaved run by run")
}

fn progress(message: &str) {
    static STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let started = STARTED.get_or_init(Instant::now);
    eprintln!("ohdev-bench [{:>5.1}s]: {message}", started.elapsed().as_secs_f64());
    let _ = std::io::stderr().flush();
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |time| time.as_nanos() as u64)
}

fn io(error: impl std::fmt::Display) -> String {
    error.to_string()
}
