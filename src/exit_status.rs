//! How ohdev ends, in one place: every command returns an [`ExitStatus`], and every error maps to
//! one through `Error::exit_status` (in `error.rs`). Scripts and CI depend on these numbers, so they
//! are documented here and in the README, and nowhere else decides them.
//!
//! | status        | code      | meaning                                                              |
//! |---------------|-----------|----------------------------------------------------------------------|
//! | `Success`     | 0         | the command did what it was asked                                    |
//! | `Failure`     | 1         | the work failed (a build, an apply, a readiness wait, a tool exited non-zero); the message says why |
//! | `BadInput`    | 2         | bad input or a missing prerequisite; nothing was changed             |
//! | `Interrupted` | 130       | Ctrl-C (128 + SIGINT); child processes were stopped                  |
//! | `Terminated`  | 128 + sig | SIGTERM (143) or SIGHUP (129); child processes were stopped          |

use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success,
    Failure,
    BadInput,
    Interrupted,
    Terminated { signal: i32 },
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::BadInput => 2,
            ExitStatus::Interrupted => 130,
            ExitStatus::Terminated { signal } => u8::try_from(128 + signal).unwrap_or(255),
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(status.code())
    }
}

#[cfg(test)]
mod tests {
    use super::ExitStatus;

    #[test]
    fn codes_are_the_documented_ones() {
        let table = [
            (ExitStatus::Success, 0),
            (ExitStatus::Failure, 1),
            (ExitStatus::BadInput, 2),
            (ExitStatus::Interrupted, 130),
            (ExitStatus::Terminated { signal: libc::SIGTERM }, 143),
            (ExitStatus::Terminated { signal: libc::SIGHUP }, 129),
        ];
        for (status, code) in table {
            assert_eq!(status.code(), code, "{status:?}");
        }
    }
}
