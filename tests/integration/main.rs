//! One integration-test binary: the real `ohdev` binary, the kind/kubectl stand-ins on PATH, and
//! the real Docker engine.

mod app_entrypoint;
mod bad_input;
mod cli;
mod cluster;
mod config_errors;
mod dashboard;
mod deploy;
mod doctor;
mod e2e;
mod environment;
mod forward;
mod gc;
mod images;
mod kubectl_args;
mod logs;
mod pulls;
mod registry;
mod registry_auth;
mod registry_tls;
mod signals;
mod sources;
mod stand_in_registry;
mod subsets;
mod support;
mod targets;
mod watch;
