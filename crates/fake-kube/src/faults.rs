//! Fault injection, checked after the call is recorded and before any work.
//!
//! Sources, in order (the first fault that fires wins):
//! 1. `FAKE_KUBE_HANG=<substring>`: hang (always).
//! 2. `FAKE_KUBE_FAIL=<substring>=><exit code>:<stderr>` with optional `FAKE_KUBE_FAIL_TIMES=N`
//!    (fail only N matching calls) and `FAKE_KUBE_FAIL_AFTER=N` (let the first N matching calls
//!    through, i.e. fail the (N+1)th).
//! 3. `$FAKE_KUBE_STATE/faults.json`: a list of
//!    `{"match", "exit", "stderr", "stdout", "times", "after", "hang"}`.
//!
//! A substring matches against the tool name and argv joined by single spaces
//! (`kind create cluster --name x`). Match counts live in `state.json` (`fault_hits`).

use crate::state::Store;
use serde::Deserialize;
use std::io;

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Fault {
    #[serde(rename = "match")]
    pub pattern: String,
    #[serde(default = "default_exit")]
    pub exit: i32,
    #[serde(default)]
    pub stderr: String,
    #[serde(default)]
    pub stdout: String,
    #[serde(default)]
    pub times: Option<u64>,
    #[serde(default)]
    pub after: u64,
    #[serde(default)]
    pub hang: bool,
}

fn default_exit() -> i32 {
    1
}

#[derive(Debug, PartialEq)]
pub enum Action {
    Continue,
    Hang,
    Fail { code: i32, stdout: String, stderr: String },
}

/// The fault settings read from the environment.
#[derive(Debug, Default, Clone)]
pub struct FaultEnv {
    pub hang: Option<String>,
    pub fail: Option<String>,
    pub fail_times: Option<String>,
    pub fail_after: Option<String>,
}

/// Parses `<substring>=><exit code>:<stderr>`.
pub fn parse_fail_spec(spec: &str) -> Result<Fault, String> {
    let bad = || format!("fake-kube: FAKE_KUBE_FAIL must look like '<substring>=><exit code>:<stderr>', got {spec:?}");
    let (pattern, rest) = spec.split_once("=>").ok_or_else(bad)?;
    let (code, stderr) = rest.split_once(':').unwrap_or((rest, ""));
    let exit = code.trim().parse::<i32>().map_err(|_| bad())?;
    Ok(Fault {
        pattern: pattern.to_string(),
        exit,
        stderr: stderr.to_string(),
        stdout: String::new(),
        times: None,
        after: 0,
        hang: false,
    })
}

fn parse_count(name: &str, v: &Option<String>) -> Result<Option<u64>, String> {
    match v {
        None => Ok(None),
        Some(s) => s.trim().parse().map(Some).map_err(|_| format!("fake-kube: {name} must be a number, got {s:?}")),
    }
}

/// Every fault in effect, in priority order, each with its counter key.
pub fn collect(store: &Store, env: &FaultEnv) -> Result<Vec<(String, Fault)>, String> {
    let mut out = Vec::new();
    if let Some(h) = env.hang.as_ref().filter(|h| !h.is_empty()) {
        out.push((
            "env-hang".to_string(),
            Fault {
                pattern: h.clone(),
                exit: 0,
                stderr: String::new(),
                stdout: String::new(),
                times: None,
                after: 0,
                hang: true,
            },
        ));
    }
    if let Some(spec) = env.fail.as_ref().filter(|s| !s.is_empty()) {
        let mut f = parse_fail_spec(spec)?;
        f.times = parse_count("FAKE_KUBE_FAIL_TIMES", &env.fail_times)?;
        f.after = parse_count("FAKE_KUBE_FAIL_AFTER", &env.fail_after)?.unwrap_or(0);
        out.push((format!("env:{spec}"), f));
    }
    match std::fs::read_to_string(store.path("faults.json")) {
        Ok(text) if !text.trim().is_empty() => {
            let list: Vec<Fault> = serde_json::from_str(&text).map_err(|e| format!("fake-kube: faults.json: {e}"))?;
            for (i, f) in list.into_iter().enumerate() {
                out.push((format!("file:{i}:{}", f.pattern), f));
            }
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("fake-kube: faults.json: {e}")),
    }
    Ok(out)
}

