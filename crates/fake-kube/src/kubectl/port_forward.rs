//! `kubectl port-forward (POD | TYPE/NAME) [LOCAL:]REMOTE… [--address A,B]`: listens on each
//! local port and answers every connection with `fake-kube <pod> <remote>\n` (there is no
//! container to forward to). It prints kubectl's own lines (`Forwarding from 127.0.0.1:L -> R`,
//! `Handling connection for L`) and, like kubectl since 1.23, exits 1 with `error: lost connection
//! to pod` once its pod is gone (a rollout, a `kubectl delete pod`, a deleted cluster), which it
//! notices by polling the state every 100 ms.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use super::errors::{render as render_errs, KubeErr};
use super::logs::{pod_exists, resolve_pod};
use super::pods::{all_pods, PodView};
use super::resources::resolve;
use super::{namespace, with_cluster, Reply};
use crate::app::Ctx;
use crate::flags::Parsed;
use crate::state::Cluster;
use crate::util::json::{str_at, string_map};

/// How often the forward checks that its pod still exists.
const POLL: Duration = Duration::from_millis(100);

struct Forward {
    pod: String,
    uid: String,
    ports: Vec<(u16, u16)>,
}

/// `[LOCAL:]REMOTE` → (local, remote).
fn parse_port(spec: &str) -> Result<(u16, u16), String> {
    let bad =
        || format!("error: Error parsing local port '{spec}': strconv.ParseUint: parsing {spec:?}: invalid syntax");
    match spec.split_once(':') {
        Some((local, remote)) => {
            let remote: u16 = remote.parse().map_err(|_| bad())?;
            // `:REMOTE`: a local port the system picks, as kubectl does.
            let local: u16 = if local.is_empty() { 0 } else { local.parse().map_err(|_| bad())? };
            Ok((local, remote))
        }
        None => spec.parse().map(|port| (port, port)).map_err(|_| bad()),
    }
}

/// The pod a Service forwards to: the first pod (by name) in its namespace whose labels match its selector.
fn service_pod(c: &Cluster, pods: &[PodView], ns: &str, name: &str) -> Result<usize, KubeErr> {
    let service = c.find("", "Service", ns, name).ok_or_else(|| KubeErr::not_found("services", name))?;
    let selector = string_map(c.objects[service].body.pointer("/spec/selector"));
    let mut matching: Vec<usize> = (0..pods.len())
        .filter(|&i| {
            let labels = string_map(pods[i].body.pointer("/metadata/labels"));
            str_at(&pods[i].body, &["metadata", "namespace"]) == Some(ns)
                && !selector.is_empty()
                && selector.iter().all(|(key, value)| labels.get(key) == Some(value))
        })
        .collect();
    matching.sort_by_key(|&i| str_at(&pods[i].body, &["metadata", "name"]).unwrap_or("").to_string());
    matching
        .first()
        .copied()
        .ok_or_else(|| KubeErr::plain(format!("timed out waiting for the condition on services/{name}")))
}

fn listen(addresses: &[String], ports: &[(u16, u16)]) -> Result<Vec<(TcpListener, u16, u16, String)>, String> {
    let mut listeners = Vec::new();
    for &(local, remote) in ports {
        for address in addresses {
            let host = if address == "localhost" { "127.0.0.1" } else { address.as_str() };
            match TcpListener::bind((host, local)) {
                Ok(listener) => {
                    let local = listener.local_addr().map(|address| address.port()).unwrap_or(local);
                    listeners.push((listener, local, remote, host.to_string()))
                }
                Err(error) => {
                    let why = if error.kind() == std::io::ErrorKind::AddrInUse {
                        "bind: address already in use".to_string()
                    } else {
                        error.to_string()
                    };
                    return Err(format!(
                        "Unable to listen on port {local}: Listeners failed to create with the following errors: [unable to create listener: Error listen tcp4 {host}:{local}: {why}]\nerror: unable to listen on any of the requested ports: [{{{local} {remote}}}]"
                    ));
                }
            }
        }
    }
    Ok(listeners)
}

