//! The admin HTTP server: `/metrics` for Prometheus, `/healthz` for liveness and `/readyz` for
//! readiness. It shares the process's shutdown signal so it stops with the controller.
//!
//! `/healthz` fails only when reconciles have been at work for [`STALL_LIMIT`] and none
//! finished meanwhile (`metrics::Progress`): a restart is what fixes a reconciler that hangs.
//! A standby, a quiet leader, or a leader that cannot reach the API server or Quay stays live:
//! restarting those would fix nothing and only churn the pods.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::metrics::{Metrics, OPENMETRICS_CONTENT_TYPE};

/// How long reconciles may be at work with none finishing before `/healthz` fails. Every
/// request of a reconcile has a deadline (Quay: the connection's `timeout`, 10 s by default;
/// Kubernetes: the client's 295 s read timeout), so a healthy replica finishes something well
/// within this, even with a thousand ApiTokens queued behind one account's mint lock.
pub const STALL_LIMIT: Duration = Duration::from_secs(10 * 60);

/// A shared flag that `/readyz` reports; cloning shares the same flag.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// A flag that starts not ready.
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks the process ready (e.g. once the controller's caches have synced).
    pub fn set_ready(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Marks the process not ready (e.g. while shutting down).
    pub fn set_not_ready(&self) {
        self.0.store(false, Ordering::Release);
    }

    /// Whether `/readyz` currently answers 200.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// Why the admin server stopped or could not start.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The address is taken or not allowed (permanent: change `--metrics-addr`).
    #[error(
        "cannot listen on {addr} for the admin server: {source}; choose another --metrics-addr"
    )]
    Bind {
        /// The requested address.
        addr: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Accepting connections failed (transient: the process should restart).
    #[error("the admin server on {addr} stopped serving: {source}")]
    Serve {
        /// The bound address.
        addr: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
}

impl AdminError {
    /// Whether retrying (restarting the process) may help.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Serve { .. })
    }
}

/// A bound but not yet serving admin server; binding first lets callers learn the port.
#[derive(Debug)]
pub struct AdminServer {
    listener: TcpListener,
    addr: SocketAddr,
}

#[derive(Clone)]
struct AppState {
    metrics: Arc<Metrics>,
    ready: Readiness,
    stall_limit: Duration,
}

impl AdminServer {
    /// Binds the listening socket.
    pub async fn bind(addr: SocketAddr) -> Result<Self, AdminError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| AdminError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| AdminError::Bind { addr, source })?;
        Ok(Self { listener, addr })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and returns.
    pub async fn run(
        self,
        metrics: Arc<Metrics>,
        ready: Readiness,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), AdminError> {
        let addr = self.addr;
        tracing::info!(%addr, "admin server listening");
        axum::serve(self.listener, router(metrics, ready, STALL_LIMIT))
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|source| AdminError::Serve { addr, source })
    }
}

fn router(metrics: Arc<Metrics>, ready: Readiness, stall_limit: Duration) -> Router {
    Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/healthz", get(healthz_handler))
        .route("/readyz", get(readyz_handler))
        .with_state(AppState {
            metrics,
            ready,
            stall_limit,
        })
}

async fn healthz_handler(State(state): State<AppState>) -> impl IntoResponse {
    match state.metrics.stalled(state.stall_limit) {
        None => (StatusCode::OK, "ok".to_owned()),
        Some(stall) => {
            let message = format!(
                "stalled: {} reconcile(s) at work and none finished for {} s",
                stall.at_work,
                stall.for_.as_secs()
            );
            tracing::warn!("{message}; the liveness probe fails so the pod is restarted");
            (StatusCode::SERVICE_UNAVAILABLE, message)
        }
    }
}

async fn metrics_handler(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE)],
        state.metrics.encode(),
    )
}

async fn readyz_handler(State(state): State<AppState>) -> impl IntoResponse {
    if state.ready.is_ready() {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)] // a test failing loudly on a broken fixture is the point
mod tests {
    use std::time::Duration;

    use tokio::sync::oneshot;

    use super::*;

    struct Running {
        base: String,
        stop: oneshot::Sender<()>,
        task: tokio::task::JoinHandle<Result<(), AdminError>>,
    }

    async fn start(metrics: Arc<Metrics>, ready: Readiness) -> Running {
        // The test client is reqwest, which takes the process's rustls provider: install it
        // here rather than rely on another test of this binary having done so first.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let server = AdminServer::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind loopback");
        let base = format!("http://{}", server.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(metrics, ready, async {
            let _ = stopped.await;
        }));
        Running { base, stop, task }
    }

