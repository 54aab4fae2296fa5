use super::*;

fn config(json: &str) -> ConfigFile {
    serde_json::from_str(json).unwrap()
}

#[test]
fn docker_order_helper_for_the_host_then_store_then_auths() {
    let file = config(
        r#"{"auths": {"127.0.0.1:5000": {"auth": "dTpw"}, "https://index.docker.io/v1/": {}},
            "credsStore": "desktop", "credHelpers": {"gcr.io": "gcloud"}}"#,
    );
    assert_eq!(choose(&file, "gcr.io"), Choice::Helper { helper: "gcloud".into(), setting: "credHelpers" });
    assert_eq!(choose(&file, "127.0.0.1:5000"), Choice::Helper { helper: "desktop".into(), setting: "credsStore" });
    let file = config(r#"{"auths": {"127.0.0.1:5000": {"auth": "dTpw"}, "https://index.docker.io/v1/": {}}}"#);
    assert_eq!(choose(&file, "127.0.0.1:5000"), Choice::Auths { key: "127.0.0.1:5000".into() });
    assert_eq!(choose(&file, "docker.io"), Choice::Auths { key: DOCKER_HUB_KEY.into() });
    assert_eq!(choose(&file, "localhost:5000"), Choice::None);
}

#[test]
fn auths_keys_match_with_or_without_scheme_and_path() {
    let file = config(r#"{"auths": {"https://registry.example:5000/v2/": {"auth": "dTpw"}}}"#);
    assert_eq!(
        choose(&file, "registry.example:5000"),
        Choice::Auths { key: "https://registry.example:5000/v2/".into() }
    );
    assert_eq!(choose(&file, "registry.example:5001"), Choice::None);
    assert_eq!(key_host("http://a:1/v1/"), "a:1");
    assert_eq!(key_host("a:1"), "a:1");
}

#[test]
fn entries_decode_auth_username_password_and_identity_tokens() {
    let basic = AuthEntry { auth: Some(STANDARD.encode("alice:s3cr:et")), ..Default::default() };
    assert_eq!(
        decode_entry(&basic).unwrap(),
        Some(Login::Password { username: "alice".into(), password: Secret::new("s3cr:et") })
    );
    let plain = AuthEntry { username: Some("bob".into()), password: Some("pw".into()), ..Default::default() };
    assert_eq!(
        decode_entry(&plain).unwrap(),
        Some(Login::Password { username: "bob".into(), password: Secret::new("pw") })
    );
    let token =
        AuthEntry { auth: Some(STANDARD.encode("x:y")), identitytoken: Some("tok".into()), ..Default::default() };
    assert_eq!(decode_entry(&token).unwrap(), Some(Login::IdentityToken(Secret::new("tok"))));
    assert_eq!(decode_entry(&AuthEntry::default()).unwrap(), None);
    let broken = AuthEntry { auth: Some("!!!".into()), ..Default::default() };
    assert_eq!(decode_entry(&broken).unwrap_err(), "its `auth` is not base64");
    let no_colon = AuthEntry { auth: Some(STANDARD.encode("hunter2")), ..Default::default() };
    let problem = decode_entry(&no_colon).unwrap_err();
    assert!(!problem.contains("hunter2"), "{problem}");
}

#[test]
fn helper_output_and_tokens() {
    assert_eq!(
        parse_helper_output(r#"{"ServerURL":"h","Username":"u","Secret":"s"}"#).unwrap(),
        Login::Password { username: "u".into(), password: Secret::new("s") }
    );
    assert_eq!(
        parse_helper_output(r#"{"ServerURL":"h","Username":"<token>","Secret":"t"}"#).unwrap(),
        Login::IdentityToken(Secret::new("t"))
    );
    let problem = parse_helper_output("password=hunter2").unwrap_err();
    assert!(!problem.contains("hunter2"), "{problem}");
}

#[test]
fn secrets_never_print_and_rejections_name_the_source() {
    let credentials = Credentials {
        host: "127.0.0.1:5000".into(),
        source: Source::Auths { file: "/h/.docker/config.json".into(), key: "127.0.0.1:5000".into() },
        login: Some(Login::Password { username: "alice".into(), password: Secret::new("hunter2") }),
    };
    assert!(!format!("{credentials:?}").contains("hunter2"));
    assert_eq!(credentials.basic_header().unwrap(), format!("Basic {}", STANDARD.encode("alice:hunter2")));
    let error = credentials.rejected(401, "GET /v2/", true);
    assert_eq!(error.exit_code(), 2);
    assert_eq!(
        error.to_string(),
        "registry 127.0.0.1:5000 refused GET /v2/ (HTTP 401 Unauthorized); credentials used: the `auths` entry \"127.0.0.1:5000\" in /h/.docker/config.json\n  fix: `docker login 127.0.0.1:5000`, then run the same command again"
    );
    assert_eq!(credentials.rejected(403, "the push", false).exit_code(), 1);
}

#[tokio::test]
async fn a_missing_config_file_means_no_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = resolve_in("127.0.0.1:5000", &dir.path().join("config.json")).await.unwrap();
    assert_eq!(credentials.login, None);
    std::fs::write(dir.path().join("config.json"), "{").unwrap();
    let error = resolve_in("127.0.0.1:5000", &dir.path().join("config.json")).await.unwrap_err();
    assert_eq!(error.exit_code(), 2);
    assert!(error.to_string().contains("is not valid JSON"), "{error}");
}

#[tokio::test]
async fn a_helper_that_is_not_installed_is_bad_input_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, r#"{"credHelpers": {"127.0.0.1:5000": "ohdev-no-such-helper"}}"#).unwrap();
    let error = resolve_in("127.0.0.1:5000", &path).await.unwrap_err();
    assert_eq!(error.exit_code(), 2);
    assert_eq!(
        error.to_string(),
        format!(
            "`credHelpers` in {} names the credential helper `ohdev-no-such-helper`, but `docker-credential-ohdev-no-such-helper` is not on PATH\n  fix: install docker-credential-ohdev-no-such-helper, or remove `ohdev-no-such-helper` from `credHelpers` in {}",
            path.display(),
            path.display()
        )
    );
    // An auths entry it cannot decode names the entry, not the value.
    std::fs::write(&path, r#"{"auths": {"127.0.0.1:5000": {"auth": "aHVudGVyMg=="}}}"#).unwrap();
    let error = resolve_in("127.0.0.1:5000", &path).await.unwrap_err().to_string();
    assert!(error.contains("the `auths` entry \"127.0.0.1:5000\"") && !error.contains("hunter2"), "{error}");
}
