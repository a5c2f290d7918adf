//! From TOML text to a checked [`Scenario`]: every mistake a file can contain is found here,
//! before anything runs, and reported with its line and column.

use super::duration::parse_duration;
use super::format::{RawHolder, RawScenario, RawStep};
use crate::level::Level;
use crate::path::LockPath;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::time::Duration;
use toml::Spanned;

/// The `error:<kind>` names a scenario may expect: every [`LockError::kind`] name.
///
/// [`LockError::kind`]: crate::LockError::kind
pub const ERROR_KINDS: [&str; 9] = [
    "invalid_path",
    "not_held",
    "deadlock",
    "timeout",
    "would_block",
    "lease_expired",
    "invalid_duration",
    "unknown_ticket",
    "stale_fence",
];

/// A line and column in a scenario file, both counted from 1 (columns in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` in `text` (clamped to the text).
    pub fn of_offset(text: &str, offset: usize) -> Location {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Location {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Why a scenario file is malformed: where, and what key or value is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ParseError {
    /// Where the offending key or value starts.
    pub location: Location,
    /// What is wrong, naming the key or value.
    pub message: String,
}

/// What a step expects its call to return (`expect = "..."`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The request is held now.
    Granted,
    /// The request is queued.
    Blocked,
    /// `try_lock` refused (`LockError::WouldBlock`).
    Conflict,
    /// `unlock` released one acquisition.
    Released,
    /// `renew` extended the lease.
    Renewed,
    /// `cancel` withdrew the queued request.
    Cancelled,
    /// The request is queued now and must be reported in a later step's `timeouts` before the
    /// scenario ends, without being granted or cancelled first.
    Timeout,
    /// The request was refused because waiting would close a wait-for cycle.
    Deadlock,
    /// The call failed with the error of this [`LockError::kind`](crate::LockError::kind).
    Error(&'static str),
}

impl Expect {
    fn parse(text: &str) -> Result<Expect, String> {
        let named = match text {
            "granted" => Expect::Granted,
            "blocked" => Expect::Blocked,
            "conflict" | "error:would_block" => Expect::Conflict,
            "released" => Expect::Released,
            "renewed" => Expect::Renewed,
            "cancelled" => Expect::Cancelled,
            "timeout" | "error:timeout" => Expect::Timeout,
            "deadlock" | "error:deadlock" => Expect::Deadlock,
            other => match other.strip_prefix("error:") {
                Some(kind) => match ERROR_KINDS.iter().find(|k| **k == kind) {
                    Some(k) => Expect::Error(k),
                    None => {
                        return Err(format!(
                            "unknown error kind {kind:?} in `expect` (one of: {})",
                            ERROR_KINDS.join(", ")
                        ))
                    }
                },
                None => {
                    return Err(format!(
                        "unknown `expect` value {other:?} (granted, blocked, conflict, released, \
                         renewed, cancelled, timeout, deadlock or error:<kind>)"
                    ))
                }
            },
        };
        Ok(named)
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Granted => f.write_str("granted"),
            Expect::Blocked => f.write_str("blocked"),
            Expect::Conflict => f.write_str("conflict"),
            Expect::Released => f.write_str("released"),
            Expect::Renewed => f.write_str("renewed"),
            Expect::Cancelled => f.write_str("cancelled"),
            Expect::Timeout => f.write_str("timeout"),
            Expect::Deadlock => f.write_str("deadlock"),
            Expect::Error(kind) => write!(f, "error:{kind}"),
        }
    }
}

/// What one step does. Owners are indices into [`Scenario::owners`]; paths of calls stay
/// text, because an invalid path is an input the core must refuse, not a file error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `do = "lock"`: a request that may queue.
    Lock {
        /// Owner index.
        owner: usize,
        /// Path text as written.
        path: String,
        /// Level asked for.
        level: Level,
        /// The request's name (`id`, default `"<owner>:<path>"`).
        id: String,
        /// Give up after this long.
        timeout: Option<Duration>,
        /// Make the hold a lease.
        ttl: Option<Duration>,
        /// What the call returns.
        expect: Expect,
    },
    /// `do = "try_lock"`: a request that never queues.
    TryLock {
        /// Owner index.
        owner: usize,
        /// Path text as written.
        path: String,
        /// Level asked for.
        level: Level,
        /// Make the hold a lease.
        ttl: Option<Duration>,
        /// What the call returns.
        expect: Expect,
    },
    /// `do = "unlock"`: release one acquisition.
    Unlock {
        /// Owner index.
        owner: usize,
        /// Path text as written.
        path: String,
        /// The level to release; `None` releases the strongest held.
        level: Option<Level>,
        /// What the call returns.
        expect: Expect,
    },
    /// `do = "cancel"`: withdraw a queued request.
    Cancel {
        /// The request's name.
        id: String,
        /// What the call returns.
        expect: Expect,
    },
    /// `do = "renew"`: extend a lease.
    Renew {
        /// Owner index.
        owner: usize,
        /// Path text as written.
        path: String,
        /// New time to live from now.
        ttl: Duration,
        /// What the call returns.
        expect: Expect,
    },
    /// `do = "advance"`: move the manual clock and process deadlines.
    Advance {
        /// How far.
        by: Duration,
    },
    /// `do = "expect_state"`: assert the holders (and optionally the queue) of one path.
    ExpectState {
        /// The path inspected.
        path: LockPath,
        /// `(owner index, strongest level)`, compared as a set.
        holders: Vec<(usize, Level)>,
        /// Request names queued on exactly `path`, oldest first.
        queue: Option<Vec<String>>,
    },
}

