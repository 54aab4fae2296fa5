//! Real Dockerfiles parse; every refusal has its exact text, line and fix; the reading rules
//! (continuations, comments, directives, heredocs) are BuildKit's.

use super::*;

/// (line, name, platform) of one stage.
type StageShape = (usize, Option<String>, Option<String>);

/// The stages of `text` as (line, name, platform), or the panic message.
fn stages(text: &str) -> Vec<StageShape> {
    match parse(text) {
        Ok(dockerfile) => dockerfile.stages.into_iter().map(|stage| (stage.line, stage.name, stage.platform)).collect(),
        Err(error) => panic!("{text:?}: {error} (fix: {})", error.fix),
    }
}

fn named(line: usize, name: &str) -> StageShape {
    (line, Some(name.to_string()), None)
}

#[test]
fn real_dockerfiles_parse_with_their_stages() {
    type Case<'a> = (&'a str, &'a str, &'a [(usize, &'a str)]);
    let cases: &[Case] = &[
        (
            "containers/app/Dockerfile",
            include_str!("../../containers/app/Dockerfile"),
            &[(23, "frontend-builder"), (35, "backend-builder"), (61, "openhands-app")],
        ),
        ("containers/dev/Dockerfile", include_str!("../../containers/dev/Dockerfile"), &[(7, "node"), (9, "dev")]),
        ("examples/demo/Dockerfile", include_str!("../../examples/demo/Dockerfile"), &[(9, "frontend"), (16, "app")]),
    ];
    for (path, text, expected) in cases {
        let expected: Vec<_> = expected.iter().map(|(line, name)| named(*line, name)).collect();
        assert_eq!(stages(text), expected, "{path}");
    }
    // The watch fixture: one unnamed stage after a meta ARG.
    assert_eq!(stages(include_str!("../../tests/fixtures/watch/app/Dockerfile")), [(4, None, None)]);
}

#[test]
fn valid_shapes_parse() {
    let cases: &[(&str, &str, Vec<StageShape>)] = &[
        ("lowercase instructions", "from base as Build\nrun make\n", vec![named(1, "build")]),
        ("mixed case AS", "FROM base As final\n", vec![named(1, "final")]),
        ("BOM and CRLF", "\u{feff}FROM base AS a\r\nRUN x\r\n", vec![named(1, "a")]),
        ("no final newline", "FROM base", vec![(1, None, None)]),
        ("leading blank lines and indentation", "\n\n   FROM base\n\tRUN x\n", vec![(3, None, None)]),
        ("ARG before FROM", "ARG BASE=x\nARG OTHER\nFROM ${BASE}\n", vec![(3, None, None)]),
        (
            "platform flag forms",
            "FROM --platform=linux/amd64 a AS one\nFROM --platform=$BUILDPLATFORM b AS two\nFROM --platform=${TARGETPLATFORM} c AS three\nFROM --platform=linux/${TARGETARCH} d AS four\nFROM --platform=\"linux/arm64/v8\" e AS five\n",
            vec![
                (1, Some("one".into()), Some("linux/amd64".into())),
                (2, Some("two".into()), Some("$BUILDPLATFORM".into())),
                (3, Some("three".into()), Some("${TARGETPLATFORM}".into())),
                (4, Some("four".into()), Some("linux/${TARGETARCH}".into())),
                (5, Some("five".into()), Some("linux/arm64/v8".into())),
            ],
        ),
        (
            "continuations, with comments and blank lines inside",
            "FROM base\nRUN a \\\n# a comment inside\n\n    && b \\\n  # indented comment\n    && c\nFROM base AS next\n",
            vec![(1, None, None), named(8, "next")],
        ),
        (
            "an escaped escape does not continue",
            "FROM base\nRUN echo \\\\\nCMD x\n",
            vec![(1, None, None)],
        ),
        (
            "a lone escape on a line continues",
            "FROM base\nRUN a \\\n\\\n  b\nCMD x\n",
            vec![(1, None, None)],
        ),
        (
            "backtick escape",
            "# escape=`\nFROM base AS win\nRUN dir `\n    c:\\\nCMD x\n",
            vec![named(2, "win")],
        ),
        (
            "backslash at the end is literal with a backtick escape",
            "# escape=`\nFROM base\nRUN echo c:\\\nCMD x\n",
            vec![(2, None, None)],
        ),
        (
            "directives then comments",
            "# syntax=docker/dockerfile:1\n# escape=\\\n# check=skip=all\n\n# just a comment\nFROM base\n",
            vec![(6, None, None)],
        ),
        (
            "a repeated directive after a comment is a comment",
            "# escape=\\\n# comment\n# escape=`\nFROM base\nRUN a \\\n  b\n",
            vec![(4, None, None)],
        ),
        (
            "heredocs of RUN and COPY",
            "FROM base\nRUN <<EOF\nset -e\nFROMM this is shell\nEOF\nCOPY <<-\"END\" /etc/conf\n\tkey=value\n\tEND\nRUN cat <<'A' >/a && cat <<B >/b\ninside a\nA\ninside b\nB\nRUN 3<<FD cat /proc/self/fd/3\nfd body\nFD\nONBUILD RUN <<X\nbody\nX\nCMD done\n",
            vec![(1, None, None)],
        ),
        (
            "heredoc after flags and continuation",
            "FROM base\nRUN --mount=type=cache,target=/root/.cache \\\n    python3 <<PY\nimport sys\nPY\n",
            vec![(1, None, None)],
        ),
        (
            "<< that is not a heredoc",
            "FROM base\nRUN echo \"<<EOF\" && cat<<EOF2 || true\nRUN [\"sh\", \"-c\", \"cat <<EOF\"]\nRUN cat <<<here\nCMD x\n",
            vec![(1, None, None)],
        ),
    ];
    for (name, text, expected) in cases {
        assert_eq!(&stages(text), expected, "{name}");
    }
    // Another frontend's grammar is not checked.
    let custom = parse("# syntax=example.com/my/frontend:1\nBUILD everything\n").unwrap();
    assert_eq!(custom.custom_frontend.as_deref(), Some("example.com/my/frontend:1"));
    assert!(custom.stages.is_empty());
    for syntax in ["docker/dockerfile:1", "docker.io/docker/dockerfile:1.4", "docker/dockerfile-upstream:master"] {
        let error = parse(&format!("# syntax={syntax}\nBUILD x\n")).unwrap_err();
        assert_eq!(error.message, "unknown instruction `BUILD`", "{syntax}");
    }
}

#[test]
fn errors_have_their_text_line_and_fix() {
    let instructions = INSTRUCTIONS.join(", ");
    let cases: Vec<(&str, &str, Option<usize>, String, String)> = vec![
        (
            "misspelt FROM",
            "# comment\nFROMM base\n",
            Some(2),
            "unknown instruction `FROMM`".into(),
            "did you mean `FROM`?".into(),
        ),
        ("misspelt RUN, lowercase", "FROM base\nrnu make\n", Some(2), "unknown instruction `rnu`".into(), "did you mean `RUN`?".into()),
        (
            "a missing continuation",
            "FROM base\nRUN apt-get update &&\n    apt-get install -y make\n",
            Some(3),
            "unknown instruction `apt-get`".into(),
            format!("Dockerfile instructions are {instructions}; a line that continues the previous instruction needs `\\` at the end of the line before it"),
        ),
        (
            "a missing continuation with a backtick escape",
            "# escape=`\nFROM base\nRUN dir &&\n    unknownthing\n",
            Some(4),
            "unknown instruction `unknownthing`".into(),
            format!("Dockerfile instructions are {instructions}; a line that continues the previous instruction needs a backtick at the end of the line before it"),
        ),
        (
            "an unknown instruction in an unused stage",
            "FROM base AS unused\nCOPPY . /\nFROM base AS final\n",
            Some(2),
            "unknown instruction `COPPY`".into(),
            "did you mean `COPY`?".into(),
        ),
        (
            "line counts continuation lines",
            "FROM base\nRUN a \\\n  b \\\n  c\nWORKDIRR /x\n",
            Some(5),
            "unknown instruction `WORKDIRR`".into(),
            "did you mean `WORKDIR`?".into(),
        ),
        ("empty", "", None, "the Dockerfile has no instructions".into(), "start it with `FROM <image>`".into()),
        (
            "comments only",
            "# syntax=docker/dockerfile:1\n# nothing\n\n",
            None,
            "the Dockerfile has no instructions".into(),
            "start it with `FROM <image>`".into(),
        ),
        (
            "ARG only",
            "ARG BASE\n",
            None,
            "the Dockerfile has no `FROM` instruction".into(),
            "add `FROM <image>` to start a build stage".into(),
        ),
        (
            "RUN before FROM",
            "ARG BASE\n# comment\nRUN make\nFROM base\n",
            Some(3),
            "`RUN` comes before the first `FROM`".into(),
            "move it below a `FROM <image>` line: only ARG, comments and parser directives may come before the first FROM".into(),
        ),
        (
            "ENV before FROM, lowercase",
            "env A=1\nFROM base\n",
            Some(1),
            "`env` comes before the first `FROM`".into(),
            "move it below a `FROM <image>` line: only ARG, comments and parser directives may come before the first FROM".into(),
        ),
        (
            "FROM without image",
            "FROM\n",
            Some(1),
            "`FROM` has no image".into(),
            "write `FROM [--platform=<os>/<arch>] <image> [AS <name>]`".into(),
        ),
        (
            "FROM with two words",
            "FROM base final\n",
            Some(1),
            "`FROM` takes an image and optionally `AS <name>`, not `base final`".into(),
            "write `FROM [--platform=<os>/<arch>] <image> [AS <name>]`".into(),
        ),
        (
            "FROM AS without a name",
            "FROM base AS\n",
            Some(1),
            "`FROM` takes an image and optionally `AS <name>`, not `base AS`".into(),
            "write `FROM [--platform=<os>/<arch>] <image> [AS <name>]`".into(),
        ),
        (
            "invalid stage name",
            "FROM base AS 1st\n",
            Some(1),
            "invalid stage name `1st`: it must start with a letter and hold only letters, digits, `-`, `_` and `.`".into(),
            "rename the stage, e.g. `AS build`".into(),
        ),
        (
            "misspelt platform flag",
            "FROM --platfrom=linux/amd64 base\n",
            Some(1),
            "unknown flag `--platfrom` in `FROM`".into(),
            "did you mean `--platform`?".into(),
        ),
        (
            "unrelated flag",
            "FROM --from=x base\n",
            Some(1),
            "unknown flag `--from` in `FROM`".into(),
            "`FROM` takes only `--platform=<os>/<arch>`".into(),
        ),
        (
            "platform without value",
            "FROM --platform base\n",
            Some(1),
            "`--platform` in `FROM` has no value".into(),
            "write `--platform=linux/amd64`, or `--platform=$BUILDPLATFORM`".into(),
        ),
        (
            "platform twice",
            "FROM --platform=linux/amd64 --platform=linux/arm64 base\n",
            Some(1),
            "`--platform` is given twice in `FROM`".into(),
            "keep one `--platform`".into(),
        ),
        (
            "misspelt architecture",
            "ARG X\nFROM --platform=linux/amd46 base\n",
            Some(2),
            "invalid `--platform=linux/amd46` in `FROM`: `amd46` is not a known architecture".into(),
            "did you mean `linux/amd64`? write <os>/<arch>[/<variant>], e.g. linux/amd64 or linux/arm64; or an ARG, like `$BUILDPLATFORM`".into(),
        ),
        (
            "unclosed ARG reference in platform",
            "FROM --platform=${BUILDPLATFORM base\n",
            Some(1),
            "invalid `--platform=${BUILDPLATFORM` in `FROM`: it has a `${` without its closing `}`".into(),
            "write <os>/<arch>[/<variant>], e.g. linux/amd64 or linux/arm64; or an ARG, like `$BUILDPLATFORM`".into(),
        ),
        (
            "unterminated heredoc",
            "FROM base\nRUN <<EOF\necho hi\nEOF \n",
            Some(2),
            "the heredoc `<<EOF` is never closed: no line holding only `EOF` follows".into(),
            "end the heredoc's text with a line holding only `EOF`".into(),
        ),
        (
            "repeated directive",
            "# escape=\\\n# escape=`\nFROM base\n",
            Some(2),
            "only one `# escape=` parser directive can be used".into(),
            "remove the repeated directive".into(),
        ),
        (
            "invalid escape",
            "# escape=^\nFROM base\n",
            Some(1),
            "invalid escape character `^` in the `# escape=` directive".into(),
            "write `# escape=\\` (the default) or `# escape=` followed by a backtick".into(),
        ),
    ];
    for (name, text, line, message, fix) in cases {
        match parse(text) {
            Ok(parsed) => panic!("{name}: parsed {parsed:?}"),
            Err(error) => {
                assert_eq!(error.message, message, "{name}");
                assert_eq!(error.line, line, "{name}: {}", error.message);
                assert_eq!(error.fix, fix, "{name}");
            }
        }
    }
}

#[test]
fn continuation_and_heredoc_rules_are_buildkits() {
    // Without the heredoc, its body would be read as instructions.
    assert_eq!(parse("FROM base\nRUN echo <<EOF\nnot an instruction\nEOF\n").map(|file| file.stages.len()), Ok(1));
    // A heredoc in the exec form is not one: its body lines are instructions.
    let error = parse("FROM base\nRUN [\"cat\", \"<<EOF\"]\nbody\nEOF\n").unwrap_err();
    assert_eq!((error.line, error.message.as_str()), (Some(3), "unknown instruction `body`"));
    // Only RUN, COPY and ADD open heredocs.
    let error = parse("FROM base\nCMD cat <<EOF\nbody\nEOF\n").unwrap_err();
    assert_eq!((error.line, error.message.as_str()), (Some(3), "unknown instruction `body`"));
    // `<<-` strips leading tabs from the terminator only.
    assert!(parse("FROM base\nRUN <<-EOF\n\tbody\n\t\tEOF\n").is_ok());
    assert!(parse("FROM base\nRUN <<EOF\n\tEOF\n").is_err());
    // Directives stop at the first other line: a later `# escape=` is a comment.
    let error = parse("FROM base\n# escape=`\nRUN a `\n  b\n").unwrap_err();
    assert_eq!((error.line, error.message.as_str()), (Some(4), "unknown instruction `b`"));
    // A comment between continued lines does not end the instruction.
    assert!(parse("FROM base\nRUN a \\\n# comment\n  b\n").is_ok());
    // Trailing blanks after the escape still continue.
    assert!(parse("FROM base\nRUN a \\  \t\n  b\n").is_ok());
}

#[test]
fn targets_are_found_case_insensitively() {
    let dockerfile = parse("FROM base AS Build\nFROM base\nFROM base AS final\n").unwrap();
    assert_eq!(dockerfile.stage("build").map(|stage| stage.line), Some(1));
    assert_eq!(dockerfile.stage("FINAL").map(|stage| stage.line), Some(3));
    assert!(dockerfile.stage("other").is_none());
    assert_eq!(dockerfile.stage_list(), ["build (line 1)", "final (line 3)"]);
}

#[test]
fn platforms() {
    for valid in [
        "linux/amd64",
        "linux/arm64",
        "linux/arm64/v8",
        "linux/arm/v7",
        "linux/386",
        "Linux/AMD64",
        "linux/x86_64",
        "linux/aarch64",
        "linux/riscv64",
        "linux/s390x",
        "linux/ppc64le",
        "windows/amd64",
        "windows(10.0.17763)/amd64",
        "darwin/arm64",
        "macos/arm64",
        "wasi/wasm",
        "wasi/wasm32",
        "linux",
        "arm64",
        "amd64",
    ] {
        assert_eq!(check_platform(valid), Ok(()), "{valid}");
    }
    let invalid: &[(&str, &str, Option<&str>)] = &[
        ("", "it is empty", None),
        ("linux/*", "wildcards are not supported", None),
        ("linux/amd64/v1/x", "it has more than three `/`-separated parts", None),
        ("linux/", "it has an empty part", None),
        ("/amd64", "it has an empty part", None),
        ("linux/amd 64", "`amd 64` is not a valid part: only letters, digits, `_`, `.` and `-` are allowed", None),
        ("lin.ux/amd64", "`lin.ux` is not a valid part: only letters, digits, `_`, `.` and `-` are allowed", None),
        ("linux/amd46", "`amd46` is not a known architecture", Some("linux/amd64")),
        ("linxu/amd64", "`linxu` is not a known operating system", Some("linux/amd64")),
        ("amd46", "`amd46` is neither a known operating system nor a known architecture", Some("amd64")),
        ("plan10/amd64", "`plan10` is not a known operating system", Some("plan9/amd64")),
        ("haiku/amd64", "`haiku` is not a known operating system", None),
    ];
    for (value, reason, suggestion) in invalid {
        let problem = check_platform(value).unwrap_err();
        assert_eq!(problem.reason, *reason, "{value}");
        assert_eq!(problem.suggestion.as_deref(), *suggestion, "{value}");
    }
    assert_eq!(
        check_platform("linux/amd46").unwrap_err().fix(),
        "did you mean `linux/amd64`? write <os>/<arch>[/<variant>], e.g. linux/amd64 or linux/arm64"
    );
    for reference in ["$BUILDPLATFORM", "${TARGETPLATFORM}", "linux/${ARCH}", "${OS}/$ARCH"] {
        assert_eq!(check_platform_reference(reference), Ok(()), "{reference}");
    }
    for (reference, reason) in [
        ("${BUILDPLATFORM", "it has a `${` without its closing `}`"),
        ("${}", "`${}` does not name an ARG"),
        ("linux/$", "a `$` is not followed by an ARG's name"),
    ] {
        assert_eq!(check_platform_reference(reference).unwrap_err().reason, reason, "{reference}");
    }
}
