//! The deploy plan: the dependency graph of the manifest set, with each object's level for reading.
//!
//! The rollout does not go level by level: it applies each object as soon as everything it depends
//! on (its `after` list) is applied and ready. Levels are for people: an object's level is the length
//! of the longest dependency chain below it, so `ohdev plan` shows the graph as blocks in apply order,
//! and teardown deletes the deepest level first. Within a level, objects follow a stable kind order
//! like Helm's install order, so the plan (and `ohdev plan`'s output) does not depend on file or
//! document order.

use std::cmp::Ordering;
use std::collections::BTreeMap;

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

/// The stable order used everywhere in a plan: kind rank, kind name (for unknown kinds), namespace
/// (cluster-scoped first), name.
pub fn compare_keys(left: &ObjectKey, right: &ObjectKey) -> Ordering {
    (kind_rank(&left.kind), &left.kind, &left.namespace, &left.name).cmp(&(
        kind_rank(&right.kind),
        &right.kind,
        &right.namespace,
        &right.name,
    ))
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
    let order = |left: &usize, right: &usize| compare_keys(&keys[*left], &keys[*right]).then(left.cmp(right));
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); objects.len()];
    let mut dependencies: Vec<BTreeMap<usize, Vec<Reason>>> = vec![BTreeMap::new(); objects.len()];
    for Edge { dependency, dependent, reason } in &edges {
        dependents[*dependency].push(*dependent);
        dependencies[*dependent].entry(*dependency).or_default().push(reason.clone());
    }
    dependents.iter_mut().for_each(|list| {
        list.sort_by(order);
        list.dedup();
    });
    if let Some(cycle) = find_cycle(objects.len(), &dependents, order) {
        let sources = cycle[..cycle.len() - 1]
            .iter()
            .map(|&index| format!("{} in {}", keys[index], objects[index].source))
            .collect();
        let mut described = vec![(keys[cycle[0]].clone(), Vec::new())];
        described.extend(cycle.windows(2).map(|pair| {
            let mut reasons = dependencies[pair[1]].get(&pair[0]).cloned().unwrap_or_default();
            reasons.sort();
            reasons.dedup();
            (keys[pair[1]].clone(), reasons)
        }));
        let cycle = described;
        return Err(GraphError::Cycle { cycle, sources });
    }
    let mut levels: Vec<Option<usize>> = vec![None; objects.len()];
    for index in 0..objects.len() {
        level_of(index, &dependencies, &mut levels);
    }
    let scopes = ScopeTable::new(objects);
    let mut planned: Vec<Vec<PlannedObject>> = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        let level = levels[index].unwrap_or(0);
        let mut after: Vec<Dependency> = dependencies[index]
            .iter()
            .map(|(dependency, reasons)| {
                let mut reasons = reasons.clone();
                reasons.sort();
                reasons.dedup();
                Dependency { key: keys[*dependency].clone(), reasons }
            })
            .collect();
        after.sort_by(|left, right| compare_keys(&left.key, &right.key));
        if planned.len() <= level {
            planned.resize(level + 1, Vec::new());
        }
        let crd_not_in_set = scopes.resolve(object).1 == ScopeOrigin::CrdNotInSet;
        planned[level].push(PlannedObject { index, key: keys[index].clone(), level, after, crd_not_in_set });
    }
    for level in &mut planned {
        level.sort_by(|left, right| order(&left.index, &right.index));
    }
    Ok(Plan { levels: planned })
}

fn level_of(index: usize, dependencies: &[BTreeMap<usize, Vec<Reason>>], levels: &mut [Option<usize>]) -> usize {
    if let Some(level) = levels[index] {
        return level;
    }
    let level =
        dependencies[index].keys().map(|&dependency| level_of(dependency, dependencies, levels) + 1).max().unwrap_or(0);
    levels[index] = Some(level);
    level
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
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "graph_tests.rs"]
mod tests;
