//! The `check` options: one source of connection settings, rights as spec.rights spells them.

use super::parse_error;
use crate::cli::{CheckArgs, CheckOutput, Cli, Command};
use crate::crd::Right;

fn check_args(args: &[&str]) -> CheckArgs {
    match Cli::try_parse_command(args.iter().copied()) {
        Ok(Command::Check(check)) => check,
        other => panic!("expected check, got {other:?}"),
    }
}

/// `check` takes its settings from a Secret or from flags, and rights as spec.rights does.
#[test]
fn check_reads_a_secret_or_flags() {
    let from_secret = check_args(&["bin", "check", "--secret", "ns/conn", "-o", "json"]);
    assert_eq!(from_secret.secret.as_deref(), Some("ns/conn"));
    assert_eq!(from_secret.output, CheckOutput::Json);
    assert_eq!(from_secret.rights, vec![Right::RepoRead]);
    assert!(from_secret.host.is_none());
    let from_flags = check_args(&[
        "bin",
        "check",
        "--host",
        "https://quay.example.com",
        "--username",
        "admin",
        "--password-stdin",
        "--validate-certs=false",
        "--rights",
        "all,org:admin",
        "--client-id",
        "ABC",
    ]);
    assert_eq!(from_flags.validate_certs, Some(false));
    assert_eq!(from_flags.username.as_deref(), Some("admin"));
    assert_eq!(from_flags.rights, vec![Right::All, Right::OrgAdmin]);
    assert_eq!(from_flags.client_id.as_deref(), Some("ABC"));
}

/// A `check` that could not know what to check, or would read two sources, is refused.
#[test]
fn check_needs_exactly_one_source() {
    for (args, flag) in [
        (&["bin", "check"][..], "--secret"),
        (&["bin", "check", "--host", "q"][..], "--username"),
        (
            &["bin", "check", "--host", "q", "--username", "u"][..],
            "--password-stdin",
        ),
        (
            &[
                "bin",
                "check",
                "--secret",
                "a",
                "--host",
                "q",
                "--username",
                "u",
                "--password-stdin",
            ][..],
            "--host",
        ),
        (
            &["bin", "check", "--secret", "a", "--rights", "root"][..],
            "--rights",
        ),
        (&["bin", "check", "--username", "u"][..], "--host"),
    ] {
        let error = parse_error(args);
        assert!(error.contains(flag), "{args:?}: {error}");
    }
}