/// Decides what this call does, counting matches in the state (under the state lock).
pub fn decide(store: &Store, env: &FaultEnv, joined: &str) -> Result<Action, String> {
    let faults = collect(store, env)?;
    if !faults.iter().any(|(_, f)| joined.contains(&f.pattern)) {
        return Ok(Action::Continue);
    }
    store
        .transact(|state| {
            for (key, f) in &faults {
                if !joined.contains(&f.pattern) {
                    continue;
                }
                let hits = state.fault_hits.entry(key.clone()).or_insert(0);
                *hits += 1;
                let n = *hits;
                let fires = n > f.after && f.times.is_none_or(|t| n <= f.after + t);
                if !fires {
                    continue;
                }
                if f.hang {
                    return Action::Hang;
                }
                let mut stderr = f.stderr.clone();
                if !stderr.is_empty() && !stderr.ends_with('\n') {
                    stderr.push('\n');
                }
                return Action::Fail { code: f.exit, stdout: f.stdout.clone(), stderr };
            }
            Action::Continue
        })
        .map_err(|e| format!("fake-kube: state: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::testutil::temp_dir;

    fn fail(code: i32, stderr: &str) -> Action {
        Action::Fail { code, stdout: String::new(), stderr: stderr.to_string() }
    }

    #[test]
    fn env_fail_spec_parses_code_and_stderr() {
        let f = parse_fail_spec("kind create=>7:boom: x").unwrap();
        assert_eq!((f.pattern.as_str(), f.exit, f.stderr.as_str()), ("kind create", 7, "boom: x"));
        assert!(parse_fail_spec("no arrow").is_err());
        assert!(parse_fail_spec("x=>notanumber:y").is_err());
    }

    #[test]
    fn fail_times_limits_and_counts_only_matching_calls() {
        let dir = temp_dir("faults");
        let store = Store::new(&dir);
        let env =
            FaultEnv { fail: Some("get pods=>1:nope".into()), fail_times: Some("2".into()), ..Default::default() };
        assert_eq!(decide(&store, &env, "kubectl get deploy").unwrap(), Action::Continue);
        assert_eq!(decide(&store, &env, "kubectl get pods -o json").unwrap(), fail(1, "nope\n"));
        assert_eq!(decide(&store, &env, "kubectl get pods").unwrap(), fail(1, "nope\n"));
        assert_eq!(decide(&store, &env, "kubectl get pods").unwrap(), Action::Continue);
    }

    #[test]
    fn fail_after_fails_the_nth_call_only() {
        let dir = temp_dir("faults-after");
        let store = Store::new(&dir);
        let env = FaultEnv {
            fail: Some("apply=>5:".into()),
            fail_times: Some("1".into()),
            fail_after: Some("2".into()),
            ..Default::default()
        };
        let got: Vec<Action> = (0..4).map(|_| decide(&store, &env, "kubectl apply -f -").unwrap()).collect();
        assert_eq!(got, vec![Action::Continue, Action::Continue, fail(5, ""), Action::Continue]);
    }

    #[test]
    fn faults_file_supports_hang_and_is_reread_each_call() {
        let dir = temp_dir("faults-file");
        let store = Store::new(&dir);
        std::fs::write(
            dir.join("faults.json"),
            r#"[{"match":"kind load","exit":3,"stderr":"ERROR: x","times":1},{"match":"logs","hang":true}]"#,
        )
        .unwrap();
        assert_eq!(decide(&store, &FaultEnv::default(), "kind load docker-image a").unwrap(), fail(3, "ERROR: x\n"));
        assert_eq!(decide(&store, &FaultEnv::default(), "kind load docker-image a").unwrap(), Action::Continue);
        assert_eq!(decide(&store, &FaultEnv::default(), "kubectl logs p -f").unwrap(), Action::Hang);
        std::fs::write(dir.join("faults.json"), "[]").unwrap();
        assert_eq!(decide(&store, &FaultEnv::default(), "kubectl logs p -f").unwrap(), Action::Continue);
    }

    #[test]
    fn env_hang_wins_over_fail() {
        let dir = temp_dir("faults-hang");
        let store = Store::new(&dir);
        let env =
            FaultEnv { hang: Some("create cluster".into()), fail: Some("kind=>1:x".into()), ..Default::default() };
        assert_eq!(decide(&store, &env, "kind create cluster --name a").unwrap(), Action::Hang);
        assert_eq!(decide(&store, &env, "kind get clusters").unwrap(), fail(1, "x\n"));
    }
}
