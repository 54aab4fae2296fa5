//! The pure half of deploy: from manifests to an ordered, validated plan. No processes.
//!
//! The order of calls, from `ohdev.yaml` to a plan (driven by `deploy::render`):
//! 1. `manifest::load` reads files and directories (all input errors at once), each document through
//!    `yaml` (straight into JSON when that gives the same value);
//! 2. `secrets::generate` makes one Secret per `secrets:` entry; they join the objects;
//! 3. `manifest::normalize` defaults namespaces, strips namespaces from cluster-scoped objects, rejects
//!    duplicates (patch targets are matched after this, so a target's namespace may be left out);
//! 4. `namespaces::ensure_namespaces` adds the default namespace when nothing creates it and refuses
//!    any other namespace that nothing creates;
//! 5. `substitute::apply_patches`, then `substitute::substitute_images` (warnings to show), then
//!    `substitute::label_managed_by`;
//! 6. `edges` finds what depends on what (`webhooks` adds admission-webhook edges), `graph::plan`
//!    turns the edges into a dependency graph, shown by `ohdev plan` level by level (the levels are
//!    for reading; the rollout starts each object as soon as its own dependencies are ready).

pub mod edges;
pub mod graph;
pub mod index;
pub mod manifest;
pub mod namespaces;
mod object;
pub mod object_names;
mod patch;
pub mod resource;
mod scope;
pub mod secrets;
pub mod subset;
pub mod substitute;
pub mod urls;
pub mod webhooks;
mod yaml;
