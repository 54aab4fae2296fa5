//! Deploy: the manifests named in `ohdev.yaml`, turned into an ordered plan and rolled out.
//!
//! Split along the line between pure and effectful code:
//! - [`plan`] is pure: data in, data out, no processes. It parses manifests, generates Secrets,
//!   applies patches and image substitution, and orders every object by a dependency graph. `ohdev
//!   plan` is this module's output, and everything here is unit-tested without a cluster.
//! - [`rollout`] talks to the cluster (through `tools::kubectl`): it applies each object once what it
//!   depends on is ready, polls readiness, and fetches what a diagnosis needs. The judgements it makes
//!   on the cluster's answers (`readiness::evaluate`, `diagnose::diagnose`) are pure functions too.
//! - [`render`] joins the two ends: it gathers the sources (files, directories and pinned remote
//!   bundles fetched by [`remote`] with curl; kustomizations and renderers run by [`sources`]) and builds
//!   the plan. Those two are the only parts here that start a process.
//! - [`record`] is what ohdev applied; [`ledger`] records it around every apply, so `--prune` and
//!   `down` know what to delete; [`mode`] which mode (production or dev) each cluster was brought up in.

// Input errors are rare and end the command; carrying file and line in them costs nothing that matters.
#![allow(clippy::result_large_err)]

pub mod ledger;
pub mod mode;
pub mod plan;
pub mod record;
pub mod remote;
pub mod render;
pub mod rollout;
pub mod sources;
