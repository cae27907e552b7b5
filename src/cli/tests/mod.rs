//! Tests of the command line: the definition, defaults, environment fallbacks and refusals.
//! Environment-dependent cases parse in a child process with a clean environment.
#![allow(clippy::expect_used)] // a test failing loudly on a broken fixture is the point

use std::process::Command as Process;

use clap::CommandFactory;

use super::*;

mod check;
mod run;

/// Marks the child process that [`env_probe`] runs in.
const PROBE_MARKER: &str = "QAO_CLI_TEST_PROBE";

fn run_args(args: &[&str]) -> RunArgs {
    match Cli::try_parse_command(args.iter().copied()) {
        Ok(Command::Run(run)) => run,
        other => panic!("expected run, got {other:?}"),
    }
}

fn parse_error(args: &[&str]) -> String {
    match Cli::try_parse_command(args.iter().copied()) {
        Ok(command) => panic!("expected an error, got {command:?}"),
        Err(error) => error.to_string(),
    }
}

/// Parses `args` in a child process whose environment holds only `env`, so the test does not
/// depend on (or change) the environment of the test runner. Returns the child's Debug of
/// the parse result.
fn parse_in_clean_env(args: &[&str], env: &[(&str, &str)]) -> String {
    let exe = std::env::current_exe().expect("test binary path");
    let output = Process::new(exe)
        .args([
            "cli::tests::env_probe",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_clear()
        .env(PROBE_MARKER, args.join("\u{1f}"))
        .envs(env.iter().copied())
        .output()
        .expect("run the test binary");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "probe failed: {stdout}");
    stdout
        .lines()
        .find_map(|line| line.split_once("PROBE:").map(|(_, parsed)| parsed))
        .unwrap_or_else(|| panic!("no probe output in {stdout}"))
        .to_owned()
}

/// Child side of [`parse_in_clean_env`]; does nothing in a normal test run.
#[test]
fn env_probe() {
    let Ok(joined) = std::env::var(PROBE_MARKER) else {
        return;
    };
    let args = std::iter::once("quay-apitoken-operator")
        .chain(joined.split('\u{1f}').filter(|a| !a.is_empty()));
    match Cli::try_parse_command(args) {
        Ok(command) => println!("PROBE:{command:?}"),
        Err(error) => println!("PROBE:error: {}", error.to_string().replace('\n', " ")),
    }
}

/// clap checks the whole definition (ids, defaults, conflicts) only when asked.
#[test]
fn cli_definition_is_consistent() {
    Cli::command().debug_assert();
}

/// `crd` needs no run flags, so it works on a workstation with nothing configured, and a
/// bad run setting in the environment does not break it.
#[test]
fn crd_subcommand_ignores_run_settings() {
    assert_eq!(parse_in_clean_env(&["crd"], &[]), "Crd");
    assert_eq!(
        parse_in_clean_env(&["crd"], &[("QAO_CONCURRENCY", "abc")]),
        "Crd"
    );
    let run = parse_in_clean_env(&["--namespaces", "a"], &[("QAO_CONCURRENCY", "abc")]);
    assert!(
        run.starts_with("error:") && run.contains("--concurrency"),
        "{run}"
    );
}
