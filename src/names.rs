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

#[cfg(test)]
mod tests {
    #[test]
    fn the_selector_and_prefix_agree_with_their_parts() {
        assert_eq!(super::MANAGED_BY_SELECTOR, format!("{}={}", super::MANAGED_BY_LABEL, super::MANAGED_BY_VALUE));
        assert_eq!(super::LOCAL_IMAGE_PREFIX, format!("{}/", super::IMAGE_REPOSITORY_HOST));
    }
}
