//! Deciding what `up` and `down` do, and each migration's status: pure functions of the local
//! migrations and the target's history.

use serde::Serialize;

/// What planning needs to know of a local migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Local {
    pub version: u32,
    pub label: String,
    pub checksum: String,
    /// One checksum per `up` step (a script counts as one step).
    pub step_checksums: Vec<String>,
    /// Whether `down` exists (written, or derivable from `up`).
    pub reversible: bool,
    /// Whether `down` is derived from `up`, so that a partly applied migration can be undone.
    pub derived_down: bool,
}

/// Where a migration is in the target's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Recorded {
    /// `up` is running (or its runner died; the lock says which).
    Running,
    Applied,
    /// `up` stopped at a step.
    Failed,
    /// `down` is running.
    RollingBack,
    /// `down` stopped at a step.
    RollbackFailed,
}

impl Recorded {
    /// The spelling stored in the history collection.
    pub fn as_str(self) -> &'static str {
        match self {
            Recorded::Running => "running",
            Recorded::Applied => "applied",
            Recorded::Failed => "failed",
            Recorded::RollingBack => "rolling_back",
            Recorded::RollbackFailed => "rollback_failed",
        }
    }

    /// Reads the stored spelling.
    pub fn parse(s: &str) -> Option<Recorded> {
        [Recorded::Running, Recorded::Applied, Recorded::Failed, Recorded::RollingBack, Recorded::RollbackFailed].into_iter().find(|r| r.as_str() == s)
    }
}

/// One migration's history record, as planning sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub version: u32,
    pub label: String,
    pub checksum: String,
    pub status: Recorded,
    /// `up` steps done, with their checksums.
    pub done: Vec<String>,
    /// `down` steps done (while rolling back).
    pub undone: usize,
}

/// A migration's state, as `qw migrate status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    Applied,
    Pending,
    /// Applied, but the file changed since.
    Changed,
    /// Applied, but its file is gone.
    Missing,
    /// Partly applied: `up` stopped after `done` steps.
    Failed { done: usize },
    /// `up` is (or was, when its runner died) running; `done` steps are recorded.
    Running { done: usize },
    /// Partly rolled back: `down` stopped after `undone` steps.
    RollbackFailed { undone: usize },
}

impl State {
    /// The word shown in the status table.
    pub fn word(&self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Changed => "changed",
            State::Missing => "missing",
            State::Failed { .. } => "failed",
            State::Running { .. } => "running",
            State::RollbackFailed { .. } => "rollback failed",
        }
    }
}

/// One line of the status table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub version: u32,
    pub label: String,
    #[serde(flatten)]
    pub state: State,
}

/// The state of every migration, local or recorded, by version.
pub fn status(local: &[Local], history: &[Record]) -> Vec<Row> {
    let mut versions: Vec<u32> = local.iter().map(|l| l.version).chain(history.iter().map(|r| r.version)).collect();
    versions.sort_unstable();
    versions.dedup();
    versions
        .into_iter()
        .map(|v| {
            let l = local.iter().find(|l| l.version == v);
            let r = history.iter().find(|r| r.version == v);
            let state = match (l, r) {
                (Some(_), None) => State::Pending,
                (None, Some(r)) if r.status == Recorded::Applied => State::Missing,
                (Some(l), Some(r)) if r.status == Recorded::Applied && l.checksum != r.checksum => State::Changed,
                (_, Some(r)) => match r.status {
                    Recorded::Applied => State::Applied,
                    Recorded::Failed => State::Failed { done: r.done.len() },
                    Recorded::Running => State::Running { done: r.done.len() },
                    Recorded::RollingBack | Recorded::RollbackFailed => State::RollbackFailed { undone: r.undone },
                },
                (None, None) => unreachable!("the version came from one of the lists"),
            };
            Row { version: v, label: l.map(|l| l.label.clone()).or_else(|| r.map(|r| r.label.clone())).unwrap_or_default(), state }
        })
        .collect()
}

/// One thing a run does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Run `up` from step `from` (0 for a fresh start, more to resume).
    Apply { version: u32, from: usize },
    /// Run `down` from step `from`; `partial` holds how many `up` steps were done when the
    /// migration never finished (its derived `down` then covers only those).
    Revert { version: u32, from: usize, partial: Option<usize> },
}

