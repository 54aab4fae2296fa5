//! Who may talk to the dashboard: pure checks on a request's headers, unit-tested.
//!
//! The server listens on 127.0.0.1 only, but any web page the user opens can still make their
//! browser send requests there. So, like Tilt's HUD server, every route needs the token printed on
//! the terminal, and a request whose `Host` is not our loopback address and port (DNS rebinding:
//! `evil.example` resolving to 127.0.0.1) or whose `Origin` is another site (a cross-site POST) is
//! refused. No CORS headers are ever sent, so other origins cannot read answers either.

use hyper::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN};
use hyper::http::request::Parts;

/// The cookie the page gets when it is first opened with `?token=`.
pub const COOKIE_NAME: &str = "ohdev_dashboard";

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed; `true` when the token came in the query (the page answer then sets the cookie).
    Allowed { token_in_query: bool },
    /// 401: no token, or a wrong one.
    Unauthorized(&'static str),
    /// 403: a foreign Host or Origin.
    Forbidden(&'static str),
}

/// 128 random bits from the kernel, as hex.
pub fn new_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// The hosts this server answers to (`Host` header, and an `Origin`'s authority).
fn own_hosts(port: u16) -> [String; 2] {
    [format!("127.0.0.1:{port}"), format!("localhost:{port}")]
}

pub fn check(parts: &Parts, token: &str, port: u16) -> Verdict {
    let hosts = own_hosts(port);
    let host = parts.headers.get(HOST).and_then(|value| value.to_str().ok()).unwrap_or_default();
    if !hosts.iter().any(|own| own.eq_ignore_ascii_case(host)) {
        return Verdict::Forbidden("forbidden: the Host header is not this dashboard's address\n");
    }
    if let Some(origin) = parts.headers.get(ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        let authority = origin.strip_prefix("http://").unwrap_or("");
        if !hosts.iter().any(|own| own.eq_ignore_ascii_case(authority)) {
            return Verdict::Forbidden("forbidden: requests from other sites are refused\n");
        }
    }
    let from_query = parts.uri.query().and_then(|query| query_value(query, "token"));
    let from_header = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|value| value.trim().to_string());
    let from_cookie = parts.headers.get_all(COOKIE).iter().filter_map(|value| value.to_str().ok()).find_map(|value| {
        value.split(';').find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE_NAME).then(|| value.to_string())
        })
    });
    let token_in_query = from_query.is_some();
    match from_query.or(from_header).or(from_cookie) {
        None => Verdict::Unauthorized(
            "unauthorized: open the dashboard with the URL ohdev printed (it carries the token)\n",
        ),
        Some(given) if constant_time_eq(given.as_bytes(), token.as_bytes()) => Verdict::Allowed { token_in_query },
        Some(_) => Verdict::Unauthorized("unauthorized: wrong token; use the URL ohdev printed this run\n"),
    }
}

/// `Set-Cookie` for the token: only sent back to this server, never readable by scripts.
pub fn cookie(token: &str) -> String {
    format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict")
}

/// A query parameter's value (percent-decoding is not needed for hex tokens and resource names
/// are decoded by the caller).
pub fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (name == key).then(|| percent_decode(value))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' if index + 2 < bytes.len() => match u8::from_str_radix(&text[index + 1..index + 3], 16) {
                Ok(byte) => {
                    out.push(byte);
                    index += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut builder = hyper::Request::builder().uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    /// The request's URI, its headers, the verdict expected.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], Verdict);

    const TOKEN: &str = "00112233445566778899aabbccddeeff";

    #[test]
    fn token_from_query_header_or_cookie() {
        let host = ("host", "127.0.0.1:10351");
        let cases: &[Case] = &[
            ("/?token=00112233445566778899aabbccddeeff", &[host], Verdict::Allowed { token_in_query: true }),
            (
                "/api/state",
                &[host, ("authorization", "Bearer 00112233445566778899aabbccddeeff")],
                Verdict::Allowed { token_in_query: false },
            ),
            (
                "/api/state",
                &[("host", "localhost:10351"), ("cookie", "a=b; ohdev_dashboard=00112233445566778899aabbccddeeff")],
                Verdict::Allowed { token_in_query: false },
            ),
            ("/api/state", &[host], Verdict::Unauthorized("")),
            ("/api/state?token=ffff", &[host], Verdict::Unauthorized("")),
            (
                "/api/state?token=00112233445566778899aabbccddeeff",
                &[("host", "evil.example:10351")],
                Verdict::Forbidden(""),
            ),
            ("/api/state?token=00112233445566778899aabbccddeeff", &[("host", "127.0.0.1:80")], Verdict::Forbidden("")),
            ("/api/state?token=00112233445566778899aabbccddeeff", &[], Verdict::Forbidden("")),
            (
                "/api/rebuild?token=00112233445566778899aabbccddeeff",
                &[host, ("origin", "http://evil.example")],
                Verdict::Forbidden(""),
            ),
            (
                "/api/rebuild?token=00112233445566778899aabbccddeeff",
                &[host, ("origin", "http://127.0.0.1:10351")],
                Verdict::Allowed { token_in_query: true },
            ),
            (
                "/api/rebuild?token=00112233445566778899aabbccddeeff",
                &[host, ("origin", "null")],
                Verdict::Forbidden(""),
            ),
        ];
        for (uri, headers, expected) in cases {
            let verdict = check(&parts(uri, headers), TOKEN, 10351);
            let same = match (&verdict, expected) {
                (Verdict::Allowed { token_in_query: a }, Verdict::Allowed { token_in_query: b }) => a == b,
                (Verdict::Unauthorized(_), Verdict::Unauthorized(_)) => true,
                (Verdict::Forbidden(_), Verdict::Forbidden(_)) => true,
                _ => false,
            };
            assert!(same, "{uri} {headers:?}: {verdict:?}, expected {expected:?}");
        }
    }

    #[test]
    fn tokens_are_128_bits_of_hex_and_differ() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_eq!(query_value("resource=Deployment%2Fweb&x=1", "resource").as_deref(), Some("Deployment/web"));
    }
}
