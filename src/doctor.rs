//! `ohdev doctor`: every prerequisite checked, one line each, each failure with the fix.

use std::path::Path;

use crate::config::kind_cluster::KindCluster;
use crate::config::Config;
use crate::error::Error;
use crate::events::{CheckStatus, Event};
use crate::tools::docker;
use crate::tools::kind::Kind;
use crate::tools::kubectl::Kubectl;
use crate::tools::Tool;
use crate::ui::Reporter;

pub const MIN_KIND: (u64, u64) = (0, 20);
pub const MIN_KUBECTL: (u64, u64) = (1, 27);
pub const MIN_DOCKER_API: (u64, u64) = (1, 41);
const DISK_WARN_BYTES: u64 = 10 * 1024 * 1024 * 1024;
const DISK_FAIL_BYTES: u64 = 2 * 1024 * 1024 * 1024;

pub struct Check {
    pub name: String,
    pub status: CheckStatus,
    pub detail: String,
    pub hint: Option<String>,
}

impl Check {
    fn ok(name: &str, detail: impl Into<String>) -> Check {
        Check { name: name.into(), status: CheckStatus::Ok, detail: detail.into(), hint: None }
    }
    fn warn(name: &str, detail: impl Into<String>, hint: impl Into<String>) -> Check {
        Check { name: name.into(), status: CheckStatus::Warn, detail: detail.into(), hint: Some(hint.into()) }
    }
    fn fail(name: &str, detail: impl Into<String>, hint: impl Into<String>) -> Check {
        Check { name: name.into(), status: CheckStatus::Fail, detail: detail.into(), hint: Some(hint.into()) }
    }
}

fn missing(tool: Tool) -> Check {
    Check::fail(tool.name(), "not found on PATH", tool.install_hint().trim().replace("\n    ", "; "))
}

fn versioned(name: &str, version: &str, minimum: (u64, u64), upgrade: &str) -> Check {
    let wanted = format!("v{}.{}", minimum.0, minimum.1);
    if docker::version_at_least(version, minimum) {
        Check::ok(name, format!("{version} (≥ {wanted})"))
    } else {
        Check::fail(name, format!("{version} is older than {wanted}"), upgrade.to_string())
    }
}