/// One `[[step]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Position in the file, from 1.
    pub number: usize,
    /// Where its `do` value is.
    pub location: Location,
    /// What it does.
    pub action: Action,
    /// Request names granted by this step's effects (a multiset; order is not checked).
    pub wakes: Vec<String>,
    /// Request names timed out by this step.
    pub timeouts: Vec<String>,
    /// Leases (`"<owner>:<path>"`) expired by this step.
    pub expires: Vec<String>,
}

/// A checked scenario, ready to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// One sentence saying what it shows.
    pub title: String,
    /// The spec rules it exercises, such as `locking.md#directories`.
    pub rules: Vec<String>,
    /// Owner names in order of first appearance; index `i` is `Owner::new(i + 1)`.
    pub owners: Vec<String>,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// Which keys each action accepts besides `do`, `wakes`, `timeouts` and `expires`.
fn allowed_keys(action: &str) -> Option<&'static [&'static str]> {
    Some(match action {
        "lock" => &["owner", "path", "level", "id", "timeout", "ttl", "expect"],
        "try_lock" => &["owner", "path", "level", "ttl", "expect"],
        "unlock" => &["owner", "path", "level", "expect"],
        "cancel" => &["id", "expect"],
        "renew" => &["owner", "path", "ttl", "expect"],
        "advance" => &["by"],
        "expect_state" => &["path", "holders", "queue"],
        _ => return None,
    })
}

/// Parses and checks the text of one scenario file.
pub fn parse_scenario(text: &str) -> Result<Scenario, ParseError> {
    let raw: RawScenario = toml::from_str(text).map_err(|e| ParseError {
        location: Location::of_offset(text, e.span().map_or(0, |s| s.start)),
        message: e.message().trim_end().to_owned(),
    })?;
    Checker {
        text,
        owners: Vec::new(),
        ids: HashSet::new(),
        explicit_ids: HashMap::new(),
    }
    .check(raw)
}

struct Checker<'a> {
    text: &'a str,
    owners: Vec<String>,
    ids: HashSet<String>,
    explicit_ids: HashMap<String, usize>,
}

