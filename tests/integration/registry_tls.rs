//! A registry that speaks HTTPS with a private CA, on loopback: ohdev's client verifies it
//! against the roots `SSL_CERT_FILE` names (the HEAD check finds a pushed tag, so a second build
//! pushes nothing), and without that CA the error names the registry, says the certificate is
//! not trusted and gives the fix, exit 2, nothing pushed; by a name the certificate does not
//! carry, a name mismatch. Docker's daemon pushes there without
//! verifying (it treats 127.0.0.0/8 as an insecure registry).

use std::path::Path;
use std::process::Command;

use crate::support::registry::{self, Containers};
use crate::support::{busybox, docker, json_lines};
use crate::targets::{project, Images};

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
    assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// `ca.pem` (a self-signed CA), `server.pem`/`server.key` (signed by it, SAN `IP:127.0.0.1`) and
/// `other-ca.pem` (a CA that signed nothing here), or None (reason printed) without `openssl`.
fn certificates(dir: &Path) -> Option<()> {
    if Command::new("openssl").arg("version").output().is_err() {
        assert!(
            std::env::var("OHDEV_REQUIRE_DOCKER").as_deref() != Ok("1"),
            "no `openssl` (scripts/test.sh installs it)"
        );
        eprintln!("SKIPPED: no `openssl`: install Debian's openssl");
        return None;
    }
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    for (name, subject) in [("ca", "/CN=ohdev test CA"), ("other-ca", "/CN=ohdev other CA")] {
        let (key, cert) = (format!("{name}.key"), format!("{name}.pem"));
        let mut args = vec!["req", "-x509"];
        args.extend(ec);
        args.extend(["-keyout", &key, "-out", &cert, "-days", "2", "-subj", subject]);
        openssl(dir, &args);
    }
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write server.ext");
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend(["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
    openssl(dir, &args);
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
    // The registry in its container reads the key as root; the directory is mounted read-only.
    Some(())
}

fn image_states(stdout: &str) -> Vec<String> {
    json_lines(stdout)
        .iter()
        .filter(|event| event["type"] == "image")
        .filter_map(|event| event["state"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn a_tls_registry_is_verified_with_ssl_cert_file_and_an_untrusted_one_is_exit_2_naming_it() {
    let Some(_) = docker::client() else { return };
    let Some(base) = busybox::base_image() else { return };
    if registry::registry_image().is_none() {
        return;
    }
    let certs = tempfile::tempdir().expect("tempdir");
    let Some(()) = certificates(certs.path()) else { return };
    let suffix = std::process::id();
    let image = format!("tls{suffix}");
    let port = registry::free_port();
    let container = format!("ohdev-test-tls-registry-{port}");
    let mut guard = Containers::default();
    let _images = Images(image.clone());
    registry::start_tls_registry(&container, port, certs.path(), &mut guard);
    let host = format!("127.0.0.1:{port}");
    let repository = format!("team/dev/{image}");
    let ca = certs.path().join("ca.pem");
    let mut test = project(&image, &base, &format!("tls{suffix}"), &format!("{host}/team/dev"), true)
        .env("SSL_CERT_FILE", ca.to_str().expect("utf-8 path"));

    // Trusted: the build pushes (Docker's daemon does not verify a loopback registry).
    test.set_args(&["--json", "build", "--target", "shared"]);
    let first = test.expect(0);
    let states = image_states(&first.stdout);
    assert!(states.contains(&"pushed".to_string()), "{states:?}\n{}", first.stderr);
    let tags = registry::stored_tags(&container, &repository);
    assert_eq!(tags.len(), 1, "{tags:?}");

    // Again: ohdev's HEAD over HTTPS finds the tag, so nothing is pushed.
    let second = test.expect(0);
    let states = image_states(&second.stdout);
    assert!(states.contains(&"already_pushed".to_string()) && !states.contains(&"pushing".to_string()), "{states:?}");

    // A CA that did not sign the registry's certificate: exit 2 before anything is pushed, the
    // registry named, the reason and the fix said.
    test.write("app.txt", "a change that would be pushed\n");
    test.set_env("SSL_CERT_FILE", certs.path().join("other-ca.pem").to_str().expect("utf-8 path"));
    let refused = test.expect(2);
    assert!(
        refused.stderr.contains(&format!(
            "registry {host}: its TLS certificate is not trusted (unknown authority: no CA this machine trusts signed it)"
        )),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("SSL_CERT_FILE=/path/to/ca.pem"), "{}", refused.stderr);
    assert!(!image_states(&refused.stdout).contains(&"pushing".to_string()), "{}", refused.stdout);
    assert_eq!(registry::stored_tags(&container, &repository), tags, "nothing was pushed");

    // The trusted CA, but the registry addressed by a name its certificate does not carry (only
    // IP:127.0.0.1): a name mismatch, said as such, exit 2, nothing pushed.
    test.set_env("SSL_CERT_FILE", ca.to_str().expect("utf-8 path"));
    let yaml = std::fs::read_to_string(test.project().join("ohdev.yaml")).expect("ohdev.yaml");
    test.write("ohdev.yaml", &yaml.replace(&format!("registry: {host}/"), &format!("registry: localhost:{port}/")));
    let mismatch = test.expect(2);
    assert!(
        mismatch.stderr.contains(&format!(
            "registry localhost:{port}: its TLS certificate is not valid for localhost (name mismatch; it names 127.0.0.1)"
        )),
        "{}",
        mismatch.stderr
    );
    assert!(mismatch.stderr.contains("subjectAltName"), "{}", mismatch.stderr);
    assert_eq!(registry::stored_tags(&container, &repository), tags, "nothing was pushed");
}
