//! The `run` options: defaults, environment variables, derived durations and refusals.

use std::time::Duration;

use super::{parse_error, parse_in_clean_env, run_args};

/// With nothing set, a local run watches everything, serves on :8080 and skips election.
#[test]
fn defaults_apply_without_flags_or_environment() {
    let parsed = parse_in_clean_env(&[], &[]);
    for expected in [
        "Run(RunArgs { namespaces: [], metrics_addr: 0.0.0.0:8080, leader_elect: false",
        "lease_name: \"quay-apitoken-operator\", lease_namespace: \"default\"",
        "lease_duration_seconds: 15, renew_deadline_seconds: 10, retry_period_seconds: 2",
        "concurrency: 4, log_format: Text, log_level: \"info\", cross_namespace_refs: Grant",
        "verify_interval_seconds: 300, identity: None",
        "reconcile_deadline_seconds: 600, quay_hosts: [] }",
    ] {
        assert!(parsed.contains(expected), "{expected:?} not in {parsed}");
    }
}

/// The earlier operator's behaviour stays one flag away, for migration; an unknown mode is refused.
#[test]
fn cross_namespace_refs_takes_grant_allow_or_deny() {
    for (given, parsed) in [("grant", "Grant"), ("allow", "Allow"), ("deny", "Deny")] {
        let out = parse_in_clean_env(&["--cross-namespace-refs", given], &[]);
        assert!(
            out.contains(&format!("cross_namespace_refs: {parsed}")),
            "{given}: {out}"
        );
    }
    let refused = parse_error(&["bin", "--cross-namespace-refs", "maybe"]);
    assert!(
        refused.contains("grant") && refused.contains("allow"),
        "{refused}"
    );
}

/// The chart configures the pod through environment variables, including the standard ones.
#[test]
fn environment_variables_fill_every_flag() {
    let parsed = parse_in_clean_env(
        &[],
        &[
            ("WATCH_NAMESPACES", "team-b,team-a"),
            ("QAO_METRICS_ADDR", "127.0.0.1:9090"),
            ("QAO_LEADER_ELECT", "true"),
            ("QAO_LEASE_NAME", "my-lease"),
            ("POD_NAMESPACE", "operators"),
            ("QAO_LEASE_DURATION_SECONDS", "30"),
            ("QAO_RENEW_DEADLINE_SECONDS", "20"),
            ("QAO_RETRY_PERIOD_SECONDS", "5"),
            ("QAO_CONCURRENCY", "8"),
            ("QAO_LOG_FORMAT", "json"),
            ("RUST_LOG", "warn,quay_apitoken_operator=debug"),
            ("QAO_CROSS_NAMESPACE_REFS", "deny"),
            ("QAO_VERIFY_INTERVAL_SECONDS", "60"),
            ("POD_NAME", "operator-7d9f-abcde"),
            ("QAO_QUAY_HOSTS", "Quay.Example.com,*.corp.example:8443,"),
        ],
    );
    for expected in [
        "namespaces: [\"team-a\", \"team-b\"], metrics_addr: 127.0.0.1:9090, leader_elect: true",
        "lease_name: \"my-lease\", lease_namespace: \"operators\"",
        "lease_duration_seconds: 30, renew_deadline_seconds: 20, retry_period_seconds: 5",
        "concurrency: 8, log_format: Json, log_level: \"warn,quay_apitoken_operator=debug\"",
        "cross_namespace_refs: Deny, verify_interval_seconds: 60",
        "identity: Some(\"operator-7d9f-abcde\")",
        "quay_hosts: [\"quay.example.com\", \"*.corp.example:8443\", \"\"]",
    ] {
        assert!(parsed.contains(expected), "{expected:?} not in {parsed}");
    }
}

/// A flag on the command line wins over its environment variable.
#[test]
fn flags_override_environment() {
    let parsed = parse_in_clean_env(
        &["--concurrency", "2", "--leader-elect=false"],
        &[("QAO_CONCURRENCY", "8"), ("QAO_LEADER_ELECT", "true")],
    );
    assert!(parsed.contains("leader_elect: false"), "{parsed}");
    assert!(parsed.contains("concurrency: 2,"), "{parsed}");
}

/// `run` may be spelled out, and its flags then follow it.
#[test]
fn explicit_run_subcommand_takes_flags() {
    let run = run_args(&["bin", "run", "--leader-elect", "--namespaces", "a,b,,a"]);
    assert!(run.leader_elect);
    assert_eq!(
        run.watch_namespaces(),
        Some(&["a".to_owned(), "b".to_owned()][..])
    );
}

