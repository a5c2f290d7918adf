//! Shared by the loom, shuttle and stress tests: a shadow registry of who holds what, checked
//! on every acquisition and release, plus the bookkeeping that makes model checks
//! non-vacuous (execution counters, reachability marks, the planted-bug report line).
//!
//! The registry uses plain `std` primitives on purpose: it is the observer, not the observed,
//! so it must add no schedule points of its own to the loom / shuttle search.
#![allow(dead_code)] // each test binary uses a different subset

use lockstudio::{Clock, Level, LockPath, Owner, Time};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};
use std::time::Instant;

/// Whether holds at `a` and `b` by different owners on overlapping paths can never coexist:
/// each would block the other (write/write, anything/delete). A read and a write coexist
/// when the read joined the write, so they are not a conflict of the state.
pub fn exclusive(a: Level, b: Level) -> bool {
    a.blocked_by_hold(b) && b.blocked_by_hold(a)
}

#[derive(Clone, Debug)]
struct Held {
    owner: Owner,
    path: LockPath,
    level: Level,
    fence: u64,
}

/// The two largest retired fences with distinct owners, so "the largest of another owner"
/// is exact without keeping every retired hold.
#[derive(Clone, Copy, Debug, Default)]
struct Top2 {
    first: Option<(Owner, u64)>,
    second: Option<(Owner, u64)>,
}

impl Top2 {
    fn add(&mut self, owner: Owner, fence: u64) {
        match self.first {
            Some((o, f)) if o == owner => self.first = Some((o, f.max(fence))),
            Some((o, f)) if fence > f => {
                self.second = Some((o, f));
                self.first = Some((owner, fence));
            }
            Some(_) => match self.second {
                Some((_, f)) if f >= fence => {}
                _ => self.second = Some((owner, fence)),
            },
            None => self.first = Some((owner, fence)),
        }
    }

    fn max_other(&self, owner: Owner) -> Option<u64> {
        match (self.first, self.second) {
            (Some((o, f)), _) if o != owner => Some(f),
            (_, Some((_, f))) => Some(f),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    holds: Vec<Held>,
    fences: HashSet<u64>,
    retired: HashMap<(LockPath, Level), Top2>,
    acquisitions: usize,
}

/// What the lock manager promised, as seen from the outside: recorded right after a grant is
/// returned and right before the hold is given back, so the shadow interval always lies
/// inside the real one.
#[derive(Debug, Default)]
pub struct Shadow {
    state: Mutex<State>,
}

impl Shadow {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a grant and checks it against every live hold (mutual exclusion by level and
    /// hierarchy), every fence ever handed out (no reuse) and every retired hold it must
    /// have waited for (fencing tokens increase across conflicting holds).
    pub fn acquired(&self, owner: Owner, path: &LockPath, level: Level, fence: u64) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        assert!(
            fence > 0,
            "{owner} got fence 0 for {level} on {path}: not a real grant"
        );
        assert!(
            st.fences.insert(fence),
            "fence {fence} handed out twice ({owner} {level} {path})"
        );
        for h in &st.holds {
            if h.owner != owner && h.path.overlaps(path) && exclusive(h.level, level) {
                panic!(
                    "mutual exclusion broken: {owner} got {level} on {path} while {} holds {} on {}",
                    h.owner, h.level, h.path
                );
            }
        }
        for ((p, l), top) in &st.retired {
            if p.overlaps(path) && exclusive(*l, level) {
                if let Some(f) = top.max_other(owner) {
                    assert!(
                        fence > f,
                        "fence not monotonic: {owner} got {fence} for {level} on {path} after \
                         a conflicting {l} on {p} with fence {f} was released"
                    );
                }
            }
        }
        st.acquisitions += 1;
        st.holds.push(Held {
            owner,
            path: path.clone(),
            level,
            fence,
        });
    }

    /// Records that the hold granted with `fence` is about to be given back.
    pub fn releasing(&self, owner: Owner, path: &LockPath, level: Level, fence: u64) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let at = st
            .holds
            .iter()
            .position(|h| h.owner == owner && h.fence == fence && h.level == level)
            .unwrap_or_else(|| panic!("{owner} releases {level} on {path} ({fence}) it never got"));
        st.holds.swap_remove(at);
        st.retired
            .entry((path.clone(), level))
            .or_default()
            .add(owner, fence);
    }

    /// Holds recorded and not yet released.
    pub fn live(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .holds
            .len()
    }

    /// Grants recorded so far.
    pub fn acquisitions(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .acquisitions
    }
}

/// Counts the executions of one model and how often each interesting interleaving was
/// reached, so a model that never reaches it fails instead of passing vacuously.
pub struct Coverage {
    /// The model's name, for messages and the planted-bug report.
    pub name: &'static str,
    runs: AtomicUsize,
    marks: [AtomicUsize; 4],
    started: Mutex<Option<Instant>>,
}

impl Coverage {
    /// A fresh counter (use one `static` per model).
    pub const fn new(name: &'static str) -> Self {
        Coverage {
            name,
            runs: AtomicUsize::new(0),
            marks: [
                AtomicUsize::new(0),
                AtomicUsize::new(0),
                AtomicUsize::new(0),
                AtomicUsize::new(0),
            ],
            started: Mutex::new(None),
        }
    }

