//! Workload files (`specs/workloads/*.toml`): what the studio does and how often things fail.
//! Every key is documented in `specs/workloads/README.md`; unknown keys are errors.

use serde::Deserialize;
use std::path::Path;

/// The longest duration any key may give: a week, in ms.
const WEEK_MS: u64 = 7 * 24 * 3600 * 1000;

/// The embedded default: a studio day (`specs/workloads/studio-default.toml`).
pub const DEFAULT_WORKLOAD: &str = include_str!("../../specs/workloads/studio-default.toml");

/// A parsed, validated workload.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Name shown in reports.
    pub name: String,
    /// Workstations in the studio.
    pub workstations: u32,
    /// Worker threads per workstation (photographers, viewers, editors).
    pub threads_per_workstation: u32,
    /// Background upload threads per workstation.
    pub upload_threads: u32,
    /// Customer sessions (directories `/studio/<session>`).
    pub sessions: u32,
    /// Share of operations aimed at session 0, the hot session (two photographers, one customer).
    pub hot_session_share: f64,
    /// Simulated seconds with faults on.
    pub chaos_seconds: u64,
    /// Simulated seconds with faults off, in which all work must finish.
    pub heal_seconds: u64,
    /// Mean think time between a thread's operations (exponential), ms.
    pub think_ms: u64,
    /// TTL of every server reservation (a lease), ms.
    pub lease_ttl_ms: u64,
    /// How long an editor holds a session's metadata file (`session.xml`) under a lease, ms.
    pub edit_hold_ms: u64,
    /// How long writing a shot image locally takes, ms.
    pub write_ms: u64,
    /// Duration of one image transfer, ms.
    pub transfer_ms: u64,
    /// One-way network delay, ms.
    pub network_ms: u64,
    /// How long a lock request may wait (client and server tier), ms.
    pub request_timeout_ms: u64,
    /// How long a crashed workstation stays down, ms.
    pub restart_ms: u64,
    /// Optimistic-commit attempts before giving up.
    pub commit_attempts: u32,
    /// Relative weights of operations.
    pub mix: Mix,
    /// The server's transfer handlers and job pools (optional: every key has a default).
    #[serde(default)]
    pub server: ServerConfig,
    /// Fault rates.
    pub faults: Faults,
}

/// The server's leader-follower transfer handlers and its short/long job pools.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Transfer handler threads (leader-follower pool).
    pub transfer_handlers: u32,
    /// Workers of the short-running job pool.
    pub short_job_workers: u32,
    /// Workers of the long-running job pool.
    pub long_job_workers: u32,
    /// Mean work of a short job, ms (each job draws uniformly in half to 1.5 times the mean).
    pub short_job_ms: u64,
    /// Mean work of a long job, ms.
    pub long_job_ms: u64,
    /// Share (0–1) of jobs that go to the long pool.
    pub long_job_share: f64,
    /// A job not finished this long after submission answers "pending" with its progress, ms.
    pub pending_after_ms: u64,
    /// How often a client polls a pending job, ms.
    pub poll_ms: u64,
    /// Job work is checkpointed this often; a server restart rolls back to the checkpoint, ms.
    pub checkpoint_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            transfer_handlers: 4,
            short_job_workers: 4,
            long_job_workers: 4,
            short_job_ms: 800,
            long_job_ms: 12_000,
            long_job_share: 0.25,
            pending_after_ms: 3_000,
            poll_ms: 1_000,
            checkpoint_ms: 500,
        }
    }
}

/// Relative weights of the operations a worker thread picks.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mix {
    /// Shoot a new image: write reservation client then server, write, upload behind.
    pub shoot: u32,
    /// View an image: read reservation on the session, download through the cache.
    pub view: u32,
    /// Edit a session: leased write on the session directory, fenced metadata commit.
    pub edit: u32,
    /// Delete an image: delete reservation, server delete.
    pub delete: u32,
    /// Run a server job (short or long pool) and poll it while it is pending (default 0).
    #[serde(default)]
    pub job: u32,
    /// Delete a whole session: delete reservation on its directory (default 0).
    #[serde(default)]
    pub delete_session: u32,
    /// List a session: read reservation on its directory (default 0).
    #[serde(default)]
    pub browse: u32,
}

