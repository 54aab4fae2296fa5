//! A base image without a registry: a rootfs of Debian's static busybox and its applet links,
//! tarred in memory and imported through bollard once per test run. Fixtures say
//! `ARG BASE` / `FROM ${BASE}`.

use std::process::Command;
use std::sync::OnceLock;

use futures_util::StreamExt;

pub const REPOSITORY: &str = "ohdev-test/busybox";

/// The image reference, or None (with the reason printed) when Docker or busybox is absent and not required.
pub fn base_image() -> Option<String> {
    static IMAGE: OnceLock<Option<String>> = OnceLock::new();
    IMAGE.get_or_init(make_base_image).clone()
}

fn required() -> bool {
    std::env::var("OHDEV_REQUIRE_DOCKER").as_deref() == Ok("1")
}

fn make_base_image() -> Option<String> {
    let docker = super::docker::client()?;
    let runtime = super::docker::runtime();
    if runtime.block_on(docker.inspect_image("busybox:latest")).is_ok() {
        return Some("busybox:latest".to_string());
    }
    let Some(busybox) = busybox_path() else {
        if required() {
            panic!("no /bin/busybox: install Debian's busybox-static (scripts/test.sh does)");
        }
        eprintln!("SKIPPED: no /bin/busybox (apt-get install busybox-static)");
        return None;
    };
    let binary = std::fs::read(busybox).expect("read busybox");
    let tag = blake3::hash(&binary).to_hex()[..16].to_string();
    let reference = format!("{REPOSITORY}:{tag}");
    if runtime.block_on(docker.inspect_image(&reference)).is_ok() {
        return Some(reference);
    }
    let rootfs = rootfs_tar(busybox, &[]).into_inner().expect("tar");
    import(&docker, REPOSITORY, &tag, rootfs, &[]);
    Some(reference)
}

/// The busybox binary on this machine, if any.
pub fn busybox_path() -> Option<&'static str> {
    ["/bin/busybox", "/usr/bin/busybox"].into_iter().find(|path| std::path::Path::new(path).exists())
}

/// `docker import` of a rootfs tar as `repository:tag`, with Dockerfile-style `changes`
/// (e.g. `ENTRYPOINT [...]`).
pub fn import(docker: &bollard::Docker, repository: &str, tag: &str, rootfs: Vec<u8>, changes: &[&str]) {
    let mut options =
        bollard::query_parameters::CreateImageOptionsBuilder::default().from_src("-").repo(repository).tag(tag);
    if !changes.is_empty() {
        options = options.changes(changes.iter().map(|change| change.to_string()).collect());
    }
    super::docker::runtime().block_on(async {
        let mut stream = docker.create_image(Some(options.build()), Some(bollard::body_full(rootfs.into())), None);
        while let Some(item) = stream.next().await {
            item.expect("docker import of a rootfs");
        }
    });
}

/// A rootfs of busybox and its applet links (`/bin/sh`, …), plus `extra` files
/// `(path, mode, content)`; append more before `into_inner()`.
pub fn rootfs_tar(busybox: &str, extra: &[(&str, u32, &[u8])]) -> tar::Builder<Vec<u8>> {
    let binary = std::fs::read(busybox).expect("read busybox");
    let list = Command::new(busybox).arg("--list").output().expect("busybox --list");
    let applets: Vec<String> = String::from_utf8_lossy(&list.stdout).lines().map(str::to_string).collect();
    let mut builder = tar::Builder::new(Vec::new());
    for dir in ["bin", "tmp", "etc", "srv", "home", "root", "var", "usr", "usr/bin", "sbin", "usr/sbin"] {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(if dir == "tmp" { 0o1777 } else { 0o755 });
        header.set_size(0);
        builder.append_data(&mut header, dir, std::io::empty()).expect("dir");
    }
    let mut header = tar::Header::new_gnu();
    header.set_mode(0o755);
    header.set_size(binary.len() as u64);
    builder.append_data(&mut header, "bin/busybox", &binary[..]).expect("busybox");
    let passwd = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:10001:10001:app:/home:/bin/sh\n";
    let group = b"root:x:0:\nnogroup:x:65534:\napp:x:10001:\n";
    for (name, content) in [("etc/passwd", &passwd[..]), ("etc/group", &group[..])] {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        header.set_size(content.len() as u64);
        builder.append_data(&mut header, name, content).expect("etc file");
    }
    for applet in applets {
        if applet == "busybox" {
            continue;
        }
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        header.set_mode(0o777);
        builder.append_link(&mut header, format!("bin/{applet}"), "/bin/busybox").expect("applet link");
    }
    for (path, mode, content) in extra {
        let mut header = tar::Header::new_gnu();
        header.set_mode(*mode);
        header.set_size(content.len() as u64);
        builder.append_data(&mut header, path, *content).expect("extra file");
    }
    builder
}
