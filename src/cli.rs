//! Command-line options: every flag also reads an environment variable, so the chart can
//! configure the operator through `env:` as well as `args:`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{ArgAction, Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::check::FlagSettings;
use crate::crd::Right;
pub use crate::telemetry::LogFormat;

/// Default name of the leader-election Lease.
pub const DEFAULT_LEASE_NAME: &str = "quay-apitoken-operator";

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

/// How `check` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckOutput {
    /// One line per check, for a person.
    Text,
    /// One JSON document, for a program.
    Json,
}

/// Options of the `check` subcommand. No environment fallbacks, unlike `run`: a preflight
/// checks exactly what its command line names, and a stray variable must not change the host.
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["secret", "host"])))]
pub struct CheckArgs {
    /// The connection Secret to check, NAMESPACE/NAME (or NAME in the kubeconfig's namespace),
    /// read through the kubeconfig.
    #[arg(long, value_name = "NAMESPACE/NAME")]
    pub secret: Option<String>,

    /// kubeconfig for --secret; by default KUBECONFIG, ~/.kube/config, or the pod's account.
    #[arg(long, value_name = "PATH", requires = "secret")]
    pub kubeconfig: Option<PathBuf>,

    /// kubeconfig context for --secret; by default its current context.
    #[arg(long, value_name = "NAME", requires = "secret")]
    pub context: Option<String>,

    /// Instead of --secret: the Quay URL, as the Secret's `host` key.
    #[arg(long, value_name = "URL", requires_all = ["username", "password_stdin"])]
    pub host: Option<String>,

    /// The Quay account, as the Secret's `username` key.
    #[arg(long, requires = "host")]
    pub username: Option<String>,

    /// Read the password from the first line of standard input (a flag would show it to `ps`).
    #[arg(long, requires = "host")]
    pub password_stdin: bool,

    /// Verify Quay's certificate, as the Secret's `validateCerts` key.
    #[arg(
        long,
        value_name = "BOOL",
        action = ArgAction::Set,
        num_args = 0..=1,
        default_missing_value = "true",
        requires = "host"
    )]
    pub validate_certs: Option<bool>,

    /// A PEM bundle to trust besides the system roots, as the Secret's `caCert` key.
    #[arg(long, value_name = "PATH", requires = "host")]
    pub ca_cert_file: Option<PathBuf>,

    /// Seconds per Quay request, as the Secret's `timeout` key (default 10).
    #[arg(long, value_name = "SECONDS", requires = "host", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: Option<u64>,

    /// The OAuth application's client ID: checks that it exists and that the account
    /// administers its organization.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,

    /// The rights the ApiTokens will ask for, comma-separated as in spec.rights.
    #[arg(long, value_name = "RIGHTS", value_delimiter = ',', default_value = "repo:read", value_parser = parse_right)]
    pub rights: Vec<Right>,

    /// Report format.
    #[arg(long, short = 'o', value_enum, default_value_t = CheckOutput::Text)]
    pub output: CheckOutput,
}

impl CheckArgs {
    /// The connection settings given as flags, when `--host` was used.
    pub fn flag_settings(&self) -> Option<FlagSettings> {
        Some(FlagSettings {
            host: self.host.clone()?,
            username: self.username.clone().unwrap_or_default(),
            validate_certs: self.validate_certs.unwrap_or(true),
            ca_cert_file: self.ca_cert_file.clone(),
            timeout: self.timeout,
        })
    }
}

/// Whether an ApiToken may reference Secrets in namespaces other than its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CrossNamespaceRefs {
    /// References to any namespace are followed (the documented default).
    Allow,
    /// References outside the ApiToken's namespace are refused (multi-tenant clusters).
    Deny,
}

