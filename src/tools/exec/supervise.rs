//! Children die with us, without anyone blocking on them.
//!
//! Every child leads its own process group, registered while it may be running. Stopping a
//! group is a task on the runtime: SIGTERM, a grace period spent on tokio's own `wait` (tokio's
//! reaper is the only one that reaps), then SIGKILL. The thread that dropped the child never
//! waits. A termination task that never gets to finish (the runtime shuts down under it) SIGKILLs
//! the group as it is dropped, so a child can outlive ohdev only if its owner was leaked, and
//! [`kill_all`] after the runtime is gone covers that too. Before that, [`settle`] lets ohdev wait
//! (bounded) until every group is gone.
//!
//! ohdev's own shutdown (a signal) is a process-wide [`CancellationToken`]: the signal handler
//! calls [`shutdown`], which records the signal, forwards it to every live group (as a terminal
//! would have delivered it to a foreground child) and cancels the token; long loops select on
//! [`cancelled`].

use std::collections::BTreeMap;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::LazyLock;
use std::time::Duration;

use tokio::process::Child;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How long a child may take to exit after SIGTERM before its group gets SIGKILL.
pub const GRACE: Duration = Duration::from_millis(1500);

/// Live process groups, each with whether ohdev's shutdown signal was already forwarded to it
/// (then its termination does not send a second, different polite signal). A watch channel, so
/// that [`settle`] can wait for it to empty.
static GROUPS: LazyLock<watch::Sender<BTreeMap<i32, bool>>> = LazyLock::new(|| watch::Sender::new(BTreeMap::new()));

/// Cancelled once ohdev is asked to stop.
static ROOT: LazyLock<CancellationToken> = LazyLock::new(CancellationToken::new);

/// The signal that started the shutdown (0 while none did).
static SHUTDOWN_SIGNAL: AtomicI32 = AtomicI32::new(0);

/// A clone of the process-wide root token: cancelled when ohdev is asked to stop. Keep it (or a
/// `child_token()` of it for a narrower scope) where a long loop needs to notice.
pub fn root_token() -> CancellationToken {
    ROOT.clone()
}

/// Completes once ohdev is asked to stop.
pub async fn cancelled() {
    ROOT.cancelled().await
}

pub fn is_cancelled() -> bool {
    ROOT.is_cancelled()
}

/// The signal that made ohdev stop, once one did.
pub fn shutdown_signal() -> Option<i32> {
    match SHUTDOWN_SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// ohdev received `signal` and stops: forward it to every live child group, then cancel the root
/// token. Only the first call counts.
pub fn shutdown(signal: i32) {
    if SHUTDOWN_SIGNAL.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst).is_err() {
        return;
    }
    let mut groups = Vec::new();
    GROUPS.send_modify(|live| {
        for (pgid, forwarded) in live.iter_mut() {
            *forwarded = true;
            groups.push(*pgid);
        }
    });
    for pgid in groups {
        signal_group(pgid, signal);
    }
    ROOT.cancel();
}

/// Kill every live child group at once (a second signal, a closed stdout, or leftovers at exit).
pub fn kill_all() {
    let groups: Vec<i32> = GROUPS.borrow().keys().copied().collect();
    for pgid in groups {
        signal_group(pgid, libc::SIGKILL);
    }
}

/// Wait until no child process group is left, or `limit` has passed; true when none is. A
/// termination ends within [`GRACE`] of its start, so after a shutdown a limit a little above it
/// gives every child its grace period, also one whose owner is dropped only with the runtime.
pub async fn settle(limit: Duration) -> bool {
    let mut live = GROUPS.subscribe();
    let settled = tokio::time::timeout(limit, live.wait_for(BTreeMap::is_empty)).await.is_ok();
    settled
}

/// A registered process group. Dropping it SIGKILLs whatever is still in it (what a leader that
/// exited left behind, or everything once the grace is over) and forgets it.
struct Group(i32);

impl Group {
    fn register(pgid: i32) -> Group {
        GROUPS.send_modify(|live| {
            live.insert(pgid, false);
        });
        Group(pgid)
    }

