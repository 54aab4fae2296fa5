//! The engine: one module per operation, each taking a [`Session`] and emitting events.
//!
//! Data flows one way: `cli` (flags) → `project` (ohdev.yaml and cluster.yaml, validated) → an
//! operation here → typed events → a renderer in `ui/`. Commands only resolve their input, open a
//! [`Session`] declaring what they [`Needs`], call one operation and return an `ExitStatus`.
//! Operations never print; they validate everything before the first change, and record what they
//! change in the state ledger (`deploy::ledger`, `image::load`) as they go.
//!
//! | operation   | what it does                                                                     |
//! |-------------|----------------------------------------------------------------------------------|
//! | [`up`]      | ports → cluster ∥ images → load → apply in dependency order → wait → URLs        |
//! | [`build`]   | build images without a cluster (`ohdev build`)                                   |
//! | [`rebuild`] | build what changed, load it, then [`reapply`]                                    |
//! | [`reapply`] | render with the current tags, apply only what changed, wait                      |
//! | [`ship`]    | push built images to the registry in use, or `kind load` them (decided once)     |
//! | `watch`     | the watch loop lives in `src/watch/` (it is large): it calls [`rebuild`], [`reapply`] and live sync |
//! | [`forward`] | the `ports:` forwards, re-established when their pod is replaced, until Ctrl-C |
//! | [`down`]    | delete the cluster, or only what ohdev applied                                   |
//! | [`gc`]      | remove old content tags of ohdev's images from Docker, the registry and the nodes |
//! | [`status`]  | the cluster, its nodes, each image and where it is loaded                        |
//! | [`plan`]    | the ordered manifest set, without a cluster                                      |
//! | [`logs`]    | every container's output as one stream                                           |

pub mod build;
pub mod down;
pub mod forward;
pub mod gc;
pub mod logs;
pub mod plan;
pub mod reapply;
pub mod rebuild;
pub mod remote;
mod session;
pub mod ship;
pub mod status;
pub mod subset;
pub mod up;

pub use session::{Needs, Session};
