//! Image names on a remote target's registry, Skaffold-style (`default_repo.go`): the image goes to
//! `<registry>/<name>:<content tag>`. Where the registry may not allow nested repository paths, the
//! name's own `/`, `.`, `:` and `@` become `_` so it stays one path segment.
//!
//! The rule (documented in docs/ohdev-yaml.md): nesting is allowed on registries known to accept
//! any depth — Google's (`gcr.io`, `*.gcr.io`, `*.pkg.dev`), Amazon ECR (`*.amazonaws.com`), GitHub
//! (`ghcr.io`), and any registry on a loopback or `localhost` address (CNCF distribution, which
//! accepts any depth); on every other host (Docker Hub's `docker.io/<user>` above all) names are
//! escaped. ohdev's own image names are DNS labels, so escaping only changes names that came in
//! with those characters.

pub use crate::config::target::split;

/// Whether the registry host accepts nested repository paths (see the module docs).
pub fn allows_nesting(host: &str) -> bool {
    let name = host_name(host);
    is_loopback(host)
        || name == "gcr.io"
        || name.ends_with(".gcr.io")
        || name.ends_with(".pkg.dev")
        || name.ends_with(".amazonaws.com")
        || name == "ghcr.io"
}

/// `name[:port]` → `name` (`[::1]:5000` → `::1`).
fn host_name(host: &str) -> &str {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) && !name.ends_with(':') => name,
        _ => host,
    };
    name.trim_start_matches('[').trim_end_matches(']')
}

/// Whether `host` (`name[:port]`) is on this machine: `localhost` or a loopback address.
pub fn is_loopback(host: &str) -> bool {
    let name = host_name(host);
    name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|address| address.is_loopback())
}

/// The repository of image `name` under `registry`'s path (without the host).
pub fn repository(registry: &str, name: &str) -> String {
    let (host, path) = split(registry);
    let name = if allows_nesting(host) { name.to_string() } else { escape(name) };
    if path.is_empty() {
        name
    } else {
        format!("{path}/{name}")
    }
}

/// `/`, `.`, `:` and `@` → `_`.
pub fn escape(name: &str) -> String {
    name.chars().map(|c| if matches!(c, '/' | '.' | ':' | '@') { '_' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_this_machine() {
        for host in ["localhost:5001", "127.0.0.1:5000", "[::1]:5000", "localhost"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["europe-docker.pkg.dev", "registry.example:5000", "10.0.0.1:5000"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn names_go_under_the_registry_escaped_where_it_does_not_nest() {
        let cases = [
            ("europe-docker.pkg.dev/team/dev", "app", "team/dev/app"),
            ("europe-docker.pkg.dev/team/dev", "org/app", "team/dev/org/app"),
            ("eu.gcr.io/project", "gcr.io/x/app", "project/gcr.io/x/app"),
            ("docker.io/ada", "org/app.v2", "ada/org_app_v2"),
            ("registry.example.com", "a:b@c", "a_b_c"),
            ("127.0.0.1:5000", "org/app", "org/app"),
            ("localhost:5001/dev", "app", "dev/app"),
        ];
        for (registry, name, expected) in cases {
            assert_eq!(repository(registry, name), expected, "{registry} {name}");
        }
    }
}
