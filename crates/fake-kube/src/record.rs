//! `$FAKE_KUBE_STATE/calls.jsonl`: one JSON line per invocation, written before any work so that
//! calls that hang or fail are recorded too.

use crate::state::Store;
use crate::util::b64;
use serde_json::{json, Value};
use std::fs::OpenOptions;
use std::io::{self, Write};

/// What was read from standard input (only commands that read it read it).
pub enum Stdin {
    NotRead,
    Text(String),
    Binary(Vec<u8>),
}

impl Stdin {
    pub fn text(&self) -> &str {
        match self {
            Stdin::Text(s) => s,
            _ => "",
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            Stdin::Text(s) => s.as_bytes(),
            Stdin::Binary(b) => b,
            Stdin::NotRead => &[],
        }
    }
}

pub fn line(tool: &str, args: &[String], stdin: &Stdin) -> Value {
    let at_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let mut v = json!({"tool": tool, "argv": args, "stdin": Value::Null, "pid": std::process::id(), "at_ms": at_ms});
    match stdin {
        Stdin::NotRead => {}
        Stdin::Text(s) => v["stdin"] = Value::String(s.clone()),
        Stdin::Binary(b) => v["stdin_b64"] = Value::String(b64::encode(b)),
    }
    v
}

pub fn append(store: &Store, tool: &str, args: &[String], stdin: &Stdin) -> io::Result<()> {
    let mut text = serde_json::to_string(&line(tool, args, stdin)).map_err(io::Error::other)?;
    text.push('\n');
    let _guard = store.lock()?;
    let mut f = OpenOptions::new().create(true).append(true).open(store.path("calls.jsonl"))?;
    f.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_stdin_is_recorded_as_base64_and_text_verbatim() {
        let args = vec!["exec".to_string()];
        let bin = line("kubectl", &args, &Stdin::Binary(vec![0, 1, 2]));
        assert_eq!(bin["stdin_b64"], "AAEC");
        assert_eq!(bin["stdin"], Value::Null);
        let text = line("kubectl", &args, &Stdin::Text("kind: X\n".into()));
        assert_eq!(text["stdin"], "kind: X\n");
        assert!(text.get("stdin_b64").is_none());
        assert_eq!(line("kind", &args, &Stdin::NotRead)["stdin"], Value::Null);
    }
}
