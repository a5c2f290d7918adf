//! Workload files (`specs/workloads/*.toml`): what the studio does and how often things fail.
//! Every key is documented in `specs/workloads/README.md`; unknown and missing keys are errors,
//! and every error names `file:line:col`.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// The embedded default: a studio day (`specs/workloads/studio-default.toml`).
pub const DEFAULT_WORKLOAD: &str = include_str!("../../specs/workloads/studio-default.toml");

/// A parsed, validated workload.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Name shown in reports and used to find baselines.
    pub name: String,
    /// Workstations in the studio.
    pub workstations: u32,
    /// Worker threads per workstation (photographers, viewers, editors).
    pub threads_per_workstation: u32,
    /// Background upload threads per workstation.
    pub upload_threads: u32,
    /// Customer sessions (directories `/studio/s<N>`).
    pub sessions: u32,
    /// Share of operations aimed at session 0, the hot session (two photographers, one customer).
    pub hot_session_share: f64,
    /// Simulated seconds in which threads start operations and faults fire.
    pub chaos_seconds: u64,
    /// Simulated seconds after the chaos phase: no faults, no new operations, all work must finish.
    pub heal_seconds: u64,
    /// Mean (exponential) pause between a thread's operations, ms.
    pub think_ms: u64,
    /// TTL of every server reservation (a lease), ms; holders renew every TTL/2.
    pub lease_ttl_ms: u64,
    /// How long a lock request may wait in a queue, at either tier, ms.
    pub request_timeout_ms: u64,
    /// One-way network delay of a request or reply, ms.
    pub network_ms: u64,
    /// How long a crashed workstation or a restarting server is away, ms.
    pub restart_ms: u64,
    /// How long a paused workstation is frozen, ms (longer than `lease_ttl_ms`).
    pub pause_ms: u64,
    /// Images a workstation's local cache keeps (least recently used goes first).
    pub cache_images: u32,
    /// Time to write a shot image to local disk, ms.
    pub write_ms: u64,
    /// How long an editor holds its session lease before committing, ms.
    pub edit_hold_ms: u64,
    /// Optimistic metadata commit attempts before an `OptimisticLockError` (Version Cue: 3).
    pub commit_attempts: u32,
    /// Pause after the first conflicted commit, doubled after each further one, ms.
    pub commit_backoff_ms: u64,
    /// The custom transfer protocol.
    pub transfer: TransferParams,
    /// The server's transfer handlers and job pools.
    pub server: ServerParams,
    /// Relative weights of operations.
    pub mix: Mix,
    /// Fault rates.
    pub faults: Faults,
}

/// The transfer protocol between a workstation and the server.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TransferParams {
    /// Chunks an image moves in (a socket can close between any two).
    pub chunks: u32,
    /// Time to move one chunk at normal disk speed, ms.
    pub chunk_ms: u64,
    /// How many times slower a transfer is on a slow disk.
    pub slow_disk_factor: u64,
    /// How long a client waits for a silent (half-open) connection before giving up, ms.
    pub client_timeout_ms: u64,
    /// Pause before an upload worker retries a failed transfer, ms.
    pub retry_backoff_ms: u64,
}

/// The server: leader-follower transfer handlers and the short/long job pools.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerParams {
    /// Transfer handler threads (one leader accepts, the others follow).
    pub handlers: u32,
    /// Time for the leader to hand the selector to a follower, µs (accepts are serialized).
    pub handoff_us: u64,
    /// How long a handler waits on a silent connection before dropping it, ms.
    pub idle_timeout_ms: u64,
    /// Threads of the short-running job pool (thumbnails after each upload).
    pub short_job_threads: u32,
    /// Threads of the long-running job pool (session exports).
    pub long_job_threads: u32,
    /// Duration of a thumbnail job, ms.
    pub thumbnail_ms: u64,
    /// Export time per image of the session, ms (one checkpointed step per image).
    pub export_ms_per_image: u64,
    /// Most images one export step list covers (bounds a job's length).
    pub export_max_images: u32,
    /// A job still running this long after submission answers "pending" with progress, ms.
    pub pending_after_ms: u64,
    /// How often a client polls a pending job, ms.
    pub poll_ms: u64,
}

