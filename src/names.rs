//! Names ohdev puts on what it creates, defined once: every object and image carries the managed-by
//! label so `down`, `status`, `logs` and the watch loop find them without guessing, and every image it
//! builds lives under one repository host so a tag is recognised as ohdev's wherever it shows up.

/// The label on every object and image ohdev creates.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Its value.
pub const MANAGED_BY_VALUE: &str = "ohdev";
/// A kubectl `--selector` for what ohdev manages.
pub const MANAGED_BY_SELECTOR: &str = "app.kubernetes.io/managed-by=ohdev";
/// The repository host of every image ohdev builds: `ohdev.local/<name>:<content tag>`.
pub const IMAGE_REPOSITORY_HOST: &str = "ohdev.local";
/// The prefix of an image reference ohdev built.
pub const LOCAL_IMAGE_PREFIX: &str = "ohdev.local/";

/// The length of a content tag (`ohdev.local/<name>:<16 hex>`).
pub const CONTENT_TAG_LENGTH: usize = 16;

/// The logical image name when `reference` names an image ohdev built: `ohdev.local/<name>:…`, or,
/// when a registry is in use, `<registry host>/<name>:<content tag>` (the host has a port or a dot,
/// or is `localhost`, as Docker tells a registry from a Docker Hub user; the tag is 16 hex digits;
/// on a remote target the name is the last segment under the registry's path).
pub fn built_image_name(reference: &str) -> Option<&str> {
    if let Some(rest) = reference.strip_prefix(LOCAL_IMAGE_PREFIX) {
        return Some(rest.split([':', '@']).next().unwrap_or(rest));
    }
    let (host, rest) = reference.split_once('/')?;
    let registry_host = host.contains([':', '.']) || host == "localhost";
    let (path, tag) = rest.split_once(':')?;
    // On a remote target's registry the name sits under the registry's path (`team/dev/app`).
    let name = path.rsplit('/').next().unwrap_or(path);
    let content_tag =
        tag.len() == CONTENT_TAG_LENGTH && tag.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    (registry_host && is_dns_label(name) && content_tag).then_some(name)
}

/// A DNS-1123 label: what Kubernetes accepts as a namespace or a Service name, and ohdev as an
/// image or cluster name: lower-case letters, digits and '-', at most 63 characters, starting and
/// ending with a letter or digit.
pub fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// A DNS-1123 subdomain: what Kubernetes accepts as the name of most objects (ConfigMap, Secret,
/// Deployment…): labels joined by '.', at most 253 characters.
pub fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|part| {
            !part.is_empty()
                && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn dns_names() {
        for good in ["a", "app-1", "x".repeat(63).as_str()] {
            assert!(super::is_dns_label(good), "{good}");
        }
        for bad in ["", "App", "a_b", "-a", "a-", "a.b", "x".repeat(64).as_str()] {
            assert!(!super::is_dns_label(bad), "{bad}");
        }
        for good in ["a.b", "openhands-secrets", "x".repeat(253).as_str()] {
            assert!(super::is_dns_subdomain(good), "{good}");
        }
        for bad in ["Demo_Config", "a..b", ".a", "a.", "x".repeat(254).as_str(), ""] {
            assert!(!super::is_dns_subdomain(bad), "{bad}");
        }
    }

    #[test]
    fn built_images_are_recognised_in_ohdev_local_and_in_a_registry() {
        use super::built_image_name;
        assert_eq!(built_image_name("ohdev.local/app:1234"), Some("app"));
        assert_eq!(built_image_name("ohdev.local/app@sha256:00"), Some("app"));
        assert_eq!(built_image_name("localhost:5001/app:0123456789abcdef"), Some("app"));
        assert_eq!(built_image_name("ctlptl-registry:5000/web:fedcba9876543210"), Some("web"));
        assert_eq!(built_image_name("registry.local/app:0123456789abcdef"), Some("app"));
        // Under a remote target's registry path (`targets.*.registry: host/team/dev`).
        assert_eq!(built_image_name("europe-docker.pkg.dev/team/dev/app:0123456789abcdef"), Some("app"));
        assert_eq!(built_image_name("localhost:5001/team/app:0123456789abcdef"), Some("app"));
        // Not content tags, not registry hosts: not ohdev's.
        assert_eq!(built_image_name("localhost:5001/app:latest"), None);
        assert_eq!(built_image_name("library/app:0123456789abcdef"), None);
        assert_eq!(built_image_name("nginx:1.27"), None);
        assert_eq!(built_image_name("localhost:5001/app:0123456789ABCDEF"), None);
    }

    #[test]
    fn the_selector_and_prefix_agree_with_their_parts() {
        assert_eq!(super::MANAGED_BY_SELECTOR, format!("{}={}", super::MANAGED_BY_LABEL, super::MANAGED_BY_VALUE));
        assert_eq!(super::LOCAL_IMAGE_PREFIX, format!("{}/", super::IMAGE_REPOSITORY_HOST));
    }
}
