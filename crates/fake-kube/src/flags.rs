//! A small pflag-compatible command-line parser: interspersed flags, `--flag=value`,
//! `--flag value`, `-f value`, `-fvalue`, combined boolean shorthands (`-it`), `--` terminator.
//! Error texts are pflag's, because ohdev may show them.

#[derive(Debug, Clone, Copy)]
pub struct FlagSpec {
    pub long: &'static str,
    pub short: Option<char>,
    pub takes_value: bool,
}

pub const fn value(long: &'static str, short: Option<char>) -> FlagSpec {
    FlagSpec { long, short, takes_value: true }
}

pub const fn switch(long: &'static str, short: Option<char>) -> FlagSpec {
    FlagSpec { long, short, takes_value: false }
}

#[derive(Debug, Default, Clone)]
pub struct Parsed {
    pub positional: Vec<String>,
    /// Arguments after `--`.
    pub after_dash: Vec<String>,
    pub saw_dash: bool,
    /// (long name, value) in order; switches get "true" unless given `=false`.
    pub values: Vec<(String, String)>,
}

impl Parsed {
    pub fn get(&self, long: &str) -> Option<&str> {
        self.values.iter().rev().find(|(k, _)| k == long).map(|(_, v)| v.as_str())
    }

    pub fn all(&self, long: &str) -> Vec<&str> {
        self.values.iter().filter(|(k, _)| k == long).map(|(_, v)| v.as_str()).collect()
    }

    pub fn has(&self, long: &str) -> bool {
        self.get(long).is_some()
    }

    pub fn on(&self, long: &str) -> bool {
        matches!(self.get(long), Some(v) if v != "false")
    }
}

#[derive(Debug, PartialEq)]
pub enum FlagError {
    Unknown(String),
    UnknownShort(char, String),
    NeedsArgument(String),
    BadBool(String, String),
}

impl FlagError {
    /// pflag's text.
    pub fn message(&self) -> String {
        match self {
            FlagError::Unknown(name) => format!("unknown flag: --{name}"),
            FlagError::UnknownShort(c, arg) => format!("unknown shorthand flag: '{c}' in {arg}"),
            FlagError::NeedsArgument(name) => format!("flag needs an argument: {name}"),
            FlagError::BadBool(v, name) => {
                format!(
                    "invalid argument \"{v}\" for \"{name}\" flag: strconv.ParseBool: parsing \"{v}\": invalid syntax"
                )
            }
        }
    }
}

fn check_bool(v: &str, name: &str) -> Result<String, FlagError> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok("true".into()),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok("false".into()),
        _ => Err(FlagError::BadBool(v.into(), name.into())),
    }
}

pub fn parse(args: &[String], specs: &[FlagSpec]) -> Result<Parsed, FlagError> {
    let mut p = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            p.saw_dash = true;
            p.after_dash = args[i..].to_vec();
            break;
        }
        if let Some(body) = a.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let spec = specs.iter().find(|s| s.long == name).ok_or_else(|| FlagError::Unknown(name.into()))?;
            let v = if spec.takes_value {
                match inline {
                    Some(v) => v,
                    None if i < args.len() => {
                        i += 1;
                        args[i - 1].clone()
                    }
                    None => return Err(FlagError::NeedsArgument(format!("--{name}"))),
                }
            } else {
                check_bool(inline.as_deref().unwrap_or("true"), &format!("--{name}"))?
            };
            p.values.push((spec.long.into(), v));
        } else if a.len() > 1 && a.starts_with('-') {
            let chars: Vec<char> = a[1..].chars().collect();
            let mut j = 0;
            while j < chars.len() {
                let c = chars[j];
                let spec =
                    specs.iter().find(|s| s.short == Some(c)).ok_or_else(|| FlagError::UnknownShort(c, a.clone()))?;
                j += 1;
                if spec.takes_value {
                    let rest: String = chars[j..].iter().collect();
                    let v = if let Some(r) = rest.strip_prefix('=') {
                        r.to_string()
                    } else if !rest.is_empty() {
                        rest
                    } else if i < args.len() {
                        i += 1;
                        args[i - 1].clone()
                    } else {
                        return Err(FlagError::NeedsArgument(format!("'{c}' in -{c}")));
                    };
                    p.values.push((spec.long.into(), v));
                    break;
                }
                if chars.get(j) == Some(&'=') {
                    let v: String = chars[j + 1..].iter().collect();
                    p.values.push((spec.long.into(), check_bool(&v, &format!("-{c}"))?));
                    break;
                }
                p.values.push((spec.long.into(), "true".into()));
            }
        } else {
            p.positional.push(a.clone());
        }
    }
    Ok(p)
}