    /// Serves the router with another stall limit than [`STALL_LIMIT`]; stops when dropped.
    async fn serve_with_limit(
        metrics: Arc<Metrics>,
        stall_limit: Duration,
    ) -> (String, tokio::task::JoinHandle<()>) {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("bound address"));
        let app = router(metrics, Readiness::new(), stall_limit);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (base, task)
    }

    /// Prometheus scrapes the registry's text with the OpenMetrics content type.
    #[tokio::test]
    async fn metrics_endpoint_serves_openmetrics_text() {
        let metrics = Arc::new(Metrics::new());
        metrics.token_minted();
        let server = start(metrics.clone(), Readiness::new()).await;
        let response = reqwest::get(format!("{}/metrics", server.base))
            .await
            .expect("GET /metrics");
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()[reqwest::header::CONTENT_TYPE],
            OPENMETRICS_CONTENT_TYPE
        );
        let body = response.text().await.expect("body");
        assert!(
            body.contains("quay_apitoken_tokens_minted_total 1\n"),
            "{body}"
        );
        // A scrape sees the live registry, not a snapshot from start-up.
        metrics.token_minted();
        let body = reqwest::get(format!("{}/metrics", server.base))
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("body");
        assert!(
            body.contains("quay_apitoken_tokens_minted_total 2\n"),
            "{body}"
        );
    }

    /// Liveness must not depend on readiness, or a slow cache sync would get the pod killed.
    #[tokio::test]
    async fn healthz_is_ok_and_readyz_follows_the_flag() {
        let ready = Readiness::new();
        let server = start(Arc::new(Metrics::new()), ready.clone()).await;
        let get = |path: &str| reqwest::get(format!("{}{path}", server.base));

        assert_eq!(get("/healthz").await.expect("healthz").status(), 200);
        assert_eq!(get("/readyz").await.expect("readyz").status(), 503);
        ready.set_ready();
        let response = get("/readyz").await.expect("readyz");
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.expect("body"), "ok");
        ready.set_not_ready();
        assert_eq!(get("/readyz").await.expect("readyz").status(), 503);
        assert_eq!(get("/nothing").await.expect("404").status(), 404);
    }

    /// Liveness follows progress: live while idle and while reconciles finish, 503 once one
    /// has been at work past the limit with none finishing, live again when one finishes.
    #[tokio::test]
    async fn healthz_fails_when_reconciles_stop_finishing() {
        let metrics = Arc::new(Metrics::new());
        let limit = Duration::from_secs(1);
        let (base, task) = serve_with_limit(metrics.clone(), limit).await;
        let healthz = || async {
            let response = reqwest::get(format!("{base}/healthz"))
                .await
                .expect("GET /healthz");
            let status = response.status().as_u16();
            (status, response.text().await.expect("body"))
        };
        let started = std::time::Instant::now();
        let stuck = metrics.reconcile_started();
        let (status, _) = healthz().await;
        assert!(
            status == 200 || started.elapsed() > limit,
            "live before the limit"
        );
        let stalled = loop {
            let (status, body) = healthz().await;
            if status == 503 {
                break body;
            }
            assert!(started.elapsed() < limit * 20, "never reported the stall");
            tokio::time::sleep(limit / 10).await;
        };
        assert!(
            started.elapsed() >= limit,
            "503 only after the limit: {stalled}"
        );
        assert!(stalled.contains("1 reconcile(s) at work"), "{stalled}");
        drop(metrics.reconcile_started()); // another reconcile finishes: progress
        assert_eq!(healthz().await.0, 200);
        drop(stuck);
        assert_eq!(healthz().await, (200, "ok".to_owned()));
        task.abort();
    }

    /// The shared shutdown signal must actually stop the server, and promptly.
    #[tokio::test]
    async fn shutdown_signal_stops_the_server() {
        let server = start(Arc::new(Metrics::new()), Readiness::new()).await;
        let base = server.base.clone();
        server.stop.send(()).expect("server still running");
        let result = tokio::time::timeout(Duration::from_secs(5), server.task)
            .await
            .expect("server stops within 5 s")
            .expect("task not panicked");
        assert!(result.is_ok(), "{result:?}");
        assert!(reqwest::get(format!("{base}/healthz")).await.is_err());
    }

    /// A taken port is a start-up error naming the address and the flag to change.
    #[tokio::test]
    async fn bind_failure_names_the_address() {
        let first = AdminServer::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind loopback");
        let taken = first.local_addr();
        let error = AdminServer::bind(taken)
            .await
            .expect_err("port already in use");
        assert!(matches!(error, AdminError::Bind { addr, .. } if addr == taken));
        assert!(!error.is_transient());
        let message = error.to_string();
        assert!(
            message.contains(&taken.to_string()) && message.contains("--metrics-addr"),
            "{message}"
        );
    }
}