    /// Call first thing in every execution.
    pub fn run(&self) {
        self.runs.fetch_add(1, Ordering::Relaxed);
    }

    /// Notes that interesting interleaving `i` happened in this execution.
    pub fn mark(&self, i: usize) {
        self.marks[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Executions so far.
    pub fn runs(&self) -> usize {
        self.runs.load(Ordering::Relaxed)
    }

    /// How many executions reached mark `i`.
    pub fn reached(&self, i: usize) -> usize {
        self.marks[i].load(Ordering::Relaxed)
    }

    /// Asserts at least `floor` executions and that every listed mark was reached, and
    /// prints the counts (the gate's log is where `reports/model-checking.md` gets them).
    pub fn finish(&self, floor: usize, marks: &[(usize, &str)]) {
        let runs = self.runs();
        let reached: Vec<String> = marks
            .iter()
            .map(|&(i, what)| format!("{what}={}", self.reached(i)))
            .collect();
        let secs = self
            .started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map_or(0.0, |t| t.elapsed().as_secs_f64());
        println!(
            "MODEL {} executions={runs} seconds={secs:.1} {}",
            self.name,
            reached.join(" ")
        );
        // A vacuous model is a failure, but not an invariant violation: say which it is.
        let vacuous = if runs < floor {
            Some(format!("only {runs} executions, expected at least {floor}"))
        } else {
            marks
                .iter()
                .find(|&&(i, _)| self.reached(i) == 0)
                .map(|(_, what)| format!("never reached `{what}` in {runs} executions"))
        };
        if let Some(why) = vacuous {
            let _ = CURRENT.try_with(|c| *c.borrow_mut() = None);
            eprintln!(
                "CAUGHT model={} executions={runs} vacuous: {why}",
                self.name
            );
            panic!("{}: {why}", self.name);
        }
    }
}

thread_local! {
    static CURRENT: RefCell<Option<&'static Coverage>> = const { RefCell::new(None) };
}

/// Marks `cov` as the model running on this thread and makes sure a panic anywhere prints a
/// `CAUGHT model=… executions=…` line first. The planted-bug runner reads that line: a loom
/// deadlock aborts the process, so the report cannot wait for unwinding.
pub fn watch(cov: &'static Coverage) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let current = CURRENT.try_with(|c| *c.borrow()).ok().flatten();
            if let Some(cov) = current {
                eprintln!("CAUGHT model={} executions={}", cov.name, cov.runs());
            }
            previous(info);
        }));
    });
    CURRENT.with(|c| *c.borrow_mut() = Some(cov));
    *cov.started.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
}

/// A clock that never moves: models without deadlines need no time, and a constant clock
/// adds no atomic operations (schedule points) to the search.
pub struct Frozen;

impl Clock for Frozen {
    fn now(&self) -> Time {
        Time::ZERO
    }

    fn passes_by_itself(&self) -> bool {
        false
    }
}

