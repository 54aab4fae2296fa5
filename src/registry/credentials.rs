//! Registry credentials found the way the docker CLI finds them, so `docker login <registry>` is
//! all a person ever does: `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`), a
//! `credHelpers` entry for the host, else `credsStore`, else the file's `auths`. A helper is run as
//! `docker-credential-<name> get` (the host on stdin, `{ServerURL, Username, Secret}` on stdout)
//! through the exec seam, so it has a timeout and dies with ohdev.
//!
//! The values never leave this module except into an HTTP header or bollard's
//! `DockerCredentials`: [`Secret`] prints as `***`, and what the rest of ohdev shows is the
//! [`Source`] (which entry or helper), never the user name's password or token.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;

use crate::error::Error;
use crate::tools::exec::Invocation;

/// How long a credential helper may take (a keychain prompt is the slow case).
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// The key Docker files Docker Hub's credentials under.
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// A password or token: shown as `***` by `Debug`, only [`Secret::expose`] gives the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for an HTTP header or the Engine API's `X-Registry-Auth` only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("***")
    }
}

/// Where credentials came from: what messages name instead of the values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `auths["<key>"]` in the config file.
    Auths { file: PathBuf, key: String },
    /// `docker-credential-<helper>`, chosen by `credHelpers` (per host) or `credsStore` (for all).
    Helper { helper: String, setting: &'static str, file: PathBuf },
    /// No credentials for this host (`file` is the config file looked at, if there was one).
    None { file: Option<PathBuf> },
}

impl fmt::Display for Source {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Auths { file, key } => write!(formatter, "the `auths` entry \"{key}\" in {}", file.display()),
            Source::Helper { helper, setting, file } => {
                write!(
                    formatter,
                    "the credential helper docker-credential-{helper} (`{setting}` in {})",
                    file.display()
                )
            }
            Source::None { file: Some(file) } => {
                write!(formatter, "none (no entry for this registry in {})", file.display())
            }
            Source::None { file: None } => write!(formatter, "none (no Docker config file)"),
        }
    }
}

/// A user name and its password, or an identity token (an OAuth refresh token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    Password { username: String, password: Secret },
    IdentityToken(Secret),
}

/// What ohdev presents to one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub host: String,
    pub source: Source,
    pub login: Option<Login>,
}

impl Credentials {
    pub fn none(host: &str) -> Credentials {
        Credentials { host: host.to_string(), source: Source::None { file: None }, login: None }
    }

    /// `Basic base64(user:password)`, when there is a user name and password.
    pub fn basic_header(&self) -> Option<String> {
        match &self.login {
            Some(Login::Password { username, password }) => {
                Some(format!("Basic {}", STANDARD.encode(format!("{username}:{}", password.expose()))))
            }
            _ => None,
        }
    }

    /// What bollard sends the daemon for a push (`X-Registry-Auth`).
    pub fn for_docker(&self) -> Option<bollard::auth::DockerCredentials> {
        let login = self.login.as_ref()?;
        let mut credentials =
            bollard::auth::DockerCredentials { serveraddress: Some(self.host.clone()), ..Default::default() };
        match login {
            Login::Password { username, password } => {
                credentials.username = Some(username.clone());
                credentials.password = Some(password.expose().to_string());
            }
            Login::IdentityToken(token) => credentials.identitytoken = Some(token.expose().to_string()),
        }
        Some(credentials)
    }

    /// The registry refused these credentials (or their absence): which registry, what was used,
    /// and what to type. `before_changes` makes it bad input (exit 2): nothing was changed yet.
    pub fn rejected(&self, status: u16, what: &str, before_changes: bool) -> Error {
        let message = format!(
            "registry {} refused {what} (HTTP {status} {}); credentials used: {}",
            self.host,
            if status == 403 { "Forbidden" } else { "Unauthorized" },
            self.source
        );
        let fix = match &self.source {
            Source::Helper { helper, .. } => format!(
                "`docker login {}` (it stores the login through docker-credential-{helper}), then run the same command again",
                self.host
            ),
            _ => format!("`docker login {}`, then run the same command again", self.host),
        };
        if before_changes {
            Error::Input { message, fix }
        } else {
            Error::work(message, Some(fix))
        }
    }
}

