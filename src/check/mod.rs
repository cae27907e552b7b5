//! `quay-apitoken-operator check`: a preflight for one connection Secret, before ApiTokens use
//! it. Reads the settings (from the cluster or from flags), runs the checks against Quay, and
//! prints one line per check (or JSON); exit code 0 when none failed, 1 otherwise.

mod probe;
mod report;
mod source;

use std::io::Write;
use std::process::ExitCode;

pub use probe::Request;
pub use report::{CHECKS, Facts, Finding, Outcome, Report};
pub use source::{ClusterAccess, FlagSettings, SourceError};

use crate::cli::{CheckArgs, CheckOutput};
use crate::hosts::QuayHosts;
use crate::quay::{ConnectionSettings, QuayClient};

/// Runs the preflight that `args` describe and prints its report on stdout.
pub async fn run(args: CheckArgs) -> ExitCode {
    // The process carries two TLS providers (ring, and aws-lc-rs through reqwest); rustls
    // refuses to pick one itself.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let report = preflight(&args).await;
    let text = match args.output {
        CheckOutput::Text => report.to_text(),
        CheckOutput::Json => format!("{:#}\n", report.to_json()),
    };
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    ExitCode::from(report.exit_code())
}

/// Reads the settings and checks them; every outcome, failures to read included, is a report.
pub async fn preflight(args: &CheckArgs) -> Report {
    let (settings, mut report) = match settings(args).await {
        Ok((settings, source)) => {
            let mut report = Report::new(source.clone());
            report.pass("settings", describe(&settings, &source));
            (settings, report)
        }
        Err((error, source)) => {
            let mut report = Report::new(source);
            report.record(
                "settings",
                Outcome::Fail,
                error.to_string(),
                error.status_reason(),
            );
            return report;
        }
    };
    let allowed = QuayHosts::parse(&args.quay_hosts).and_then(|hosts| {
        hosts
            .check(&settings.host_string())
            .map_err(|e| e.to_string())
    });
    if let Err(refused) = allowed {
        report.fail("reachable", refused, "HostNotAllowed");
        return report;
    }
    let request = Request {
        client_id: args.client_id.clone(),
        rights: args.rights.clone(),
    };
    let client = QuayClient::new(None);
    probe::run(&client, &settings, &request, &mut report).await;
    report
}

async fn settings(args: &CheckArgs) -> Result<(ConnectionSettings, String), (SourceError, String)> {
    match (&args.secret, FlagSettings::from_args(args)) {
        (Some(reference), _) => {
            let access = ClusterAccess {
                kubeconfig: args.kubeconfig.clone(),
                context: args.context.clone(),
            };
            source::from_cluster(reference, &access)
                .await
                .map(|(settings, full)| (settings, format!("Secret {full}")))
                .map_err(|e| (e, format!("Secret {reference}")))
        }
        (None, Some(flags)) => {
            let terminal = source::stdin_is_terminal();
            source::from_flags(&flags, &mut std::io::stdin().lock(), terminal)
                .map(|settings| (settings, "flags".to_owned()))
                .map_err(|e| (e, "flags".to_owned()))
        }
        // clap requires one of the two; kept total rather than trusted.
        (None, None) => Err((SourceError::NoSource, "nothing".to_owned())),
    }
}

fn describe(settings: &ConnectionSettings, source: &str) -> String {
    let ca = if settings.ca_cert_pem().is_some() {
        ", caCert given"
    } else {
        ""
    };
    format!(
        "host, username and password read from {source}: host {}, validateCerts {}, timeout {} s{ca}",
        settings.host_string(),
        settings.validate_certs(),
        settings.timeout().as_secs(),
    )
}
