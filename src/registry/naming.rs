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

/// `host[:port]` and the repository path under it (`europe-docker.pkg.dev/team/dev` →
/// (`europe-docker.pkg.dev`, `team/dev`)).
pub fn split(registry: &str) -> (&str, &str) {
    registry.split_once('/').unwrap_or((registry, ""))
}

/// Whether `registry` (as written in `targets.*.registry`) can be pushed to: a host, optional
/// port and path, no scheme, tag or digest.
pub fn check_registry(registry: &str) -> Result<(), String> {
    if registry.is_empty() {
        return Err("it is empty".into());
    }
    if registry.contains("://") {
        return Err("a registry is named without a scheme (Docker chooses https, or http on loopback)".into());
    }
    if registry.contains('@') || registry.chars().any(char::is_whitespace) {
        return Err("it holds `@` or spaces: name the registry, not an image".into());
    }
    let (host, path) = split(registry);
    if host.is_empty() || host.starts_with(':') {
        return Err("it names no host".into());
    }
    if path.contains(':') {
        return Err("its path has a `:`: name the registry, not a tagged image".into());
    }
    if path != path.to_ascii_lowercase() {
        return Err("repository paths are lower case".into());
    }
    Ok(())
}

/// Whether the registry host accepts nested repository paths (see the module docs).
pub fn allows_nesting(host: &str) -> bool {
    let name =
        host.rsplit_once(':').map(|(name, port)| if port.chars().all(|c| c.is_ascii_digit()) { name } else { host });
    let name = name.unwrap_or(host).trim_start_matches('[').trim_end_matches(']');
    let loopback = name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|address| address.is_loopback());
    loopback
        || name == "gcr.io"
        || name.ends_with(".gcr.io")
        || name.ends_with(".pkg.dev")
        || name.ends_with(".amazonaws.com")
        || name == "ghcr.io"
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

    #[test]
    fn a_registry_is_a_host_and_a_path() {
        assert!(check_registry("europe-docker.pkg.dev/team/dev").is_ok());
        assert!(check_registry("127.0.0.1:5000").is_ok());
        for bad in ["", "https://reg.example", "reg.example/app:v1", "reg.example/Team", ":5000"] {
            assert!(check_registry(bad).is_err(), "{bad}");
        }
        assert_eq!(split("127.0.0.1:5000"), ("127.0.0.1:5000", ""));
    }
}
