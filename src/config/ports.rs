//! `ports:`: port-forwards from 127.0.0.1 on this machine to a workload in the cluster.
//!
//! Checked here, before anything runs: the target's kind (one whose pods ohdev can find), the
//! name and namespace, both port numbers, and that no two entries want the same local port. The
//! forwards themselves run in `forward/`.

use std::fmt;
use std::path::Path;

use super::raw::RawPortForward;
use super::yaml_error;
use crate::error::Error;

/// The kinds a forward can point at: ohdev finds a ready pod of the target by its selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardKind {
    Deployment,
    StatefulSet,
    Service,
    Pod,
}

impl ForwardKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ForwardKind::Deployment => "Deployment",
            ForwardKind::StatefulSet => "StatefulSet",
            ForwardKind::Service => "Service",
            ForwardKind::Pod => "Pod",
        }
    }

    /// The kind as written: its name or one of kubectl's names for it (`deploy`, `svc`, `sts`…).
    fn parse(text: &str) -> Option<ForwardKind> {
        match text.to_ascii_lowercase().as_str() {
            "deployment" | "deployments" | "deploy" => Some(ForwardKind::Deployment),
            "statefulset" | "statefulsets" | "sts" => Some(ForwardKind::StatefulSet),
            "service" | "services" | "svc" => Some(ForwardKind::Service),
            "pod" | "pods" | "po" => Some(ForwardKind::Pod),
            _ => None,
        }
    }
}

/// One resolved `ports:` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortForward {
    pub kind: ForwardKind,
    pub name: String,
    pub namespace: String,
    /// On 127.0.0.1.
    pub local: u16,
    /// On the target: a container port, or for a Service one of its ports.
    pub remote: u16,
    /// The entry's line in ohdev.yaml (for errors found later, e.g. a busy local port).
    pub line: Option<usize>,
}

impl PortForward {
    /// `Deployment/openhands`, as written in ohdev.yaml and shown in events.
    pub fn target(&self) -> String {
        format!("{}/{}", self.kind.as_str(), self.name)
    }

    /// Where the forward answers.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.local)
    }
}

impl fmt::Display for PortForward {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "127.0.0.1:{} → {} ({}) port {}", self.local, self.target(), self.namespace, self.remote)
    }
}

const EXAMPLE: &str = "e.g. `- {to: Deployment/openhands, local: 3000, remote: 3000}`";

pub(super) fn resolve(
    file: &Path,
    text: &str,
    entries: &[RawPortForward],
    default_namespace: &str,
) -> Result<Vec<PortForward>, Error> {
    let mut resolved: Vec<PortForward> = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let line = entry_line(text, index);
        let refuse = |message: String, fix: String| Err(Error::config(file, line, message, fix));
        let key = format!("ports[{index}]");
        let Some((kind_text, name)) = entry.to.split_once('/') else {
            return refuse(
                format!("`{key}.to` is `{}`, which does not say the kind of its target", entry.to),
                format!("write KIND/NAME: Deployment/{0}, StatefulSet/{0}, Service/{0} or Pod/{0}", entry.to),
            );
        };
        let Some(kind) = ForwardKind::parse(kind_text) else {
            let known = ["Deployment", "StatefulSet", "Service", "Pod"].map(String::from);
            let nearest = yaml_error::nearest(kind_text, &known)
                .map(|kind| format!("did you mean `{kind}/{name}`? "))
                .unwrap_or_default();
            return refuse(
                format!("`{key}.to` is `{}`: ohdev cannot forward to a {kind_text}", entry.to),
                format!(
                    "{nearest}a forward goes to a Deployment, StatefulSet, Service or Pod (it picks a ready pod of it)"
                ),
            );
        };
        if !crate::names::is_dns_subdomain(name) {
            return refuse(
                format!("`{key}.to` is `{}`, and `{name}` is not a Kubernetes name", entry.to),
                "use the object's name: lower-case letters, digits, '-' and '.'".to_string(),
            );
        }
        let namespace = entry.namespace.clone().unwrap_or_else(|| default_namespace.to_string());
        if !crate::names::is_dns_label(&namespace) {
            return refuse(
                format!("`{key}.namespace` is `{namespace}`, which is not a namespace name"),
                "use lower-case letters, digits and '-', at most 63 characters".to_string(),
            );
        }
        let port = |field: &str, value: i64| -> Result<u16, Error> {
            match u16::try_from(value) {
                Ok(port) if port != 0 => Ok(port),
                _ => Err(Error::config(
                    file,
                    line,
                    format!("`{key}.{field}` is {value}, which is not a port number"),
                    format!("use a port from 1 to 65535, {EXAMPLE}"),
                )),
            }
        };
        let (local, remote) = (port("local", entry.local)?, port("remote", entry.remote)?);
        if let Some(earlier) = resolved.iter().position(|forward| forward.local == local) {
            return refuse(
                format!(
                    "`{key}.local` is {local}, which `ports[{earlier}]` ({}) already uses: one local port takes one forward",
                    resolved[earlier].target()
                ),
                format!("give this forward another local port, e.g. `local: {}`", suggest_free(&resolved, local)),
            );
        }
        resolved.push(PortForward { kind, name: name.to_string(), namespace, local, remote, line });
    }
    Ok(resolved)
}

