//! What every reconcile shares: clients, policy, metrics, events and backoff.

use crate::controller::backoff::Backoff;
use crate::events::EventRecorder;
use crate::metrics::Metrics;
use crate::per_uid::{self, PerUid};
use crate::quay::Liveness;
use crate::quay::QuayClient;
use kube::runtime::events::Reporter;
use std::sync::Arc;
use std::time::Duration;

pub use crate::references::CrossNamespacePolicy;

/// Settings of the controller that do not change while it runs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Cross-namespace reference policy.
    pub cross_namespace: CrossNamespacePolicy,
    /// How often each token is checked to still be live in Quay.
    pub verify_interval: Duration,
    /// The Quay hosts connection Secrets may name (`--quay-hosts`); empty allows any.
    pub quay_hosts: crate::hosts::QuayHosts,
}

/// The default of [`Context::reconcile_deadline`]: twice the longest request a connection
/// Secret may ask for, so a request that takes its whole `timeout` still leaves time for the
/// rest; a reconcile of a Quay that answers takes seconds.
pub const DEFAULT_RECONCILE_DEADLINE: Duration =
    Duration::from_secs(2 * crate::quay::MAX_TIMEOUT_SECS);

/// Shared state of the controller.
pub struct Context {
    /// Kubernetes client.
    pub client: kube::Client,
    /// Quay client, holding one session per account.
    pub quay: QuayClient,
    /// Cache of live token ids per account.
    pub liveness: Liveness,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Event recorder (folds repeats into series).
    pub events: EventRecorder,
    /// Per-object backoff for transient errors.
    pub backoff: Backoff,
    /// Controller settings.
    pub settings: Settings,
    /// The status this process last wrote, per ApiToken UID. The controller's cache can lag
    /// behind our own writes; as the only writer of status, our last write is the truth.
    pub written: crate::owned::Written<crate::crd::ApiTokenStatus>,
    /// Other ApiTokens, through the controller's caches.
    pub peers: crate::controller::peers::Peers<crate::crd::ApiToken>,
    /// The wall clock of lifetime decisions (moved only by tests).
    pub clock: Arc<crate::clock::Clock>,
    /// Result Secret versions this process wrote, whose watch events wake nobody.
    pub own_writes: crate::controller::own_writes::OwnWrites,
    /// Tokens minted by running reconciles that no status records yet.
    pub in_flight: crate::controller::in_flight::InFlight,
    /// How long one reconcile may work in its concurrency slot before it is stopped.
    pub reconcile_deadline: Duration,
    /// The ReferenceGrants in sight, which `--cross-namespace-refs=grant` judges by.
    pub grants: Arc<crate::reference_grants::ReferenceGrants>,
}

/// How long an account no recorded token uses is kept (its session, its sign-in state).
const ACCOUNT_IDLE: Duration = Duration::from_secs(600);

/// Field manager and event reporter name (owned by the layer that writes Secrets).
pub use crate::owned::MANAGER;

impl Context {
    /// Builds the context; the Quay client reports its requests to the metrics.
    pub fn new(client: kube::Client, metrics: Arc<Metrics>, settings: Settings) -> Context {
        let observer: Arc<dyn crate::quay::RequestObserver> =
            Arc::new(QuayMetrics(metrics.clone()));
        let reporter = Reporter {
            controller: MANAGER.into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        Context {
            events: EventRecorder::new(client.clone(), reporter),
            client,
            quay: QuayClient::paced(Some(observer), Arc::new(crate::controller::slots::SlotPace)),
            // Half the interval, so one list serves a whole round of periodic checks.
            liveness: Liveness::new(settings.verify_interval / 2),
            metrics,
            backoff: Backoff::new(Duration::from_secs(2), Duration::from_secs(300)),
            settings,
            written: Default::default(),
            peers: crate::controller::peers::Peers::default(),
            clock: Arc::new(crate::clock::Clock::system()),
            own_writes: crate::controller::own_writes::OwnWrites::default(),
            in_flight: crate::controller::in_flight::InFlight::default(),
            reconcile_deadline: DEFAULT_RECONCILE_DEADLINE,
            grants: Arc::default(),
        }
    }

    /// Admits a reconcile to the Quay `host` of its connection Secret: the host must be in
    /// `--quay-hosts`, and the reconcile takes the host's share of the slots now, as soon as the
    /// host is known and before any lock of the Quay layer (an account's token list or sign-in,
    /// an organization's lock): one that waited for its share while holding such a lock would
    /// stall those that hold the share and need the lock.
    pub async fn admit_host(&self, host: &str) -> Result<(), crate::hosts::HostRefused> {
        self.settings.quay_hosts.check(host)?;
        crate::controller::slots::enter_host(host).await;
        Ok(())
    }

    /// The Secret at `at`, `None` when it does not exist.
    pub async fn read_secret(
        &self,
        at: &crate::target::Target,
    ) -> Result<Option<k8s_openapi::api::core::v1::Secret>, crate::object_error::ObjectError> {
        kube::Api::namespaced(self.client.clone(), &at.namespace)
            .get_opt(&at.name)
            .await
            .map_err(|source| crate::object_error::ObjectError::Kube {
                action: "read a Secret",
                source,
            })
    }

    /// The cross-namespace policy with the ReferenceGrants it judges by.
    pub fn consent(&self) -> crate::references::Consent<'_> {
        crate::references::Consent {
            policy: self.settings.cross_namespace,
            grants: &self.grants,
        }
    }

