//! The function dependency graph: cycles and the deploy order, from `dependencies.json` files.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;
use serde::Serialize;

use super::Project;

/// Functions as nodes; an edge A → B means A depends on B, so B deploys first.
#[derive(Debug, Clone, Default)]
pub struct DependencyGraph {
    graph: DiGraph<String, ()>,
    nodes: BTreeMap<String, NodeIndex>,
}

/// One position of a deploy order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// 1-based.
    pub position: usize,
    pub function: String,
    /// Functions it depends on, each already deployed at the given position.
    pub after: Vec<(String, usize)>,
    /// Functions in the same order that depend on it.
    pub before: Vec<String>,
}

impl Step {
    /// Why the function stands at this position.
    pub fn reason(&self) -> String {
        let mut parts = Vec::new();
        if self.after.is_empty() {
            parts.push("depends on nothing".to_string());
        } else {
            let after: Vec<String> = self.after.iter().map(|(f, p)| format!("{f} (#{p})")).collect();
            parts.push(format!("after {}, which it depends on", after.join(", ")));
        }
        if !self.before.is_empty() {
            parts.push(format!("needed by {}", self.before.join(", ")));
        }
        parts.join("; ")
    }
}

impl DependencyGraph {
    /// The graph of every function folder, with the union of `depends_on` and `depended_by`.
    pub fn of(project: &Project) -> Self {
        let mut g = DependencyGraph::default();
        for name in project.functions.keys() {
            g.node(name);
        }
        for (name, dir) in &project.functions {
            if let Some(deps) = &dir.dependencies {
                for d in &deps.depends_on {
                    g.edge(name, d);
                }
                for d in &deps.depended_by {
                    g.edge(d, name);
                }
            }
        }
        g
    }

    /// The graph with one more function and its dependencies in both directions (what
    /// `qw function create` would write), to find the cycles it would make before writing.
    pub fn with_function(mut self, name: &str, depends_on: &[String], depended_by: &[String]) -> Self {
        self.node(name);
        for d in depends_on {
            self.edge(name, d);
        }
        for d in depended_by {
            self.edge(d, name);
        }
        self
    }

    fn node(&mut self, name: &str) -> NodeIndex {
        if let Some(i) = self.nodes.get(name) {
            return *i;
        }
        let i = self.graph.add_node(name.to_string());
        self.nodes.insert(name.to_string(), i);
        i
    }

    fn edge(&mut self, from: &str, to: &str) {
        let (a, b) = (self.node(from), self.node(to));
        if self.graph.find_edge(a, b).is_none() {
            self.graph.add_edge(a, b, ());
        }
    }

    fn sorted_neighbors(&self, i: NodeIndex, dir: Direction) -> Vec<NodeIndex> {
        let mut n: Vec<NodeIndex> = self.graph.neighbors_directed(i, dir).collect();
        n.sort_by(|a, b| self.graph[*a].cmp(&self.graph[*b]));
        n.dedup();
        n
    }