/// Run every check, emit one event per check; true when none failed.
pub async fn run(config: Result<&Config, &Error>, kind_cluster: Option<&KindCluster>, reporter: &Reporter) -> bool {
    let mut checks = Vec::new();
    checks.push(match Kind::locate() {
        Err(_) => missing(Tool::Kind),
        Ok(kind) => match kind.version().await {
            Ok(version) => versioned(
                "kind",
                &version,
                MIN_KIND,
                "install a newer kind: go install sigs.k8s.io/kind@v0.27.0 (macOS: brew upgrade kind)",
            ),
            Err(error) => Check::fail("kind", format!("`kind version` failed: {error}"), "reinstall kind"),
        },
    });
    checks.push(match Kubectl::locate("") {
        Err(_) => missing(Tool::Kubectl),
        Ok(kubectl) => match kubectl.client_version().await {
            Ok(version) => versioned(
                "kubectl",
                &version,
                MIN_KUBECTL,
                "install a kubectl within one minor version of the cluster (macOS: brew upgrade kubectl)",
            ),
            Err(error) => {
                Check::fail("kubectl", format!("`kubectl version --client` failed: {error}"), "reinstall kubectl")
            }
        },
    });
    checks.push(match Tool::Docker.locate() {
        Err(_) => missing(Tool::Docker),
        Ok(path) => Check::ok("docker cli", format!("{} (kind uses it)", path.display())),
    });
    let engine = match docker::connect().await {
        Err(error) => {
            checks.push(Check::fail(
                "docker daemon",
                format!("not answering at {}", docker::endpoint()),
                error
                    .to_string()
                    .lines()
                    .find(|line| line.trim_start().starts_with("fix:"))
                    .unwrap_or("start Docker")
                    .trim()
                    .trim_start_matches("fix: ")
                    .to_string(),
            ));
            None
        }
        Ok(client) => match docker::engine_info(&client).await {
            Ok(mut info) => {
                info.root_dir = docker::engine_root_dir(&client).await;
                let wanted = format!("{}.{}", MIN_DOCKER_API.0, MIN_DOCKER_API.1);
                checks.push(if docker::version_at_least(&info.api_version, MIN_DOCKER_API) {
                    Check::ok("docker daemon", format!("Docker {} (API {} ≥ {wanted})", info.version, info.api_version))
                } else {
                    Check::fail(
                        "docker daemon",
                        format!("Docker {} speaks API {}, older than {wanted}", info.version, info.api_version),
                        "upgrade Docker Engine to 20.10 or newer",
                    )
                });
                checks.push(if docker::supports_buildkit(&info) {
                    Check::ok("buildkit", "supported: unused stages are skipped, stages build in parallel")
                } else {
                    Check::warn(
                        "buildkit",
                        "not supported by this daemon: ohdev falls back to the classic builder",
                        "upgrade Docker Engine (BuildKit needs API 1.39+ on Linux)",
                    )
                });
                Some(info)
            }
            Err(error) => {
                checks.push(Check::fail("docker daemon", error.to_string(), "restart the Docker daemon"));
                None
            }
        },
    };
    match (config, kind_cluster) {
        (Err(error), _) => checks.push(Check::fail(
            "ohdev.yaml",
            first_line(&error.to_string()),
            "fix the file: `ohdev status` shows the whole error",
        )),
        (Ok(config), None) => checks.push(Check::fail(
            "cluster config",
            format!("{} is not valid", config.cluster.config_path.display()),
            "run `ohdev up` to see the error with its line",
        )),
        (Ok(config), Some(kind_cluster)) => {
            checks.push(ports_check(kind_cluster));
            checks.push(inotify_check(config));
        }
    }
    if let Ok(config) = config {
        checks.push(registry_check(config).await);
    }
    checks.push(disk_check(engine.as_ref().and_then(|info| info.root_dir.as_deref())));
    let mut healthy = true;
    for check in checks {
        healthy &= check.status != CheckStatus::Fail;
        reporter.emit(Event::DoctorCheck {
            check: check.name,
            status: check.status,
            detail: check.detail,
            hint: check.hint,
        });
    }
    if let Some(config) = config.ok().filter(|config| config.registry.is_none() && !config.images.is_empty()) {
        suggest_registry_once(config, reporter);
    }
    healthy
}

/// `registry:` in ohdev.yaml: does it answer, or can ohdev start it?
async fn registry_check(config: &Config) -> Check {
    use crate::registry::client::{Client, Probe};
    let Some(registry) = &config.registry else {
        return Check::ok("registry", "none: images reach kind with `kind load` (the whole image on every rebuild)");
    };
    match Client::new(&registry.host).probe().await {
        Probe::Registry { api_version, .. } => Check::ok(
            "registry",
            format!("{} answers ({})", registry.host, api_version.unwrap_or_else(|| "registry API".to_string())),
        ),
        Probe::NotRegistry { status, .. } => Check::fail(
            "registry",
            format!("port {} is taken by something that is not a registry (HTTP {status} on /v2/)", registry.port),
            format!(
                "stop what listens there (`ss -ltnp 'sport = :{}'`), or choose another port in `registry.host`",
                registry.port
            ),
        ),
        Probe::Nothing { .. } if registry.create => Check::ok(
            "registry",
            format!("nothing answers at {} yet: `ohdev up` starts {}", registry.host, registry.container_name()),
        ),
        Probe::Nothing { cause } => Check::fail(
            "registry",
            format!(
                "nothing answers at {} ({cause}), and `create: false` says ohdev must not start one",
                registry.host
            ),
            format!("start the registry that serves {}, or remove `create: false`", registry.host),
        ),
    }
}

