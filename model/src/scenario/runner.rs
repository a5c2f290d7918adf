//! Runs a [`Scenario`] against [`LockTable`] and [`ReferenceTable`] side by side: the same
//! calls at the same manual-clock times, each model checked against the file and against the
//! other after every step.

use super::lane::{Happened, Lane, Observation, Outcome, Waiting};
use super::parse::{Action, Expect, Scenario, Step};
use crate::clock::{Clock, ManualClock};
use crate::error::LockError;
use crate::level::Level;
use crate::owner::Owner;
use crate::path::LockPath;
use crate::reference::ReferenceTable;
use crate::table::{HolderInfo, LockModel, LockTable, Ticket};
use crate::time::Time;
use std::fmt;

/// Why a scenario failed: the first step where a model disagreed with the file or with the
/// other model.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Failure {
    /// The step, counted from 1.
    pub step: usize,
    /// The line of that step's `do`.
    pub line: usize,
    /// What the file (or the other model) says should happen.
    pub expected: String,
    /// What happened, naming the model when only one of them did it.
    pub got: String,
    /// Every hold and queued request after the step, in `LockTable`.
    pub state: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step {}: expected {}, got {}; {}",
            self.step, self.expected, self.got, self.state
        )
    }
}

/// A difference between the file and one model.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Mismatch {
    expected: String,
    got: String,
}

/// A request expected to time out that has not yet.
struct Pending {
    ticket: Ticket,
    id: String,
    step: usize,
    line: usize,
}

/// Runs `scenario`; `Ok` when both models did exactly what the file says at every step.
pub fn run_scenario(scenario: &Scenario) -> Result<(), Failure> {
    Runner {
        names: Names(&scenario.owners),
        clock: ManualClock::new(Time::ZERO),
        table: Lane::new("LockTable", LockTable::new()),
        reference: Lane::new("ReferenceTable", ReferenceTable::new()),
        pending: Vec::new(),
    }
    .run(&scenario.steps)
}

struct Runner<'s> {
    names: Names<'s>,
    clock: ManualClock,
    table: Lane<LockTable>,
    reference: Lane<ReferenceTable>,
    pending: Vec<Pending>,
}