impl Checker<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> ParseError {
        ParseError {
            location: Location::of_offset(self.text, span.start),
            message: message.into(),
        }
    }

    fn check(mut self, raw: RawScenario) -> Result<Scenario, ParseError> {
        if raw.title.get_ref().trim().is_empty() {
            return Err(self.error(raw.title.span(), "`title` must not be empty"));
        }
        if raw.step.is_empty() {
            return Err(self.error(raw.title.span(), "the scenario has no `[[step]]` tables"));
        }
        let mut steps = Vec::with_capacity(raw.step.len());
        for (i, step) in raw.step.iter().enumerate() {
            steps.push(self.step(i + 1, step)?);
        }
        Ok(Scenario {
            title: raw.title.into_inner(),
            rules: raw.rules.into_iter().map(Spanned::into_inner).collect(),
            owners: self.owners,
            steps,
        })
    }

    fn step(&mut self, number: usize, raw: &RawStep) -> Result<Step, ParseError> {
        let name = raw.action.get_ref().as_str();
        let Some(allowed) = allowed_keys(name) else {
            return Err(self.error(
                raw.action.span(),
                format!(
                    "unknown `do` value {name:?} (lock, try_lock, unlock, cancel, renew, \
                     advance or expect_state)"
                ),
            ));
        };
        for (key, span) in raw.action_keys() {
            if !allowed.contains(&key) {
                return Err(self.error(
                    span,
                    format!("key `{key}` is not used by `do = \"{name}\"` (step {number})"),
                ));
            }
        }
        let ctx = StepCtx { raw, number };
        // Effect lists are read before the action so a step cannot name its own request.
        let wakes = self.id_list(&raw.wakes)?;
        let timeouts = self.id_list(&raw.timeouts)?;
        let action = match name {
            "lock" => {
                let owner = self.owner(&ctx)?;
                let path = self.required(&ctx, &raw.path, "path")?.to_owned();
                let level = self.level(&ctx)?;
                let timeout = self.duration(&raw.timeout)?;
                let ttl = self.duration(&raw.ttl)?;
                let id = match &raw.id {
                    Some(id) => self.explicit_id(id, number)?,
                    None => format!("{}:{path}", self.owners[owner]),
                };
                let expect = self.expect(
                    &ctx,
                    &[
                        Expect::Granted,
                        Expect::Blocked,
                        Expect::Deadlock,
                        Expect::Timeout,
                    ],
                )?;
                if expect == Expect::Timeout && timeout.is_none() {
                    return Err(self.error(
                        self.span_of(&raw.expect, raw),
                        "`expect = \"timeout\"` needs a `timeout` on the request (without one it \
                         waits forever)",
                    ));
                }
                self.ids.insert(id.clone());
                Action::Lock {
                    owner,
                    path,
                    level,
                    id,
                    timeout,
                    ttl,
                    expect,
                }
            }
            "try_lock" => Action::TryLock {
                owner: self.owner(&ctx)?,
                path: self.required(&ctx, &raw.path, "path")?.to_owned(),
                level: self.level(&ctx)?,
                ttl: self.duration(&raw.ttl)?,
                expect: self.expect(&ctx, &[Expect::Granted, Expect::Conflict])?,
            },
            "unlock" => Action::Unlock {
                owner: self.owner(&ctx)?,
                path: self.required(&ctx, &raw.path, "path")?.to_owned(),
                level: match &raw.level {
                    Some(level) => Some(self.parse_level(level)?),
                    None => None,
                },
                expect: self.expect(&ctx, &[Expect::Released])?,
            },
            "cancel" => {
                let id = self.required(&ctx, &raw.id, "id")?.to_owned();
                if let Some(span) = raw.id.as_ref().map(Spanned::span) {
                    self.known_id(&id, span)?;
                }
                Action::Cancel {
                    id,
                    expect: self.expect(&ctx, &[Expect::Cancelled])?,
                }
            }
            "renew" => {
                let owner = self.owner(&ctx)?;
                let path = self.required(&ctx, &raw.path, "path")?.to_owned();
                let ttl = match self.duration(&raw.ttl)? {
                    Some(ttl) => ttl,
                    None => return Err(self.missing(&ctx, "ttl")),
                };
                Action::Renew {
                    owner,
                    path,
                    ttl,
                    expect: self.expect(&ctx, &[Expect::Renewed])?,
                }
            }
            "advance" => {
                let Some(by_raw) = &raw.by else {
                    return Err(self.missing(&ctx, "by"));
                };
                let by = self
                    .duration(&raw.by)?
                    .ok_or_else(|| self.missing(&ctx, "by"))?;
                if by.is_zero() {
                    return Err(self.error(
                        by_raw.span(),
                        "`by` must be greater than zero (the clock has to move)",
                    ));
                }
                Action::Advance { by }
            }
            _ => self.expect_state(&ctx)?,
        };
        Ok(Step {
            number,
            location: Location::of_offset(self.text, raw.action.span().start),
            action,
            wakes,
            timeouts,
            expires: raw
                .expires
                .as_ref()
                .map(|list| list.get_ref().iter().map(|s| s.get_ref().clone()).collect())
                .unwrap_or_default(),
        })
    }

    fn expect_state(&mut self, ctx: &StepCtx<'_>) -> Result<Action, ParseError> {
        let raw = ctx.raw;
        let text = self.required(ctx, &raw.path, "path")?;
        let path = LockPath::parse(text).map_err(|e| {
            self.error(
                self.span_of(&raw.path, raw),
                format!("`path` {text:?} of expect_state is not a valid path: {e}"),
            )
        })?;
        let Some(holders_raw) = &raw.holders else {
            return Err(self.missing(ctx, "holders"));
        };
        let mut holders = Vec::new();
        for RawHolder { owner, level } in holders_raw.get_ref() {
            let owner_index = self.owner_name(owner)?;
            let level = self.parse_level(level)?;
            if holders.iter().any(|(o, _)| *o == owner_index) {
                return Err(self.error(
                    owner.span(),
                    format!(
                        "owner {:?} is listed twice in `holders` (one entry per owner, at its \
                         strongest level)",
                        owner.get_ref()
                    ),
                ));
            }
            holders.push((owner_index, level));
        }
        let queue = match &raw.queue {
            Some(_) => Some(self.id_list(&raw.queue)?),
            None => None,
        };
        Ok(Action::ExpectState {
            path,
            holders,
            queue,
        })
    }

    fn span_of(&self, value: &Option<Spanned<String>>, raw: &RawStep) -> Range<usize> {
        value
            .as_ref()
            .map_or_else(|| raw.action.span(), Spanned::span)
    }

    fn missing(&self, ctx: &StepCtx<'_>, key: &str) -> ParseError {
        self.error(
            ctx.raw.action.span(),
            format!(
                "step {} (`do = \"{}\"`) is missing the key `{key}`",
                ctx.number,
                ctx.raw.action.get_ref()
            ),
        )
    }

    fn required<'r>(
        &self,
        ctx: &StepCtx<'_>,
        value: &'r Option<Spanned<String>>,
        key: &str,
    ) -> Result<&'r str, ParseError> {
        match value {
            Some(v) if v.get_ref().is_empty() && key != "path" => {
                Err(self.error(v.span(), format!("`{key}` must not be empty")))
            }
            Some(v) => Ok(v.get_ref()),
            None => Err(self.missing(ctx, key)),
        }
    }

    fn owner(&mut self, ctx: &StepCtx<'_>) -> Result<usize, ParseError> {
        match &ctx.raw.owner {
            Some(owner) => self.owner_name(owner),
            None => Err(self.missing(ctx, "owner")),
        }
    }

    fn owner_name(&mut self, owner: &Spanned<String>) -> Result<usize, ParseError> {
        let name = owner.get_ref();
        if name.is_empty() {
            return Err(self.error(owner.span(), "`owner` must not be empty"));
        }
        if let Some(i) = self.owners.iter().position(|o| o == name) {
            return Ok(i);
        }
        self.owners.push(name.clone());
        Ok(self.owners.len() - 1)
    }

    fn level(&self, ctx: &StepCtx<'_>) -> Result<Level, ParseError> {
        match &ctx.raw.level {
            Some(level) => self.parse_level(level),
            None => Err(self.missing(ctx, "level")),
        }
    }

    fn parse_level(&self, level: &Spanned<String>) -> Result<Level, ParseError> {
        level.get_ref().parse().map_err(|_| {
            self.error(
                level.span(),
                format!(
                    "unknown `level` {:?} (read, write or delete)",
                    level.get_ref()
                ),
            )
        })
    }

    fn duration(&self, value: &Option<Spanned<String>>) -> Result<Option<Duration>, ParseError> {
        let Some(value) = value else { return Ok(None) };
        parse_duration(value.get_ref())
            .map(Some)
            .map_err(|message| self.error(value.span(), message))
    }

    /// Reads `expect`, which every call step must carry, and checks that it is a result this
    /// call can have: an error of any kind, or one of `results`.
    fn expect(&self, ctx: &StepCtx<'_>, results: &[Expect]) -> Result<Expect, ParseError> {
        let Some(raw) = &ctx.raw.expect else {
            return Err(self.missing(ctx, "expect"));
        };
        let expect = Expect::parse(raw.get_ref()).map_err(|m| self.error(raw.span(), m))?;
        if matches!(expect, Expect::Error(_)) || results.contains(&expect) {
            return Ok(expect);
        }
        let can: Vec<String> = results.iter().map(Expect::to_string).collect();
        Err(self.error(
            raw.span(),
            format!(
                "`expect = \"{expect}\"` cannot happen on `do = \"{}\"` (expected {} or \
                 error:<kind>)",
                ctx.raw.action.get_ref(),
                can.join(", ")
            ),
        ))
    }

    fn explicit_id(&mut self, id: &Spanned<String>, number: usize) -> Result<String, ParseError> {
        let name = id.get_ref();
        if name.is_empty() {
            return Err(self.error(id.span(), "`id` must not be empty"));
        }
        if let Some(first) = self.explicit_ids.get(name) {
            return Err(self.error(
                id.span(),
                format!("`id` {name:?} is already used by step {first}"),
            ));
        }
        self.explicit_ids.insert(name.clone(), number);
        Ok(name.clone())
    }

    fn known_id(&self, id: &str, span: Range<usize>) -> Result<(), ParseError> {
        if self.ids.contains(id) {
            return Ok(());
        }
        Err(self.error(
            span,
            format!(
                "no earlier `lock` step has the request id {id:?} (ids default to \
                 \"<owner>:<path>\")"
            ),
        ))
    }

    fn id_list(
        &self,
        list: &Option<Spanned<Vec<Spanned<String>>>>,
    ) -> Result<Vec<String>, ParseError> {
        let Some(list) = list else {
            return Ok(Vec::new());
        };
        list.get_ref()
            .iter()
            .map(|id| {
                self.known_id(id.get_ref(), id.span())?;
                Ok(id.get_ref().clone())
            })
            .collect()
    }
}