impl Action {
    /// The migration concerned.
    pub fn version(&self) -> u32 {
        match self {
            Action::Apply { version, .. } | Action::Revert { version, .. } => *version,
        }
    }
}

/// Why a run cannot start, and how to resolve it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blocker {
    pub version: u32,
    pub code: &'static str,
    pub message: String,
    pub fix: String,
}

fn short(checksum: &str) -> &str {
    &checksum[..checksum.len().min(12)]
}

/// What `qw migrate up [--to N]` does, or what blocks it.
pub fn plan_up(local: &[Local], history: &[Record], to: Option<u32>, env: &str) -> Result<Vec<Action>, Vec<Blocker>> {
    let mut blockers = Vec::new();
    let max_applied = history.iter().filter(|r| r.status == Recorded::Applied).map(|r| r.version).max();
    for row in status(local, history) {
        let v = row.version;
        let block = |code, message: String, fix: String| Blocker { version: v, code, message, fix };
        match row.state {
            State::Changed => {
                let (l, r) = (local.iter().find(|l| l.version == v).unwrap(), history.iter().find(|r| r.version == v).unwrap());
                blockers.push(block(
                    "checksum-mismatch",
                    format!("{} was applied with checksum {} but the file now has {}", row.label, short(&r.checksum), short(&l.checksum)),
                    format!("restore the applied file (git checkout it) and put the change in a new migration; if the edit changes nothing that ran, accept it with `qw migrate accept {env} {v}`"),
                ));
            }
            State::Missing => blockers.push(block(
                "migration-missing",
                format!("{} is applied in {env} but its file is not in migrations/", row.label),
                "restore the file (are you on an older branch?)".into(),
            )),
            State::RollbackFailed { .. } => blockers.push(block(
                "rollback-unfinished",
                format!("{} is partly rolled back", row.label),
                format!("finish it with `qw migrate down {env}` first"),
            )),
            State::Pending if max_applied.is_some_and(|m| v < m) && to.is_none_or(|t| v <= t) => blockers.push(block(
                "out-of-order",
                format!("{} is pending but a later migration ({:03}) is already applied", row.label, max_applied.unwrap()),
                format!("renumber it after {:03}", max_applied.unwrap()),
            )),
            State::Failed { done } | State::Running { done } => {
                let (l, r) = (local.iter().find(|l| l.version == v), history.iter().find(|r| r.version == v).unwrap());
                match l {
                    None => blockers.push(block("migration-missing", format!("{} stopped part way in {env} and its file is gone", row.label), "restore the file".into())),
                    Some(l) if l.step_checksums.len() < done || l.step_checksums[..done] != r.done[..] => blockers.push(block(
                        "applied-steps-changed",
                        format!("{} stopped after step {done}, and the steps already applied have changed since", row.label),
                        format!("restore steps 1..{done} as they ran (edit only the failed step and those after it), or undo the applied steps with `qw migrate down {env}`"),
                    )),
                    Some(_) => {}
                }
            }
            _ => {}
        }
    }
    if !blockers.is_empty() {
        return Err(blockers);
    }
    let mut actions = Vec::new();
    for row in status(local, history) {
        if to.is_some_and(|t| row.version > t) {
            break;
        }
        match row.state {
            State::Pending => actions.push(Action::Apply { version: row.version, from: 0 }),
            State::Failed { done } | State::Running { done } => actions.push(Action::Apply { version: row.version, from: done }),
            _ => {}
        }
    }
    Ok(actions)
}

