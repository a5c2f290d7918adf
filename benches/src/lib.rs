//! Baseline lock tables that the criterion benches compare lockstudio against.