/// Options of the `run` subcommand.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Namespaces to watch, comma-separated; all namespaces when empty.
    #[arg(
        long,
        env = "WATCH_NAMESPACES",
        value_delimiter = ',',
        value_parser = parse_namespace_item
    )]
    pub namespaces: Vec<String>,

    /// Address of the admin server (/metrics, /healthz, /readyz).
    #[arg(long, env = "QAO_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    pub metrics_addr: SocketAddr,

    /// Take part in leader election so that only one replica reconciles.
    #[arg(
        long,
        env = "QAO_LEADER_ELECT",
        action = ArgAction::Set,
        num_args = 0..=1,
        default_value_t = false,
        default_missing_value = "true"
    )]
    pub leader_elect: bool,

    /// Name of the leader-election Lease.
    #[arg(long, env = "QAO_LEASE_NAME", default_value = DEFAULT_LEASE_NAME, value_parser = parse_dns_subdomain)]
    pub lease_name: String,

    /// Namespace of the leader-election Lease (the pod's own namespace in a cluster).
    #[arg(long, env = "POD_NAMESPACE", default_value = "default", value_parser = parse_namespace)]
    pub lease_namespace: String,

    /// How long a Lease holder is trusted without renewing before others take over.
    #[arg(long, env = "QAO_LEASE_DURATION_SECONDS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub lease_duration_seconds: u64,

    /// How long the leader keeps trying to renew before it gives leadership up.
    #[arg(long, env = "QAO_RENEW_DEADLINE_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub renew_deadline_seconds: u64,

    /// Interval between two attempts to acquire or renew the Lease.
    #[arg(long, env = "QAO_RETRY_PERIOD_SECONDS", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub retry_period_seconds: u64,

    /// Maximum number of ApiTokens reconciled at the same time.
    #[arg(long, env = "QAO_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,

    /// Log output format.
    #[arg(long, env = "QAO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log filter in RUST_LOG syntax, e.g. `info` or `info,quay_apitoken_operator=debug`.
    #[arg(long, env = "RUST_LOG", default_value = "info", value_parser = parse_log_filter)]
    pub log_level: String,

    /// Whether ApiTokens may reference Secrets in other namespaces.
    #[arg(long, env = "QAO_CROSS_NAMESPACE_REFS", value_enum, default_value_t = CrossNamespaceRefs::Allow)]
    pub cross_namespace_refs: CrossNamespaceRefs,

    /// Interval between checks that each minted token is still live in Quay.
    #[arg(long, env = "QAO_VERIFY_INTERVAL_SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(10..=604_800))]
    pub verify_interval_seconds: u64,

    /// Identity of this replica in leader election; defaults to POD_NAME, then HOSTNAME.
    #[arg(long, env = "POD_NAME", value_parser = parse_identity)]
    pub identity: Option<String>,
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
            if run.leader_elect {
                run.check_lease_timing()?;
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

impl RunArgs {
    /// Namespaces to watch, or `None` for all of them.
    pub fn watch_namespaces(&self) -> Option<&[String]> {
        (!self.namespaces.is_empty()).then_some(self.namespaces.as_slice())
    }

    /// How long a Lease holder is trusted without renewing.
    pub fn lease_duration(&self) -> Duration {
        Duration::from_secs(self.lease_duration_seconds)
    }

    /// How long the leader keeps trying to renew before giving up.
    pub fn renew_deadline(&self) -> Duration {
        Duration::from_secs(self.renew_deadline_seconds)
    }

    /// Interval between Lease acquire or renew attempts.
    pub fn retry_period(&self) -> Duration {
        Duration::from_secs(self.retry_period_seconds)
    }

    /// Interval between token liveness checks against Quay.
    pub fn verify_interval(&self) -> Duration {
        Duration::from_secs(self.verify_interval_seconds)
    }

    /// Leader-election identity: `--identity`/POD_NAME, else the given hostname, else a random name.
    pub fn resolve_identity(&self, hostname: Option<String>) -> String {
        self.identity
            .clone()
            .or_else(|| hostname.filter(|h| !h.trim().is_empty()))
            .unwrap_or_else(|| format!("{DEFAULT_LEASE_NAME}-{:016x}", rand::random::<u64>()))
    }

    /// A leader must stop before a standby may take over, and must retry at least once before
    /// giving up; otherwise two replicas could reconcile at the same time.
    fn check_lease_timing(&self) -> Result<(), clap::Error> {
        let message = if self.renew_deadline_seconds >= self.lease_duration_seconds {
            format!(
                "--renew-deadline-seconds ({}) must be less than --lease-duration-seconds ({})",
                self.renew_deadline_seconds, self.lease_duration_seconds
            )
        } else if self.retry_period_seconds >= self.renew_deadline_seconds {
            format!(
                "--retry-period-seconds ({}) must be less than --renew-deadline-seconds ({})",
                self.retry_period_seconds, self.renew_deadline_seconds
            )
        } else {
            return Ok(());
        };
        Err(Cli::command().error(ErrorKind::ArgumentConflict, message))
    }
}

/// Kubernetes namespace names are DNS-1123 labels.
fn parse_namespace(value: &str) -> Result<String, String> {
    let value = value.trim();
    if is_dns_label(value) {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} is not a valid namespace name (lowercase letters, digits and '-', at most 63 characters)"
        ))
    }
}

