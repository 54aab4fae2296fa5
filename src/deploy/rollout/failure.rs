//! Why a workload is stuck: the reasons a diagnosis can name, ranked by how specific they are.
//! Its own module so that the diagnosis and its hints share it without depending on each other.

use std::fmt;

/// Why a workload is stuck, most specific first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureReason {
    ErrImageNeverPull,
    ImagePullBackOff,
    CreateContainerConfigError,
    OomKilled,
    CrashLoopBackOff,
    /// Another container or pod reason (`CreateContainerError`, `Evicted`, `FailedCreate`, …).
    Other(String),
    Unschedulable,
    ReadinessProbeFailed,
    NoPods,
    /// Nothing found that explains it (yet).
    Unknown,
}

impl FailureReason {
    pub(super) fn severity(&self) -> usize {
        match self {
            FailureReason::ErrImageNeverPull => 0,
            FailureReason::ImagePullBackOff => 1,
            FailureReason::CreateContainerConfigError => 2,
            FailureReason::OomKilled => 3,
            FailureReason::CrashLoopBackOff => 4,
            FailureReason::Other(_) => 5,
            FailureReason::Unschedulable => 6,
            FailureReason::ReadinessProbeFailed => 7,
            FailureReason::NoPods => 8,
            FailureReason::Unknown => 9,
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            FailureReason::ErrImageNeverPull => "ErrImageNeverPull",
            FailureReason::ImagePullBackOff => "ImagePullBackOff",
            FailureReason::CreateContainerConfigError => "CreateContainerConfigError",
            FailureReason::OomKilled => "OOMKilled",
            FailureReason::CrashLoopBackOff => "CrashLoopBackOff",
            FailureReason::Other(reason) => reason,
            FailureReason::Unschedulable => "Unschedulable",
            FailureReason::ReadinessProbeFailed => "readiness probe failing",
            FailureReason::NoPods => "no pods",
            FailureReason::Unknown => "no reason found yet",
        })
    }
}
