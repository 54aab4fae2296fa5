//! `kubectl exec [-i] POD|TYPE/NAME [-c C] -- CMD…`. `tar -x[f -] -C DEST` unpacks stdin into
//! `$FAKE_KUBE_STATE/fs/<ns>/<pod>/<container>/<DEST>`; other commands succeed silently.
//! A pod annotated `fake-kube/no-tar: "true"` has no tar (exit 126, like the OCI runtime error).

use super::errors::{render as render_errs, KubeErr};
use super::logs::{pick_containers, resolve_pod};
use super::pods::all_pods;
use super::{namespace, ustar, with_cluster, Reply};
use crate::app::Ctx;
use crate::flags::Parsed;
use crate::util::json::str_at;
use std::path::PathBuf;

pub const NO_TAR_ANNOTATION: &str = "fake-kube/no-tar";

#[derive(Debug, PartialEq)]
pub struct TarExtract {
    pub dest: String,
    pub gzip: bool,
}

/// Recognizes `tar` extraction from stdin: `tar -x -C D`, `tar xf - -C D`, `tar -xmf - -C D`,
/// `tar --directory=D -x`. None for any other command.
pub fn parse_tar(cmd: &[String]) -> Option<TarExtract> {
    let prog = cmd.first()?;
    if prog.rsplit('/').next() != Some("tar") {
        return None;
    }
    let (mut extract, mut gzip, mut dest) = (false, false, String::new());
    let mut i = 1;
    while i < cmd.len() {
        let a = &cmd[i];
        i += 1;
        if let Some(long) = a.strip_prefix("--") {
            match long.split_once('=') {
                Some(("directory", d)) => dest = d.to_string(),
                None if long == "directory" => {
                    dest = cmd.get(i).cloned().unwrap_or_default();
                    i += 1;
                }
                None if long == "extract" => extract = true,
                None if long == "gzip" => gzip = true,
                _ => {}
            }
            continue;
        }
        let letters = if let Some(l) = a.strip_prefix('-') {
            l
        } else if i == 2 {
            a.as_str()
        } else {
            continue;
        };
        let chars: Vec<char> = letters.chars().collect();
        for (j, c) in chars.iter().enumerate() {
            match c {
                'x' => extract = true,
                'z' => gzip = true,
                'f' => i += 1,
                'C' => {
                    let rest: String = chars[j + 1..].iter().collect();
                    if rest.is_empty() {
                        dest = cmd.get(i).cloned().unwrap_or_default();
                        i += 1;
                    } else {
                        dest = rest;
                    }
                    break;
                }
                _ => {}
            }
        }
    }
    extract.then_some(TarExtract { dest, gzip })
}

pub fn run(ctx: &mut Ctx, p: &Parsed, context: &str) -> i32 {
    let Some(target) = p.positional.first().cloned() else {
        return ctx.fail(1, "error: pod, type/name or --filename must be specified");
    };
    if p.positional.len() > 1 {
        return ctx
            .fail(1, "error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead");
    }
    if p.after_dash.is_empty() {
        return ctx.fail(1, "error: you must specify at least one command for the container");
    }
    let ns = namespace(p);
    let cmd = p.after_dash.clone();
    let container_flag = p.get("container").map(String::from);
    let stdin = ctx.stdin.bytes().to_vec();
    let fs_root = ctx.store.path("fs");
    with_cluster(ctx, context, |c| {
        let pods = all_pods(c);
        let pod = match resolve_pod(c, &pods, &ns, &target) {
            Ok(p) => p,
            Err(e) => return Reply::fail(render_errs(&[e])),
        };
        let view = &pods[pod];
        let pod_name = str_at(&view.body, &["metadata", "name"]).unwrap_or("").to_string();
        let (containers, note) = match pick_containers(&view.body, container_flag.as_deref(), false) {
            Ok(x) => x,
            Err(e) => return Reply::fail(render_errs(&[e])),
        };
        let container = containers[0].clone();
        let mut reply = Reply { err: note, ..Default::default() };
        let running = view.body.pointer("/status/containerStatuses").and_then(|a| a.as_array()).is_some_and(|cs| {
            cs.iter().any(|s| {
                s.get("name").and_then(|n| n.as_str()) == Some(container.as_str())
                    && s.pointer("/state/running").is_some()
            })
        });
        if !running {
            reply.err.push_str(&render_errs(&[KubeErr::plain(format!(
                "unable to upgrade connection: container not found (\"{container}\")"
            ))]));
            reply.code = 1;
            return reply;
        }
        let no_tar =
            view.body.pointer("/metadata/annotations").and_then(|a| a.get(NO_TAR_ANNOTATION)).and_then(|v| v.as_str())
                == Some("true");
        let prog = cmd[0].rsplit('/').next().unwrap_or("").to_string();
        if no_tar && prog == "tar" {
            reply.err.push_str("OCI runtime exec failed: exec failed: unable to start container process: exec: \"tar\": executable file not found in $PATH: unknown\ncommand terminated with exit code 126\n");
            reply.code = 126;
            return reply;
        }
        let Some(tar) = parse_tar(&cmd) else {
            return reply;
        };
        if tar.gzip {
            reply.err.push_str(
                "fake-kube: gzip-compressed tar streams are not simulated\ncommand terminated with exit code 2\n",
            );
            reply.code = 2;
            return reply;
        }
        let root: PathBuf = fs_root.join(&ns).join(&pod_name).join(&container).join(tar.dest.trim_start_matches('/'));
        match ustar::read(&stdin).and_then(|entries| ustar::unpack(&entries, &root)) {
            Ok(_) => reply,
            Err(e) => {
                reply.err.push_str(&format!("{e}\ntar: Exiting with failure status due to previous errors\ncommand terminated with exit code 2\n"));
                reply.code = 2;
                reply
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn recognizes_tar_extract_forms() {
        let want = |d: &str| Some(TarExtract { dest: d.into(), gzip: false });
        assert_eq!(parse_tar(&cmd("tar -x -C /app")), want("/app"));
        assert_eq!(parse_tar(&cmd("tar xf - -C /app/src")), want("/app/src"));
        assert_eq!(parse_tar(&cmd("tar -xmf - -C /x")), want("/x"));
        assert_eq!(parse_tar(&cmd("/bin/tar --directory=/d -x")), want("/d"));
        assert_eq!(parse_tar(&cmd("tar -C /d -xf -")), want("/d"));
        assert_eq!(parse_tar(&cmd("tar -xzf - -C /d")), Some(TarExtract { dest: "/d".into(), gzip: true }));
        assert_eq!(parse_tar(&cmd("tar -cf - /x")), None);
        assert_eq!(parse_tar(&cmd("sh -c true")), None);
    }
}
