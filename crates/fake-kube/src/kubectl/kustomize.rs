//! `kubectl kustomize DIR`: rendering needs no cluster, and the stand-in does not reimplement
//! kustomize. The call (already recorded) is handed to the real kubectl: `FAKE_KUBE_REAL_KUBECTL`, or
//! the first `kubectl` on PATH that is not this stand-in. Its stdout, stderr and exit code are passed
//! through unchanged, so tests see the real rendering and the real error texts.

use crate::app::Ctx;

/// Is this argument vector `kubectl [global flags] kustomize …`?
pub fn is_kustomize(args: &[String]) -> bool {
    crate::flags::split_command(args, super::specs::GLOBALS, 1)
        .is_ok_and(|(words, _)| words.first().is_some_and(|word| word == "kustomize"))
}

fn real_kubectl() -> Option<std::path::PathBuf> {
    if let Some(path) = std::env::var_os("FAKE_KUBE_REAL_KUBECTL").filter(|path| !path.is_empty()) {
        return Some(path.into());
    }
    let own = std::env::current_exe().ok().and_then(|exe| exe.canonicalize().ok());
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("kubectl")).find(|candidate| {
        candidate.is_file() && candidate.canonicalize().ok().is_some_and(|real| Some(&real) != own.as_ref())
    })
}

pub fn run(args: &[String], ctx: &mut Ctx) -> i32 {
    let Some(kubectl) = real_kubectl() else {
        return ctx.fail(
            1,
            "fake-kube: `kubectl kustomize` runs the real kubectl, and none was found on PATH after the stand-in (set FAKE_KUBE_REAL_KUBECTL)",
        );
    };
    match std::process::Command::new(&kubectl).args(args).stdin(std::process::Stdio::null()).output() {
        Ok(output) => {
            ctx.say(&String::from_utf8_lossy(&output.stdout));
            ctx.warn(&String::from_utf8_lossy(&output.stderr));
            output.status.code().unwrap_or(1)
        }
        Err(error) => ctx.fail(1, &format!("fake-kube: cannot run the real kubectl {}: {error}", kubectl.display())),
    }
}