/// The preemption bound for a model whose exhaustive search is too slow for the gate:
/// `bound`, or unbounded when `LOCKSTUDIO_LOOM_EXHAUSTIVE=1` (the soak script sets it).
pub fn gate_bound(bound: usize) -> Option<usize> {
    match std::env::var("LOCKSTUDIO_LOOM_EXHAUSTIVE") {
        Ok(v) if v == "1" => None,
        _ => Some(bound),
    }
}

/// Runs `f` under loom with `bound` preemptions (`None`: exhaustive). Never sets a duration
/// or permutation limit (and overrides `LOOM_MAX_DURATION` / `LOOM_MAX_PERMUTATIONS`):
/// those stop the search early and report a pass.
#[cfg(lockstudio_loom)]
pub fn loom_check(
    cov: &'static Coverage,
    bound: Option<usize>,
    f: impl Fn() + Sync + Send + 'static,
) {
    watch(cov);
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = bound;
    builder.max_permutations = None;
    builder.max_duration = None;
    builder.check(move || {
        cov.run();
        f();
    });
}

/// A path from a literal the test wrote.
pub fn p(text: &str) -> LockPath {
    LockPath::parse(text).unwrap_or_else(|e| panic!("bad test path {text:?}: {e}"))
}

/// How a shuttle model is explored.
#[cfg(feature = "shuttle")]
#[derive(Clone, Copy, Debug)]
pub enum Explore {
    /// Uniformly random schedules: `iterations` of them from `seed`.
    Random { seed: u64, iterations: usize },
    /// Probabilistic concurrency testing with bug depth `depth`.
    Pct {
        seed: u64,
        iterations: usize,
        depth: usize,
    },
    /// Depth-first over every schedule (no partial-order reduction: small models only).
    Dfs { max: Option<usize> },
}

/// The seed a randomized model uses: its pinned `seed`, or `LOCKSTUDIO_SHUTTLE_SEED` (the
/// soak script passes fresh ones). `SHUTTLE_RANDOM_SEED` still overrides both inside shuttle.
#[cfg(feature = "shuttle")]
fn shuttle_seed(seed: u64) -> u64 {
    std::env::var("LOCKSTUDIO_SHUTTLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(seed)
}

/// `iterations` times `LOCKSTUDIO_SHUTTLE_SCALE` (default 1; the soak script raises it).
#[cfg(feature = "shuttle")]
fn shuttle_iterations(iterations: usize) -> usize {
    let scale = std::env::var("LOCKSTUDIO_SHUTTLE_SCALE")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1);
    iterations.saturating_mul(scale.max(1))
}

/// Runs `f` under shuttle as `how` says, counting executions in `cov`. A failure prints the
/// schedule; `LOCKSTUDIO_SHUTTLE_REPLAY=<schedule>` replays exactly that schedule instead
/// (see `reports/model-checking.md`).
#[cfg(feature = "shuttle")]
pub fn shuttle_check(cov: &'static Coverage, how: Explore, f: impl Fn() + Send + Sync + 'static) {
    use shuttle::scheduler::{DfsScheduler, PctScheduler, RandomScheduler, ReplayScheduler};
    use shuttle::{Config, Runner};
    watch(cov);
    let body = move || {
        cov.run();
        f();
    };
    let config = Config::new();
    if let Ok(schedule) = std::env::var("LOCKSTUDIO_SHUTTLE_REPLAY") {
        println!("MODEL {} replaying the given schedule", cov.name);
        Runner::new(ReplayScheduler::new_from_encoded(&schedule), config).run(body);
        return;
    }
    match how {
        Explore::Random { seed, iterations } => {
            let seed = shuttle_seed(seed);
            println!("MODEL {} random seed={seed}", cov.name);
            let scheduler = RandomScheduler::new_from_seed(seed, shuttle_iterations(iterations));
            Runner::new(scheduler, config).run(body);
        }
        Explore::Pct {
            seed,
            iterations,
            depth,
        } => {
            let seed = shuttle_seed(seed);
            println!("MODEL {} pct seed={seed} depth={depth}", cov.name);
            let scheduler =
                PctScheduler::new_from_seed(seed, depth, shuttle_iterations(iterations));
            Runner::new(scheduler, config).run(body);
        }
        Explore::Dfs { max } => {
            Runner::new(DfsScheduler::new(max, false), config).run(body);
        }
    }
}