    /// True when ohdev's shutdown signal was already forwarded to this group.
    fn was_signalled(&self) -> bool {
        GROUPS.borrow().get(&self.0).copied().unwrap_or(false)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        signal_group(self.0, libc::SIGKILL);
        GROUPS.send_modify(|live| {
            live.remove(&self.0);
        });
    }
}

/// A child leading its own process group. Dropping it before [`Supervised::wait`] has returned
/// stops the group in the background ([`stop`]).
pub(super) struct Supervised {
    running: Option<(Child, Option<Group>)>,
}

impl Supervised {
    /// Take charge of a child spawned with `process_group(0)`.
    pub(super) fn new(child: Child) -> Supervised {
        let group = child.id().and_then(|pid| i32::try_from(pid).ok()).map(Group::register);
        Supervised { running: Some((child, group)) }
    }

    /// The leader's process id, until it was waited for.
    pub(super) fn id(&self) -> Option<u32> {
        self.running.as_ref().and_then(|(child, _)| child.id())
    }

    /// Wait for the leader to exit (tokio reaps it), then kill anything it left in its group.
    pub(super) async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        let Some((child, _)) = self.running.as_mut() else {
            return Err(std::io::Error::other("the child was already waited for"));
        };
        let status = child.wait().await?;
        self.running = None;
        Ok(status)
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if let Some((child, Some(group))) = self.running.take() {
            stop(child, group);
        }
    }
}

/// Stop a running child's group without blocking: a termination task on the current runtime, or,
/// with no runtime to spend the grace period on, SIGKILL at once.
fn stop(child: Child, group: Group) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            // If the runtime is shutting down, the task is dropped unpolled: dropping `group`
            // then SIGKILLs, so the child still does not survive.
            runtime.spawn(terminate(child, group, GRACE));
        }
        Err(_) => drop(group),
    }
}

/// SIGTERM (unless the shutdown signal already reached the group), up to `grace` for the leader
/// to exit, then SIGKILL the group (dropping it).
async fn terminate(mut child: Child, group: Group, grace: Duration) {
    if !group.was_signalled() {
        signal_group(group.0, libc::SIGTERM);
    }
    let _ = tokio::time::timeout(grace, child.wait()).await;
    drop(group);
}

