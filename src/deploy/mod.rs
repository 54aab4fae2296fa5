//! Deploy: turn the manifests named in `ohdev.yaml` into an ordered, validated plan, and judge the
//! cluster's answers (readiness, diagnosis). Everything here is pure: data in, data out, no processes,
//! so the ordering and the judgements are unit-tested without a cluster.
//!
//! The intended order of calls, from `ohdev.yaml` to a plan:
//! 1. `manifest::load` reads files and directories (all input errors at once);
//! 2. `secrets::generate` makes one Secret per `secrets:` entry; append them to the objects;
//! 3. `manifest::normalize` defaults namespaces, strips namespaces from cluster-scoped objects, rejects
//!    duplicates (patch targets are matched after this, so a target's namespace may be left out);
//! 4. `substitute::apply_patches`, then `substitute::substitute_images` (warnings to show), then
//!    `substitute::label_managed_by`;
//! 5. `graph::plan` gives levels to apply in order; `graph::render_text` / `graph::render_json_lines`
//!    print `ohdev plan`.
//!
//! While applying: `readiness::evaluate` on each object's `kubectl get -o json`; on failure or timeout,
//! `diagnose::diagnose` on the workload, its pods and events, and `diagnose::render` for the screen.

// Input errors are rare and end the command; carrying file and line in them costs nothing that matters.
#![allow(clippy::result_large_err)]

pub mod apply;
pub mod diagnose;
mod diagnose_events;
mod diagnose_hints;
pub mod edges;
pub mod graph;
pub mod manifest;
mod object;
mod patch;
pub mod readiness;
pub mod record;
pub mod remote;
pub mod render;
mod scope;
pub mod secrets;
pub mod substitute;
pub mod urls;
pub mod webhooks;
