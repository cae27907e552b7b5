//! Command-line options: every flag also reads an environment variable, so the chart can
//! configure the operator through `env:` as well as `args:`.
//!
//! This module holds the top-level parser; each subcommand's options live in a module of
//! their own, and the value parsers they share in [`values`].

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, Subcommand};

mod check;
mod run;
mod values;

pub use crate::telemetry::LogFormat;
pub use check::{CheckArgs, CheckOutput};
pub use run::{CrossNamespaceRefs, DEFAULT_LEASE_NAME, RunArgs};

/// Parsed command line of the `quay-apitoken-operator` binary.
#[derive(Debug, Parser)]
#[command(
    name = "quay-apitoken-operator",
    version,
    about = "Kubernetes operator that mints, keeps and revokes Quay OAuth access tokens declared as ApiToken resources",
    after_help = "Without a command, `run` is assumed: `quay-apitoken-operator --leader-elect` runs the controller."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The binary's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the controller (the default).
    Run(RunArgs),
    /// Print the CustomResourceDefinitions (ApiToken, then Application) as YAML and exit.
    Crd,
    /// Check one connection Secret against Quay before ApiTokens use it, and exit: 0 when no
    /// check failed, 1 otherwise. Signs in once, never signs out, mints nothing.
    Check(CheckArgs),
}

impl Cli {
    /// Parses the process arguments and environment; prints usage and exits on bad input.
    pub fn parse_command() -> Command {
        match Self::try_parse_command(std::env::args_os()) {
            Ok(command) => command,
            Err(error) => error.exit(),
        }
    }

    /// Parses the given arguments (and the environment), including checks across flags.
    pub fn try_parse_command<I, T>(args: I) -> Result<Command, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let mut command = Self::try_parse_from(default_to_run(args))?.command;
        if let Command::Run(run) = &mut command {
            // "a,,b" and "a,a" mean the same as "a,b".
            run.namespaces.retain(|ns| !ns.is_empty());
            run.namespaces.sort();
            run.namespaces.dedup();
            if run.leader_elect
                && let Some(message) = run.lease_timing_conflict()
            {
                return Err(Self::command().error(ErrorKind::ArgumentConflict, message));
            }
        }
        Ok(command)
    }
}

/// Inserts `run` when no command is named. Done on the arguments rather than with a flattened
/// copy of the run flags, so that `crd` never reads (and never fails on) the run flags'
/// environment variables.
fn default_to_run<I, T>(args: I) -> Vec<std::ffi::OsString>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let mut args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    if args.is_empty() {
        args.push("quay-apitoken-operator".into());
    }
    let named = args.get(1).and_then(|arg| arg.to_str()).is_some_and(|arg| {
        let known = Cli::command()
            .get_subcommands()
            .any(|sub| sub.get_name() == arg);
        known || matches!(arg, "help" | "-h" | "--help" | "-V" | "--version")
    });
    if !named {
        args.insert(1, "run".into());
    }
    args
}

#[cfg(test)]
mod tests;