/// The `registry:` suggestion, once per project (shared with `ohdev up` through the state file).
/// Without the state lock (another ohdev holds it) it is shown and not remembered.
fn suggest_registry_once(config: &Config, reporter: &Reporter) {
    match crate::state::StateLock::acquire(&config.root, std::time::Duration::from_millis(200), reporter) {
        Ok(lock) => {
            let _ = crate::registry::suggest_once(&lock, &config.file, reporter);
        }
        Err(_) => reporter.emit(crate::registry::suggestion(&config.file)),
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or(text).to_string()
}

fn ports_check(cluster: &KindCluster) -> Check {
    let ports: Vec<String> =
        cluster.port_mappings().map(|mapping| format!("{}:{}", mapping.listen_address, mapping.host_port)).collect();
    if ports.is_empty() {
        return Check::ok("host ports", "the cluster maps no host ports");
    }
    let busy = crate::cluster::busy_ports(cluster);
    if let Some(mapping) = busy.first() {
        return Check::warn(
            "host ports",
            format!(
                "{}:{} is in use (fine if it is this cluster, already running)",
                mapping.listen_address, mapping.host_port
            ),
            format!(
                "otherwise stop what listens there (`ss -ltnp 'sport = :{}'`) or change hostPort in {}",
                mapping.host_port,
                cluster.path.display()
            ),
        );
    }
    let public = crate::cluster::public_mappings(cluster);
    if let Some(mapping) = public.first() {
        return Check::warn(
            "host ports",
            format!("{} free, but port {} listens on every interface", ports.join(", "), mapping.host_port),
            format!("add `listenAddress: 127.0.0.1` to that mapping in {}", cluster.path.display()),
        );
    }
    Check::ok("host ports", format!("{} free", ports.join(", ")))
}

/// notify watches one inotify watch per directory of each image context.
fn inotify_check(config: &Config) -> Check {
    let Ok(text) = std::fs::read_to_string("/proc/sys/fs/inotify/max_user_watches") else {
        return Check::ok("inotify", "not Linux: file watching uses the platform's own service");
    };
    let Ok(limit) = text.trim().parse::<u64>() else {
        return Check::warn(
            "inotify",
            "cannot read fs.inotify.max_user_watches",
            "check /proc/sys/fs/inotify/max_user_watches",
        );
    };
    let directories: u64 = config.images.values().map(|image| count_directories(&image.context, 2_000_000)).sum();
    let fix = format!(
        "sudo sysctl fs.inotify.max_user_watches={} (persist it in /etc/sysctl.d/99-ohdev.conf)",
        (directories * 2).max(524_288)
    );
    if directories > limit {
        Check::fail("inotify", format!("{directories} directories to watch, limit {limit}"), fix)
    } else if directories * 2 > limit {
        Check::warn("inotify", format!("{directories} directories to watch uses over half of the limit {limit}"), fix)
    } else {
        Check::ok("inotify", format!("{directories} directories to watch, limit {limit}"))
    }
}

fn count_directories(root: &Path, cap: u64) -> u64 {
    let mut count = 0;
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        count += 1;
        if count >= cap {
            break;
        }
        let Ok(entries) = std::fs::read_dir(&directory) else { continue };
        for entry in entries.flatten() {
            if entry.file_type().map(|kind| kind.is_dir()).unwrap_or(false) && entry.file_name() != ".git" {
                pending.push(entry.path());
            }
        }
    }
    count
}

fn disk_check(root_dir: Option<&str>) -> Check {
    let Some(root_dir) = root_dir else {
        return Check::warn(
            "disk",
            "Docker's root directory is unknown (daemon not reachable)",
            "start Docker, then run `ohdev doctor` again",
        );
    };
    let Some(free) = free_bytes(Path::new(root_dir)) else {
        return Check::ok(
            "disk",
            format!("{root_dir} is not on this machine (Docker runs in a VM); check the VM's disk there"),
        );
    };
    let gib = free as f64 / (1024.0 * 1024.0 * 1024.0);
    let hint = "free space: `docker system prune` removes unused images and build cache";
    if free < DISK_FAIL_BYTES {
        Check::fail("disk", format!("{gib:.1} GiB free under {root_dir}"), hint)
    } else if free < DISK_WARN_BYTES {
        Check::warn("disk", format!("{gib:.1} GiB free under {root_dir}; images and kind nodes need ~10 GiB"), hint)
    } else {
        Check::ok("disk", format!("{gib:.1} GiB free under {root_dir}"))
    }
}

fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: c_path is a valid NUL-terminated string and stat a valid out-pointer.
    let result = unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) };
    (result == 0).then(|| stat.f_bavail as u64 * stat.f_frsize as u64)
}