/// `config.json`, only the parts about registries.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigFile {
    #[serde(default)]
    pub auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    pub creds_store: Option<String>,
    #[serde(default)]
    pub cred_helpers: BTreeMap<String, String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct AuthEntry {
    #[serde(default)]
    pub auth: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub identitytoken: Option<String>,
}

/// Where the credentials for a host are to be found (pure: the file's content decides).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Helper { helper: String, setting: &'static str },
    Auths { key: String },
    None,
}

/// The config file Docker reads: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|dir| !dir.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker").join("config.json"))
}

/// The key Docker uses for a registry host: Docker Hub's historic URL for `docker.io`.
pub fn server_key(host: &str) -> &str {
    match host {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB_KEY,
        _ => host,
    }
}

/// `https://host:5000/v1/` → `host:5000` (what Docker compares `auths` keys by).
pub fn key_host(key: &str) -> &str {
    let rest = key.split_once("://").map(|(_, rest)| rest).unwrap_or(key);
    rest.split('/').next().unwrap_or(rest)
}

/// Docker's order: a `credHelpers` entry for the host, else `credsStore`, else `auths` (an exact
/// key first, then any key whose host part matches, with or without scheme and path).
pub fn choose(config: &ConfigFile, host: &str) -> Choice {
    let key = server_key(host);
    let helper = config
        .cred_helpers
        .get(key)
        .or_else(|| config.cred_helpers.iter().find(|(entry, _)| key_host(entry) == key_host(key)).map(|(_, h)| h));
    if let Some(helper) = helper.filter(|helper| !helper.is_empty()) {
        return Choice::Helper { helper: helper.clone(), setting: "credHelpers" };
    }
    if let Some(store) = config.creds_store.as_ref().filter(|store| !store.is_empty()) {
        return Choice::Helper { helper: store.clone(), setting: "credsStore" };
    }
    if config.auths.contains_key(key) {
        return Choice::Auths { key: key.to_string() };
    }
    match config.auths.keys().find(|entry| key_host(entry) == key_host(key)) {
        Some(entry) => Choice::Auths { key: entry.clone() },
        None => Choice::None,
    }
}

/// An `auths` entry's login: `auth` (base64 `user:password`), else `username`/`password`, and an
/// `identitytoken` wins over both (as in Docker). `Err` names what is malformed, never the value.
pub fn decode_entry(entry: &AuthEntry) -> Result<Option<Login>, String> {
    if let Some(token) = entry.identitytoken.as_ref().filter(|token| !token.is_empty()) {
        return Ok(Some(Login::IdentityToken(Secret::new(token.clone()))));
    }
    if let Some(auth) = entry.auth.as_ref().filter(|auth| !auth.is_empty()) {
        let bytes = STANDARD.decode(auth.trim()).map_err(|_| "its `auth` is not base64".to_string())?;
        let text = String::from_utf8(bytes).map_err(|_| "its `auth` is not UTF-8 once decoded".to_string())?;
        let (username, password) =
            text.split_once(':').ok_or_else(|| "its `auth` does not decode to `user:password`".to_string())?;
        return Ok(Some(Login::Password { username: username.to_string(), password: Secret::new(password) }));
    }
    match (&entry.username, &entry.password) {
        (Some(username), Some(password)) if !username.is_empty() => {
            Ok(Some(Login::Password { username: username.clone(), password: Secret::new(password.clone()) }))
        }
        _ => Ok(None),
    }
}

