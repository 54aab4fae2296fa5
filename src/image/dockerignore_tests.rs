//! moby's `TestMatches` (both the `MatchesOrParentMatches` and the `MatchesUsingParentResults`
//! halves), Go's `TestMatch` through the old `Matches`, `ignorefile`'s `TestReadAll`, and the
//! examples of Docker's ".dockerignore file" documentation.

use super::*;

fn rules(patterns: &[&str]) -> IgnoreRules {
    match IgnoreRules::from_patterns(patterns.iter().copied()) {
        Ok(rules) => rules,
        Err(error) => panic!("{patterns:?}: {error}"),
    }
}

fn parsed(text: &str) -> IgnoreRules {
    match IgnoreRules::parse(text) {
        Ok(rules) => rules,
        Err(error) => panic!("{text:?}: {error}"),
    }
}

/// The answer the tar walk gets: match every parent first and hand its results down.
fn excluded_in_walk(rules: &IgnoreRules, path: &str) -> bool {
    let parent_path = parent(path);
    let mut info: Option<MatchInfo> = None;
    if parent_path != "." {
        let parts: Vec<&str> = parent_path.split('/').collect();
        for count in 1..=parts.len() {
            let (_, next) = rules.matches_with_parent(&parts[..count].join("/"), info.as_ref());
            info = Some(next);
        }
    }
    rules.matches_with_parent(path, info.as_ref()).0
}