struct StepCtx<'r> {
    raw: &'r RawStep,
    number: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> ParseError {
        match parse_scenario(text) {
            Ok(s) => panic!("expected an error, parsed {s:?}"),
            Err(e) => e,
        }
    }

    const HEAD: &str = "title = \"t\"\n";

    #[test]
    fn parses_the_issue_example() {
        let text = r#"
title = "A write lock on a directory blocks another owner's write below it"
rules = ["locking.md#directories"]

[[step]]
do = "lock"
owner = "A"
path = "/studio/s1"
level = "write"
expect = "granted"

[[step]]
do = "lock"
owner = "B"
path = "/studio/s1/img-7.jpg"
level = "write"
id = "b1"
timeout = "2s"
expect = "blocked"

[[step]]
do = "unlock"
owner = "A"
path = "/studio/s1"
expect = "released"
wakes = ["b1"]

[[step]]
do = "advance"
by = "3s"
timeouts = []
expires = []
"#;
        let s = parse_scenario(text).unwrap();
        assert_eq!(s.owners, ["A", "B"]);
        assert_eq!(s.rules, ["locking.md#directories"]);
        assert_eq!(s.steps.len(), 4);
        assert_eq!(s.steps[2].wakes, ["b1"]);
        assert_eq!(
            s.steps[1].location,
            Location {
                line: 13,
                column: 6
            }
        );
        assert!(matches!(
            &s.steps[1].action,
            Action::Lock { owner: 1, id, timeout: Some(t), .. } if id == "b1" && t.as_secs() == 2
        ));
    }

    #[test]
    fn default_id_is_owner_colon_path() {
        let s = parse_scenario(&format!(
            "{HEAD}[[step]]\ndo = \"lock\"\nowner = \"B\"\npath = \"/x\"\nlevel = \"read\"\nexpect = \"granted\"\n\
             [[step]]\ndo = \"cancel\"\nid = \"B:/x\"\nexpect = \"error:unknown_ticket\"\n"
        ))
        .unwrap();
        assert!(matches!(&s.steps[0].action, Action::Lock { id, .. } if id == "B:/x"));
    }

    #[test]
    fn unknown_keys_are_located() {
        let e = err(&format!(
            "{HEAD}[[step]]\ndo = \"lock\"\nowner = \"A\"\npath = \"/x\"\nlevel = \"read\"\n\
             expext = \"granted\"\n"
        ));
        assert_eq!(e.location.line, 7, "{e}");
        assert!(e.message.contains("expext"), "{e}");
        let e = err("title = \"t\"\ncolour = 1\n");
        assert_eq!(e.location.line, 2, "{e}");
        assert!(e.message.contains("colour"), "{e}");
    }

    #[test]
    fn bad_values_are_located() {
        let step = |body: &str| format!("{HEAD}[[step]]\n{body}");
        let cases = [
            ("do = \"lok\"\n", 3, "lok"),
            (
                "do = \"lock\"\nowner = \"A\"\npath = \"/x\"\nlevel = \"wrte\"\nexpect = \"granted\"\n",
                6,
                "wrte",
            ),
            (
                "do = \"lock\"\nowner = \"A\"\npath = \"/x\"\nlevel = \"read\"\ntimeout = \"2h\"\nexpect = \"blocked\"\n",
                7,
                "2h",
            ),
            (
                "do = \"lock\"\nowner = \"A\"\npath = \"/x\"\nlevel = \"read\"\nexpect = \"grunted\"\n",
                7,
                "grunted",
            ),
            (
                "do = \"lock\"\nowner = \"A\"\npath = \"/x\"\nlevel = \"read\"\nexpect = \"error:nope\"\n",
                7,
                "nope",
            ),
            (
                "do = \"unlock\"\nowner = \"A\"\npath = \"/x\"\nexpect = \"granted\"\n",
                6,
                "cannot happen",
            ),
            ("do = \"advance\"\nby = \"0s\"\n", 4, "greater than zero"),
            ("do = \"advance\"\nby = 3\n", 4, "string"),
            ("do = \"advance\"\nby = \"1s\"\nexpect = \"granted\"\n", 5, "`expect`"),
            ("do = \"advance\"\n", 3, "`by`"),
            (
                "do = \"cancel\"\nid = \"ghost\"\nexpect = \"cancelled\"\n",
                4,
                "ghost",
            ),
            (
                "do = \"expect_state\"\npath = \"/a//b\"\nholders = []\n",
                4,
                "not a valid path",
            ),
            (
                "do = \"expect_state\"\npath = \"/a\"\nholders = [{ owner = \"A\", level = \"write\", n = 1 }]\n",
                5,
                "`n`",
            ),
            (
                "do = \"lock\"\nowner = \"A\"\npath = \"/x\"\nlevel = \"read\"\nexpect = \"timeout\"\n",
                7,
                "needs a `timeout`",
            ),
            ("do = \"cancel\"\nid = \"\"\n", 4, "`id` must not be empty"),
        ];
        for (body, line, needle) in cases {
            let e = err(&step(body));
            assert_eq!(e.location.line, line, "{body:?}: {e}");
            assert!(e.message.contains(needle), "{body:?}: {e}");
        }
    }

    #[test]
    fn scenario_without_steps_is_an_error() {
        let e = err(HEAD);
        assert_eq!(e.location, Location { line: 1, column: 9 });
    }

    #[test]
    fn invalid_call_paths_are_kept_for_the_core_to_refuse() {
        let s = parse_scenario(&format!(
            "{HEAD}[[step]]\ndo = \"lock\"\nowner = \"A\"\npath = \"a//b\"\nlevel = \"read\"\nexpect = \"error:invalid_path\"\n"
        ))
        .unwrap();
        assert!(matches!(&s.steps[0].action, Action::Lock { path, .. } if path == "a//b"));
    }

    #[test]
    fn error_kinds_cover_every_lock_error() {
        use crate::{LockError, LockPath, Owner, PathError};
        let p = LockPath::root();
        let o = Owner::new(1);
        let all = [
            LockError::InvalidPath {
                path: String::new(),
                reason: PathError::Empty,
            },
            LockError::NotHeld {
                owner: o,
                path: p.clone(),
                level: None,
            },
            LockError::Deadlock { cycle: vec![] },
            LockError::Timeout {
                waited: Duration::ZERO,
                blockers: vec![],
            },
            LockError::WouldBlock { blockers: vec![] },
            LockError::LeaseExpired {
                owner: o,
                path: p.clone(),
            },
            LockError::InvalidDuration {
                value: Duration::ZERO,
                reason: "",
            },
            LockError::UnknownTicket(0),
            LockError::StaleFence {
                owner: o,
                path: p,
                token: 0,
            },
        ];
        let kinds: Vec<&str> = all.iter().map(LockError::kind).collect();
        assert_eq!(kinds, ERROR_KINDS);
    }

    #[test]
    fn locations_count_characters() {
        let text = "ab\ncé d";
        assert_eq!(
            Location::of_offset(text, 0),
            Location { line: 1, column: 1 }
        );
        assert_eq!(
            Location::of_offset(text, 3),
            Location { line: 2, column: 1 }
        );
        assert_eq!(
            Location::of_offset(text, 6),
            Location { line: 2, column: 3 }
        );
        assert_eq!(
            Location::of_offset(text, 99),
            Location { line: 2, column: 5 }
        );
        // Inside the two bytes of 'é': the character's own column.
        assert_eq!(
            Location::of_offset(text, 5),
            Location { line: 2, column: 2 }
        );
        assert_eq!(Location { line: 2, column: 3 }.to_string(), "2:3");
    }
}