/// A helper's answer: `{"ServerURL": "…", "Username": "…", "Secret": "…"}`; the user name
/// `<token>` means the secret is an identity token.
pub fn parse_helper_output(stdout: &str) -> Result<Login, String> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(rename = "Username", default)]
        username: String,
        #[serde(rename = "Secret", default)]
        secret: String,
    }
    let raw: Raw = serde_json::from_str(stdout.trim())
        .map_err(|_| "it did not print JSON with `Username` and `Secret`".to_string())?;
    if raw.username == "<token>" {
        return Ok(Login::IdentityToken(Secret::new(raw.secret)));
    }
    Ok(Login::Password { username: raw.username, password: Secret::new(raw.secret) })
}

/// The credentials for `host`, from the Docker config file and its helpers.
pub async fn resolve(host: &str) -> Result<Credentials, Error> {
    let Some(path) = config_path() else { return Ok(Credentials::none(host)) };
    resolve_in(host, &path).await
}

pub async fn resolve_in(host: &str, path: &Path) -> Result<Credentials, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Credentials::none(host)),
        Err(error) => {
            return Err(Error::work(
                format!("reading the Docker config {} failed: {error}", path.display()),
                Some("check the file's permissions (ohdev reads registry logins from it, as docker does)".to_string()),
            ))
        }
    };
    let config: ConfigFile = serde_json::from_str(&text).map_err(|error| Error::Input {
        message: format!(
            "the Docker config {} is not valid JSON (line {}, column {})",
            path.display(),
            error.line(),
            error.column()
        ),
        fix: format!("fix the file (or run `docker login {host}` to rewrite it)"),
    })?;
    let file = path.to_path_buf();
    match choose(&config, host) {
        Choice::None => {
            Ok(Credentials { host: host.to_string(), source: Source::None { file: Some(file) }, login: None })
        }
        Choice::Auths { key } => {
            let login = decode_entry(&config.auths[&key]).map_err(|problem| Error::Input {
                message: format!("the `auths` entry \"{key}\" in {} is malformed: {problem}", path.display()),
                fix: format!("run `docker login {host}` to write it again"),
            })?;
            Ok(Credentials { host: host.to_string(), source: Source::Auths { file, key }, login })
        }
        Choice::Helper { helper, setting } => {
            let login = run_helper(&helper, server_key(host), setting, path).await?;
            Ok(Credentials { host: host.to_string(), source: Source::Helper { helper, setting, file }, login })
        }
    }
}

/// `docker-credential-<helper> get`, the server on stdin. "credentials not found" is no login.
async fn run_helper(helper: &str, server: &str, setting: &str, file: &Path) -> Result<Option<Login>, Error> {
    let program = format!("docker-credential-{helper}");
    let Ok(path) = which::which(&program) else {
        return Err(Error::Input {
            message: format!(
                "`{setting}` in {} names the credential helper `{helper}`, but `{program}` is not on PATH",
                file.display()
            ),
            fix: format!("install {program}, or remove `{helper}` from `{setting}` in {}", file.display()),
        });
    };
    let output = Invocation::new(path, &program)
        .arg("get")
        .stdin(server.as_bytes().to_vec())
        .timeout(HELPER_TIMEOUT)
        .run_unchecked()
        .await?;
    if !output.success() {
        // The helpers' own words for "no login stored" (docker-credential-helpers' ErrCredentialsNotFound).
        if output.stdout.contains("credentials not found") || output.stderr.contains("credentials not found") {
            return Ok(None);
        }
        return Err(Error::work(
            format!(
                "`{program} get` for {server} {} (its error: {})",
                match output.code {
                    Some(code) => format!("exited with status {code}"),
                    None => "was killed by a signal".to_string(),
                },
                // Its stdout may hold half a secret: only stderr is shown.
                first_line(&output.stderr)
            ),
            Some(format!("check the helper (`echo {server} | {program} get`), or `docker login {server}` again")),
        ));
    }
    parse_helper_output(&output.stdout).map(Some).map_err(|problem| {
        Error::work(
            format!("`{program} get` for {server}: {problem}"),
            Some(format!("check the helper: `echo {server} | {program} get`")),
        )
    })
}

fn first_line(text: &str) -> &str {
    text.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or("no message")
}

#[cfg(test)]
#[path = "credentials_tests.rs"]
mod tests;
