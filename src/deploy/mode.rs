//! Which mode (production or dev, `config/dev.rs`) each cluster was last brought up in, kept in
//! state.json under `mode`.
//!
//! Why it is recorded: `ohdev rebuild` and `ohdev watch` re-render the manifests. Rendering them in
//! another mode than the one deployed would switch the app between a read-only image and a
//! writable source volume as a side effect of a rebuild; only `ohdev up` chooses the mode.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{Config, Mode};
use crate::error::Error;
use crate::state::{Section, StateLock, StateReader};

/// Cluster name → the mode `ohdev up` last deployed there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Modes(BTreeMap<String, Mode>);

impl Section for Modes {
    const KEY: &'static str = "mode";
}

/// Written before the first object is applied, like the ledger: an interrupted `up` has already
/// started the switch, and the next `rebuild` continues in the new mode.
pub fn record(lock: &StateLock, cluster: &str, mode: Mode) -> Result<(), Error> {
    lock.update_section(|modes: &mut Modes| {
        modes.0.insert(cluster.to_string(), mode);
    })
}

/// The mode `config`'s cluster was last deployed in; production when ohdev never deployed it.
pub fn recorded(state: &StateReader, config: &Config) -> Mode {
    let modes: Modes = state.section();
    modes.0.get(&config.state_key()).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_is_recorded_per_cluster_and_defaults_to_production() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ohdev.yaml"), "cluster: {name: one}\nimages: {}\nmanifests: []\n").unwrap();
        let config = crate::config::load(&dir.path().join("ohdev.yaml")).unwrap();
        let reporter = crate::ui::Reporter::new(std::sync::Arc::new(crate::ui::PlainRenderer::new()));
        let reader = StateReader::new(dir.path(), &reporter);
        assert_eq!(recorded(&reader, &config), Mode::Production);
        let lock = StateLock::acquire(dir.path(), std::time::Duration::from_secs(5), &reporter).unwrap();
        record(&lock, "one", Mode::Dev).unwrap();
        record(&lock, "other", Mode::Production).unwrap();
        assert_eq!(recorded(&reader, &config), Mode::Dev);
        record(&lock, "one", Mode::Production).unwrap();
        assert_eq!(recorded(&reader, &config), Mode::Production);
        let text = std::fs::read_to_string(dir.path().join(".ohdev/state.json")).unwrap();
        assert!(text.contains("\"mode\""), "{text}");
    }
}