/// Fault rates. Per-transfer faults are probabilities; the others are rates per workstation
/// (or per server) per simulated hour. All are zero in the heal phase.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Client closes the socket mid-transfer (probability per transfer).
    pub socket_close_client: f64,
    /// Server closes the socket mid-transfer (probability per transfer).
    pub socket_close_server: f64,
    /// Connection reset mid-transfer (probability per transfer).
    pub connection_reset: f64,
    /// Half-open socket: the transfer hangs until the client's transfer timeout.
    pub half_open: f64,
    /// Slow disk: the transfer takes ten times as long (probability per transfer).
    pub slow_disk: f64,
    /// Client crash and restart, holding whatever it held (per workstation-hour).
    pub client_crash_per_hour: f64,
    /// Client pause longer than its lease (per workstation-hour).
    pub client_pause_per_hour: f64,
    /// Server restart (per hour): unreachable for `restart_ms`.
    pub server_restart_per_hour: f64,
}

/// A workload file that cannot be used, with its location.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Malformed TOML, an unknown key or a value of the wrong type.
    #[error("{path}:{line}:{col}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What is wrong.
        message: String,
    },
    /// Well-formed but meaningless values.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl Workload {
    /// The embedded default workload.
    pub fn default_studio() -> Workload {
        match Workload::parse(DEFAULT_WORKLOAD, "<embedded studio-default.toml>") {
            Ok(w) => w,
            Err(e) => unreachable!("the embedded workload is checked by tests: {e}"),
        }
    }

    /// Reads and validates a workload file.
    pub fn load(path: &Path) -> Result<Workload, WorkloadError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| WorkloadError::Io {
            path: name.clone(),
            source,
        })?;
        Workload::parse(&text, &name)
    }

    /// Parses and validates workload text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Workload, WorkloadError> {
        let w: Workload = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map_or((1, 1), |s| line_col(text, s.start));
            let message = e.message().to_string();
            WorkloadError::Parse {
                path: origin.to_string(),
                line,
                col,
                message,
            }
        })?;
        w.validate().map_err(|message| WorkloadError::Invalid {
            path: origin.to_string(),
            message,
        })?;
        Ok(w)
    }

    fn validate(&self) -> Result<(), String> {
        let positive = [
            ("workstations", u64::from(self.workstations)),
            (
                "threads_per_workstation",
                u64::from(self.threads_per_workstation),
            ),
            ("upload_threads", u64::from(self.upload_threads)),
            ("sessions", u64::from(self.sessions)),
            ("chaos_seconds", self.chaos_seconds),
            ("heal_seconds", self.heal_seconds),
            ("think_ms", self.think_ms),
            ("lease_ttl_ms", self.lease_ttl_ms),
            ("transfer_ms", self.transfer_ms),
            ("request_timeout_ms", self.request_timeout_ms),
            ("restart_ms", self.restart_ms),
            ("commit_attempts", u64::from(self.commit_attempts)),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{key} must be greater than zero"));
        }
        if self.workstations > 256
            || self.threads_per_workstation > 1024
            || self.upload_threads > 64
        {
            return Err(
                "workstations ≤ 256, threads_per_workstation ≤ 1024, upload_threads ≤ 64".into(),
            );
        }
        // Bounds first, so the sums below (and the simulator's arithmetic) cannot overflow.
        let durations_ms = [
            ("think_ms", self.think_ms),
            ("lease_ttl_ms", self.lease_ttl_ms),
            ("edit_hold_ms", self.edit_hold_ms),
            ("write_ms", self.write_ms),
            ("transfer_ms", self.transfer_ms),
            ("network_ms", self.network_ms),
            ("request_timeout_ms", self.request_timeout_ms),
            ("restart_ms", self.restart_ms),
        ];
        if let Some((key, v)) = durations_ms.iter().find(|(_, v)| *v > WEEK_MS) {
            return Err(format!("{key} = {v} must be at most a week ({WEEK_MS} ms)"));
        }
        if self.chaos_seconds.saturating_add(self.heal_seconds) > WEEK_MS / 1000 {
            return Err("chaos_seconds + heal_seconds must be at most a week".into());
        }
        if self.heal_seconds * 1000 < self.lease_ttl_ms * 2 + self.restart_ms {
            return Err("heal_seconds must leave time for two lease TTLs and a restart".into());
        }
        let m = &self.mix;
        let weights = [
            m.shoot,
            m.view,
            m.edit,
            m.delete,
            m.job,
            m.delete_session,
            m.browse,
        ];
        if weights.iter().map(|&w| u64::from(w)).sum::<u64>() == 0 {
            return Err("mix: at least one weight must be positive".into());
        }
        if weights.iter().map(|&w| u64::from(w)).sum::<u64>() > u64::from(u32::MAX) {
            return Err("mix: the weights must sum to at most 4294967295".into());
        }
        self.server.validate()?;
        let f = &self.faults;
        let probabilities = [
            ("faults.socket_close_client", f.socket_close_client),
            ("faults.socket_close_server", f.socket_close_server),
            ("faults.connection_reset", f.connection_reset),
            ("faults.half_open", f.half_open),
            ("faults.slow_disk", f.slow_disk),
            ("hot_session_share", self.hot_session_share),
            ("server.long_job_share", self.server.long_job_share),
        ];
        if let Some((key, v)) = probabilities.iter().find(|(_, v)| !(0.0..=1.0).contains(v)) {
            return Err(format!("{key} = {v} must be between 0 and 1"));
        }
        let rates = [
            f.client_crash_per_hour,
            f.client_pause_per_hour,
            f.server_restart_per_hour,
        ];
        if rates.iter().any(|r| !(0.0..=3600.0).contains(r)) {
            return Err("faults.*_per_hour must be between 0 and 3600".into());
        }
        Ok(())
    }

    /// Total of the operation weights (validated to fit a `u32`).
    pub fn mix_total(&self) -> u32 {
        let m = &self.mix;
        m.shoot + m.view + m.edit + m.delete + m.job + m.delete_session + m.browse
    }

    /// A stable hash of the workload's content, for reports and baselines.
    pub fn digest(&self) -> String {
        format!(
            "{:016x}",
            crate::engine::fnv1a(format!("{self:?}").as_bytes())
        )
    }
}

impl ServerConfig {
    fn validate(&self) -> Result<(), String> {
        let positive = [
            (
                "server.transfer_handlers",
                u64::from(self.transfer_handlers),
            ),
            (
                "server.short_job_workers",
                u64::from(self.short_job_workers),
            ),
            ("server.long_job_workers", u64::from(self.long_job_workers)),
            ("server.short_job_ms", self.short_job_ms),
            ("server.long_job_ms", self.long_job_ms),
            ("server.pending_after_ms", self.pending_after_ms),
            ("server.poll_ms", self.poll_ms),
            ("server.checkpoint_ms", self.checkpoint_ms),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{key} must be greater than zero"));
        }
        if self.transfer_handlers > 1024
            || self.short_job_workers > 1024
            || self.long_job_workers > 1024
        {
            return Err("server: handlers and job workers must be at most 1024".into());
        }
        let longest = [
            self.short_job_ms,
            self.long_job_ms,
            self.pending_after_ms,
            self.poll_ms,
        ];
        if longest.iter().any(|&v| v > 3_600_000) {
            return Err(
                "server: job times, pending_after_ms and poll_ms must be at most an hour".into(),
            );
        }
        Ok(())
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, col)
}