impl Runner<'_> {
    fn run(mut self, steps: &[Step]) -> Result<(), Failure> {
        for step in steps {
            let now = match step.action {
                Action::Advance { by } => self.clock.advance(by),
                _ => self.clock.now(),
            };
            let a = self.table.apply(&step.action, now);
            let b = self.reference.apply(&step.action, now);
            let fail = |m: Mismatch, runner: &Self| runner.failure(step, m);

            let on_table = check_step(step, &a, &self.table, self.names);
            let on_reference = check_step(step, &b, &self.reference, self.names);
            if let Some(m) = combine(on_table, on_reference) {
                return Err(fail(m, &self));
            }
            for (lane_name, result) in [
                (self.table.name, self.table.check_fences(&a)),
                (self.reference.name, self.reference.check_fences(&b)),
            ] {
                if let Err((previous, token)) = result {
                    let m = Mismatch {
                        expected: format!("a fencing token greater than {previous}"),
                        got: format!("{token} from {lane_name}"),
                    };
                    return Err(fail(m, &self));
                }
            }
            if let Some(m) = self.disagreement(&a, &b) {
                return Err(fail(m, &self));
            }
            self.track_timeouts(step, &a)?;
        }
        match self.pending.first() {
            None => Ok(()),
            Some(p) => Err(Failure {
                step: p.step,
                line: p.line,
                expected: format!("timeout ({} reported in a later step's `timeouts`)", p.id),
                got: "still queued when the scenario ended".into(),
                state: self.state(),
            }),
        }
    }

    fn failure(&self, step: &Step, m: Mismatch) -> Failure {
        Failure {
            step: step.number,
            line: step.location.line,
            expected: m.expected,
            got: m.got,
            state: self.state(),
        }
    }

    fn state(&self) -> String {
        render_state(&self.table.holds(), &self.table.queue(), self.names)
    }

    /// Compares everything the two models expose after a step.
    fn disagreement(&self, a: &Observation, b: &Observation) -> Option<Mismatch> {
        let (t, r) = (self.table.name, self.reference.name);
        let differ = |what: &str, x: String, y: String| {
            Some(Mismatch {
                expected: format!("{t} and {r} to agree on {what}"),
                got: format!("{t}: {x}; {r}: {y}"),
            })
        };
        if !a.outcome.same_as(&b.outcome) {
            return differ(
                "the result",
                describe(&a.outcome, self.names),
                describe(&b.outcome, self.names),
            );
        }
        let n = self.names;
        if a.effects != b.effects {
            let show = |effects: &[Happened]| {
                let items: Vec<String> = effects.iter().map(|e| detail_effect(e, n)).collect();
                format!("[{}]", items.join(", "))
            };
            return differ("the effects", show(&a.effects), show(&b.effects));
        }
        let (ha, hb) = (self.table.holds(), self.reference.holds());
        if ha != hb {
            let show = |holds: &[(LockPath, HolderInfo)]| {
                let items: Vec<String> = holds.iter().map(|(p, h)| detail_hold(p, h, n)).collect();
                format!("[{}]", items.join(", "))
            };
            return differ("the holds", show(&ha), show(&hb));
        }
        let (qa, qb) = (self.table.queue(), self.reference.queue());
        if qa != qb {
            let show = |queue: &[Waiting]| {
                let items: Vec<String> = queue.iter().map(|w| detail_waiting(w, n)).collect();
                format!("[{}]", items.join(", "))
            };
            return differ("the queue", show(&qa), show(&qb));
        }
        let (da, db) = (
            self.table.model.next_deadline(),
            self.reference.model.next_deadline(),
        );
        if da != db {
            return differ("the next deadline", format!("{da:?}"), format!("{db:?}"));
        }
        None
    }

    /// Follows requests whose step expects `timeout` until they time out; anything else that
    /// ends them first is a failure at the step where it happens.
    fn track_timeouts(&mut self, step: &Step, obs: &Observation) -> Result<(), Failure> {
        for (ticket, fate) in self.fates(step, obs) {
            let Some(i) = self.pending.iter().position(|p| p.ticket == ticket) else {
                continue;
            };
            let p = self.pending.remove(i);
            if fate != "timed out" {
                let m = Mismatch {
                    expected: format!("{} (step {}) to time out", p.id, p.step),
                    got: fate.to_owned(),
                };
                return Err(self.failure(step, m));
            }
        }
        if let (Action::Lock { id, expect, .. }, Some(ticket)) = (&step.action, obs.queued) {
            if *expect == Expect::Timeout {
                self.pending.push(Pending {
                    ticket,
                    id: id.clone(),
                    step: step.number,
                    line: step.location.line,
                });
            }
        }
        Ok(())
    }

    /// The requests of the table lane that this step ended, and how.
    fn fates(&self, step: &Step, obs: &Observation) -> Vec<(Ticket, &'static str)> {
        let mut out: Vec<(Ticket, &'static str)> = obs
            .ended
            .iter()
            .map(|&(t, timed_out)| (t, if timed_out { "timed out" } else { "granted" }))
            .collect();
        if let (Action::Cancel { id, .. }, Outcome::Cancelled) = (&step.action, &obs.outcome) {
            if let Some(t) = self.table.ticket_of(id) {
                out.push((t, "cancelled"));
            }
        }
        out
    }
}

/// Owner names by index (`Owner::new(i + 1)` is `names[i]`).
#[derive(Clone, Copy)]
struct Names<'s>(&'s [String]);

impl Names<'_> {
    fn of(&self, owner: Owner) -> String {
        let index = usize::try_from(owner.id())
            .ok()
            .and_then(|i| i.checked_sub(1));
        match index.and_then(|i| self.0.get(i)) {
            Some(name) => name.clone(),
            None => owner.to_string(),
        }
    }

    fn list(&self, owners: &[Owner]) -> String {
        let names: Vec<String> = owners.iter().map(|o| self.of(*o)).collect();
        names.join(", ")
    }

    /// `text` with every `owner#N` replaced by its name (highest ids first, so `owner#1`
    /// never eats the front of `owner#12`).
    fn substitute(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (i, name) in self.0.iter().enumerate().rev() {
            out = out.replace(&format!("owner#{}", i + 1), name);
        }
        out
    }
}