/// Finds the first `words` positional arguments (the command path) while skipping global flags,
/// and returns them with the remaining arguments. Used before the command's own flags are known.
pub fn split_command(
    args: &[String],
    globals: &[FlagSpec],
    words: usize,
) -> Result<(Vec<String>, Vec<String>), FlagError> {
    let mut found = Vec::new();
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if found.len() == words || a == "--" {
            rest.push(a.clone());
            rest.extend_from_slice(&args[i..]);
            break;
        }
        if let Some(body) = a.strip_prefix("--") {
            let name = body.split('=').next().unwrap_or("");
            let spec = globals.iter().find(|s| s.long == name);
            rest.push(a.clone());
            if let Some(s) = spec {
                if s.takes_value && !body.contains('=') && i < args.len() {
                    rest.push(args[i].clone());
                    i += 1;
                }
            } else if found.is_empty() {
                return Err(FlagError::Unknown(name.into()));
            }
        } else if a.len() > 1 && a.starts_with('-') {
            let c = a.chars().nth(1).unwrap_or('-');
            let spec = globals.iter().find(|s| s.short == Some(c));
            rest.push(a.clone());
            if let Some(s) = spec {
                if s.takes_value && a.len() == 2 && i < args.len() {
                    rest.push(args[i].clone());
                    i += 1;
                }
            } else if found.is_empty() {
                return Err(FlagError::UnknownShort(c, a.clone()));
            }
        } else {
            found.push(a.clone());
        }
    }
    Ok((found, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    const SPECS: &[FlagSpec] = &[
        value("namespace", Some('n')),
        value("filename", Some('f')),
        switch("stdin", Some('i')),
        switch("tty", Some('t')),
        switch("server-side", None),
        value("context", None),
    ];

    #[test]
    fn parses_pflag_forms() {
        let p = parse(
            &s(&["apply", "-f", "-", "--server-side", "--context=kind-a", "-nns", "-it", "x", "--", "tar", "-x"]),
            SPECS,
        )
        .unwrap();
        assert_eq!(p.positional, s(&["apply", "x"]));
        assert_eq!(p.get("filename"), Some("-"));
        assert_eq!(p.get("context"), Some("kind-a"));
        assert_eq!(p.get("namespace"), Some("ns"));
        assert!(p.on("stdin") && p.on("tty") && p.on("server-side"));
        assert_eq!(p.after_dash, s(&["tar", "-x"]));
        assert!(!parse(&s(&["--server-side=false"]), SPECS).unwrap().on("server-side"));
    }

    #[test]
    fn reports_pflag_errors() {
        assert_eq!(parse(&s(&["--nope"]), SPECS).unwrap_err().message(), "unknown flag: --nope");
        assert_eq!(parse(&s(&["-z"]), SPECS).unwrap_err().message(), "unknown shorthand flag: 'z' in -z");
        assert_eq!(parse(&s(&["--context"]), SPECS).unwrap_err().message(), "flag needs an argument: --context");
    }

    #[test]
    fn split_command_skips_global_flag_values() {
        let (words, rest) = split_command(&s(&["--context", "kind-a", "-n", "x", "get", "pods"]), SPECS, 1).unwrap();
        assert_eq!(words, s(&["get"]));
        assert_eq!(rest, s(&["--context", "kind-a", "-n", "x", "pods"]));
        assert!(split_command(&s(&["--bogus", "get"]), SPECS, 1).is_err());
    }
}
