//! Tables from moby/patternmatcher's `patternmatcher_test.go` (`TestCompile`, the
//! `MatchesExact` half of `TestMatches`, the syntax errors of `TestMatch`) and Go's
//! `filepath.Clean` rules, plus the quirks ohdev relies on.

use super::*;

fn pattern(text: &str) -> Pattern {
    match Pattern::new(text) {
        Ok(Some(pattern)) => pattern,
        other => panic!("pattern {text:?} did not compile: {other:?}"),
    }
}

#[test]
fn clean_follows_go_filepath_clean() {
    let cases = [
        ("", "."),
        ("abc", "abc"),
        ("abc/def/", "abc/def"),
        ("a//b", "a/b"),
        ("./a", "a"),
        ("a/./b", "a/b"),
        ("a/../b", "b"),
        ("a/b/../../..", ".."),
        ("../a", "../a"),
        ("/../a", "/a"),
        ("/", "/"),
        ("//", "/"),
        ("!a/../b", "b"),
        ("!/", "!"),
    ];
    for (input, expected) in cases {
        assert_eq!(clean(input), expected, "clean({input:?})");
    }
}

#[test]
fn parent_follows_go_filepath_dir() {
    for (input, expected) in [("a/b/c", "a/b"), ("a", "."), ("a/b/", "a/b"), ("/", "/"), ("/a", "/")] {
        assert_eq!(parent(input), expected, "dir({input:?})");
    }
}

#[test]
fn compile_picks_moby_match_types() {
    // (pattern, "exact" | "prefix" | "suffix" | "regexp")
    let cases = [
        ("*", "regexp"),
        ("file*", "regexp"),
        ("*file", "regexp"),
        ("a*/b", "regexp"),
        ("**", "suffix"),
        ("**/**", "regexp"),
        ("dir/**", "prefix"),
        ("**/dir", "suffix"),
        ("**/dir2/*", "regexp"),
        ("**/dir2/**", "regexp"),
        ("**file", "suffix"),
        ("**/file*txt", "regexp"),
        ("**/**/*.txt", "regexp"),
        ("a[b-d]e", "regexp"),
        (".*", "regexp"),
        ("abc.def", "exact"),
        ("abc?def", "regexp"),
        ("**/foo/bar", "suffix"),
        ("a(b)c/def", "exact"),
        ("a.|)$(}+{bc", "exact"),
        ("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "exact"),
    ];
    for (text, expected) in cases {
        let actual = match pattern(text).shape {
            Shape::Exact => "exact",
            Shape::Prefix(_) => "prefix",
            Shape::Suffix(_) => "suffix",
            Shape::Tokens(_) => "regexp",
        };
        assert_eq!(actual, expected, "match type of {text:?}");
    }
}

#[test]
fn matches_exact_table() {
    // The patterns and texts of moby's TestMatches; `true` where it expects `exact`.
    let cases = [
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
        ("**/dir", "dir/file", false),
        ("**/dir2/*", "dir/dir2/file", true),
        ("**/dir2/*", "dir/dir2/file/", false),
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
    for (text, path, expected) in cases {
        assert_eq!(pattern(text).matches(path), expected, "pattern {text:?} on {path:?}");
    }
}

#[test]
fn rejects_what_go_filepath_match_rejects() {
    for text in ["[", "[^", "[^bc", "a[", "[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "!"] {
        assert!(Pattern::new(text).is_err(), "{text:?} should be rejected");
    }
    let error = Pattern::new("!").err().map(|error| error.to_string());
    assert_eq!(error.as_deref(), Some("invalid pattern `!`: illegal exclusion pattern: \"!\""));
}

#[test]
fn every_refusal_says_what_to_write_instead() {
    let cases = [
        ("!", "a lone `!` re-includes nothing: remove the line, or write `!<pattern>`"),
        ("a\\", "remove the trailing `\\`, or write `\\\\` to match a backslash"),
        ("src/[abc", "close the `[` with `]` (e.g. `[abc]`, `[a-z]`), or write `\\[` to match a `[`"),
        ("[]a]", "give the class at least one character and escape `-` and `]` inside it (`[\\-\\]]`), or write `\\[` to match a `[`"),
        ("[z-a]", "write the range from low to high, e.g. `[a-z]`"),
        ("[a*]", "rewrite the pattern with `*`, `?`, `**`, classes like `[a-z]` and `\\` escapes only"),
    ];
    for (text, fix) in cases {
        match Pattern::new(text) {
            Err(error) => assert_eq!(error.fix(), fix, "{text:?}: {error}"),
            Ok(other) => panic!("{text:?} should be refused, got {other:?}"),
        }
    }
}

#[test]
fn refuses_regexp_only_meanings_instead_of_guessing() {
    let cases = [
        ("[a*]", "`*` inside [...]"),
        ("[a?]", "`?` inside [...]"),
        ("a\\b", "escape `\\b`"),
        ("\\x41", "escape `\\x`"),
        ("[[:alpha:]]", "POSIX classes"),
        // Passes filepath.Match but Go's regexp rejects the reversed range (moby issue 52203).
        ("[Local-Only]/", "out of order"),
    ];
    for (text, reason) in cases {
        match Pattern::new(text) {
            Err(error) => assert!(error.reason.contains(reason), "{text:?}: {error}"),
            Ok(other) => panic!("{text:?} should be refused, got {other:?}"),
        }
    }
}

#[test]
fn class_and_escape_semantics_follow_the_regexp_docker_runs() {
    let cases = [
        ("ab[c]", "abc", true),
        ("ab[^c]", "abc", false),
        ("ab[^e-g]", "abc", true),
        ("a?b", "a☺b", true),
        ("a[^a]b", "a☺b", true),
        ("a???b", "a☺b", false),
        ("[a-ζ]*", "α", true),
        ("*[a-ζ]", "A", false),
        ("a?b", "a/b", false),
        ("a*b", "a/b", false),
        // A negated class is a regexp class: it also matches `/`.
        ("a[^x]b", "a/b", true),
        ("[\\]a]", "]", true),
        ("[\\-]", "-", true),
        ("[x\\-]", "-", true),
        ("[x\\-]", "z", false),
        ("*x", "xxx", true),
        // `\d` is a digit class in Go's regexp, not an escaped `d`.
        ("file\\d", "file7", true),
        ("file\\d", "filed", false),
        // moby's suffix shortcut: `**foo` is "ends with foo", so it also matches `barfoo`.
        ("**foo", "barfoo", true),
        ("**.pyc", "a/b/c.pyc", true),
        // `**` in the middle is `(.*/)?`, which cannot cross a newline in a name.
        ("a/**/b", "a/x\ny/b", false),
        ("a/**/b", "a/x/y/b", true),
        ("a/**/b", "a/b", true),
        ("a/**/b", "ab", false),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
        ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
        ("a*b?c*x", "abxbbxdbxebxczzx", true),
        ("a*b?c*x", "abxbbxdbxebxczzy", false),
    ];
    for (text, path, expected) in cases {
        assert_eq!(pattern(text).matches(path), expected, "pattern {text:?} on {path:?}");
    }
}
