//! One module per subcommand; each exports `Args` (clap) and `execute(&Args) -> ExitCode`.

pub mod common;
pub mod compare;
pub mod replay;
pub mod run;
pub mod spec;
pub mod sweep;
