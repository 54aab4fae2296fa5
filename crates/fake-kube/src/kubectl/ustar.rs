//! A minimal tar reader for what `kubectl exec -i POD -- tar -x -C DEST` receives: ustar/GNU
//! headers, GNU long names (`L`/`K`), PAX `path`/`linkpath` records; regular files, directories
//! and symlinks are unpacked, anything else is skipped. Paths never escape the destination.

use std::path::{Component, Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    File,
    Dir,
    Symlink(String),
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub path: String,
    pub kind: Kind,
    pub mode: u32,
    pub data: Vec<u8>,
}

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn number(b: &[u8]) -> Result<u64, String> {
    if b.first().is_some_and(|c| c & 0x80 != 0) {
        return Ok(b[1..].iter().fold(0u64, |n, &c| (n << 8) | u64::from(c)));
    }
    let s = cstr(b);
    let s = s.trim_matches(|c: char| c == ' ' || c == '\0');
    if s.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(s, 8).map_err(|_| format!("tar: invalid octal number {s:?} in header"))
}

fn pax_records(data: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(data);
    text.lines()
        .filter_map(|l| l.split_once(' ').and_then(|(_, kv)| kv.split_once('=')))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn read(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    let mut off = 0;
    let (mut long_name, mut long_link): (Option<String>, Option<String>) = (None, None);
    if bytes.len() < 512 {
        return Err("tar: This does not look like a tar archive".into());
    }
    while off + 512 <= bytes.len() {
        let h = &bytes[off..off + 512];
        if h.iter().all(|&b| b == 0) {
            break;
        }
        let not_tar = || "tar: This does not look like a tar archive".to_string();
        let stored = number(&h[148..156]).map_err(|_| not_tar())?;
        let sum: u64 =
            h.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u64::from(b) }).sum();
        if stored != sum {
            return Err(not_tar());
        }
        let size = number(&h[124..136])? as usize;
        let data_start = off + 512;
        let data_end = data_start + size;
        if data_end > bytes.len() {
            return Err("tar: Unexpected EOF in archive".into());
        }
        let data = &bytes[data_start..data_end];
        off = data_start + size.div_ceil(512) * 512;
        let flag = h[156];
        match flag {
            b'L' => {
                long_name = Some(cstr(data));
                continue;
            }
            b'K' => {
                long_link = Some(cstr(data));
                continue;
            }
            b'x' => {
                for (k, v) in pax_records(data) {
                    match k.as_str() {
                        "path" => long_name = Some(v),
                        "linkpath" => long_link = Some(v),
                        _ => {}
                    }
                }
                continue;
            }
            b'g' => continue,
            _ => {}
        }
        let mut path = cstr(&h[0..100]);
        if &h[257..262] == b"ustar" && h[263] == b'0' {
            let prefix = cstr(&h[345..500]);
            if !prefix.is_empty() {
                path = format!("{prefix}/{path}");
            }
        }
        let path = long_name.take().unwrap_or(path);
        let link = long_link.take().unwrap_or_else(|| cstr(&h[157..257]));
        let kind = match flag {
            b'0' | 0 | b'7' if !path.ends_with('/') => Kind::File,
            b'5' | b'0' | 0 => Kind::Dir,
            b'2' => Kind::Symlink(link),
            _ => Kind::Other,
        };
        let mode = number(&h[100..108])? as u32;
        out.push(Entry { path, kind, mode, data: data.to_vec() });
    }
    Ok(out)
}

/// `path` inside `root`, or None if it would leave it (absolute parts are made relative).
fn inside(root: &Path, path: &str) -> Option<PathBuf> {
    let mut out = root.to_path_buf();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            Component::ParentDir => return None,
        }
    }
    Some(out)
}

/// Unpacks into `root`; returns the number of entries written.
pub fn unpack(entries: &[Entry], root: &Path) -> Result<usize, String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(root).map_err(|e| format!("tar: {}: Cannot mkdir: {e}", root.display()))?;
    let mut n = 0;
    for e in entries {
        let Some(target) = inside(root, &e.path) else {
            continue;
        };
        match &e.kind {
            Kind::Dir => {
                std::fs::create_dir_all(&target).map_err(|err| format!("tar: {}: Cannot mkdir: {err}", e.path))?
            }
            Kind::File => {
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(|err| format!("tar: {}: Cannot mkdir: {err}", e.path))?;
                }
                std::fs::write(&target, &e.data).map_err(|err| format!("tar: {}: Cannot open: {err}", e.path))?;
                let mode = if e.mode & 0o777 == 0 { 0o644 } else { e.mode & 0o7777 };
                let _ = std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode));
            }
            Kind::Symlink(link) => {
                if let Some(parent) = target.parent() {
                    let _ = std::fs::create_dir_all(parent);
                }
                let _ = std::fs::remove_file(&target);
                std::os::unix::fs::symlink(link, &target)
                    .map_err(|err| format!("tar: {}: Cannot create symlink: {err}", e.path))?;
            }
            Kind::Other => continue,
        }
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::state::testutil::temp_dir;

    /// Builds one ustar header block for tests.
    pub fn header(name: &str, flag: u8, size: usize, mode: u32) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(format!("{mode:07o}").as_bytes());
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        h[156] = flag;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }

    pub fn entry(name: &str, flag: u8, data: &[u8], mode: u32) -> Vec<u8> {
        let mut out = header(name, flag, data.len(), mode);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
        out
    }

    #[test]
    fn reads_files_dirs_long_names_and_refuses_escapes() {
        let long = format!("{}/deep.py", "d".repeat(120));
        let mut tar = entry("app/", b'5', b"", 0o755);
        tar.extend(entry("app/main.py", b'0', b"print(1)\n", 0o644));
        tar.extend(entry("././@LongLink", b'L', format!("{long}\0").as_bytes(), 0));
        tar.extend(entry("ignored", b'0', b"x", 0o600));
        tar.extend(entry("../evil", b'0', b"no", 0o644));
        tar.extend(vec![0u8; 1024]);
        let entries = read(&tar).unwrap();
        assert_eq!(
            entries.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
            vec!["app/", "app/main.py", long.as_str(), "../evil"]
        );
        let tmp = temp_dir("ustar");
        let root = tmp.join("dest");
        assert_eq!(unpack(&entries, &root).unwrap(), 3);
        assert_eq!(std::fs::read_to_string(root.join("app/main.py")).unwrap(), "print(1)\n");
        assert_eq!(std::fs::read_to_string(root.join(&long)).unwrap(), "x");
        assert!(!root.parent().unwrap().join("evil").exists());
    }

    #[test]
    fn rejects_garbage_and_reads_gnu_tar_output() {
        assert!(read(&[7u8; 1024]).unwrap_err().contains("does not look like a tar archive"));
        let src = temp_dir("ustar-src");
        std::fs::create_dir_all(src.join("pkg/sub")).unwrap();
        std::fs::write(src.join("pkg/sub/a.txt"), "hello").unwrap();
        let Ok(out) = std::process::Command::new("tar").args(["-c", "-C"]).arg(&*src).arg("pkg").output() else {
            eprintln!("skipped: no tar binary on this machine");
            return;
        };
        let entries = read(&out.stdout).unwrap();
        let file = entries.iter().find(|e| e.path == "pkg/sub/a.txt").expect("file entry");
        assert_eq!((file.kind.clone(), file.data.as_slice()), (Kind::File, b"hello".as_slice()));
    }
}
