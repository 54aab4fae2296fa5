//! The flags each simulated kubectl command accepts (all real kubectl flags; anything else is
//! rejected with pflag's "unknown flag" error, as kubectl would).

use crate::flags::{switch, value, FlagSpec};

pub const GLOBALS: &[FlagSpec] = &[
    value("context", None),
    value("namespace", Some('n')),
    value("request-timeout", None),
    value("kubeconfig", None),
    value("cluster", None),
    value("user", None),
    value("v", Some('v')),
    switch("help", Some('h')),
];

const VERSION: &[FlagSpec] = &[switch("client", None), value("output", Some('o'))];

/// `config view` (the only `config` subcommand simulated).
const CONFIG: &[FlagSpec] = &[switch("minify", None), switch("raw", None), value("output", Some('o'))];

const GET: &[FlagSpec] = &[
    value("output", Some('o')),
    switch("all-namespaces", Some('A')),
    value("selector", Some('l')),
    value("field-selector", None),
    switch("ignore-not-found", None),
    switch("no-headers", None),
    switch("show-labels", None),
    switch("show-kind", None),
    value("chunk-size", None),
    value("label-columns", Some('L')),
    value("sort-by", None),
    switch("watch", Some('w')),
    value("raw", None),
    value("filename", Some('f')),
];

const APPLY: &[FlagSpec] = &[
    value("filename", Some('f')),
    switch("recursive", Some('R')),
    switch("server-side", None),
    value("field-manager", None),
    switch("force-conflicts", None),
    value("output", Some('o')),
    value("dry-run", None),
    value("validate", None),
    value("selector", Some('l')),
    switch("wait", None),
    value("timeout", None),
    switch("overwrite", None),
    switch("force", None),
    switch("prune", None),
    value("kustomize", Some('k')),
];

const DELETE: &[FlagSpec] = &[
    value("filename", Some('f')),
    switch("recursive", Some('R')),
    value("selector", Some('l')),
    value("field-selector", None),
    switch("all-namespaces", Some('A')),
    switch("all", None),
    switch("ignore-not-found", None),
    switch("wait", None),
    value("timeout", None),
    value("grace-period", None),
    switch("now", None),
    switch("force", None),
    value("cascade", None),
    value("output", Some('o')),
    value("dry-run", None),
];

const LOGS: &[FlagSpec] = &[
    switch("follow", Some('f')),
    value("container", Some('c')),
    value("since", None),
    value("since-time", None),
    value("tail", None),
    switch("timestamps", None),
    switch("prefix", None),
    switch("previous", Some('p')),
    switch("all-containers", None),
    value("selector", Some('l')),
    value("max-log-requests", None),
    switch("ignore-errors", None),
    value("limit-bytes", None),
    value("pod-running-timeout", None),
];

const EXEC: &[FlagSpec] = &[
    switch("stdin", Some('i')),
    switch("tty", Some('t')),
    value("container", Some('c')),
    switch("quiet", Some('q')),
    value("pod-running-timeout", None),
];

const API_RESOURCES: &[FlagSpec] = &[
    value("api-group", None),
    value("namespaced", None),
    value("output", Some('o')),
    switch("no-headers", None),
    switch("cached", None),
    value("verbs", None),
    value("sort-by", None),
    value("categories", None),
];

const PORT_FORWARD: &[FlagSpec] = &[value("address", None), value("pod-running-timeout", None)];

/// The command's flags plus the global ones; None for commands the stand-in does not know.
pub fn for_command(cmd: &str) -> Option<Vec<FlagSpec>> {
    let own: &[FlagSpec] = match cmd {
        "version" => VERSION,
        "get" => GET,
        "apply" => APPLY,
        "delete" => DELETE,
        "logs" => LOGS,
        "exec" => EXEC,
        "api-resources" => API_RESOURCES,
        "cluster-info" => &[],
        "config" => CONFIG,
        "port-forward" => PORT_FORWARD,
        _ => return None,
    };
    Some(GLOBALS.iter().chain(own).copied().collect())
}
