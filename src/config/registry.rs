//! `registry:` in ohdev.yaml: where images go instead of `kind load`. Parsed here, purely, so every
//! mistake is found before Docker or the cluster is touched.

/// The host when `registry:` names none: kind's own example and ctlptl use port 5001.
pub const DEFAULT_HOST: &str = "localhost:5001";
/// The registry image when `registry.image` is not set (the CNCF distribution registry).
pub const DEFAULT_IMAGE: &str = "registry:2";
/// The port the registry listens on inside its container (`registry:2` and distribution's default).
pub const CONTAINER_PORT: u16 = 5000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryConfig {
    /// `localhost:5001`: where ohdev pushes from this machine, and what manifests name.
    pub host: String,
    /// The host part (`localhost`).
    pub hostname: String,
    pub port: u16,
    /// Start the registry container when nothing answers on `host`.
    pub create: bool,
    pub image: String,
}

/// What is wrong with `registry:` (the resolver adds the file and line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: &'static str,
    pub message: String,
    pub fix: String,
}

impl RegistryConfig {
    pub fn new(host: &str, create: bool, image: &str) -> Result<RegistryConfig, Problem> {
        let (hostname, port) = parse_host(host)?;
        if create && !is_loopback(&hostname) {
            return Err(Problem {
                key: "registry.host",
                message: format!(
                    "`registry.host` is `{host}`, but ohdev runs a registry container only on this machine's loopback (`create` is true)"
                ),
                fix: format!(
                    "write `host: localhost:{port}` to let ohdev run the registry, or add `create: false` if a registry already serves `{host}`"
                ),
            });
        }
        check_image(image)?;
        Ok(RegistryConfig { host: host.to_string(), hostname, port, create, image: image.to_string() })
    }

    /// Whether ohdev may run the registry container for this host.
    pub fn is_loopback(&self) -> bool {
        is_loopback(&self.hostname)
    }

    /// The container ohdev runs for this registry: `ohdev-registry` on the usual port 5001,
    /// `ohdev-registry-<port>` on any other, so registries on two ports never share a name.
    pub fn container_name(&self) -> String {
        container_name(self.port)
    }
}

pub fn container_name(port: u16) -> String {
    if port == 5001 {
        "ohdev-registry".to_string()
    } else {
        format!("ohdev-registry-{port}")
    }
}

/// `localhost` and `127.0.0.1` (any of `127.0.0.0/8`): the only hosts ohdev binds a registry to.
pub fn is_loopback(hostname: &str) -> bool {
    hostname == "localhost" || hostname.parse::<std::net::Ipv4Addr>().is_ok_and(|address| address.is_loopback())
}

/// `name:port`, as Docker reads the registry part of an image reference: a name it will not
/// mistake for a Docker Hub user (it has a port), no scheme, no path.
pub fn parse_host(host: &str) -> Result<(String, u16), Problem> {
    let problem = |message: String, fix: &str| Problem { key: "registry.host", message, fix: fix.to_string() };
    let example = "write `host: localhost:5001` (a name and a port, nothing else)";
    if let Some((scheme, rest)) = host.split_once("://") {
        return Err(Problem {
            key: "registry.host",
            message: format!("`registry.host` is `{host}`, which has a scheme (`{scheme}://`)"),
            fix: format!("write the host and port only: `host: {}`", rest.trim_end_matches('/')),
        });
    }
    if host.contains('/') {
        return Err(problem(
            format!("`registry.host` is `{host}`, which has a path: a registry host is `name:port`"),
            example,
        ));
    }
    let Some((hostname, port)) = host.rsplit_once(':') else {
        return Err(Problem {
            key: "registry.host",
            message: format!("`registry.host` is `{host}`, which has no port"),
            fix: format!("add the port the registry listens on, e.g. `host: {host}:5001`"),
        });
    };
    let port = match port.parse::<u16>() {
        Ok(port) if port > 0 => port,
        _ => {
            return Err(problem(
                format!("`registry.host` is `{host}`: `{port}` is not a port (1–65535)"),
                "write a port number, e.g. `host: localhost:5001`",
            ))
        }
    };
    let valid_name = !hostname.is_empty()
        && hostname.split('.').all(|part| {
            !part.is_empty()
                && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        });
    if !valid_name {
        return Err(problem(
            format!(
                "`registry.host` is `{host}`: `{hostname}` is not a host name Docker accepts in an image reference"
            ),
            "use lower-case letters, digits, '-' and '.', e.g. `host: localhost:5001`",
        ));
    }
    Ok((hostname.to_string(), port))
}

