//! The raw shape of a scenario file as TOML deserializes it: every value keeps its byte span
//! so that checks made after deserializing can still point at a line and column.

use serde::Deserialize;
use std::ops::Range;
use toml::Spanned;

/// A whole file: `title`, optional `rules`, then `[[step]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub title: Spanned<String>,
    #[serde(default)]
    pub rules: Vec<Spanned<String>>,
    #[serde(default)]
    pub step: Vec<RawStep>,
}

/// One `[[step]]`. Which keys a step may carry depends on `do`; that is checked afterwards so
/// the error can name the action.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    #[serde(rename = "do")]
    pub action: Spanned<String>,
    pub owner: Option<Spanned<String>>,
    pub path: Option<Spanned<String>>,
    pub level: Option<Spanned<String>>,
    pub id: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub ttl: Option<Spanned<String>>,
    pub by: Option<Spanned<String>>,
    pub expect: Option<Spanned<String>>,
    pub wakes: Option<Spanned<Vec<Spanned<String>>>>,
    pub timeouts: Option<Spanned<Vec<Spanned<String>>>>,
    pub expires: Option<Spanned<Vec<Spanned<String>>>>,
    pub holders: Option<Spanned<Vec<RawHolder>>>,
    pub queue: Option<Spanned<Vec<Spanned<String>>>>,
}

/// One `{ owner = "A", level = "write" }` entry of `holders`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHolder {
    pub owner: Spanned<String>,
    pub level: Spanned<String>,
}

impl RawStep {
    /// The keys present besides `do` and the effect lists (which every step may carry), with
    /// the span of each value.
    pub fn action_keys(&self) -> Vec<(&'static str, Range<usize>)> {
        let span = |s: &Option<Spanned<String>>| s.as_ref().map(Spanned::span);
        [
            ("owner", span(&self.owner)),
            ("path", span(&self.path)),
            ("level", span(&self.level)),
            ("id", span(&self.id)),
            ("timeout", span(&self.timeout)),
            ("ttl", span(&self.ttl)),
            ("by", span(&self.by)),
            ("expect", span(&self.expect)),
            ("holders", self.holders.as_ref().map(Spanned::span)),
            ("queue", self.queue.as_ref().map(Spanned::span)),
        ]
        .into_iter()
        .filter_map(|(key, span)| Some((key, span?)))
        .collect()
    }
}