/// An empty item of the namespace list (e.g. a trailing comma) is accepted here and dropped
/// after parsing.
fn parse_namespace_item(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        Ok(String::new())
    } else {
        parse_namespace(value)
    }
}

fn parse_dns_subdomain(value: &str) -> Result<String, String> {
    let valid = !value.is_empty() && value.len() <= 253 && value.split('.').all(is_dns_label);
    if valid {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} is not a valid object name (lowercase DNS subdomain)"
        ))
    }
}

fn parse_identity(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        Err("the identity must not be empty".to_owned())
    } else {
        Ok(value.to_owned())
    }
}

fn parse_log_filter(value: &str) -> Result<String, String> {
    crate::telemetry::parse_filter(value)
        .map(|_| value.to_owned())
        .map_err(|error| error.to_string())
}

/// A right as spec.rights spells it.
fn parse_right(value: &str) -> Result<Right, String> {
    serde_json::from_value(serde_json::Value::String(value.trim().to_owned())).map_err(|_| {
        let known: Vec<&str> = Right::SCOPES
            .iter()
            .map(|r| r.as_str())
            .chain(["all"])
            .collect();
        format!("{value:?} is not a right; use {}", known.join(", "))
    })
}

fn is_dns_label(value: &str) -> bool {
    let bytes = value.as_bytes();
    let edge_ok = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    value.len() <= 63
        && edge_ok(bytes.first())
        && edge_ok(bytes.last())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

#[cfg(test)]
#[allow(clippy::expect_used)] // a test failing loudly on a broken fixture is the point
mod tests {
    use std::process::Command as Process;

    use super::*;

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

    /// With nothing set, a local run watches everything, serves on :8080 and skips election.
    #[test]
    fn defaults_apply_without_flags_or_environment() {
        let parsed = parse_in_clean_env(&[], &[]);
        for expected in [
            "Run(RunArgs { namespaces: [], metrics_addr: 0.0.0.0:8080, leader_elect: false",
            "lease_name: \"quay-apitoken-operator\", lease_namespace: \"default\"",
            "lease_duration_seconds: 15, renew_deadline_seconds: 10, retry_period_seconds: 2",
            "concurrency: 4, log_format: Text, log_level: \"info\", cross_namespace_refs: Allow",
            "verify_interval_seconds: 300, identity: None",
        ] {
            assert!(parsed.contains(expected), "{expected:?} not in {parsed}");
        }
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
            ],
        );
        for expected in [
            "namespaces: [\"team-a\", \"team-b\"], metrics_addr: 127.0.0.1:9090, leader_elect: true",
            "lease_name: \"my-lease\", lease_namespace: \"operators\"",
            "lease_duration_seconds: 30, renew_deadline_seconds: 20, retry_period_seconds: 5",
            "concurrency: 8, log_format: Json, log_level: \"warn,quay_apitoken_operator=debug\"",
            "cross_namespace_refs: Deny, verify_interval_seconds: 60",
            "identity: Some(\"operator-7d9f-abcde\")",
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
            error.contains(
                "--retry-period-seconds (5) must be less than --renew-deadline-seconds (5)"
            ),
            "{error}"
        );
    }

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
        assert!(from_secret.flag_settings().is_none());
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
        let flags = from_flags.flag_settings().expect("flags");
        assert!(!flags.validate_certs);
        assert_eq!(flags.username, "admin");
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
}