/// An image reference Docker can look up (`registry:2`, `mirror.local:5000/registry:2.8`,
/// `registry@sha256:…`): no spaces, no upper-case repository, not empty.
fn check_image(image: &str) -> Result<(), Problem> {
    let problem = |why: &str| Problem {
        key: "registry.image",
        message: format!("`registry.image` is `{image}`, which is not an image reference: {why}"),
        fix: "name an image Docker has, e.g. `image: registry:2` (`docker images` lists them)".to_string(),
    };
    if image.trim().is_empty() {
        return Err(problem("it is empty"));
    }
    if image.chars().any(char::is_whitespace) {
        return Err(problem("it contains white space"));
    }
    let repository = image.split('@').next().unwrap_or(image);
    let repository = match repository.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => repository,
    };
    if repository.is_empty() || repository.ends_with('/') || repository.starts_with('/') {
        return Err(problem("the repository name is missing"));
    }
    // Only the registry host (before the first '/', when it has a '.' or ':') may hold upper case.
    let path = match repository.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => rest,
        _ => repository,
    };
    if path.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(problem("repository names are lower case"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(parse_host("localhost:5001").unwrap(), ("localhost".to_string(), 5001));
        assert_eq!(parse_host("registry.local:5000").unwrap(), ("registry.local".to_string(), 5000));
        for (host, says) in [
            ("localhost", "has no port"),
            ("http://localhost:5001", "has a scheme"),
            ("localhost:5001/v2", "has a path"),
            ("localhost:0", "is not a port"),
            ("localhost:99999", "is not a port"),
            ("localhost:http", "is not a port"),
            (":5001", "is not a host name"),
            ("Local_Host:5001", "is not a host name"),
        ] {
            let problem = parse_host(host).unwrap_err();
            assert!(problem.message.contains(says), "{host}: {}", problem.message);
        }
        assert_eq!(
            parse_host("http://localhost:5001/").unwrap_err().fix,
            "write the host and port only: `host: localhost:5001`"
        );
    }

    #[test]
    fn only_a_loopback_registry_is_created() {
        assert!(RegistryConfig::new("localhost:5001", true, "registry:2").unwrap().is_loopback());
        assert!(RegistryConfig::new("127.0.0.1:5002", true, "registry:2").unwrap().is_loopback());
        let problem = RegistryConfig::new("registry.local:5000", true, "registry:2").unwrap_err();
        assert!(problem.fix.contains("add `create: false`"), "{problem:?}");
        let remote = RegistryConfig::new("registry.local:5000", false, "registry:2").unwrap();
        assert!(!remote.is_loopback());
    }

    #[test]
    fn images() {
        for good in
            ["registry:2", "mirror.local:5000/library/registry:2.8", "ohdev-test/registry:abc", "registry@sha256:00"]
        {
            assert!(check_image(good).is_ok(), "{good}");
        }
        for (bad, says) in
            [("", "empty"), ("registry 2", "white space"), ("Registry:2", "lower case"), (":2", "missing")]
        {
            let problem = check_image(bad).unwrap_err();
            assert!(problem.message.contains(says), "{bad}: {problem:?}");
        }
    }

    #[test]
    fn container_names_carry_the_port_except_on_5001() {
        assert_eq!(container_name(5001), "ohdev-registry");
        assert_eq!(container_name(5123), "ohdev-registry-5123");
    }
}
