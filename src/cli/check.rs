//! Options of the `check` subcommand: one connection Secret, or the same settings as flags.

use std::path::PathBuf;

use clap::{ArgAction, Args, ValueEnum};

use super::values::parse_right;
use crate::crd::Right;

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

    /// Seconds per Quay request, as the Secret's `timeout` key (default 10, at most 300).
    #[arg(long, value_name = "SECONDS", requires = "host", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: Option<u64>,

    /// The OAuth application's client ID: checks that it exists and that the account
    /// administers its organization.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,

    /// The rights the ApiTokens will ask for, comma-separated as in spec.rights.
    #[arg(long, value_name = "RIGHTS", value_delimiter = ',', default_value = "repo:read", value_parser = parse_right)]
    pub rights: Vec<Right>,

    /// Quay hosts the operator may connect to (its `--quay-hosts`), comma-separated; a host
    /// not on the list is refused before any connection, as the operator refuses it.
    #[arg(
        long,
        env = "QAO_QUAY_HOSTS",
        value_delimiter = ',',
        value_name = "HOSTS",
        value_parser = crate::hosts::parse_item
    )]
    pub quay_hosts: Vec<String>,

    /// Report format.
    #[arg(long, short = 'o', value_enum, default_value_t = CheckOutput::Text)]
    pub output: CheckOutput,
}