/// Checks one model's observation of one step against the file.
fn check_step<M: LockModel>(
    step: &Step,
    obs: &Observation,
    lane: &Lane<M>,
    names: Names<'_>,
) -> Option<Mismatch> {
    if let Some(expect) = expect_of(&step.action) {
        let ok = match expect {
            Expect::Timeout => matches!(obs.outcome, Outcome::Queued),
            Expect::Error(kind) => matches!(&obs.outcome, Outcome::Failed(e) if e.kind() == kind),
            other => obs.outcome.word() == other.to_string(),
        };
        if !ok {
            let expected = match expect {
                Expect::Timeout => "timeout (blocked now, timed out by a later step)".into(),
                other => other.to_string(),
            };
            return Some(Mismatch {
                expected,
                got: describe(&obs.outcome, names),
            });
        }
    }
    let wakes = obs.effects.iter().filter_map(|e| match e {
        Happened::Granted { id, .. } => Some(id.clone()),
        _ => None,
    });
    let timeouts = obs.effects.iter().filter_map(|e| match e {
        Happened::TimedOut { id, .. } => Some(id.clone()),
        _ => None,
    });
    let expires = obs.effects.iter().filter_map(|e| match e {
        Happened::Expired { owner, path, .. } => Some(format!("{}:{path}", names.of(*owner))),
        _ => None,
    });
    for (key, want, got) in [
        ("wakes", &step.wakes, wakes.collect::<Vec<_>>()),
        ("timeouts", &step.timeouts, timeouts.collect()),
        ("expires", &step.expires, expires.collect()),
    ] {
        if let Some(m) = same_multiset(key, want, got) {
            return Some(m);
        }
    }
    if let Action::ExpectState {
        path,
        holders,
        queue,
    } = &step.action
    {
        return check_state(path, holders, queue.as_deref(), lane, names);
    }
    None
}

fn expect_of(action: &Action) -> Option<Expect> {
    match action {
        Action::Lock { expect, .. }
        | Action::TryLock { expect, .. }
        | Action::Unlock { expect, .. }
        | Action::Cancel { expect, .. }
        | Action::Renew { expect, .. } => Some(*expect),
        Action::Advance { .. } | Action::ExpectState { .. } => None,
    }
}

fn same_multiset(key: &str, want: &[String], mut got: Vec<String>) -> Option<Mismatch> {
    let mut want = want.to_vec();
    want.sort();
    got.sort();
    (want != got).then(|| Mismatch {
        expected: format!("{key} {want:?}"),
        got: format!("{key} {got:?}"),
    })
}

fn check_state<M: LockModel>(
    path: &LockPath,
    holders: &[(usize, Level)],
    queue: Option<&[String]>,
    lane: &Lane<M>,
    names: Names<'_>,
) -> Option<Mismatch> {
    let mut want: Vec<String> = holders
        .iter()
        .map(|(o, l)| format!("{} {l}", names.of(Owner::new(*o as u64 + 1))))
        .collect();
    let mut got: Vec<String> = lane
        .model
        .holders(path)
        .iter()
        .map(|h| format!("{} {}", names.of(h.owner), h.level))
        .collect();
    want.sort();
    got.sort();
    if want != got {
        return Some(Mismatch {
            expected: format!("holders of {path} [{}]", want.join(", ")),
            got: format!("[{}]", got.join(", ")),
        });
    }
    let want = queue?;
    let got: Vec<String> = lane
        .queue()
        .into_iter()
        .filter(|w| &w.path == path)
        .map(|w| w.id)
        .collect();
    (want != got.as_slice()).then(|| Mismatch {
        expected: format!("queue of {path} {want:?}"),
        got: format!("{got:?}"),
    })
}

/// Folds the two models' differences from the file into one report that says which model
/// deviated when they did not deviate alike.
fn combine(table: Option<Mismatch>, reference: Option<Mismatch>) -> Option<Mismatch> {
    match (table, reference) {
        (None, None) => None,
        (Some(a), Some(b)) if a == b => Some(a),
        (Some(a), Some(b)) => Some(Mismatch {
            got: format!(
                "{} from LockTable (ReferenceTable: expected {}, got {})",
                a.got, b.expected, b.got
            ),
            expected: a.expected,
        }),
        (Some(a), None) => Some(Mismatch {
            got: format!(
                "{} from LockTable (ReferenceTable agrees with the file)",
                a.got
            ),
            expected: a.expected,
        }),
        (None, Some(b)) => Some(Mismatch {
            got: format!(
                "{} from ReferenceTable (LockTable agrees with the file)",
                b.got
            ),
            expected: b.expected,
        }),
    }
}