/// Relative weights of the operations a worker thread picks.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mix {
    /// Shoot a new image: write reservation client then server, write, commit, upload behind.
    pub shoot: u32,
    /// View an image: read reservation, from the cache or a (joinable) download.
    pub view: u32,
    /// Edit a session: leased write on the session directory, fenced optimistic commit.
    pub edit: u32,
    /// Delete an image: delete reservation, fenced server delete.
    pub delete: u32,
    /// Export a session: leased read on the session, long job with pending status.
    pub export: u32,
    /// Delete a whole session: delete reservation on the directory, fenced server delete.
    pub delete_session: u32,
}

/// Fault rates. Per-transfer faults are probabilities; the others are rates per workstation
/// (or per server) per simulated hour. All are off in the heal phase.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// The client closes the socket mid-transfer.
    pub socket_close_client: f64,
    /// The server closes the socket mid-transfer (possibly after storing, before replying).
    pub socket_close_server: f64,
    /// The connection is reset mid-transfer.
    pub connection_reset: f64,
    /// The connection goes silent: each end waits for its own timeout.
    pub half_open: f64,
    /// The transfer runs on a slow disk (`transfer.slow_disk_factor` times slower).
    pub slow_disk: f64,
    /// A workstation crashes (holding reservations) and restarts after `restart_ms`.
    pub client_crash_per_hour: f64,
    /// A workstation freezes for `pause_ms`, longer than its leases.
    pub client_pause_per_hour: f64,
    /// The server restarts: away for `restart_ms`, connections dropped, running jobs resumed.
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
    /// Malformed TOML, an unknown or missing key, a value of the wrong type, or a value
    /// outside its range.
    #[error("{path}:{line}:{col}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What is wrong.
        message: String,
    },
}

/// A range check that failed: the key (`table.key` or `key`) and why.
struct Bad {
    key: &'static str,
    message: String,
}

