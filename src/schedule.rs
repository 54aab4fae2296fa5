//! One dependency-graph scheduler for everything ohdev runs in order: image builds (`depends_on`)
//! and object applies (the deploy graph). A node starts as soon as every node it depends on has
//! finished well — never in waves, where the slowest node of a wave would hold up the next one.
//! A node whose dependency failed never starts; [`Schedule::skip_blocked`] names the culprit.
//!
//! Pure bookkeeping (no tasks, no clock): the caller runs what [`Schedule::next_ready`] hands out,
//! with whatever concurrency it wants, and reports back with [`Schedule::finish`].

use std::collections::BTreeSet;

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
    /// `dependents[node]`: the nodes whose dependency list names `node`, once per mention.
    dependents: Vec<Vec<usize>>,
    state: Vec<State>,
    /// For each node, how many entries of its dependency list have not succeeded.
    unmet: Vec<usize>,
    /// The waiting nodes with nothing unmet, lowest first: what `next_ready` hands out, without
    /// scanning every node for each one (a deploy schedules one node per object).
    ready: BTreeSet<usize>,
    succeeded: usize,
}

impl Schedule {
    /// `dependencies[node]` lists the nodes that must succeed before `node` starts. Dependencies
    /// outside `0..len` are ignored (the caller's set does not hold them: they are someone else's).
    pub fn new(dependencies: Vec<Vec<usize>>) -> Schedule {
        let len = dependencies.len();
        let dependencies: Vec<Vec<usize>> = dependencies
            .into_iter()
            .map(|list| list.into_iter().filter(|dependency| *dependency < len).collect())
            .collect();
        let mut dependents = vec![Vec::new(); len];
        for (node, list) in dependencies.iter().enumerate() {
            for &dependency in list {
                dependents[dependency].push(node);
            }
        }
        let unmet: Vec<usize> = dependencies.iter().map(Vec::len).collect();
        let ready = (0..len).filter(|node| unmet[*node] == 0).collect();
        Schedule { dependencies, dependents, state: vec![State::Waiting; len], unmet, ready, succeeded: 0 }
    }

    /// Moves `node` to `new`, keeping `unmet`, `ready` and the count of succeeded nodes true.
    fn set(&mut self, node: usize, new: State) {
        let old = std::mem::replace(&mut self.state[node], new);
        let Schedule { dependents, state, unmet, ready, succeeded, .. } = self;
        if (old == State::Succeeded) != (new == State::Succeeded) {
            if new == State::Succeeded {
                *succeeded += 1;
            } else {
                *succeeded -= 1;
            }
            for &dependent in &dependents[node] {
                if new == State::Succeeded {
                    unmet[dependent] -= 1;
                } else {
                    unmet[dependent] += 1;
                }
                if state[dependent] == State::Waiting && unmet[dependent] == 0 {
                    ready.insert(dependent);
                } else {
                    ready.remove(&dependent);
                }
            }
        }
        if new == State::Waiting && unmet[node] == 0 {
            ready.insert(node);
        } else {
            ready.remove(&node);
        }
    }

    /// Count a node as already done (an object whose content did not change).
    pub fn mark_done(&mut self, node: usize) {
        self.set(node, State::Succeeded);
    }

    /// The lowest-numbered waiting node whose dependencies all succeeded, now marked running.
    pub fn next_ready(&mut self) -> Option<usize> {
        let node = self.ready.first().copied()?;
        self.set(node, State::Running);
        Some(node)
    }

    pub fn finish(&mut self, node: usize, succeeded: bool) {
        self.set(node, if succeeded { State::Succeeded } else { State::Failed });
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
                self.set(*node, State::Skipped);
            }
            skipped.extend(blocked);
        }
    }

    /// Every node succeeded.
    pub fn all_succeeded(&self) -> bool {
        self.succeeded == self.state.len()
    }

    pub fn succeeded_count(&self) -> usize {
        self.succeeded
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

    /// The scheduler as it was before it kept counts: every answer from a scan of all nodes. The
    /// counting one must answer exactly as this one does, whatever the calls.
    struct Scanning {
        dependencies: Vec<Vec<usize>>,
        state: Vec<char>,
    }

    impl Scanning {
        fn next_ready(&mut self) -> Option<usize> {
            let node = (0..self.state.len()).find(|node| {
                self.state[*node] == 'w'
                    && self.dependencies[*node].iter().all(|dependency| self.state[*dependency] == 's')
            })?;
            self.state[node] = 'r';
            Some(node)
        }

        fn skip_blocked(&mut self) -> Vec<(usize, usize)> {
            let mut skipped = Vec::new();
            loop {
                let blocked: Vec<(usize, usize)> = (0..self.state.len())
                    .filter(|node| self.state[*node] == 'w')
                    .filter_map(|node| {
                        self.dependencies[node]
                            .iter()
                            .find(|dependency| matches!(self.state[**dependency], 'f' | 'k'))
                            .map(|dependency| (node, *dependency))
                    })
                    .collect();
                if blocked.is_empty() {
                    return skipped;
                }
                for (node, _) in &blocked {
                    self.state[*node] = 'k';
                }
                skipped.extend(blocked);
            }
        }
    }

    #[test]
    fn answers_as_a_scan_of_every_node_would() {
        // A small linear congruential generator: the same sequence of graphs and calls every run.
        let mut seed: u64 = 0x5eed;
        let mut random = move |below: usize| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % below
        };
        for _ in 0..300 {
            let len = 1 + random(12);
            // Dependencies anywhere (cycles, itself, twice, outside the set), mostly on earlier nodes.
            let dependencies: Vec<Vec<usize>> = (0..len)
                .map(|node| {
                    (0..random(4)).map(|_| if random(5) == 0 { random(len + 3) } else { random(node + 1) }).collect()
                })
                .collect();
            let mut schedule = Schedule::new(dependencies.clone());
            let dependencies = dependencies
                .into_iter()
                .map(|list| list.into_iter().filter(|dependency| *dependency < len).collect())
                .collect();
            let mut scanning = Scanning { dependencies, state: vec!['w'; len] };
            for _ in 0..40 {
                match random(6) {
                    0 => {
                        let node = random(len);
                        schedule.mark_done(node);
                        scanning.state[node] = 's';
                    }
                    1 | 2 => assert_eq!(schedule.next_ready(), scanning.next_ready()),
                    3 | 4 => {
                        let node = random(len);
                        let succeeded = random(3) != 0;
                        schedule.finish(node, succeeded);
                        scanning.state[node] = if succeeded { 's' } else { 'f' };
                    }
                    _ => assert_eq!(schedule.skip_blocked(), scanning.skip_blocked()),
                }
                let succeeded = scanning.state.iter().filter(|state| **state == 's').count();
                assert_eq!(schedule.succeeded_count(), succeeded);
                assert_eq!(schedule.all_succeeded(), succeeded == len);
            }
            assert_eq!(drain(&mut schedule), std::iter::from_fn(|| scanning.next_ready()).collect::<Vec<_>>());
        }
    }
}