/// The result word with the detail a reader needs to see why.
fn describe(outcome: &Outcome, names: Names<'_>) -> String {
    match outcome {
        Outcome::Failed(LockError::WouldBlock { blockers }) => {
            format!("conflict (held or queued by {})", names.list(blockers))
        }
        Outcome::Failed(LockError::Deadlock { cycle }) => {
            let mut ring: Vec<String> = cycle.iter().map(|o| names.of(*o)).collect();
            if let Some(first) = ring.first().cloned() {
                ring.push(first);
            }
            format!("deadlock (cycle {})", ring.join(" -> "))
        }
        Outcome::Failed(e) => format!("error:{} ({})", e.kind(), names.substitute(&e.to_string())),
        other => other.word(),
    }
}

/// `holders [/a: A write, B read] queue [b1: B write /a/b]`, from a model's introspection.
fn render_state(holds: &[(LockPath, HolderInfo)], queue: &[Waiting], names: Names<'_>) -> String {
    let mut paths: Vec<String> = Vec::new();
    let mut current: Option<&LockPath> = None;
    for (path, h) in holds {
        let entry = format!("{} {}", names.of(h.owner), h.level);
        match (current, paths.last_mut()) {
            (Some(p), Some(last)) if p == path => {
                last.push_str(", ");
                last.push_str(&entry);
            }
            _ => paths.push(format!("{path}: {entry}")),
        }
        current = Some(path);
    }
    let queued: Vec<String> = queue
        .iter()
        .map(|w| format!("{}: {} {} {}", w.id, names.of(w.owner), w.level, w.path))
        .collect();
    format!(
        "holders [{}] queue [{}]",
        paths.join("; "),
        queued.join(", ")
    )
}

/// An effect with every field two models must agree on.
fn detail_effect(effect: &Happened, names: Names<'_>) -> String {
    match effect {
        Happened::Granted {
            id,
            owner,
            level,
            grant,
        } => format!(
            "granted {id} ({} {level}, fence {}{})",
            names.of(*owner),
            grant.fence,
            expiry(grant.expires)
        ),
        Happened::TimedOut {
            id,
            owner,
            waited,
            blockers,
        } => format!(
            "timed out {id} ({} waited {waited:?}, blocked by {})",
            names.of(*owner),
            names.list(blockers)
        ),
        Happened::Expired { owner, path, fence } => {
            format!("expired {}:{path} (fence {fence})", names.of(*owner))
        }
    }
}

/// A hold with its per-level counts, token and expiry.
fn detail_hold(path: &LockPath, h: &HolderInfo, names: Names<'_>) -> String {
    let [r, w, d] = h.counts;
    format!(
        "{path}: {} {} (read x{r}, write x{w}, delete x{d}, fence {}{})",
        names.of(h.owner),
        h.level,
        h.fence,
        expiry(h.expires)
    )
}

/// A queued request with its times.
fn detail_waiting(w: &Waiting, names: Names<'_>) -> String {
    let deadline = w
        .deadline
        .map_or(String::new(), |d| format!(", deadline {d}"));
    format!(
        "{}: {} {} {} (since {}{deadline})",
        w.id,
        names.of(w.owner),
        w.level,
        w.path,
        w.since
    )
}

