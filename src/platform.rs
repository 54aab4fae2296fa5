//! Platforms as containerd's `platforms.Parse` reads them (`os/arch[/variant]`, e.g. `linux/amd64`,
//! `linux/arm64/v8`), for `images.<name>.platform` in ohdev.yaml and `FROM --platform=…`: a typo
//! (`linux/amd46`) is refused with the nearest valid spelling before anything is built.

use crate::suggest::nearest;

/// Why a platform is refused, and the nearest valid spelling when one is close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformProblem {
    pub reason: String,
    pub suggestion: Option<String>,
}

impl PlatformProblem {
    fn new(reason: impl Into<String>) -> PlatformProblem {
        PlatformProblem { reason: reason.into(), suggestion: None }
    }

    /// What to write instead.
    pub fn fix(&self) -> String {
        let syntax = "write <os>/<arch>[/<variant>], e.g. linux/amd64 or linux/arm64";
        match &self.suggestion {
            Some(suggestion) => format!("did you mean `{suggestion}`? {syntax}"),
            None => syntax.to_string(),
        }
    }
}

/// Operating systems containerd's `platforms` package knows (Go's list), and `wasi` (Docker's
/// WebAssembly platform, `wasi/wasm`).
const KNOWN_OS: [&str; 19] = [
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasi",
    "wasip1",
    "windows",
    "zos",
];

/// Architectures containerd's `platforms` package knows (Go's list), and `wasm32` (Docker's
/// early WebAssembly spelling, `wasi/wasm32`).
const KNOWN_ARCH: [&str; 25] = [
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "armbe",
    "arm64",
    "arm64be",
    "ppc64",
    "ppc64le",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
    "wasm32",
];

/// Checks a platform the way containerd's `platforms.Parse` reads it (`<os>`, `<arch>`,
/// `<os>/<arch>` or `<os>/<arch>/<variant>`, each part of letters, digits, `_`, `.`, `-`, the
/// OS optionally with a `(version)`), and also refuses an OS or architecture nobody knows
/// (`linux/amd46`). That is stricter than Docker, which takes any two parts and may even build
/// such an image (the classic builder does): a typo there gives an image for a platform that
/// does not exist, or a later, vaguer failure.
pub fn check_platform(value: &str) -> Result<(), PlatformProblem> {
    if value.trim().is_empty() {
        return Err(PlatformProblem::new("it is empty"));
    }
    if value.contains('*') {
        return Err(PlatformProblem::new("wildcards are not supported"));
    }
    let parts: Vec<&str> = value.split('/').collect();
    if parts.len() > 3 {
        return Err(PlatformProblem::new("it has more than three `/`-separated parts"));
    }
    if parts.iter().any(|part| part.is_empty()) {
        return Err(PlatformProblem::new("it has an empty part"));
    }
    let os = os_without_version(parts[0]);
    let invalid = parts.iter().enumerate().find(|(index, part)| match index {
        0 => os.is_none_or(|os| !is_specifier_part(os, false)),
        _ => !is_specifier_part(part, true),
    });
    if let Some((_, part)) = invalid {
        return Err(PlatformProblem::new(format!(
            "`{part}` is not a valid part: only letters, digits, `_`, `.` and `-` are allowed"
        )));
    }
    let os = os.unwrap_or(parts[0]).to_ascii_lowercase();
    let os = if os == "macos" { "darwin".to_string() } else { os };
    if parts.len() == 1 {
        if KNOWN_OS.contains(&os.as_str()) || KNOWN_ARCH.contains(&normal_arch(parts[0]).as_str()) {
            return Ok(());
        }
        let mut problem =
            PlatformProblem::new(format!("`{value}` is neither a known operating system nor a known architecture"));
        problem.suggestion = suggest(value, &KNOWN_OS).or_else(|| suggest(value, &KNOWN_ARCH));
        return Err(problem);
    }
    if !KNOWN_OS.contains(&os.as_str()) {
        let mut problem = PlatformProblem::new(format!("`{}` is not a known operating system", parts[0]));
        problem.suggestion = suggest(&os, &KNOWN_OS).map(|os| replace_part(&parts, 0, &os));
        return Err(problem);
    }
    if !KNOWN_ARCH.contains(&normal_arch(parts[1]).as_str()) {
        let mut problem = PlatformProblem::new(format!("`{}` is not a known architecture", parts[1]));
        problem.suggestion = suggest(parts[1], &KNOWN_ARCH).map(|arch| replace_part(&parts, 1, &arch));
        return Err(problem);
    }
    Ok(())
}

/// A `FROM --platform` value: a platform, or one that uses ARGs (`$BUILDPLATFORM`,
/// `linux/${TARGETARCH}`), which only the builder can expand; those are checked for well-formed
/// references only.
pub fn check_platform_reference(value: &str) -> Result<(), PlatformProblem> {
    if !value.contains('$') {
        return check_platform(value);
    }
    let mut rest = value;
    while let Some(position) = rest.find('$') {
        rest = &rest[position + 1..];
        if let Some(braced) = rest.strip_prefix('{') {
            let Some(end) = braced.find('}') else {
                return Err(PlatformProblem::new("it has a `${` without its closing `}`"));
            };
            if !braced[..end].starts_with(|character: char| character.is_ascii_alphabetic() || character == '_') {
                return Err(PlatformProblem::new(format!("`${{{}}}` does not name an ARG", &braced[..end])));
            }
            rest = &braced[end + 1..];
        } else if !rest.starts_with(|character: char| character.is_ascii_alphabetic() || character == '_') {
            return Err(PlatformProblem::new("a `$` is not followed by an ARG's name"));
        }
    }
    Ok(())
}

/// The OS part without an optional `(version)` (containerd's `osAndVersionRe`); `None` when the
/// parentheses are malformed.
fn os_without_version(part: &str) -> Option<&str> {
    match part.split_once('(') {
        None => Some(part),
        Some((os, version)) => {
            let version = version.strip_suffix(')')?;
            (version.is_empty() || is_specifier_part(version, true)).then_some(os)
        }
    }
}

/// `[A-Za-z0-9_.-]+`; without the `.` for the OS.
fn is_specifier_part(part: &str, dot: bool) -> bool {
    !part.is_empty()
        && part.chars().all(|character| {
            character.is_ascii_alphanumeric() || character == '_' || character == '-' || (dot && character == '.')
        })
}

/// containerd's `normalizeArch`, for the architecture alone.
fn normal_arch(arch: &str) -> String {
    let arch = arch.to_ascii_lowercase();
    match arch.as_str() {
        "i386" => "386".to_string(),
        "x86_64" | "x86-64" => "amd64".to_string(),
        "aarch64" => "arm64".to_string(),
        "armhf" | "armel" => "arm".to_string(),
        _ => arch,
    }
}

fn suggest(word: &str, known: &[&str]) -> Option<String> {
    let known: Vec<String> = known.iter().map(|name| name.to_string()).collect();
    nearest(&word.to_ascii_lowercase(), &known).map(str::to_string)
}

fn replace_part(parts: &[&str], index: usize, replacement: &str) -> String {
    let mut parts: Vec<&str> = parts.to_vec();
    parts[index] = replacement;
    parts.join("/")
}
