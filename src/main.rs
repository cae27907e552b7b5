//! The operator binary: wiring only — CLI, telemetry, admin server, leader election, controller.

use futures::FutureExt;
use quay_apitoken_operator::admin::{AdminServer, Readiness};
use quay_apitoken_operator::application;
use quay_apitoken_operator::cli::{Cli, Command, CrossNamespaceRefs, RunArgs};
use quay_apitoken_operator::context::{Context, CrossNamespacePolicy, Settings};
use quay_apitoken_operator::hosts::QuayHosts;
use quay_apitoken_operator::leader::{LeaderElector, LeaseSettings};
use quay_apitoken_operator::metrics::Metrics;
use quay_apitoken_operator::{controllers, crd, telemetry};
use std::process::ExitCode;
use std::sync::Arc;

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse_command() {
        Command::Crd => match crd::crd_yaml().and_then(application::append_crd) {
            Ok(yaml) => {
                print!("{yaml}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("cannot render the CRD: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Check(args) => quay_apitoken_operator::check::run(args).await,
        Command::Run(args) => match run(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!("{e}");
                eprintln!("quay-apitoken-operator: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Completes on SIGTERM or Ctrl-C; cloneable so every part stops on the same signal.
fn shutdown_signal() -> futures::future::Shared<futures::future::BoxFuture<'static, ()>> {
    async {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => futures::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
        tracing::info!("shutting down");
    }
    .boxed()
    .shared()
}

async fn run(args: RunArgs) -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    telemetry::init(args.log_format, &args.log_level)?;
    // Bind before anything else: without its admin server the process has no probes and no
    // metrics, so a taken port must stop the start, not surface at shutdown.
    let admin_server = AdminServer::bind(args.metrics_addr).await?;
    let client = kube::Client::try_default().await?;
    let metrics = Arc::new(Metrics::new());
    let ready = Readiness::new();
    let shutdown = shutdown_signal();
    let admin = tokio::spawn(admin_server.run(metrics.clone(), ready.clone(), shutdown.clone()));

    let settings = Settings {
        cross_namespace: match args.cross_namespace_refs {
            CrossNamespaceRefs::Grant => CrossNamespacePolicy::Grant,
            CrossNamespaceRefs::Allow => CrossNamespacePolicy::Allow,
            CrossNamespaceRefs::Deny => CrossNamespacePolicy::Deny,
        },
        verify_interval: args.verify_interval(),
        quay_hosts: QuayHosts::parse(&args.quay_hosts)?,
    };
    let ctx = Arc::new(
        Context::new(client.clone(), metrics.clone(), settings)
            .with_reconcile_deadline(args.reconcile_deadline()),
    );
    let namespaces = args.watch_namespaces().map(<[String]>::to_vec);

    if args.leader_elect {
        let lease = LeaseSettings {
            name: args.lease_name.clone(),
            namespace: args.lease_namespace.clone(),
            identity: args.resolve_identity(std::env::var("HOSTNAME").ok()),
            lease_duration: args.lease_duration(),
            renew_deadline: args.renew_deadline(),
            retry_period: args.retry_period(),
        };
        let (elector, mut leading) = LeaderElector::new(client, lease);
        // A standby is healthy: a rollout must not wait for a pod that cannot lead yet.
        ready.set_ready();
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        let election = tokio::spawn(elector.run(async move {
            let _ = stopped_rx.await;
        }));
        tracing::info!("waiting for leadership");
        tokio::select! {
            _ = shutdown.clone() => { let _ = stopped_tx.send(()); let _ = election.await; let _ = admin.await; return Ok(()); }
            changed = leading.wait_for(|l| *l) => { changed?; }
        }
        metrics.set_leader(true);
        tracing::info!("leading; starting the controller");
        let on_synced = {
            let ready = ready.clone();
            move || ready.set_ready()
        };
        let controller = controllers::run(
            ctx,
            namespaces,
            args.concurrency,
            shutdown.clone(),
            on_synced,
        );
        tokio::pin!(controller);
        tokio::select! {
            _ = &mut controller => {}
            // Losing the Lease means another replica may already reconcile: stop at once.
            _ = leading.wait_for(|l| !*l) => {
                return Err("lost the leader-election Lease; exiting so that only one replica reconciles".into());
            }
        }
        let _ = stopped_tx.send(());
        election.await??;
    } else {
        // Without election this replica is the only one reconciling: it leads by definition.
        metrics.set_leader(true);
        let on_synced = {
            let ready = ready.clone();
            move || ready.set_ready()
        };
        controllers::run(
            ctx,
            namespaces,
            args.concurrency,
            shutdown.clone(),
            on_synced,
        )
        .await;
    }
    admin.await??;
    Ok(())
}