fn expiry(expires: Option<Time>) -> String {
    expires.map_or(String::new(), |t| format!(", expires {t}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Grant, RequestOptions};

    fn nothing() -> Observation {
        Observation {
            outcome: Outcome::Nothing,
            effects: Vec::new(),
            queued: None,
            ended: Vec::new(),
        }
    }

    /// The scenario files' own expectations cannot tell the two models apart when both are
    /// wrong alike, so the runner must compare them with each other on every step.
    #[test]
    fn the_models_are_compared_on_results_and_state() {
        let owners = vec!["ann".to_owned()];
        let mut runner = Runner {
            names: Names(&owners),
            clock: ManualClock::new(Time::ZERO),
            table: Lane::new("LockTable", LockTable::new()),
            reference: Lane::new("ReferenceTable", ReferenceTable::new()),
            pending: Vec::new(),
        };
        assert_eq!(runner.disagreement(&nothing(), &nothing()), None);
        let queued = Observation {
            outcome: Outcome::Queued,
            ..nothing()
        };
        let m = runner
            .disagreement(&nothing(), &queued)
            .expect("different results");
        assert!(m.expected.ends_with("agree on the result"), "{m:?}");
        // A hold only one of the two models has.
        let path = LockPath::parse("/s").expect("a valid path");
        let options = RequestOptions::default();
        let taken =
            runner
                .table
                .model
                .request(Owner::new(1), &path, Level::Write, options, Time::ZERO);
        assert!(taken.is_ok());
        let m = runner
            .disagreement(&nothing(), &nothing())
            .expect("different holds");
        assert!(m.expected.ends_with("agree on the holds"), "{m:?}");
        assert!(
            m.got.contains("ann"),
            "owners are named as in the file: {m:?}"
        );
    }

    fn at(secs: u64) -> Time {
        Time::ZERO.saturating_add(std::time::Duration::from_secs(secs))
    }

    fn hold(owner: u64, level: Level, fence: u64, expires: Option<Time>) -> HolderInfo {
        HolderInfo {
            owner: Owner::new(owner),
            level,
            counts: [1, u32::from(level != Level::Read), 0],
            fence,
            expires,
        }
    }

    fn mismatch(expected: &str, got: &str) -> Mismatch {
        Mismatch {
            expected: expected.into(),
            got: got.into(),
        }
    }

    #[test]
    fn one_report_says_which_model_deviated() {
        let a = mismatch("granted", "blocked");
        assert_eq!(combine(Some(a.clone()), Some(a.clone())), Some(a.clone()));
        let both = combine(Some(a.clone()), Some(mismatch("granted", "released")));
        assert_eq!(
            both.map(|m| m.got),
            Some("blocked from LockTable (ReferenceTable: expected granted, got released)".into())
        );
        let table_only = combine(Some(a.clone()), None).map(|m| m.got);
        assert_eq!(
            table_only.as_deref(),
            Some("blocked from LockTable (ReferenceTable agrees with the file)")
        );
        assert_eq!(combine(None, None), None);
    }

    #[test]
    fn failures_name_owners_and_show_every_detail() {
        let owners: Vec<String> = (1..=12).map(|i| format!("o{i}")).collect();
        let names = Names(&owners);
        assert_eq!(
            names.substitute("owner#12 waits for owner#1"),
            "o12 waits for o1"
        );
        assert_eq!(names.list(&[Owner::new(2), Owner::new(13)]), "o2, owner#13");
        let (a, b) = (
            LockPath::parse("/a").unwrap(),
            LockPath::parse("/b").unwrap(),
        );
        let holds = [
            (a.clone(), hold(1, Level::Read, 3, None)),
            (a.clone(), hold(2, Level::Read, 4, None)),
            (b.clone(), hold(1, Level::Write, 5, Some(at(30)))),
        ];
        let waiting = Waiting {
            id: "w1".into(),
            owner: Owner::new(3),
            path: b.clone(),
            level: Level::Write,
            since: at(1),
            deadline: Some(at(4)),
        };
        assert_eq!(
            render_state(&holds, std::slice::from_ref(&waiting), Names(&owners)),
            "holders [/a: o1 read, o2 read; /b: o1 write] queue [w1: o3 write /b]"
        );
        assert_eq!(
            detail_hold(&holds[2].0, &holds[2].1, Names(&owners)),
            "/b: o1 write (read x1, write x1, delete x0, fence 5, expires t=30s)"
        );
        assert_eq!(
            detail_waiting(&waiting, Names(&owners)),
            "w1: o3 write /b (since t=1s, deadline t=4s)"
        );
        let granted = Happened::Granted {
            id: "r1".into(),
            owner: Owner::new(2),
            level: Level::Read,
            grant: Grant {
                fence: 6,
                expires: None,
            },
        };
        assert_eq!(
            detail_effect(&granted, Names(&owners)),
            "granted r1 (o2 read, fence 6)"
        );
    }
}
