//! One dependency-graph scheduler for everything ohdev runs in order: image builds (`depends_on`)
//! and object applies (the deploy graph). A node starts as soon as every node it depends on has
//! finished well — never in waves, where the slowest node of a wave would hold up the next one.
//! A node whose dependency failed never starts; [`Schedule::skip_blocked`] names the culprit.
//!
//! Pure bookkeeping (no tasks, no clock): the caller runs what [`Schedule::next_ready`] hands out,
//! with whatever concurrency it wants, and reports back with [`Schedule::finish`].

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Running,
    Succeeded,
    Failed,
    Skipped,
}

#[derive(Debug, Clone)]
pub struct Schedule {
    dependencies: Vec<Vec<usize>>,
    state: Vec<State>,
}

impl Schedule {
    /// `dependencies[node]` lists the nodes that must succeed before `node` starts. Dependencies
    /// outside `0..len` are ignored (the caller's set does not hold them: they are someone else's).
    pub fn new(dependencies: Vec<Vec<usize>>) -> Schedule {
        let len = dependencies.len();
        let dependencies = dependencies
            .into_iter()
            .map(|list| list.into_iter().filter(|dependency| *dependency < len).collect())
            .collect();
        Schedule { dependencies, state: vec![State::Waiting; len] }
    }

    /// Count a node as already done (an object whose content did not change).
    pub fn mark_done(&mut self, node: usize) {
        self.state[node] = State::Succeeded;
    }

    /// The lowest-numbered waiting node whose dependencies all succeeded, now marked running.
    pub fn next_ready(&mut self) -> Option<usize> {
        let node = (0..self.state.len()).find(|node| {
            self.state[*node] == State::Waiting
                && self.dependencies[*node].iter().all(|dependency| self.state[*dependency] == State::Succeeded)
        })?;
        self.state[node] = State::Running;
        Some(node)
    }

    pub fn finish(&mut self, node: usize, succeeded: bool) {
        self.state[node] = if succeeded { State::Succeeded } else { State::Failed };
    }

    /// Waiting nodes that can never start (a dependency failed or was skipped), now marked skipped,
    /// each with the dependency that blocked it. Repeats until nothing more is blocked, so a chain
    /// is skipped in one call.
    pub fn skip_blocked(&mut self) -> Vec<(usize, usize)> {
        let mut skipped = Vec::new();
        loop {
            let blocked: Vec<(usize, usize)> = (0..self.state.len())
                .filter(|node| self.state[*node] == State::Waiting)
                .filter_map(|node| {
                    self.dependencies[node]
                        .iter()
                        .find(|dependency| matches!(self.state[**dependency], State::Failed | State::Skipped))
                        .map(|dependency| (node, *dependency))
                })
                .collect();
            if blocked.is_empty() {
                return skipped;
            }
            for (node, _) in &blocked {
                self.state[*node] = State::Skipped;
            }
            skipped.extend(blocked);
        }
    }

    /// Every node succeeded.
    pub fn all_succeeded(&self) -> bool {
        self.state.iter().all(|state| *state == State::Succeeded)
    }

    pub fn succeeded_count(&self) -> usize {
        self.state.iter().filter(|state| **state == State::Succeeded).count()
    }
}

#[cfg(test)]
mod tests {
    use super::Schedule;

    fn drain(schedule: &mut Schedule) -> Vec<usize> {
        std::iter::from_fn(|| schedule.next_ready()).collect()
    }

    #[test]
    fn a_node_starts_as_soon_as_its_own_dependencies_finish() {
        // 0 (slow) and 1 (fast) are independent; 2 needs 1 only; 3 needs 0.
        let mut schedule = Schedule::new(vec![vec![], vec![], vec![1], vec![0]]);
        assert_eq!(drain(&mut schedule), [0, 1]);
        schedule.finish(1, true);
        // 2 starts while 0 still runs: no waves.
        assert_eq!(drain(&mut schedule), [2]);
        schedule.finish(2, true);
        assert_eq!(drain(&mut schedule), Vec::<usize>::new());
        schedule.finish(0, true);
        assert_eq!(drain(&mut schedule), [3]);
        schedule.finish(3, true);
        assert!(schedule.all_succeeded());
    }

    #[test]
    fn a_failure_skips_everything_downstream_and_names_the_culprit() {
        let mut schedule = Schedule::new(vec![vec![], vec![0], vec![1], vec![]]);
        assert_eq!(drain(&mut schedule), [0, 3]);
        schedule.finish(0, false);
        assert_eq!(schedule.skip_blocked(), [(1, 0), (2, 1)]);
        assert_eq!(drain(&mut schedule), Vec::<usize>::new());
        schedule.finish(3, true);
        assert!(!schedule.all_succeeded());
        assert_eq!(schedule.succeeded_count(), 1);
    }

    #[test]
    fn nodes_marked_done_and_foreign_dependencies_do_not_block() {
        let mut schedule = Schedule::new(vec![vec![], vec![0, 7]]);
        schedule.mark_done(0);
        assert_eq!(schedule.succeeded_count(), 1);
        assert_eq!(drain(&mut schedule), [1]);
        schedule.finish(1, true);
        assert!(schedule.all_succeeded());
    }
}