    /// The same context with another reconcile deadline (`--reconcile-deadline`).
    pub fn with_reconcile_deadline(mut self, deadline: Duration) -> Context {
        self.reconcile_deadline = deadline;
        self
    }

    /// The same context on another clock: tests share one with the Quay emulator's.
    pub fn with_clock(mut self, clock: Arc<crate::clock::Clock>) -> Context {
        self.clock = clock;
        self
    }
}

/// How many entries each per-ApiToken structure of the context holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemorySizes {
    /// Objects with transient failures on record.
    pub backoff: usize,
    /// Statuses remembered as last written.
    pub written: usize,
    /// Cleaned UIDs kept to ignore stale cached copies.
    pub cleaned: usize,
    /// Cached Quay token lists (one per account or application).
    pub liveness: usize,
    /// Registered controller scopes (one per watched namespace; not per ApiToken).
    pub scopes: usize,
    /// Result Secret writes whose watch events are not seen yet.
    pub own_writes: usize,
}

impl Context {
    /// Forgets what concerns an ApiToken the caches no longer hold (deleted, finalizer gone).
    pub fn forget(&self, uid: &str) {
        per_uid::forget(&self.per_uid(), uid);
    }

    /// Every per-ApiToken memory of the process, so that forgetting and sweeping reach each.
    fn per_uid(&self) -> [&dyn PerUid; 4] {
        [&self.backoff, &self.written, &self.events, &self.own_writes]
    }

    /// Drops every entry about ApiTokens that no cache holds, and the Quay token lists that
    /// no recorded token needs. Call it only once every scope has listed its ApiTokens: an
    /// empty cache would look as if all its ApiTokens had gone.
    pub fn sweep(&self) {
        let (uids, mut records) = self.peers.live();
        per_uid::sweep(&self.per_uid(), &|uid| uids.contains(uid));
        // Our own writes may be ahead of the caches (a token just minted).
        records.extend(self.written.collect(|s| s.token.clone()));
        self.liveness.retain_used(&records);
        let accounts = records
            .iter()
            .map(|r| (r.host.clone(), r.username.clone()))
            .collect();
        // An account without a record may be mid-way through its first mint: keep it while
        // it was used lately.
        self.quay.retain_accounts(&accounts, ACCOUNT_IDLE);
    }

    /// The sizes of the per-ApiToken structures; they return to zero when the ApiTokens go.
    pub fn memory_sizes(&self) -> MemorySizes {
        let (written, cleaned) = self.written.sizes();
        MemorySizes {
            backoff: self.backoff.len(),
            written,
            cleaned,
            liveness: self.liveness.len(),
            scopes: self.peers.len(),
            own_writes: self.own_writes.len(),
        }
    }
}

struct QuayMetrics(Arc<Metrics>);

impl crate::quay::RequestObserver for QuayMetrics {
    fn observe(&self, endpoint: &'static str, status: Option<u16>, elapsed: Duration) {
        self.0.quay_request(endpoint, status, elapsed);
    }
}
