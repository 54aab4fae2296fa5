//! The deploy plan: the dependency graph of the manifest set, with each object's level for reading.
//!
//! The rollout does not go level by level: it applies each object as soon as everything it depends
//! on (its `after` list) is applied and ready. Levels are for people: an object's level is the length
//! of the longest dependency chain below it, so `ohdev plan` shows the graph as blocks in apply order,
//! and teardown deletes the deepest level first. Within a level, objects follow a stable kind order
//! like Helm's install order, so the plan (and `ohdev plan`'s output) does not depend on file or
//! document order.

use std::cmp::Ordering;

use crate::events::{PlanDependency, PlanEntry};

use super::edges::{find_edges, Edge, EdgeError, Reason};
use super::manifest::{Object, ObjectKey, ScopeOrigin, ScopeTable};

/// Kinds in install order, after Helm's `InstallOrder` (helm.sh/helm pkg/release/v1/util/kind_sorter.go).
/// Kinds not listed come after all of these, alphabetically, as in Helm.
const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Sort position of a kind: its place in the install order, unknown kinds last.
pub fn kind_rank(kind: &str) -> usize {
    INSTALL_ORDER.iter().position(|known| *known == kind).unwrap_or(INSTALL_ORDER.len())
}

/// The stable order used everywhere in a plan, as a sort key: kind rank, kind name (for unknown kinds),
/// namespace (cluster-scoped first), name.
pub fn order_key(key: &ObjectKey) -> (usize, &str, Option<&str>, &str) {
    (kind_rank(&key.kind), &key.kind, key.namespace.as_deref(), &key.name)
}

/// An object waits for `key` for these reasons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dependency {
    pub key: ObjectKey,
    pub reasons: Vec<Reason>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedObject {
    /// Position in the slice given to `plan`.
    pub index: usize,
    pub key: ObjectKey,
    pub level: usize,
    pub after: Vec<Dependency>,
    /// A custom resource whose CustomResourceDefinition is not in the set: the cluster must know the kind.
    pub crd_not_in_set: bool,
    /// The renderer that printed the object (`kustomize:overlays/dev`, `command:helm`); `None` for files.
    pub rendered_by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub levels: Vec<Vec<PlannedObject>>,
}