fn signal_group(pgid: i32, signal: i32) {
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is touched.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

#[cfg(test)]
pub(super) mod tests {
    //! Termination through the seam, observed in /proc: no timing assertions, only whether a
    //! process group still has live members, polled up to a generous bound.

    use tokio::io::AsyncBufReadExt;

    use super::*;
    use crate::tools::exec::{Invocation, StreamingChild};

    /// Far above anything the tests wait for (the grace period is 1.5 s).
    pub(in crate::tools::exec) const LIMIT: Duration = Duration::from_secs(10);

    /// A group whose every member ignores SIGTERM (ignored dispositions are inherited): only
    /// SIGKILL ends it.
    const STUBBORN: &str = "trap '' TERM; echo $$; sleep 30 & sleep 30";

    /// Start `script` (which prints its pid first) through the seam; returns the child and its group.
    async fn start(script: &str) -> (StreamingChild, i32) {
        let mut child = Invocation::new("sh", "sh").args(["-c", script]).spawn_streaming(false).unwrap();
        let mut line = String::new();
        tokio::io::BufReader::new(&mut child.stdout).read_line(&mut line).await.unwrap();
        let pgid = line.trim().parse().unwrap_or_else(|_| panic!("no pid from {script:?}: {line:?}"));
        (child, pgid)
    }

    /// Live (not zombie) members of process group `pgid`.
    pub(in crate::tools::exec) fn group_members(pgid: i32) -> Vec<i32> {
        let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
        let mut members = Vec::new();
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<i32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            // After the command name in parentheses: state, parent pid, process group.
            let fields: Vec<&str> =
                stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
            if fields.len() > 2 && fields[0] != "Z" && fields[2].parse() == Ok(pgid) {
                members.push(pid);
            }
        }
        members
    }

    /// Poll until the group has no live member; false when some member is still there after `limit`.
    pub(in crate::tools::exec) async fn group_empties(pgid: i32, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while !group_members(pgid).is_empty() {
            if tokio::time::Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// Poll until the group has at least `count` live members (the script started its children).
    async fn group_reaches(pgid: i32, count: usize) -> Vec<i32> {
        let deadline = tokio::time::Instant::now() + LIMIT;
        loop {
            let members = group_members(pgid);
            if members.len() >= count || tokio::time::Instant::now() > deadline {
                return members;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn ignores_sigterm(pid: i32) -> bool {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let mask = status
            .lines()
            .find_map(|line| line.strip_prefix("SigIgn:"))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok());
        mask.is_some_and(|mask| mask & (1 << (libc::SIGTERM - 1)) != 0)
    }

    fn registered(pgid: i32) -> bool {
        GROUPS.borrow().contains_key(&pgid)
    }

    #[tokio::test]
    async fn dropping_a_running_child_stops_it_and_what_it_started() {
        let (child, pgid) = start("echo $$; sleep 30 & sleep 30").await;
        let members = group_reaches(pgid, 2).await;
        assert!(members.len() >= 2, "the script and its background sleep: {members:?}");
        assert!(registered(pgid));
        drop(child);
        assert!(group_empties(pgid, LIMIT).await, "left in group {pgid}: {:?}", group_members(pgid));
    }

    #[tokio::test]
    async fn drop_does_not_wait_and_a_child_ignoring_sigterm_is_killed_after_the_grace() {
        let (child, pgid) = start(STUBBORN).await;
        let members = group_reaches(pgid, 2).await;
        assert!(members.len() >= 2, "{members:?}");
        assert!(members.iter().all(|pid| ignores_sigterm(*pid)), "every member ignores SIGTERM: {members:?}");
        drop(child);
        // This runtime has one thread and the test has not yielded since the drop: the termination
        // task has not run, so a drop that stopped the group itself would have left nothing here.
        let now = group_members(pgid);
        assert!(
            members.iter().all(|pid| now.contains(pid)),
            "the drop itself stopped the group: {members:?} then {now:?}"
        );
        assert!(registered(pgid), "forgotten before it was stopped");
        // SIGTERM is ignored, so only the SIGKILL after the grace period can empty the group.
        assert!(group_empties(pgid, LIMIT).await, "left in group {pgid}: {:?}", group_members(pgid));
    }

    #[tokio::test]
    async fn dropped_outside_any_runtime_the_group_is_killed_at_once() {
        let (child, pgid) = start(STUBBORN).await;
        assert!(group_reaches(pgid, 2).await.len() >= 2);
        std::thread::spawn(move || drop(child)).join().unwrap();
        assert!(!registered(pgid));
        assert!(group_empties(pgid, LIMIT).await, "left in group {pgid}: {:?}", group_members(pgid));
    }

    #[test]
    fn a_termination_cut_short_by_runtime_shutdown_still_kills_the_group() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let pgid = runtime.block_on(async {
            let (child, pgid) = start(STUBBORN).await;
            assert!(group_reaches(pgid, 2).await.len() >= 2);
            drop(child);
            // Let the termination task send its (ignored) SIGTERM and start waiting out the grace.
            tokio::task::yield_now().await;
            pgid
        });
        drop(runtime);
        let deadline = std::time::Instant::now() + LIMIT;
        while !group_members(pgid).is_empty() {
            assert!(std::time::Instant::now() < deadline, "left in group {pgid}: {:?}", group_members(pgid));
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!registered(pgid));
    }

    #[tokio::test]
    async fn settle_returns_once_every_group_is_gone() {
        let (child, pgid) = start("echo $$; exec sleep 30").await;
        drop(child);
        assert!(registered(pgid));
        // Other tests of this binary start children too: settle waits for theirs as well.
        assert!(
            settle(LIMIT).await,
            "groups still live after {LIMIT:?}: {:?}",
            GROUPS.borrow().keys().collect::<Vec<_>>()
        );
        assert!(!registered(pgid), "settle returned before the termination of {pgid} finished");
        assert!(group_empties(pgid, LIMIT).await);
    }
}
