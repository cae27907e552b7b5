//! The controller running in this process, scoped to the fixture's namespaces, and what its
//! metrics say.

use kube::Client;
use quay_apitoken_operator::clock::Clock;
use quay_apitoken_operator::context::{Context, Settings};
use quay_apitoken_operator::metrics::Metrics;
use std::sync::Arc;
use std::time::Duration;

/// The controller running in this process, scoped to the fixture's namespaces.
pub struct Operator {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<()>,
    pub metrics: Arc<Metrics>,
}

impl Operator {
    pub async fn start(client: Client, namespaces: Vec<String>, settings: Settings) -> Operator {
        Operator::start_on(client, namespaces, settings, Arc::new(Clock::system())).await
    }

    /// Like [`Operator::start`], reading lifetimes from `clock`.
    pub async fn start_on(
        client: Client,
        namespaces: Vec<String>,
        settings: Settings,
        clock: Arc<Clock>,
    ) -> Operator {
        Operator::start_tuned(client, namespaces, settings, clock, 4, None).await
    }

    /// Like [`Operator::start_on`], with this `--concurrency` and reconcile deadline (`None`:
    /// the operator's default).
    pub async fn start_tuned(
        client: Client,
        namespaces: Vec<String>,
        settings: Settings,
        clock: Arc<Clock>,
        concurrency: u16,
        deadline: Option<Duration>,
    ) -> Operator {
        let metrics = Arc::new(Metrics::new());
        let ctx = Context::new(client, metrics.clone(), settings).with_clock(clock);
        let ctx = Arc::new(match deadline {
            Some(deadline) => ctx.with_reconcile_deadline(deadline),
            None => ctx,
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = futures::FutureExt::shared(async move {
            let _ = stopped.await;
        });
        let handle = tokio::spawn(quay_apitoken_operator::controllers::run(
            ctx,
            Some(namespaces),
            concurrency,
            shutdown,
            || {},
        ));
        Operator {
            stop: Some(stop),
            handle,
            metrics,
        }
    }

    /// Stops the controller and waits until it has.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(20), &mut self.handle).await;
    }

    /// Reconciles counted so far, all results.
    pub fn reconciles(&self) -> u64 {
        self.counter("quay_apitoken_reconciles_total")
    }

    /// Reconciles that ended in an error, whatever its category.
    pub fn failed_reconciles(&self) -> u64 {
        self.reconciles() - self.series("quay_apitoken_reconciles_total", r#"result="ok""#)
    }

    /// One series of a counter, by its exact label set (`result="SecretConflict"`); 0 before
    /// its first count.
    pub fn series(&self, name: &str, labels: &str) -> u64 {
        let prefix = format!("{name}{{{labels}}} ");
        self.metrics
            .encode()
            .lines()
            .find_map(|l| l.strip_prefix(&prefix)?.parse::<f64>().ok())
            .unwrap_or(0.0) as u64
    }

    /// The sum of a counter's series (every label set).
    pub fn counter(&self, name: &str) -> u64 {
        self.metrics
            .encode()
            .lines()
            .filter(|l| l.split(['{', ' ']).next() == Some(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.handle.abort();
    }
}
