//! Options of the `run` subcommand: the controller, its admin server and leader election.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{ArgAction, Args, ValueEnum};

use super::values::{
    parse_dns_subdomain, parse_identity, parse_log_filter, parse_namespace, parse_namespace_item,
};
use crate::telemetry::LogFormat;

/// Default name of the leader-election Lease.
pub const DEFAULT_LEASE_NAME: &str = "quay-apitoken-operator";

/// Whether ApiTokens and Applications may reference Secrets in namespaces other than their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CrossNamespaceRefs {
    /// A reference into another namespace is followed only when a Gateway API ReferenceGrant
    /// there allows it (from ApiToken or Application of the referring namespace, to Secret).
    Grant,
    /// References to any namespace are followed, as the earlier operator did (for migration).
    Allow,
    /// References outside the object's own namespace are refused.
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

    /// Whether references may point to Secrets in other namespaces: `grant` only where a
    /// ReferenceGrant in that namespace allows it, `allow` always, `deny` never.
    #[arg(long, env = "QAO_CROSS_NAMESPACE_REFS", value_enum, default_value_t = CrossNamespaceRefs::Grant)]
    pub cross_namespace_refs: CrossNamespaceRefs,

    /// Interval between checks that each minted token is still live in Quay.
    #[arg(long, env = "QAO_VERIFY_INTERVAL_SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(10..=604_800))]
    pub verify_interval_seconds: u64,

    /// Identity of this replica in leader election; defaults to POD_NAME, then HOSTNAME.
    #[arg(long, env = "POD_NAME", value_parser = parse_identity)]
    pub identity: Option<String>,

    /// Longest time one reconcile may work in a concurrency slot before it is stopped and
    /// retried later; time spent waiting without a slot does not count.
    #[arg(long, env = "QAO_RECONCILE_DEADLINE_SECONDS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(10..=86_400))]
    pub reconcile_deadline_seconds: u64,

    /// Quay hosts that connection Secrets may name, comma-separated: `host`, `host:port`, or
    /// `*.domain` for every name under a domain; any host when empty. Others are refused
    /// before any connection.
    #[arg(
        long,
        env = "QAO_QUAY_HOSTS",
        value_delimiter = ',',
        value_name = "HOSTS",
        value_parser = crate::hosts::parse_item
    )]
    pub quay_hosts: Vec<String>,
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

    /// How long one reconcile may work in its slot.
    pub fn reconcile_deadline(&self) -> Duration {
        Duration::from_secs(self.reconcile_deadline_seconds)
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
    /// giving up; otherwise two replicas could reconcile at the same time. The conflict, in the
    /// words the parser reports it with, or `None` when the timings are consistent.
    pub(super) fn lease_timing_conflict(&self) -> Option<String> {
        if self.renew_deadline_seconds >= self.lease_duration_seconds {
            Some(format!(
                "--renew-deadline-seconds ({}) must be less than --lease-duration-seconds ({})",
                self.renew_deadline_seconds, self.lease_duration_seconds
            ))
        } else if self.retry_period_seconds >= self.renew_deadline_seconds {
            Some(format!(
                "--retry-period-seconds ({}) must be less than --renew-deadline-seconds ({})",
                self.retry_period_seconds, self.renew_deadline_seconds
            ))
        } else {
            None
        }
    }
}