    /// Every cycle, each named in dependency order from its alphabetically first function and
    /// ending where it started, e.g. `[a, b, a]` for a depends on b depends on a.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        let mut cycles = Vec::new();
        for scc in petgraph::algo::tarjan_scc(&self.graph) {
            let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
            let start = *scc.iter().min_by(|a, b| self.graph[**a].cmp(&self.graph[**b])).expect("non-empty component");
            let self_loop = self.graph.find_edge(start, start).is_some();
            if scc.len() == 1 && !self_loop {
                continue;
            }
            let mut path = vec![start];
            let mut seen = BTreeSet::from([start]);
            if self.walk_back_to(start, start, &members, &mut path, &mut seen) {
                cycles.push(path.iter().map(|i| self.graph[*i].clone()).collect());
            }
        }
        cycles.sort();
        cycles
    }

    fn walk_back_to(&self, at: NodeIndex, start: NodeIndex, members: &BTreeSet<NodeIndex>, path: &mut Vec<NodeIndex>, seen: &mut BTreeSet<NodeIndex>) -> bool {
        for next in self.sorted_neighbors(at, Direction::Outgoing) {
            if next == start {
                path.push(start);
                return true;
            }
            if members.contains(&next) && seen.insert(next) {
                path.push(next);
                if self.walk_back_to(next, start, members, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }

    /// The deploy order of the `included` functions (dependencies first, ties alphabetical), or
    /// the cycles that make one impossible. Dependencies outside `included` are ignored here.
    pub fn deploy_order(&self, included: &BTreeSet<String>) -> Result<Vec<Step>, Vec<Vec<String>>> {
        let cycles: Vec<Vec<String>> = self.cycles().into_iter().filter(|c| c.iter().any(|f| included.contains(f))).collect();
        if !cycles.is_empty() {
            return Err(cycles);
        }
        let in_scope = |i: &NodeIndex| included.contains(&self.graph[*i]);
        let mut waiting: BTreeMap<String, usize> = BTreeMap::new();
        for name in included {
            if let Some(i) = self.nodes.get(name) {
                let deps = self.sorted_neighbors(*i, Direction::Outgoing).iter().filter(|d| in_scope(d)).count();
                waiting.insert(name.clone(), deps);
            } else {
                waiting.insert(name.clone(), 0);
            }
        }
        let mut ready: BTreeSet<String> = waiting.iter().filter(|(_, n)| **n == 0).map(|(f, _)| f.clone()).collect();
        let mut positions: BTreeMap<String, usize> = BTreeMap::new();
        let mut steps = Vec::new();
        while let Some(function) = ready.pop_first() {
            let position = steps.len() + 1;
            positions.insert(function.clone(), position);
            let (after, before) = match self.nodes.get(&function) {
                Some(i) => {
                    let after = self.sorted_neighbors(*i, Direction::Outgoing).into_iter().filter(in_scope).map(|d| (self.graph[d].clone(), positions[&self.graph[d]])).collect();
                    let dependents: Vec<NodeIndex> = self.sorted_neighbors(*i, Direction::Incoming).into_iter().filter(in_scope).collect();
                    for d in &dependents {
                        let n = waiting.get_mut(&self.graph[*d]).expect("included dependent");
                        *n -= 1;
                        if *n == 0 {
                            ready.insert(self.graph[*d].clone());
                        }
                    }
                    (after, dependents.into_iter().map(|d| self.graph[d].clone()).collect())
                }
                None => (Vec::new(), Vec::new()),
            };
            steps.push(Step { position, function, after, before });
        }
        Ok(steps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::model::Dependencies;
    use crate::project::FunctionDir;

    fn project(edges: &[(&str, &[&str])]) -> Project {
        let mut p = Project::default();
        for (name, deps) in edges {
            p.functions.insert(
                name.to_string(),
                FunctionDir {
                    name: name.to_string(),
                    dependencies: Some(Dependencies { depends_on: deps.iter().map(|d| d.to_string()).collect(), ..Default::default() }),
                    ..Default::default()
                },
            );
        }
        p
    }

    fn all(p: &Project) -> BTreeSet<String> {
        p.functions.keys().cloned().collect()
    }

    #[test]
    fn orders_dependencies_first_with_reasons() {
        let p = project(&[("gateway", &["upload"]), ("upload", &["transcribe"]), ("transcribe", &[]), ("cron", &[])]);
        let steps = DependencyGraph::of(&p).deploy_order(&all(&p)).unwrap();
        let order: Vec<&str> = steps.iter().map(|s| s.function.as_str()).collect();
        assert_eq!(order, ["cron", "transcribe", "upload", "gateway"]);
        assert_eq!(steps[0].reason(), "depends on nothing");
        assert_eq!(steps[1].reason(), "depends on nothing; needed by upload");
        assert_eq!(steps[2].reason(), "after transcribe (#2), which it depends on; needed by gateway");
    }

    type Edges<'a> = &'a [(&'a str, &'a [&'a str])];

    #[test]
    fn names_cycles_in_order() {
        let cases: Vec<(Edges, Vec<Vec<&str>>)> = vec![
            (&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])], vec![vec!["a", "b", "c", "a"]]),
            (&[("x", &["x"])], vec![vec!["x", "x"]]),
            (&[("b", &["a"]), ("a", &["b"]), ("c", &[])], vec![vec!["a", "b", "a"]]),
            (&[("a", &["b"]), ("b", &[])], vec![]),
        ];
        for (edges, expected) in cases {
            let p = project(edges);
            assert_eq!(DependencyGraph::of(&p).cycles(), expected, "{edges:?}");
        }
    }

    #[test]
    fn a_cycle_blocks_the_order() {
        let p = project(&[("a", &["b"]), ("b", &["a"])]);
        assert_eq!(DependencyGraph::of(&p).deploy_order(&all(&p)), Err(vec![vec!["a".to_string(), "b".into(), "a".into()]]));
    }
}