/// The next local port after `taken` that no entry uses.
fn suggest_free(resolved: &[PortForward], taken: u16) -> u16 {
    (taken.saturating_add(1)..u16::MAX).find(|port| resolved.iter().all(|forward| forward.local != *port)).unwrap_or(1)
}

/// The line of the `index`-th entry of the top-level `ports:` list: each entry names its `to:`.
fn entry_line(text: &str, index: usize) -> Option<usize> {
    let start = text.lines().position(|line| line.starts_with("ports:"))?;
    text.lines()
        .enumerate()
        .skip(start)
        .filter(|(_, line)| {
            let line = line.trim_start().trim_start_matches("ports:").trim_start();
            let line = line.trim_start_matches(['-', '[', ' ']).trim_start_matches('{').trim_start();
            line.starts_with("to:")
        })
        .nth(index)
        .map(|(number, _)| number + 1)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::config::parse_text;

    use super::*;

    fn parse(text: &str) -> Result<Vec<PortForward>, Error> {
        let file = PathBuf::from("/project/ohdev.yaml");
        parse_text(&file, text, &|_| None).map(|config| config.ports)
    }

    #[test]
    fn entries_resolve_with_the_top_level_namespace_as_default() {
        let text = "namespace: web\nports:\n  - {to: Deployment/openhands, namespace: openhands, local: 3000, remote: 3000}\n  - to: svc/db\n    local: 5432\n    remote: 5432\n";
        let ports = parse(text).unwrap();
        assert_eq!(
            ports,
            [
                PortForward {
                    kind: ForwardKind::Deployment,
                    name: "openhands".into(),
                    namespace: "openhands".into(),
                    local: 3000,
                    remote: 3000,
                    line: Some(3)
                },
                PortForward {
                    kind: ForwardKind::Service,
                    name: "db".into(),
                    namespace: "web".into(),
                    local: 5432,
                    remote: 5432,
                    line: Some(4)
                },
            ]
        );
        assert_eq!(ports[1].target(), "Service/db");
        assert_eq!(ports[0].url(), "http://127.0.0.1:3000");
    }

    #[test]
    fn bad_entries_name_the_key_the_line_and_the_fix() {
        let cases: &[(&str, usize, &str, &str)] = &[
            (
                "ports:\n  - {to: Deploymnt/web, local: 3000, remote: 80}\n",
                2,
                "`ports[0].to` is `Deploymnt/web`: ohdev cannot forward to a Deploymnt",
                "did you mean `Deployment/web`?",
            ),
            ("ports:\n  - {to: web, local: 3000, remote: 80}\n", 2, "does not say the kind", "Deployment/web"),
            (
                "ports:\n  - {to: Deployment/web, local: 70000, remote: 80}\n",
                2,
                "`ports[0].local` is 70000, which is not a port number",
                "from 1 to 65535",
            ),
            (
                "ports:\n  - {to: Pod/web, local: 3000, remote: 0}\n",
                2,
                "`ports[0].remote` is 0, which is not a port number",
                "from 1 to 65535",
            ),
            (
                "ports:\n  - {to: Deployment/web, local: 3000, remote: 80}\n  - to: StatefulSet/db\n    local: 3000\n    remote: 5432\n",
                3,
                "`ports[1].local` is 3000, which `ports[0]` (Deployment/web) already uses",
                "`local: 3001`",
            ),
            (
                "ports:\n  - {to: Deployment/Web, local: 3000, remote: 80}\n",
                2,
                "`Web` is not a Kubernetes name",
                "lower-case",
            ),
            ("ports:\n  - {to: Deployment/web, local: 3000}\n", 2, "missing field `remote`", ""),
            ("ports:\n  - {to: Deployment/web, locl: 3000, remote: 1}\n", 2, "did you mean `local`", ""),
        ];
        for (text, line, message, fix) in cases {
            let error = parse(text).unwrap_err();
            let shown = error.to_string();
            assert_eq!(error.exit_code(), 2, "{text}");
            assert!(shown.contains(message), "{text}: {shown}");
            assert!(shown.contains(fix), "{text}: {shown}");
            assert!(shown.contains(&format!("ohdev.yaml:{line}")), "{text}: line {line} in {shown}");
        }
    }
}