fn bad(key: &'static str, message: impl Into<String>) -> Bad {
    Bad {
        key,
        message: format!("{key}: {}", message.into()),
    }
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
            WorkloadError::Invalid {
                path: origin.to_string(),
                line,
                col,
                message: e.message().trim().replace('\n', " "),
            }
        })?;
        w.validate().map_err(|b| {
            let (line, col) = locate(text, b.key);
            WorkloadError::Invalid {
                path: origin.to_string(),
                line,
                col,
                message: b.message,
            }
        })?;
        Ok(w)
    }

    fn validate(&self) -> Result<(), Bad> {
        let positive: [(&'static str, u64); 24] = [
            ("workstations", self.workstations.into()),
            (
                "threads_per_workstation",
                self.threads_per_workstation.into(),
            ),
            ("upload_threads", self.upload_threads.into()),
            ("sessions", self.sessions.into()),
            ("chaos_seconds", self.chaos_seconds),
            ("heal_seconds", self.heal_seconds),
            ("think_ms", self.think_ms),
            ("lease_ttl_ms", self.lease_ttl_ms),
            ("request_timeout_ms", self.request_timeout_ms),
            ("restart_ms", self.restart_ms),
            ("pause_ms", self.pause_ms),
            ("cache_images", self.cache_images.into()),
            ("commit_attempts", self.commit_attempts.into()),
            ("transfer.chunks", self.transfer.chunks.into()),
            ("transfer.chunk_ms", self.transfer.chunk_ms),
            ("transfer.slow_disk_factor", self.transfer.slow_disk_factor),
            (
                "transfer.client_timeout_ms",
                self.transfer.client_timeout_ms,
            ),
            ("transfer.retry_backoff_ms", self.transfer.retry_backoff_ms),
            ("server.handlers", self.server.handlers.into()),
            ("server.idle_timeout_ms", self.server.idle_timeout_ms),
            (
                "server.short_job_threads",
                self.server.short_job_threads.into(),
            ),
            (
                "server.long_job_threads",
                self.server.long_job_threads.into(),
            ),
            ("server.pending_after_ms", self.server.pending_after_ms),
            ("server.poll_ms", self.server.poll_ms),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(bad(key, "must be greater than zero"));
        }
        let at_most: [(&'static str, u64, u64); 9] = [
            ("workstations", self.workstations.into(), 256),
            (
                "threads_per_workstation",
                self.threads_per_workstation.into(),
                1024,
            ),
            ("upload_threads", self.upload_threads.into(), 64),
            ("sessions", self.sessions.into(), 100_000),
            ("transfer.chunks", self.transfer.chunks.into(), 64),
            (
                "transfer.slow_disk_factor",
                self.transfer.slow_disk_factor,
                1000,
            ),
            ("server.handlers", self.server.handlers.into(), 1024),
            (
                "server.export_max_images",
                self.server.export_max_images.into(),
                10_000,
            ),
            ("commit_attempts", self.commit_attempts.into(), 100),
        ];
        if let Some((key, _, max)) = at_most.iter().find(|(_, v, max)| v > max) {
            return Err(bad(key, format!("must be at most {max}")));
        }
        // Every duration is capped at a day: longer is a unit mistake, and it bounds the
        // arithmetic on virtual nanoseconds.
        let durations: [(&'static str, u64); 16] = [
            ("think_ms", self.think_ms),
            ("lease_ttl_ms", self.lease_ttl_ms),
            ("request_timeout_ms", self.request_timeout_ms),
            ("network_ms", self.network_ms),
            ("restart_ms", self.restart_ms),
            ("pause_ms", self.pause_ms),
            ("write_ms", self.write_ms),
            ("edit_hold_ms", self.edit_hold_ms),
            ("commit_backoff_ms", self.commit_backoff_ms),
            ("transfer.chunk_ms", self.transfer.chunk_ms),
            (
                "transfer.client_timeout_ms",
                self.transfer.client_timeout_ms,
            ),
            ("transfer.retry_backoff_ms", self.transfer.retry_backoff_ms),
            ("server.idle_timeout_ms", self.server.idle_timeout_ms),
            ("server.thumbnail_ms", self.server.thumbnail_ms),
            (
                "server.export_ms_per_image",
                self.server.export_ms_per_image,
            ),
            ("server.poll_ms", self.server.poll_ms),
        ];
        if let Some((key, _)) = durations.iter().find(|(_, v)| *v > 24 * 3600 * 1000) {
            return Err(bad(key, "must be at most a day (86400000 ms)"));
        }
        if self.server.handoff_us > 1_000_000 {
            return Err(bad("server.handoff_us", "must be at most a second"));
        }
        if self.chaos_seconds + self.heal_seconds > 7 * 24 * 3600 {
            return Err(bad(
                "heal_seconds",
                "chaos_seconds + heal_seconds must be at most a week",
            ));
        }
        if self.pause_ms <= self.lease_ttl_ms {
            return Err(bad(
                "pause_ms",
                "must be longer than lease_ttl_ms (a pause outlives a lease)",
            ));
        }
        if self.server.pending_after_ms > self.lease_ttl_ms * 100 {
            return Err(bad(
                "server.pending_after_ms",
                "must be at most 100 lease TTLs",
            ));
        }
        let need = self.heal_needs_ms();
        if self.heal_seconds * 1000 < need {
            return Err(bad(
                "heal_seconds",
                format!("must leave time for every started operation and upload to finish: at least {} s here", need.div_ceil(1000)),
            ));
        }
        let m = &self.mix;
        let weights = [
            m.shoot,
            m.view,
            m.edit,
            m.delete,
            m.export,
            m.delete_session,
        ];
        if weights.iter().map(|&w| u64::from(w)).sum::<u64>() == 0 {
            return Err(bad(
                "mix.shoot",
                "at least one weight in [mix] must be positive",
            ));
        }
        if weights.iter().any(|&w| w > 1_000_000) {
            return Err(bad("mix.shoot", "weights in [mix] must be at most 1000000"));
        }
        let f = &self.faults;
        let probabilities: [(&'static str, f64); 6] = [
            ("hot_session_share", self.hot_session_share),
            ("faults.socket_close_client", f.socket_close_client),
            ("faults.socket_close_server", f.socket_close_server),
            ("faults.connection_reset", f.connection_reset),
            ("faults.half_open", f.half_open),
            ("faults.slow_disk", f.slow_disk),
        ];
        if let Some((key, v)) = probabilities.iter().find(|(_, v)| !(0.0..=1.0).contains(v)) {
            return Err(bad(key, format!("{v} must be between 0 and 1")));
        }
        let breaks =
            f.socket_close_client + f.socket_close_server + f.connection_reset + f.half_open;
        if breaks > 1.0 {
            return Err(bad(
                "faults.socket_close_client",
                "the four per-transfer failure probabilities must sum to at most 1",
            ));
        }
        let rates: [(&'static str, f64); 3] = [
            ("faults.client_crash_per_hour", f.client_crash_per_hour),
            ("faults.client_pause_per_hour", f.client_pause_per_hour),
            ("faults.server_restart_per_hour", f.server_restart_per_hour),
        ];
        if let Some((key, v)) = rates.iter().find(|(_, v)| !(0.0..=3600.0).contains(v)) {
            return Err(bad(key, format!("{v} must be between 0 and 3600 per hour")));
        }
        Ok(())
    }

    /// The shortest heal phase in which every operation started in the chaos phase can end:
    /// a restart or pause, a full lease and a queue wait, the longest hold (edit or export),
    /// and a few transfer timeouts for the upload queues to drain.
    fn heal_needs_ms(&self) -> u64 {
        let away = self.restart_ms.max(self.pause_ms);
        let export = self.server.export_ms_per_image * u64::from(self.server.export_max_images);
        let hold = self.edit_hold_ms.max(export);
        let transfer = self
            .transfer
            .client_timeout_ms
            .max(self.server.idle_timeout_ms);
        away + 2 * self.lease_ttl_ms + self.request_timeout_ms + hold + 3 * transfer
    }

    /// The last instant at which threads start operations and faults fire.
    pub fn chaos_end(&self) -> crate::engine::Nanos {
        self.chaos_seconds * crate::engine::SEC
    }

    /// The end of the run.
    pub fn end(&self) -> crate::engine::Nanos {
        (self.chaos_seconds + self.heal_seconds) * crate::engine::SEC
    }

    /// A stable hash of the workload's content (FNV-1a of its JSON form), for reports and
    /// baselines: any changed value changes it, comments and layout do not.
    pub fn digest(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        format!("{:016x}", crate::engine::fnv1a(json.as_bytes()))
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

/// Where `key` (`name` or `table.name`) is set in `text`: the line and the column of its
/// value, or (1, 1) if it cannot be found (it parsed, so it is there; this is belt and braces).
fn locate(text: &str, key: &str) -> (usize, usize) {
    let (table, name) = key.split_once('.').unwrap_or(("", key));
    let mut current = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_start();
        if let Some(header) = line.strip_prefix('[') {
            current = header.split(']').next().unwrap_or("").trim().to_string();
            continue;
        }
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let rest_trim = rest.trim_start();
        if current == table && rest_trim.starts_with('=') {
            let value = rest_trim[1..].trim_start();
            let col = raw.len() - value.len() + 1;
            return (i + 1, col);
        }
    }
    (1, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_keys_in_tables() {
        let text = "a = 1\n[faults]\n  half_open = 0.5\n[mix]\nhalf_open = 2\n";
        assert_eq!(locate(text, "faults.half_open"), (3, 15));
        assert_eq!(locate(text, "mix.half_open"), (5, 13));
        assert_eq!(locate(text, "a"), (1, 5));
    }

    #[test]
    fn the_embedded_default_parses() {
        let w = Workload::default_studio();
        assert_eq!(w.name, "studio-default");
        assert_eq!(w.digest(), Workload::default_studio().digest());
    }
}