pub fn run(ctx: &mut Ctx, p: &Parsed, context: &str) -> i32 {
    let Some(target) = p.positional.first().cloned() else {
        return ctx.fail(1, "error: TYPE/NAME and list of ports are required for port-forward\nSee 'kubectl port-forward -h' for help and examples");
    };
    if p.positional.len() < 2 {
        return ctx.fail(1, "error: TYPE/NAME and list of ports are required for port-forward\nSee 'kubectl port-forward -h' for help and examples");
    }
    let mut ports = Vec::new();
    for spec in &p.positional[1..] {
        match parse_port(spec) {
            Ok(port) => ports.push(port),
            Err(error) => return ctx.fail(1, &error),
        }
    }
    let addresses: Vec<String> = match p.all("address") {
        all if all.is_empty() => vec!["localhost".to_string()],
        all => all.iter().flat_map(|a| a.split(',')).map(str::to_string).collect(),
    };
    let ns = namespace(p);
    let mut forward = None;
    let code = with_cluster(ctx, context, |c| {
        let pods = all_pods(c);
        let found = match target.split_once('/') {
            Some((kind, name)) if resolve(c, kind).is_ok_and(|rt| rt.group.is_empty() && rt.kind == "Service") => {
                service_pod(c, &pods, &ns, name)
            }
            _ => resolve_pod(c, &pods, &ns, &target),
        };
        let i = match found {
            Ok(i) => i,
            Err(e) => return Reply::fail(render_errs(&[e])),
        };
        let body = &pods[i].body;
        let phase = str_at(body, &["status", "phase"]).unwrap_or("Pending");
        if phase != "Running" {
            return Reply::fail(format!(
                "error: unable to forward port because pod is not running. Current status={phase}"
            ));
        }
        forward = Some(Forward {
            pod: str_at(body, &["metadata", "name"]).unwrap_or("").to_string(),
            uid: str_at(body, &["metadata", "uid"]).unwrap_or("").to_string(),
            ports: ports.clone(),
        });
        Reply::default()
    });
    let Some(forward) = forward.filter(|_| code == 0) else {
        return code;
    };
    let listeners = match listen(&addresses, &forward.ports) {
        Ok(listeners) => listeners,
        Err(error) => return ctx.fail(1, &error),
    };
    for (listener, local, remote, host) in &listeners {
        let _ = listener.set_nonblocking(true);
        ctx.say(&format!("Forwarding from {host}:{local} -> {remote}\n"));
    }
    let mut since_check = Duration::ZERO;
    loop {
        for (listener, local, remote, _) in &listeners {
            while let Ok((stream, _)) = listener.accept() {
                ctx.say(&format!("Handling connection for {local}\n"));
                answer(stream, &forward.pod, *remote);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
        since_check += Duration::from_millis(20);
        if since_check >= POLL {
            since_check = Duration::ZERO;
            if !pod_exists(&ctx.store, context, &ns, &forward.pod) {
                let (local, remote) = forward.ports[0];
                return ctx.fail(
                    1,
                    &format!(
                        "E1203 12:00:00.000000    4242 portforward.go:424] \"Unhandled Error\" err=\"an error occurred forwarding {local} -> {remote}: error forwarding port {remote} to pod {}, uid : failed to find sandbox in store: not found\"\nerror: lost connection to pod",
                        forward.uid
                    ),
                );
            }
        }
    }
}

fn answer(stream: TcpStream, pod: &str, remote: u16) {
    let mut stream = stream;
    let _ = stream.set_nonblocking(false);
    let _ = stream.write_all(format!("fake-kube {pod} {remote}\n").as_bytes());
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::parse_port;

    #[test]
    fn port_specs_read_like_kubectl() {
        assert_eq!(parse_port("3000:80"), Ok((3000, 80)));
        assert_eq!(parse_port("8080"), Ok((8080, 8080)));
        assert_eq!(parse_port(":80"), Ok((0, 80)));
        assert!(parse_port("x:80").unwrap_err().contains("Error parsing local port 'x:80'"));
    }
}
