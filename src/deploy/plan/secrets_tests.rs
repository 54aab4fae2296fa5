use super::*;

fn keys(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

fn no_environment(_: &str) -> Option<String> {
    None
}

fn decoded(object: &Object, key: &str) -> String {
    let encoded = object.value.pointer(&format!("/data/{key}")).unwrap().as_str().unwrap();
    // Decoding is only needed here, so the test carries a tiny decoder of its own.
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut bytes = Vec::new();
    for c in encoded.chars().filter(|c| *c != '=') {
        bits = (bits << 6) | alphabet.find(c).unwrap() as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8(bytes).unwrap()
}

#[test]
fn base64_matches_rfc_4648_vectors() {
    let table = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];
    for (plain, encoded) in table {
        assert_eq!(base64_encode(plain.as_bytes()), encoded, "{plain}");
    }
    assert_eq!(base64_encode(&[0xfb, 0xff, 0xfe]), "+//+");
}

#[test]
fn env_file_syntax() {
    let text = "# comment\n\nexport A=1\nB = two words # comment\nC=\"line\\nnext \\\"q\\\"\"\nD='single $x # not comment'\nE=\nF=\"multi\nline\"  # trailing\nG=x#y\r\n";
    let values = parse_env_file(Path::new(".env"), text).unwrap();
    let expected: BTreeMap<_, _> = [
        ("A", "1"),
        ("B", "two words"),
        ("C", "line\nnext \"q\""),
        ("D", "single $x # not comment"),
        ("E", ""),
        ("F", "multi\nline"),
        ("G", "x#y"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), value.to_string()))
    .collect();
    assert_eq!(values, expected);
}

#[test]
fn env_file_errors_give_the_line_and_never_the_content() {
    let table = [
        ("A=1\nsecret-value-without-equals\n", ".env:2: this line has no `=`"),
        ("A=1\n\nB=\"sk-unclosed\n", ".env:3: a quoted value is never closed"),
        ("A='sk-1' trailing-secret\n", ".env:1: text follows the closing quote"),
        ("=sk-value\n", ".env:1: the name before `=` is empty"),
    ];
    for (text, expected) in table {
        let message = parse_env_file(Path::new(".env"), text).unwrap_err().to_string();
        assert!(message.starts_with(expected), "{message}");
        assert!(!message.contains("secret-value") && !message.contains("sk-"), "{message}");
    }
}

#[test]
fn generates_a_labelled_opaque_secret() {
    let directory = tempfile::tempdir().unwrap();
    let env_file = directory.path().join(".env");
    std::fs::write(&env_file, "LLM_API_KEY=sk-from-file\nOTHER=unused\nFROM_FILE=file\n").unwrap();
    let environment = |key: &str| match key {
        "LLM_API_KEY" => Some("sk-from-environment".to_string()),
        "FROM_FILE" => Some(String::new()),
        "ONLY_ENV" => Some("é ü".to_string()),
        _ => None,
    };
    let object = generate(
        "openhands-secrets",
        "openhands",
        Some(&env_file),
        &keys(&["LLM_API_KEY", "FROM_FILE", "ONLY_ENV"]),
        &environment,
    )
    .unwrap();
    assert_eq!(object.key().to_string(), "Secret openhands/openhands-secrets");
    assert_eq!(object.value["type"], "Opaque");
    assert_eq!(object.labels().unwrap()["app.kubernetes.io/managed-by"], "ohdev");
    assert_eq!(decoded(&object, "LLM_API_KEY"), "sk-from-environment", "a non-empty environment value wins");
    assert_eq!(decoded(&object, "FROM_FILE"), "file", "an empty environment value does not hide the file");
    assert_eq!(decoded(&object, "ONLY_ENV"), "é ü");
    assert!(object.value.pointer("/data/OTHER").is_none(), "only the listed keys");
    assert_eq!(object.source.file, PathBuf::from("ohdev.yaml"));
}

#[test]
fn missing_keys_name_key_and_file_but_never_values() {
    let directory = tempfile::tempdir().unwrap();
    let env_file = directory.path().join(".env");
    std::fs::write(&env_file, "PRESENT=sk-very-secret\n").unwrap();
    let error = generate(
        "openhands-secrets",
        "openhands",
        Some(&env_file),
        &keys(&["PRESENT", "LLM_API_KEY"]),
        &no_environment,
    )
    .unwrap_err();
    let message = error.to_string();
    assert_eq!(
        message,
        format!(
            "secrets.openhands-secrets in ohdev.yaml: key LLM_API_KEY is set neither in {file} nor in the environment: add a line `LLM_API_KEY=<value>` to {file}, or export LLM_API_KEY",
            file = env_file.display()
        )
    );
    assert!(!message.contains("sk-very-secret") && !format!("{error:?}").contains("sk-very-secret"));

    let absent = directory.path().join("absent.env");
    let message = generate("s", "n", Some(&absent), &keys(&["A", "B"]), &no_environment).unwrap_err().to_string();
    assert!(
        message.contains("keys A, B are set neither in") && message.contains("absent.env (which does not exist)"),
        "{message}"
    );
    assert!(message.ends_with("or export A and B"), "{message}");

    let message = generate("s", "n", None, &keys(&["A"]), &no_environment).unwrap_err().to_string();
    assert_eq!(message, "secrets.s in ohdev.yaml: key A is not set in the environment and the entry names no env_file: export A, or add `env_file:`");
}

#[test]
fn invalid_key_names_are_rejected() {
    let message = generate("s", "n", None, &keys(&["BAD KEY"]), &no_environment).unwrap_err().to_string();
    assert!(message.contains("`BAD KEY` cannot be a Secret key"), "{message}");
}

#[test]
fn debug_of_a_generated_secret_shows_no_value() {
    let object = generate("s", "n", None, &keys(&["A"]), &|_| Some("sk-hidden".to_string())).unwrap();
    let shown = format!("{object:?}");
    assert!(!shown.contains(&base64_encode(b"sk-hidden")) && !shown.contains("sk-hidden"), "{shown}");
}