#[test]
fn moby_matches_table_with_parents() {
    // moby's TestMatches: `exact` and `inexact` both mean "excluded" once parents count.
    let single = [
        ("**", "file", true),
        ("**", "file/", true),
        ("**/", "file", true),
        ("**/", "file/", true),
        ("**", "/", true),
        ("**/", "/", true),
        ("**", "dir/file", true),
        ("**/", "dir/file", true),
        ("**", "dir/file/", true),
        ("**/", "dir/file/", true),
        ("**/**", "dir/file", true),
        ("**/**", "dir/file/", true),
        ("dir/**", "dir/file", true),
        ("dir/**", "dir/file/", true),
        ("dir/**", "dir/dir2/file", true),
        ("dir/**", "dir/dir2/file/", true),
        ("**/dir", "dir", true),
        ("**/dir", "dir/file", true),
        ("**/dir2/*", "dir/dir2/file", true),
        ("**/dir2/*", "dir/dir2/file/", true),
        ("**/dir2/**", "dir/dir2/dir3/file", true),
        ("**/dir2/**", "dir/dir2/dir3/file/", true),
        ("**file", "file", true),
        ("**file", "dir/file", true),
        ("**/file", "dir/file", true),
        ("**file", "dir/dir/file", true),
        ("**/file", "dir/dir/file", true),
        ("**/file*", "dir/dir/file", true),
        ("**/file*", "dir/dir/file.txt", true),
        ("**/file*txt", "dir/dir/file.txt", true),
        ("**/file*.txt", "dir/dir/file.txt", true),
        ("**/file*.txt*", "dir/dir/file.txt", true),
        ("**/**/*.txt", "dir/dir/file.txt", true),
        ("**/**/*.txt2", "dir/dir/file.txt", false),
        ("**/*.txt", "file.txt", true),
        ("**/**/*.txt", "file.txt", true),
        ("a**/*.txt", "a/file.txt", true),
        ("a**/*.txt", "a/dir/file.txt", true),
        ("a**/*.txt", "a/dir/dir/file.txt", true),
        ("a/*.txt", "a/dir/file.txt", false),
        ("a/*.txt", "a/file.txt", true),
        ("a/*.txt**", "a/file.txt", true),
        ("a[b-d]e", "ae", false),
        ("a[b-d]e", "ace", true),
        ("a[b-d]e", "aae", false),
        ("a[^b-d]e", "aze", true),
        (".*", ".foo", true),
        (".*", "foo", false),
        ("abc.def", "abcdef", false),
        ("abc.def", "abc.def", true),
        ("abc.def", "abcZdef", false),
        ("abc?def", "abcZdef", true),
        ("abc?def", "abcdef", false),
        ("**/foo/bar", "foo/bar", true),
        ("**/foo/bar", "dir/foo/bar", true),
        ("**/foo/bar", "dir/dir2/foo/bar", true),
        ("abc/**", "abc", false),
        ("abc/**", "abc/def", true),
        ("abc/**", "abc/def/ghi", true),
        ("**/.foo", ".foo", true),
        ("**/.foo", "bar.foo", false),
        ("a(b)c/def", "a(b)c/def", true),
        ("a(b)c/def", "a(b)c/xyz", false),
        ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
        ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true),
        ("a\\\\", "a\\", true),
        ("a\\*b", "a*b", true),
    ];
    for (pattern, path, expected) in single {
        let rules = rules(&[pattern]);
        assert_eq!(rules.is_excluded(path), expected, "{pattern:?} on {path:?}");
        assert_eq!(excluded_in_walk(&rules, path), expected, "walk: {pattern:?} on {path:?}");
    }
    let multiple: [(&[&str], &str, bool); 4] = [
        (&["**", "!util/docker/web"], "util/docker/web/foo", false),
        (&["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", true),
        (
            &["**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"],
            "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            false,
        ),
        (&["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false),
    ];
    for (patterns, path, expected) in multiple {
        let rules = rules(patterns);
        assert_eq!(rules.is_excluded(path), expected, "{patterns:?} on {path:?}");
        assert_eq!(excluded_in_walk(&rules, path), expected, "walk: {patterns:?} on {path:?}");
    }
}

#[test]
fn moby_small_cases() {
    assert!(rules(&["*"]).is_excluded("fileutils.go"));
    assert!(rules(&["*.go"]).is_excluded("fileutils.go"));
    assert!(rules(&["!fileutils.go", "*.go"]).is_excluded("fileutils.go"));
    assert!(!rules(&["*.go", "!fileutils.go"]).is_excluded("fileutils.go"));
    for folder in ["docs", "docs/", "docs/*"] {
        assert!(!rules(&[folder, "!docs/README.md"]).is_excluded("docs/README.md"), "{folder}");
    }
    assert!(!rules(&["*.go"]).is_excluded("."));
    assert!(!rules(&[]).is_excluded("/any/path/there"));
    assert!(rules(&["docs", "  !docs/README.md  "]).has_exceptions());
    assert_eq!(rules(&["docs", "config", ""]).patterns().count(), 2);
}

#[test]
fn go_match_table_through_the_single_ancestor_matcher() {
    // Go's filepath TestMatch rows as moby runs them through the old `Matches`.
    let cases = [
        ("abc", "abc", true),
        ("*", "abc", true),
        ("*c", "abc", true),
        ("a*", "a", true),
        ("a*", "abc", true),
        ("a*", "ab/c", true),
        ("a*/b", "abc/b", true),
        ("a*/b", "a/c/b", false),
        ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
        ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false),
        ("ab[b-d]", "abc", true),
        ("ab[e-g]", "abc", false),
        ("ab[^b-d]", "abc", false),
        ("a\\*b", "a*b", true),
        ("a\\*b", "ab", false),
        ("[\\-x]", "x", true),
        ("[\\-x]", "a", false),
    ];
    for (pattern, path, expected) in cases {
        assert_eq!(rules(&[pattern]).matches_single_ancestor(path), expected, "{pattern:?} {path:?}");
    }
}

#[test]
fn read_all_rules() {
    let rules = parsed("\u{feff}test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n  # not a comment\r\n./x/../y/\n");
    let patterns: Vec<(&str, bool)> = rules.patterns().collect();
    assert_eq!(
        patterns,
        vec![
            ("test1", false),
            ("test2", false),
            ("a/file/here", false),
            ("lastfile", false),
            ("inverted/abs/path", true),
            ("# not a comment", false),
            ("y", false),
        ]
    );
    let error = IgnoreRules::parse("ok\n!\n").err().map(|error| error.to_string());
    assert_eq!(error.as_deref(), Some("line 2: invalid pattern `!`: illegal exclusion pattern: \"!\""));
    let error = IgnoreRules::parse("# c\n\nsrc/[a-\n").err().map(|error| error.line);
    assert_eq!(error, Some(3));
}

#[test]
fn docker_documentation_examples() {
    // (ignore file, path, excluded)
    let cases = [
        ("# comment\n*/temp*", "somedir/temporary.txt", true),
        ("*/temp*", "somedir/temp", true),
        ("*/temp*", "somedir/temp/inner.txt", true),
        ("*/temp*", "temporary.txt", false),
        ("*/temp*", "a/b/temporary.txt", false),
        ("*/*/temp*", "somedir/subdir/temporary.txt", true),
        ("*/*/temp*", "somedir/temporary.txt", false),
        ("temp?", "tempa", true),
        ("temp?", "tempb", true),
        ("temp?", "temp", false),
        ("temp?", "dir/tempa", false),
        ("**/*.go", "main.go", true),
        ("**/*.go", "cmd/app/main.go", true),
        ("**/*.go", "main.gox", false),
        ("*.md\n!README.md", "README.md", false),
        ("*.md\n!README.md", "CHANGES.md", true),
        ("*.md\n!README.md", "docs/x.md", false),
        ("*.md\n!README*.md\nREADME-secret.md", "README-secret.md", true),
        ("*.md\n!README*.md\nREADME-secret.md", "README-public.md", false),
        ("*.md\n!README*.md\nREADME-secret.md", "other.md", true),
        ("*.md\nREADME-secret.md\n!README*.md", "README-secret.md", false),
        ("/foo/bar", "foo/bar", true),
        ("foo/bar", "foo/bar", true),
        ("/foo/bar", "bar", false),
        ("build/", "build", true),
        ("build/", "build/out.o", true),
        ("build/", "src/build", false),
        ("[a-c]at", "bat", true),
        ("[a-c]at", "rat", false),
        ("[^a-c]at", "rat", true),
        ("\\[literal\\]", "[literal]", true),
        ("\\#hash", "#hash", true),
        ("#hash", "#hash", false),
        (" #hash", "#hash", true),
        ("*\n!src\n!src/**", "src/main.rs", false),
        ("*\n!src\n!src/**", "target/debug", true),
        (".\n..", "anything", false),
    ];
    for (text, path, expected) in cases {
        let rules = parsed(text);
        assert_eq!(rules.is_excluded(path), expected, "{text:?} on {path:?}");
        assert_eq!(excluded_in_walk(&rules, path), expected, "walk: {text:?} on {path:?}");
    }
}

#[test]
fn walk_answer_differs_where_moby_differs() {
    // The tar walk hands parent results down and does not retry a pattern against the parent
    // when it was skipped there: `foo/bar` is sent by the docker CLI.
    let rules = rules(&["foo", "!foo/bar", "foo"]);
    assert!(rules.is_excluded("foo/bar"));
    assert!(!excluded_in_walk(&rules, "foo/bar"));
    assert!(excluded_in_walk(&rules, "foo/other"));
}

#[test]
fn reinclusion_needs_a_literal_prefix() {
    let rules = parsed("node_modules\n!node_modules/keep/**\n!**/*.keep\n!*/also");
    assert!(rules.may_reinclude_under("node_modules"));
    assert!(rules.may_reinclude_under("node_modules/keep"));
    assert!(!rules.may_reinclude_under("node_modules/other"));
    assert!(!rules.may_reinclude_under("vendor"));
    assert!(!rules.may_reinclude_under("node"));
}

#[test]
fn load_prefers_the_dockerfile_specific_file_and_keeps_build_files() -> std::io::Result<()> {
    let context = tempfile::tempdir()?;
    let root = context.path();
    std::fs::create_dir_all(root.join("containers/app"))?;
    std::fs::write(root.join(".dockerignore"), "root-only\n.dockerignore\ncontainers\n")?;
    let rules = IgnoreRules::load(root, Path::new("containers/app/Dockerfile")).map_err(io::Error::from)?;
    assert_eq!(rules.source(), Some(root.join(".dockerignore").as_path()));
    assert!(!rules.is_excluded(".dockerignore"));
    assert!(!rules.is_excluded("containers/app/Dockerfile"));
    assert!(rules.is_excluded("containers/app/other"));
    assert!(rules.may_reinclude_under("containers/app"));

    std::fs::write(root.join("containers/app/Dockerfile.dockerignore"), "specific\n*.dockerignore\n")?;
    let rules = IgnoreRules::load(root, Path::new("./containers/app/Dockerfile")).map_err(io::Error::from)?;
    assert_eq!(rules.source(), Some(root.join("containers/app/Dockerfile.dockerignore").as_path()));
    assert!(rules.is_excluded("specific"));
    assert!(!rules.is_excluded("root-only"));
    assert!(rules.is_excluded(".dockerignore"), "the root file is an ordinary file now");

    std::fs::write(root.join("containers/app/Dockerfile.dockerignore"), "[\n")?;
    let error = IgnoreRules::load(root, Path::new("containers/app/Dockerfile")).err();
    let message = error.map(|error| error.to_string()).unwrap_or_default();
    assert!(
        message.ends_with("Dockerfile.dockerignore: line 1: invalid pattern `[`: unclosed character class"),
        "{message}"
    );

    for outside in ["../Dockerfile", "/abs/Dockerfile", "."] {
        let error = IgnoreRules::load(root, Path::new(outside)).err();
        assert!(matches!(error, Some(IgnoreError::DockerfileOutsideContext { .. })), "{outside}");
    }
    Ok(())
}