/// The durations handed to leader election and the verifier come from the second counts.
#[test]
fn durations_are_derived_from_seconds() {
    let run = run_args(&[
        "bin",
        "--lease-duration-seconds=20",
        "--renew-deadline-seconds=12",
        "--retry-period-seconds=3",
        "--verify-interval-seconds=90",
    ]);
    assert_eq!(run.lease_duration(), Duration::from_secs(20));
    assert_eq!(run.renew_deadline(), Duration::from_secs(12));
    assert_eq!(run.retry_period(), Duration::from_secs(3));
    assert_eq!(run.verify_interval(), Duration::from_secs(90));
}

/// A bad value must be reported against the flag that carried it.
#[test]
fn bad_values_are_rejected_naming_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (&["bin", "--concurrency", "0"], "--concurrency"),
        (&["bin", "--concurrency", "many"], "--concurrency"),
        (&["bin", "--metrics-addr", "localhost"], "--metrics-addr"),
        (&["bin", "--log-format", "xml"], "--log-format"),
        (
            &["bin", "--cross-namespace-refs", "maybe"],
            "--cross-namespace-refs",
        ),
        (&["bin", "--namespaces", "Team_A"], "--namespaces"),
        (
            &["bin", "--quay-hosts", "https://quay.example.com"],
            "--quay-hosts",
        ),
        (&["bin", "--lease-name", "Bad Name"], "--lease-name"),
        (&["bin", "--lease-namespace", ""], "--lease-namespace"),
        (&["bin", "--log-level", "info,[{"], "--log-level"),
        (
            &["bin", "--verify-interval-seconds", "1"],
            "--verify-interval-seconds",
        ),
        (&["bin", "--identity", " "], "--identity"),
        (&["bin", "--leader-elect=yes-please"], "--leader-elect"),
    ];
    for (args, flag) in cases {
        let error = parse_error(args);
        assert!(error.contains(flag), "{args:?}: {error}");
    }
}

/// A renew deadline at or past the lease duration would let two leaders overlap; without
/// election the timings are unused and not checked.
#[test]
fn inconsistent_lease_timing_is_rejected() {
    let run = run_args(&["bin", "--lease-duration-seconds=5"]);
    assert_eq!(run.lease_duration_seconds, 5);
    let error = parse_error(&[
        "bin",
        "--leader-elect",
        "--lease-duration-seconds=10",
        "--renew-deadline-seconds=10",
    ]);
    assert!(
        error.contains(
            "--renew-deadline-seconds (10) must be less than --lease-duration-seconds (10)"
        ),
        "{error}"
    );
    let error = parse_error(&[
        "bin",
        "--leader-elect",
        "--renew-deadline-seconds=5",
        "--retry-period-seconds=5",
    ]);
    assert!(
        error.contains("--retry-period-seconds (5) must be less than --renew-deadline-seconds (5)"),
        "{error}"
    );
}

/// Leader election needs a stable, non-empty identity even outside a pod.
#[test]
fn identity_falls_back_to_hostname_then_random() {
    let mut run = run_args(&["bin"]);
    run.identity = Some("pod-a".to_owned());
    assert_eq!(run.resolve_identity(Some("host".to_owned())), "pod-a");
    run.identity = None;
    assert_eq!(run.resolve_identity(Some("host".to_owned())), "host");
    let first = run.resolve_identity(Some(String::new()));
    let second = run.resolve_identity(None);
    assert!(
        first.starts_with("quay-apitoken-operator-") && first.len() == 39,
        "{first}"
    );
    assert_ne!(
        first, second,
        "two replicas without a name must not share an identity"
    );
}

/// The reconcile deadline defaults to ten minutes and is refused below ten seconds.
#[test]
fn the_reconcile_deadline_has_a_default_and_a_floor() {
    let parsed = parse_in_clean_env(&[], &[]);
    assert!(
        parsed.contains("reconcile_deadline_seconds: 600"),
        "{parsed}"
    );
    let parsed = parse_in_clean_env(&[], &[("QAO_RECONCILE_DEADLINE_SECONDS", "30")]);
    assert!(
        parsed.contains("reconcile_deadline_seconds: 30"),
        "{parsed}"
    );
    let refused = parse_error(&["bin", "--reconcile-deadline-seconds", "5"]);
    assert!(
        refused.contains("--reconcile-deadline-seconds"),
        "{refused}"
    );
}
