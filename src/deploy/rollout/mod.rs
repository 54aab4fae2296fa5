//! The cluster-facing half of deploy: apply, wait, explain.
//!
//! `apply` is the only part that calls kubectl: it starts each object as soon as everything it depends
//! on is applied and ready (server-side apply, field manager `ohdev`), polls readiness (fast first,
//! then backing off: `cadence`), retries webhook and CRD-discovery errors until the deadline, and on
//! a failure fetches the workload, its pods, events and last log lines. Judging those answers is pure: `readiness::evaluate` for one object's
//! `kubectl get -o json`, `diagnose::diagnose` for a failed workload (reason, events, hint), so both are
//! unit-tested without a cluster; `pulls` tells a slow image pull (progress) from a failed one (a
//! registry question); `explain` fetches what a diagnosis needs and builds the errors. The
//! diagnosis is data (`Diagnosis`); `ui/` formats it.

pub mod apply;
pub mod cadence;
pub mod diagnose;
mod diagnose_events;
mod diagnose_hints;
mod explain;
pub mod failure;
pub mod pulls;
pub mod readiness;
mod stderr;
