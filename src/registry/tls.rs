//! HTTPS for the registry client, chosen the way Docker chooses it: a registry on this machine
//! (localhost, 127.0.0.0/8, ::1) is tried with HTTPS first and spoken to over plain HTTP when
//! what answers does not speak TLS; every other registry is HTTPS only, verified against the
//! system's roots (rustls-native-certs, which honours `SSL_CERT_FILE` and `SSL_CERT_DIR`).
//!
//! A certificate the roots do not vouch for is never a reason to fall back, on loopback either:
//! it is an error naming the registry, the reason and the fix.

use std::sync::{Arc, OnceLock};

use super::naming;

/// How the client reaches a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Https,
    Http,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }
}

/// What the client tries for a registry at `host` before it knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemeChoice {
    /// Loopback: HTTPS, then plain HTTP when the handshake shows no TLS server.
    HttpsThenHttp,
    /// Everywhere else.
    HttpsOnly,
}

pub fn choice(host: &str) -> SchemeChoice {
    if naming::is_loopback(host) {
        SchemeChoice::HttpsThenHttp
    } else {
        SchemeChoice::HttpsOnly
    }
}

/// The scheme a hint shows before the client learned one: what it would try last.
pub fn assumed(host: &str) -> Scheme {
    match choice(host) {
        SchemeChoice::HttpsThenHttp => Scheme::Http,
        SchemeChoice::HttpsOnly => Scheme::Https,
    }
}

/// Why a TLS handshake failed, as far as the scheme choice and the message care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// What answers is not a TLS server (it answered in plain HTTP, or closed the connection).
    NotTls(String),
    /// The server's certificate is not acceptable.
    Certificate(Certificate),
    /// Any other TLS failure (an alert from the server, no common protocol version…).
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Certificate {
    /// No root this machine trusts signed it (a private CA, or a self-signed certificate).
    UnknownAuthority,
    /// It is not issued for the name or address ohdev connects to.
    NameMismatch {
        presented: Vec<String>,
    },
    Expired,
    NotValidYet,
    Other(String),
}

/// The roots and config, built once per process (reading the system's store takes a few ms).
struct Roots {
    config: Arc<rustls::ClientConfig>,
    /// `SSL_CERT_FILE=…` could not be read, or the system store had errors: said with a
    /// certificate error, since it is then the likely cause.
    problems: Option<String>,
}

fn roots() -> &'static Roots {
    static ROOTS: OnceLock<Roots> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let loaded = rustls_native_certs::load_native_certs();
        let mut store = rustls::RootCertStore::empty();
        let (added, _ignored) = store.add_parsable_certificates(loaded.certs);
        let problems = (!loaded.errors.is_empty()).then(|| {
            let errors: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
            format!("{} certificate(s) loaded; reading the trusted roots failed: {}", added, errors.join("; "))
        });
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(store)
            .with_no_client_auth();
        Roots { config: Arc::new(config), problems }
    })
}

/// The rustls configuration every client shares.
pub fn config() -> rustls::ClientConfig {
    (*roots().config).clone()
}

/// Whether a hyper error is a TLS handshake failure, and which. hyper-rustls wraps the handshake's
/// `io::Error` in another `io::Error`; a TCP connect failure (refused, unreachable) is hyper-util's
/// own error and is not a TLS failure.
pub fn failure(error: &(dyn std::error::Error + 'static)) -> Option<Failure> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(handshake) = error
            .downcast_ref::<std::io::Error>()
            .and_then(|outer| outer.get_ref())
            .and_then(|inner| inner.downcast_ref::<std::io::Error>())
        {
            return Some(classify_io(handshake));
        }
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(classify(tls));
        }
        current = error.source();
    }
    None
}

fn classify_io(error: &std::io::Error) -> Failure {
    use std::io::ErrorKind;
    if let Some(tls) = error.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        return classify(tls);
    }
    match error.kind() {
        ErrorKind::UnexpectedEof
        | ErrorKind::ConnectionReset
        | ErrorKind::ConnectionAborted
        | ErrorKind::BrokenPipe => Failure::NotTls(format!("the connection closed during the TLS handshake ({error})")),
        _ => Failure::Other(error.to_string()),
    }
}