/// What `qw migrate down [N]` does: undo the last `count` migrations applied (fully or partly).
pub fn plan_down(local: &[Local], history: &[Record], count: usize, env: &str) -> Result<Vec<Action>, Vec<Blocker>> {
    let mut recorded: Vec<&Record> = history.iter().collect();
    recorded.sort_by_key(|r| std::cmp::Reverse(r.version));
    let mut actions = Vec::new();
    let mut blockers = Vec::new();
    for r in recorded.into_iter().take(count) {
        let v = r.version;
        let block = |code, message: String, fix: String| Blocker { version: v, code, message, fix };
        let Some(l) = local.iter().find(|l| l.version == v) else {
            blockers.push(block("migration-missing", format!("{} is recorded in {env} but its file is not in migrations/", r.label), "restore the file to roll it back".into()));
            continue;
        };
        if !l.reversible {
            blockers.push(block("irreversible", format!("{} has no down and one cannot be derived from its steps", l.label), "write its `down` (the check names the step that needs it)".into()));
            continue;
        }
        match r.status {
            Recorded::Applied if l.checksum != r.checksum => blockers.push(block(
                "checksum-mismatch",
                format!("{} was applied with checksum {} but the file now has {}", l.label, short(&r.checksum), short(&l.checksum)),
                format!("restore the applied file so its down matches what ran, or accept it with `qw migrate accept {env} {v}`"),
            )),
            Recorded::Applied => actions.push(Action::Revert { version: v, from: 0, partial: None }),
            Recorded::RollingBack | Recorded::RollbackFailed => {
                let partial = (r.done.len() < l.step_checksums.len()).then_some(r.done.len());
                actions.push(Action::Revert { version: v, from: r.undone, partial })
            }
            Recorded::Failed | Recorded::Running if l.derived_down => {
                if l.step_checksums.len() < r.done.len() || l.step_checksums[..r.done.len()] != r.done[..] {
                    blockers.push(block("applied-steps-changed", format!("{} stopped after step {}, and those steps have changed since", l.label, r.done.len()), "restore the steps as they ran".into()));
                } else {
                    actions.push(Action::Revert { version: v, from: 0, partial: Some(r.done.len()) });
                }
            }
            Recorded::Failed | Recorded::Running => blockers.push(block(
                "partly-applied",
                format!("{} stopped after step {} and its written down expects the whole migration", l.label, r.done.len()),
                format!("finish it with `qw migrate up {env}` first, then roll it back"),
            )),
        }
    }
    if blockers.is_empty() {
        Ok(actions)
    } else {
        Err(blockers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(version: u32, checksum: &str, steps: &[&str]) -> Local {
        Local { version, label: format!("{version:03}_m"), checksum: checksum.into(), step_checksums: steps.iter().map(|s| s.to_string()).collect(), reversible: true, derived_down: true }
    }

    fn rec(version: u32, checksum: &str, status: Recorded, done: &[&str], undone: usize) -> Record {
        Record { version, label: format!("{version:03}_m"), checksum: checksum.into(), status, done: done.iter().map(|s| s.to_string()).collect(), undone }
    }

    fn codes(r: Result<Vec<Action>, Vec<Blocker>>) -> Result<Vec<Action>, Vec<&'static str>> {
        r.map_err(|b| b.into_iter().map(|b| b.code).collect())
    }

    #[test]
    fn status_table() {
        use Recorded::*;
        let l = [local(1, "a", &["s"]), local(2, "b", &["s"]), local(3, "c", &["s", "t"]), local(5, "e", &["s"])];
        let h = [rec(1, "a", Applied, &["s"], 0), rec(2, "B", Applied, &["s"], 0), rec(3, "c", Failed, &["s"], 0), rec(4, "d", Applied, &[], 0)];
        let states: Vec<(u32, State)> = status(&l, &h).into_iter().map(|r| (r.version, r.state)).collect();
        assert_eq!(states, [(1, State::Applied), (2, State::Changed), (3, State::Failed { done: 1 }), (4, State::Missing), (5, State::Pending)]);
        let h = [rec(1, "a", RollbackFailed, &["s"], 0), rec(2, "b", Running, &[], 0)];
        let states: Vec<State> = status(&l, &h).into_iter().map(|r| r.state).collect();
        assert_eq!(states[..2], [State::RollbackFailed { undone: 0 }, State::Running { done: 0 }]);
    }

    #[test]
    fn up_plans() {
        use Recorded::*;
        let apply = |version, from| Action::Apply { version, from };
        let l = [local(1, "a", &["s1"]), local(2, "b", &["s1", "s2", "s3"]), local(3, "c", &["s1"])];
        let cases: Vec<(&str, Vec<Record>, Option<u32>, Result<Vec<Action>, Vec<&str>>)> = vec![
            ("fresh target", vec![], None, Ok(vec![apply(1, 0), apply(2, 0), apply(3, 0)])),
            ("--to 2", vec![], Some(2), Ok(vec![apply(1, 0), apply(2, 0)])),
            ("up to date", vec![rec(1, "a", Applied, &["s1"], 0), rec(2, "b", Applied, &[], 0), rec(3, "c", Applied, &[], 0)], None, Ok(vec![])),
            ("resume at the failed step", vec![rec(1, "a", Applied, &["s1"], 0), rec(2, "b", Failed, &["s1"], 0)], None, Ok(vec![apply(2, 1), apply(3, 0)])),
            ("resume after a dead runner", vec![rec(1, "a", Applied, &["s1"], 0), rec(2, "b", Running, &["s1", "s2"], 0)], None, Ok(vec![apply(2, 2), apply(3, 0)])),
            ("resume when only the failed step was edited", vec![rec(1, "a", Applied, &["s1"], 0), rec(2, "old", Failed, &["s1"], 0)], None, Ok(vec![apply(2, 1), apply(3, 0)])),
            ("applied steps edited after a failure", vec![rec(1, "a", Applied, &["s1"], 0), rec(2, "b", Failed, &["x1"], 0)], None, Err(vec!["applied-steps-changed"])),
            ("checksum mismatch blocks everything", vec![rec(1, "edited", Applied, &["s1"], 0)], None, Err(vec!["checksum-mismatch"])),
            ("missing file", vec![rec(1, "a", Applied, &[], 0), rec(4, "d", Applied, &[], 0)], None, Err(vec!["out-of-order", "out-of-order", "migration-missing"])),
            ("out of order", vec![rec(1, "a", Applied, &[], 0), rec(3, "c", Applied, &[], 0)], None, Err(vec!["out-of-order"])),
            ("--to below the gap is fine", vec![rec(1, "a", Applied, &[], 0), rec(3, "c", Applied, &[], 0)], Some(1), Ok(vec![])),
            ("unfinished rollback", vec![rec(1, "a", RollbackFailed, &["s1"], 0)], None, Err(vec!["rollback-unfinished"])),
        ];
        for (name, history, to, expected) in cases {
            assert_eq!(codes(plan_up(&l, &history, to, "dev")), expected, "{name}");
        }
    }

    #[test]
    fn down_plans() {
        use Recorded::*;
        let revert = |version, from, partial| Action::Revert { version, from, partial };
        let mut irreversible = local(3, "c", &["s1"]);
        irreversible.reversible = false;
        let mut written = local(2, "b", &["s1", "s2"]);
        written.derived_down = false;
        let l = vec![local(1, "a", &["s1"]), local(2, "b", &["s1", "s2"]), local(3, "c", &["s1"])];
        let all = vec![rec(1, "a", Applied, &["s1"], 0), rec(2, "b", Applied, &["s1", "s2"], 0), rec(3, "c", Applied, &["s1"], 0)];
        let cases: Vec<(&str, Vec<Local>, Vec<Record>, usize, Result<Vec<Action>, Vec<&str>>)> = vec![
            ("last one", l.clone(), all.clone(), 1, Ok(vec![revert(3, 0, None)])),
            ("last two, newest first", l.clone(), all.clone(), 2, Ok(vec![revert(3, 0, None), revert(2, 0, None)])),
            ("more than recorded", l.clone(), all[..1].to_vec(), 5, Ok(vec![revert(1, 0, None)])),
            ("nothing recorded", l.clone(), vec![], 1, Ok(vec![])),
            ("irreversible", vec![l[0].clone(), l[1].clone(), irreversible], all.clone(), 1, Err(vec!["irreversible"])),
            ("edited since applied", l.clone(), vec![rec(1, "x", Applied, &[], 0)], 1, Err(vec!["checksum-mismatch"])),
            ("resume a rollback", l.clone(), vec![rec(2, "b", RollbackFailed, &["s1", "s2"], 1)], 1, Ok(vec![revert(2, 1, None)])),
            ("undo a failed migration's done steps", l.clone(), vec![rec(2, "b", Failed, &["s1"], 0)], 1, Ok(vec![revert(2, 0, Some(1))])),
            ("a written down needs the whole migration", vec![l[0].clone(), written], vec![rec(2, "b", Failed, &["s1"], 0)], 1, Err(vec!["partly-applied"])),
            ("file gone", l[..1].to_vec(), vec![rec(2, "b", Applied, &[], 0)], 1, Err(vec!["migration-missing"])),
        ];
        for (name, local, history, count, expected) in cases {
            assert_eq!(codes(plan_down(&local, &history, count, "dev")), expected, "{name}");
        }
    }
}