impl Plan {
    /// All objects, level by level, in apply order.
    pub fn objects(&self) -> impl Iterator<Item = &PlannedObject> {
        self.levels.iter().flatten()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error(transparent)]
    Edge(#[from] EdgeError),
    #[error("dependency cycle: {}: nothing in it can be applied first; remove one of these dependencies (an `ohdev.dev/depends-on` annotation is the usual culprit). Defined in: {}", describe_cycle(cycle), sources.join(", "))]
    Cycle { cycle: Vec<(ObjectKey, Vec<Reason>)>, sources: Vec<String> },
}

fn describe_cycle(cycle: &[(ObjectKey, Vec<Reason>)]) -> String {
    let steps: Vec<String> = cycle
        .iter()
        .map(|(key, reasons)| match reasons.as_slice() {
            [] => key.to_string(),
            _ => format!("{key} ({})", reasons.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
        })
        .collect();
    steps.join(" → ")
}

/// Builds the plan for a normalized set (see `manifest::normalize`). Fails on a bad depends-on
/// annotation or a cycle; the cycle is named in apply order (`A → B` means A first).
pub fn plan(objects: &[Object]) -> Result<Plan, GraphError> {
    let edges = find_edges(objects)?;
    let keys: Vec<ObjectKey> = objects.iter().map(Object::key).collect();
    // Each object's place in the stable order (`order_key`, then position in the slice), found by one
    // sort: every later sort compares these numbers instead of the keys' strings.
    let rank = stable_ranks(&keys);
    let order = |left: &usize, right: &usize| rank[*left].cmp(&rank[*right]);
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); objects.len()];
    for Edge { dependency, dependent, .. } in &edges {
        dependents[*dependency].push(*dependent);
    }
    dependents.iter_mut().for_each(|list| {
        list.sort_by(order);
        list.dedup();
    });
    let dependencies = Dependencies::new(objects.len(), &edges);
    if let Some(cycle) = find_cycle(objects.len(), &dependents, order) {
        let sources = cycle[..cycle.len() - 1]
            .iter()
            .map(|&index| format!("{} in {}", keys[index], objects[index].source))
            .collect();
        let mut described = vec![(keys[cycle[0]].clone(), Vec::new())];
        described.extend(cycle.windows(2).map(|pair| {
            let reasons = dependencies.of(pair[1]).find(|(dependency, _)| *dependency == pair[0]);
            (keys[pair[1]].clone(), reasons.map(|(_, reasons)| reasons).unwrap_or_default())
        }));
        let cycle = described;
        return Err(GraphError::Cycle { cycle, sources });
    }
    let levels = levels(&dependents);
    let scopes = ScopeTable::new(objects);
    // Every `after` list first (they copy the keys of dependencies), then the keys move into the plan.
    let afters: Vec<Vec<Dependency>> = (0..objects.len())
        .map(|index| {
            let mut found: Vec<(usize, Vec<Reason>)> = dependencies.of(index).collect();
            found.sort_by(|left, right| order(&left.0, &right.0));
            let mut after = Vec::with_capacity(found.len());
            after.extend(
                found.into_iter().map(|(dependency, reasons)| Dependency { key: keys[dependency].clone(), reasons }),
            );
            after
        })
        .collect();
    let mut sizes = vec![0usize; levels.iter().max().map_or(0, |deepest| deepest + 1)];
    levels.iter().for_each(|&level| sizes[level] += 1);
    let mut planned: Vec<Vec<PlannedObject>> = sizes.into_iter().map(Vec::with_capacity).collect();
    for (index, ((object, key), after)) in objects.iter().zip(keys).zip(afters).enumerate() {
        let level = levels[index];
        let crd_not_in_set = scopes.resolve(object).1 == ScopeOrigin::CrdNotInSet;
        let rendered_by = object.source.rendered_by().map(str::to_string);
        planned[level].push(PlannedObject { index, key, level, after, crd_not_in_set, rendered_by });
    }
    for level in &mut planned {
        level.sort_by(|left, right| order(&left.index, &right.index));
    }
    Ok(Plan { levels: planned })
}

/// `ranks[index]` is the object's position when the set is sorted by `order_key`, ties (the same key
/// twice) by position in the set.
fn stable_ranks(keys: &[ObjectKey]) -> Vec<usize> {
    let mut sorted: Vec<usize> = (0..keys.len()).collect();
    sorted.sort_by_cached_key(|&index| (order_key(&keys[index]), index));
    let mut ranks = vec![0; keys.len()];
    for (rank, index) in sorted.into_iter().enumerate() {
        ranks[index] = rank;
    }
    ranks
}

/// What each object depends on, and why: the edges grouped by dependent (a counting sort, so each
/// group keeps the edges' order: by dependency, then reason).
struct Dependencies<'e> {
    edges: Vec<&'e Edge>,
    /// Object `i`'s edges are `edges[starts[i]..starts[i + 1]]`.
    starts: Vec<usize>,
}

impl<'e> Dependencies<'e> {
    fn new(count: usize, edges: &'e [Edge]) -> Self {
        let mut starts = vec![0usize; count + 1];
        for edge in edges {
            starts[edge.dependent + 1] += 1;
        }
        for index in 0..count {
            starts[index + 1] += starts[index];
        }
        let mut next = starts.clone();
        let mut grouped: Vec<Option<&Edge>> = vec![None; edges.len()];
        for edge in edges {
            grouped[next[edge.dependent]] = Some(edge);
            next[edge.dependent] += 1;
        }
        Dependencies { edges: grouped.into_iter().flatten().collect(), starts }
    }