/// A rustls error, sorted.
pub fn classify(error: &rustls::Error) -> Failure {
    use rustls::{CertificateError, Error};
    match error {
        // Plain HTTP answering a ClientHello ("HTTP/1.1 400 …") is not a TLS record.
        Error::InvalidMessage(_) | Error::InappropriateMessage { .. } | Error::PeerSentOversizedRecord => {
            Failure::NotTls(format!("what answers does not speak TLS ({error})"))
        }
        Error::InvalidCertificate(certificate) => Failure::Certificate(match certificate {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => Certificate::UnknownAuthority,
            CertificateError::NotValidForName => Certificate::NameMismatch { presented: Vec::new() },
            CertificateError::NotValidForNameContext { presented, .. } => {
                Certificate::NameMismatch { presented: presented.iter().map(|name| shown_name(name)).collect() }
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => Certificate::Expired,
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => Certificate::NotValidYet,
            other => Certificate::Other(format!("{other:?}")),
        }),
        Error::NoCertificatesPresented => Failure::Certificate(Certificate::Other("no certificate presented".into())),
        // rustls as bollard builds it (no `tls12` feature) speaks TLS 1.3 only.
        Error::AlertReceived(rustls::AlertDescription::ProtocolVersion) | Error::PeerIncompatible(_) => {
            Failure::Other(format!("the registry and ohdev share no TLS version (ohdev speaks TLS 1.3 only): {error}"))
        }
        other => Failure::Other(other.to_string()),
    }
}

/// A certificate problem as a person reads it: what is wrong, then what to do.
pub fn explain(host: &str, certificate: &Certificate) -> (String, String) {
    let name = host_name(host);
    let trust = "install the registry's CA certificate into the system store (Debian/Ubuntu: copy it to /usr/local/share/ca-certificates/<name>.crt, then `sudo update-ca-certificates`), or point ohdev at a PEM file holding it: `SSL_CERT_FILE=/path/to/ca.pem ohdev …` (that file then replaces the system's list, so include the other CAs you need)".to_string();
    let (reason, fix) = match certificate {
        Certificate::UnknownAuthority => (
            "its TLS certificate is not trusted (unknown authority: no CA this machine trusts signed it)".to_string(),
            trust,
        ),
        Certificate::NameMismatch { presented } => (
            format!(
                "its TLS certificate is not valid for {name} (name mismatch{})",
                if presented.is_empty() { String::new() } else { format!("; it names {}", presented.join(", ")) }
            ),
            format!("use the name the certificate was issued for in the registry's address, or reissue the certificate with {name} in its subjectAltName"),
        ),
        Certificate::Expired => (
            "its TLS certificate has expired".to_string(),
            "renew the registry's certificate (or check this machine's clock: `date`)".to_string(),
        ),
        Certificate::NotValidYet => (
            "its TLS certificate is not valid yet".to_string(),
            "check this machine's clock (`date`), or the certificate's notBefore".to_string(),
        ),
        Certificate::Other(what) => (format!("its TLS certificate was refused ({what})"), trust),
    };
    let reason = match &roots().problems {
        Some(problems) if matches!(certificate, Certificate::UnknownAuthority) => format!("{reason}; {problems}"),
        _ => reason,
    };
    (format!("registry {host}: {reason}"), fix)
}

/// rustls says which names a certificate carries as `DnsName("a.example")` / `IpAddress(127.0.0.1)`:
/// a person wants `a.example`, `127.0.0.1`.
fn shown_name(presented: &str) -> String {
    match presented.split_once('(') {
        Some((kind, rest)) if rest.ends_with(')') && kind.chars().all(|c| c.is_ascii_alphanumeric()) => {
            rest[..rest.len() - 1].trim_matches('"').to_string()
        }
        _ => presented.to_string(),
    }
}

fn host_name(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) && !name.ends_with(':') => {
            name.trim_start_matches('[').trim_end_matches(']')
        }
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_tries_https_then_http_everything_else_is_https_only() {
        for host in ["localhost:5001", "127.0.0.1:5001", "127.1.2.3:5000", "[::1]:5000", "localhost"] {
            assert_eq!(choice(host), SchemeChoice::HttpsThenHttp, "{host}");
            assert_eq!(assumed(host), Scheme::Http, "{host}");
        }
        for host in ["europe-docker.pkg.dev", "registry.local:5000", "10.0.0.5:5000", "ghcr.io", "128.0.0.1:5000"] {
            assert_eq!(choice(host), SchemeChoice::HttpsOnly, "{host}");
            assert_eq!(assumed(host), Scheme::Https, "{host}");
        }
    }

    #[test]
    fn plain_http_answers_fall_back_and_certificate_problems_do_not() {
        use rustls::{CertificateError, Error, InvalidMessage};
        assert!(matches!(classify(&Error::InvalidMessage(InvalidMessage::InvalidContentType)), Failure::NotTls(_)));
        assert_eq!(
            classify(&Error::InvalidCertificate(CertificateError::UnknownIssuer)),
            Failure::Certificate(Certificate::UnknownAuthority)
        );
        assert_eq!(
            classify(&Error::InvalidCertificate(CertificateError::NotValidForName)),
            Failure::Certificate(Certificate::NameMismatch { presented: Vec::new() })
        );
        match classify(&Error::AlertReceived(rustls::AlertDescription::ProtocolVersion)) {
            Failure::Other(text) => assert!(text.contains("TLS 1.3 only"), "{text}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify(&Error::AlertReceived(rustls::AlertDescription::HandshakeFailure)),
            Failure::Other(_)
        ));
        let eof = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "tls handshake eof");
        assert!(matches!(classify_io(&eof), Failure::NotTls(_)));
        // The shape hyper-rustls gives: io::Error(other) around the handshake's io::Error.
        let wrapped = std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            Error::InvalidCertificate(CertificateError::UnknownIssuer),
        ));
        assert_eq!(failure(&wrapped), Some(Failure::Certificate(Certificate::UnknownAuthority)));
        // A refused TCP connection is not a TLS failure.
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(failure(&refused), None);
    }

    #[test]
    fn certificate_errors_name_the_registry_the_reason_and_the_fix() {
        let (message, fix) = explain("127.0.0.1:5443", &Certificate::UnknownAuthority);
        assert!(
            message.starts_with("registry 127.0.0.1:5443: its TLS certificate is not trusted (unknown authority"),
            "{message}"
        );
        assert!(fix.contains("SSL_CERT_FILE=") && fix.contains("update-ca-certificates"), "{fix}");
        let (message, fix) =
            explain("registry.example:443", &Certificate::NameMismatch { presented: vec!["other.example".into()] });
        assert_eq!(
            message,
            "registry registry.example:443: its TLS certificate is not valid for registry.example (name mismatch; it names other.example)"
        );
        assert!(fix.contains("subjectAltName"), "{fix}");
        assert_eq!(shown_name("IpAddress(127.0.0.1)"), "127.0.0.1");
        assert_eq!(shown_name("DnsName(\"registry.example\")"), "registry.example");
        assert_eq!(shown_name("plain"), "plain");
    }
}