    /// Each object `index` depends on, with the reasons (sorted, without repeats).
    fn of(&self, index: usize) -> impl Iterator<Item = (usize, Vec<Reason>)> + '_ {
        let mut group = &self.edges[self.starts[index]..self.starts[index + 1]];
        std::iter::from_fn(move || {
            let dependency = group.first()?.dependency;
            let length = group.iter().take_while(|edge| edge.dependency == dependency).count();
            let mut reasons: Vec<Reason> = group[..length].iter().map(|edge| edge.reason.clone()).collect();
            reasons.sort();
            reasons.dedup();
            group = &group[length..];
            Some((dependency, reasons))
        })
    }
}

/// Each object's level: the length of the longest dependency chain below it (0 without dependencies).
/// In dependency order (Kahn), not by recursion: a chain of 100,000 objects must not overflow the stack.
/// The graph has no cycle (checked first) and `dependents` no repeats.
fn levels(dependents: &[Vec<usize>]) -> Vec<usize> {
    let mut waiting_for = vec![0usize; dependents.len()];
    for &dependent in dependents.iter().flatten() {
        waiting_for[dependent] += 1;
    }
    let mut levels = vec![0usize; dependents.len()];
    let mut ready: Vec<usize> = (0..dependents.len()).filter(|&index| waiting_for[index] == 0).collect();
    while let Some(index) = ready.pop() {
        for &dependent in &dependents[index] {
            levels[dependent] = levels[dependent].max(levels[index] + 1);
            waiting_for[dependent] -= 1;
            if waiting_for[dependent] == 0 {
                ready.push(dependent);
            }
        }
    }
    levels
}

/// Depth-first search in apply order; returns the first cycle found as `[a, b, …, a]`. Starting points and
/// neighbours are visited in the stable key order, so the same set always names the same cycle.
fn find_cycle(
    count: usize,
    dependents: &[Vec<usize>],
    order: impl Fn(&usize, &usize) -> Ordering,
) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut marks = vec![Mark::New; count];
    let mut starts: Vec<usize> = (0..count).collect();
    starts.sort_by(&order);
    for start in starts {
        if marks[start] != Mark::New {
            continue;
        }
        let mut path = vec![start];
        let mut next_child = vec![0usize];
        marks[start] = Mark::OnPath;
        while let Some(&current) = path.last() {
            let position = next_child.last_mut().expect("parallel to path");
            let Some(&child) = dependents[current].get(*position) else {
                marks[current] = Mark::Done;
                path.pop();
                next_child.pop();
                continue;
            };
            *position += 1;
            match marks[child] {
                Mark::OnPath => {
                    let begin = path.iter().position(|&node| node == child).expect("on path");
                    let mut cycle = path[begin..].to_vec();
                    cycle.push(child);
                    return Some(cycle);
                }
                Mark::New => {
                    marks[child] = Mark::OnPath;
                    path.push(child);
                    next_child.push(0);
                }
                Mark::Done => {}
            }
        }
    }
    None
}

impl Plan {
    /// The plan as data for the `plan` event, in apply order.
    pub fn entries(&self) -> Vec<PlanEntry> {
        self.objects()
            .map(|object| PlanEntry {
                level: object.level,
                kind: object.key.kind.clone(),
                namespace: object.key.namespace.clone(),
                name: object.key.name.clone(),
                after: object
                    .after
                    .iter()
                    .map(|dependency| PlanDependency {
                        kind: dependency.key.kind.clone(),
                        namespace: dependency.key.namespace.clone(),
                        name: dependency.key.name.clone(),
                        why: dependency.reasons.iter().map(ToString::to_string).collect(),
                        label: dependency.key.to_string(),
                    })
                    .collect(),
                label: object.key.to_string(),
                crd_not_in_set: object.crd_not_in_set,
                source: object.rendered_by.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "graph_tests.rs"]
mod tests;
