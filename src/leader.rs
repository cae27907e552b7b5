//! Leader election on a `coordination.k8s.io/v1` Lease, with client-go's semantics.
//!
//! Why a module of our own rather than a crate: kube-runtime ships no leader election, and the
//! third-party crates differ in subtle ways (clock-skew handling, whether they ever give up).
//! This is the code that decides whether two replicas may write to Quay at once, so it is kept
//! small enough to audit: one pure [`decide`] function, pure Lease builders, and a loop.
//!
//! Safety rests on three rules. Every write is a `resourceVersion`-guarded replace (or a create),
//! so of two candidates racing for a free Lease exactly one succeeds. A holder is presumed dead
//! only after *we* have seen its record unchanged for its `leaseDurationSeconds`, measured on
//! our own monotonic clock, so clock skew between nodes does not matter. And a leader gives up
//! after `renew_deadline` without a successful renewal — before anyone may take over.

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use rand::Rng;
use tokio::sync::watch;
use tokio::time::Instant;

/// Where the Lease lives and how the election is timed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseSettings {
    /// Name of the Lease object.
    pub name: String,
    /// Namespace of the Lease object.
    pub namespace: String,
    /// This replica's identity, written as `holderIdentity`.
    pub identity: String,
    /// How long others wait for a silent holder before taking over.
    pub lease_duration: Duration,
    /// How long the leader keeps failing to renew before it gives up.
    pub renew_deadline: Duration,
    /// Interval between acquire or renew attempts.
    pub retry_period: Duration,
}

/// What a candidate should do with the Lease as it currently stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No Lease exists: create it with ourselves as holder.
    Create,
    /// The Lease is free or its holder is presumed dead: take it over.
    Acquire,
    /// We hold the Lease: renew it.
    Renew,
    /// Someone else holds a live Lease: try again later.
    Wait {
        /// The current holder.
        holder: String,
        /// How long until the holder is presumed dead if it stays silent.
        remaining: Duration,
    },
}

/// Decides, without I/O, what `identity` should do with `lease`, which has been seen unchanged
/// for `unchanged_for`; `default_duration` applies when the Lease does not state one.
pub fn decide(
    lease: Option<&Lease>,
    identity: &str,
    unchanged_for: Duration,
    default_duration: Duration,
) -> Decision {
    let Some(lease) = lease else {
        return Decision::Create;
    };
    let spec = lease.spec.as_ref();
    let holder = spec
        .and_then(|s| s.holder_identity.as_deref())
        .unwrap_or_default();
    if holder.is_empty() {
        return Decision::Acquire;
    }
    if holder == identity {
        return Decision::Renew;
    }
    let duration = spec
        .and_then(|s| s.lease_duration_seconds)
        .and_then(|secs| u64::try_from(secs).ok())
        .map_or(default_duration, Duration::from_secs);
    match duration.checked_sub(unchanged_for) {
        Some(remaining) if !remaining.is_zero() => Decision::Wait {
            holder: holder.to_owned(),
            remaining,
        },
        _ => Decision::Acquire,
    }
}

/// The Lease spec after `identity` acquires (`renewing == false`) or renews it at `now`.
pub fn claimed_spec(
    current: Option<&LeaseSpec>,
    settings: &LeaseSettings,
    renewing: bool,
    now: Timestamp,
) -> LeaseSpec {
    let transitions = current.and_then(|s| s.lease_transitions).unwrap_or(0);
    let acquire_time = if renewing {
        current.and_then(|s| s.acquire_time.clone())
    } else {
        None
    };
    LeaseSpec {
        holder_identity: Some(settings.identity.clone()),
        lease_duration_seconds: Some(whole_seconds(settings.lease_duration)),
        acquire_time: Some(acquire_time.unwrap_or(MicroTime(now))),
        renew_time: Some(MicroTime(now)),
        // Like client-go, any change of holder (including from a released Lease) is a transition.
        lease_transitions: Some(if renewing {
            transitions
        } else {
            transitions.saturating_add(1)
        }),
        ..current.cloned().unwrap_or_default()
    }
}

/// The Lease spec after its holder gives it up at `now`: no holder, so a standby takes over at
/// once instead of waiting for the lease to expire.
pub fn released_spec(current: &LeaseSpec, now: Timestamp) -> LeaseSpec {
    LeaseSpec {
        holder_identity: None,
        lease_duration_seconds: Some(1),
        acquire_time: None,
        renew_time: Some(MicroTime(now)),
        ..current.clone()
    }
}

/// Rounds up so that a sub-second setting never becomes a zero-length lease.
fn whole_seconds(duration: Duration) -> i32 {
    let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    i32::try_from(secs.max(1)).unwrap_or(i32::MAX)
}

/// Why a Lease operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Someone else changed or created the Lease first; we lost this round.
    #[error("the Lease was changed by another replica at the same time")]
    Conflict,
    /// The API server refused or could not be reached.
    #[error("the Kubernetes API failed: {0}")]
    Api(#[source] kube::Error),
    /// The API server did not answer in time.
    #[error("the Kubernetes API did not answer within {0:?}")]
    Timeout(Duration),
}

/// Why leader election stopped.
#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    /// Renewal failed for the whole renew deadline (transient: restart and campaign again; check
    /// API server reachability and RBAC on leases).
    #[error(
        "leadership of Lease {namespace}/{name} was lost: not renewed within {renew_deadline:?}; \
         another replica may now lead. Check the API server and the leases RBAC rule"
    )]
    Lost {
        /// Namespace of the Lease.
        namespace: String,
        /// Name of the Lease.
        name: String,
        /// The renew deadline that passed.
        renew_deadline: Duration,
    },
    /// Releasing the Lease on shutdown failed (transient: standbys take over when it expires).
    #[error(
        "could not release Lease {namespace}/{name}: {source}; standbys will take over when it expires"
    )]
    Release {
        /// Namespace of the Lease.
        namespace: String,
        /// Name of the Lease.
        name: String,
        /// What went wrong.
        #[source]
        source: StoreError,
    },
}

impl LeaderError {
    /// Both failures go away on their own or by restarting.
    pub fn is_transient(&self) -> bool {
        true
    }
}

/// Reads and writes the one Lease; the Kubernetes API in production.
pub trait LeaseStore: Send + Sync + 'static {
    /// Reads the Lease, `None` when it does not exist.
    fn get(&self) -> impl Future<Output = Result<Option<Lease>, StoreError>> + Send;
    /// Creates the Lease; [`StoreError::Conflict`] when it already exists.
    fn create(&self, lease: &Lease) -> impl Future<Output = Result<Lease, StoreError>> + Send;
    /// Replaces the Lease if its `resourceVersion` still matches, else [`StoreError::Conflict`].
    fn replace(&self, lease: &Lease) -> impl Future<Output = Result<Lease, StoreError>> + Send;
}

/// The Lease through the Kubernetes API.
#[derive(Clone)]
pub struct KubeLeases {
    api: Api<Lease>,
    name: String,
}

fn store_error(error: kube::Error) -> StoreError {
    match &error {
        kube::Error::Api(status) if status.is_conflict() || status.is_already_exists() => {
            StoreError::Conflict
        }
        _ => StoreError::Api(error),
    }
}

impl LeaseStore for KubeLeases {
    async fn get(&self) -> Result<Option<Lease>, StoreError> {
        self.api.get_opt(&self.name).await.map_err(store_error)
    }
    async fn create(&self, lease: &Lease) -> Result<Lease, StoreError> {
        self.api
            .create(&PostParams::default(), lease)
            .await
            .map_err(store_error)
    }
    async fn replace(&self, lease: &Lease) -> Result<Lease, StoreError> {
        self.api
            .replace(&self.name, &PostParams::default(), lease)
            .await
            .map_err(store_error)
    }
}

/// Campaigns for the Lease and keeps it; publishes "is leader" on a watch channel.
pub struct LeaderElector<S = KubeLeases> {
    store: S,
    settings: LeaseSettings,
    leading: watch::Sender<bool>,
}

impl LeaderElector<KubeLeases> {
    /// An elector for the Lease in `settings`, and the receiver of its "is leader" flag.
    pub fn new(client: kube::Client, settings: LeaseSettings) -> (Self, watch::Receiver<bool>) {
        let store = KubeLeases {
            api: Api::namespaced(client, &settings.namespace),
            name: settings.name.clone(),
        };
        Self::with_store(store, settings)
    }
}

/// Outcome of one acquire-or-renew round.
enum Round {
    /// We hold the Lease now.
    Holding,
    /// Another replica holds a live Lease.
    HeldByOther,
    /// Our write lost a race; read again next round.
    Conflict,
}

/// The resourceVersion we last saw and since when, on the monotonic clock.
struct Observed {
    resource_version: Option<String>,
    since: Instant,
}

impl<S: LeaseStore> LeaderElector<S> {
    /// An elector over any Lease store.
    pub fn with_store(store: S, settings: LeaseSettings) -> (Self, watch::Receiver<bool>) {
        let (leading, receiver) = watch::channel(false);
        (
            Self {
                store,
                settings,
                leading,
            },
            receiver,
        )
    }

    /// Campaigns until elected, then renews until `shutdown` completes (then releases the Lease
    /// and returns `Ok`) or renewal fails for `renew_deadline` (then returns [`LeaderError::Lost`]).
    ///
    /// Pass as `shutdown` a future that completes once the controller has stopped writing, so
    /// that a standby can never start while this replica still works.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), LeaderError> {
        tokio::pin!(shutdown);
        let mut observed = None;
        // Measured from before each request, so our deadline never ends later than the moment
        // others start counting the lease duration.
        let mut last_renewed = loop {
            let started = Instant::now();
            // A hung request must not keep a candidate from trying again.
            let attempt = tokio::time::timeout(
                self.settings.renew_deadline,
                self.try_acquire_or_renew(&mut observed),
            );
            let round = tokio::select! {
                () = &mut shutdown => return Ok(()),
                round = attempt => round.unwrap_or(Err(StoreError::Timeout(self.settings.renew_deadline))),
            };
            match round {
                Ok(Round::Holding) => break started,
                Ok(Round::HeldByOther | Round::Conflict) => {}
                Err(error) => {
                    tracing::warn!(%error, lease = %self.settings.name, "cannot acquire the leader Lease; retrying")
                }
            }
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                () = tokio::time::sleep(self.jittered_retry()) => {}
            }
        };
        self.set_leading(true);

        loop {
            let deadline = last_renewed + self.settings.renew_deadline;
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep_until(deadline) => return Err(self.lost()),
                () = tokio::time::sleep(self.settings.retry_period) => {}
            }
            let started = Instant::now();
            match tokio::time::timeout_at(deadline, self.try_acquire_or_renew(&mut observed)).await
            {
                Ok(Ok(Round::Holding)) => last_renewed = started,
                // Only a holder presumed dead is replaced, so someone else holding means we were
                // too slow: stop at once rather than wait for the deadline.
                Ok(Ok(Round::HeldByOther)) => return Err(self.lost()),
                Ok(Ok(Round::Conflict)) => {}
                Ok(Err(error)) => {
                    tracing::warn!(%error, lease = %self.settings.name, "cannot renew the leader Lease; retrying")
                }
                Err(_) => return Err(self.lost()),
            }
        }
        if let Err(error) = self.release().await {
            tracing::warn!(%error, "leaving without releasing the leader Lease");
        }
        Ok(())
    }

    /// Gives the Lease up if this replica holds it, so a standby takes over at once.
    pub async fn release(&self) -> Result<(), LeaderError> {
        self.set_leading(false);
        let release = async {
            let Some(mut lease) = self.store.get().await? else {
                return Ok(false);
            };
            let Some(spec) = lease.spec.as_ref() else {
                return Ok(false);
            };
            if spec.holder_identity.as_deref() != Some(self.settings.identity.as_str()) {
                return Ok(false);
            }
            lease.spec = Some(released_spec(spec, Timestamp::now()));
            self.store.replace(&lease).await.map(|_| true)
        };
        let released = tokio::time::timeout(self.settings.renew_deadline, release)
            .await
            .unwrap_or(Err(StoreError::Timeout(self.settings.renew_deadline)))
            .map_err(|source| LeaderError::Release {
                namespace: self.settings.namespace.clone(),
                name: self.settings.name.clone(),
                source,
            })?;
        if released {
            tracing::info!(lease = %self.settings.name, identity = %self.settings.identity, "released the leader Lease");
        }
        Ok(())
    }

    /// One round: read the Lease, decide, and write if we may.
    async fn try_acquire_or_renew(
        &self,
        observed: &mut Option<Observed>,
    ) -> Result<Round, StoreError> {
        let current = self.store.get().await?;
        let now = Instant::now();
        let version = current
            .as_ref()
            .and_then(|l| l.metadata.resource_version.clone());
        let unchanged_for = match observed {
            Some(seen) if seen.resource_version == version => now - seen.since,
            _ => {
                *observed = Some(Observed {
                    resource_version: version,
                    since: now,
                });
                Duration::ZERO
            }
        };
        let identity = &self.settings.identity;
        let decision = decide(
            current.as_ref(),
            identity,
            unchanged_for,
            self.settings.lease_duration,
        );
        let wall = Timestamp::now();
        let written = match &decision {
            Decision::Wait { holder, remaining } => {
                tracing::debug!(%holder, ?remaining, "the leader Lease is held by another replica");
                return Ok(Round::HeldByOther);
            }
            Decision::Create => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(self.settings.name.clone()),
                        namespace: Some(self.settings.namespace.clone()),
                        ..ObjectMeta::default()
                    },
                    spec: Some(claimed_spec(None, &self.settings, false, wall)),
                };
                self.store.create(&lease).await
            }
            Decision::Acquire | Decision::Renew => {
                let mut lease = current.clone().unwrap_or_default();
                let renewing = decision == Decision::Renew;
                lease.spec = Some(claimed_spec(
                    lease.spec.as_ref(),
                    &self.settings,
                    renewing,
                    wall,
                ));
                self.store.replace(&lease).await
            }
        };
        match written {
            Ok(lease) => {
                if decision != Decision::Renew {
                    let previous = current.and_then(|l| l.spec).and_then(|s| s.holder_identity);
                    tracing::info!(%identity, ?previous, lease = %self.settings.name, "acquired the leader Lease");
                }
                *observed = Some(Observed {
                    resource_version: lease.metadata.resource_version,
                    since: now,
                });
                Ok(Round::Holding)
            }
            Err(StoreError::Conflict) => Ok(Round::Conflict),
            Err(error) => Err(error),
        }
    }

    fn lost(&self) -> LeaderError {
        self.set_leading(false);
        let error = LeaderError::Lost {
            namespace: self.settings.namespace.clone(),
            name: self.settings.name.clone(),
            renew_deadline: self.settings.renew_deadline,
        };
        tracing::error!(%error, "stopped leading");
        error
    }

    fn set_leading(&self, leading: bool) {
        self.leading
            .send_if_modified(|current| std::mem::replace(current, leading) != leading);
    }

    /// client-go's jitter factor: spreads candidates so they do not retry in lockstep.
    fn jittered_retry(&self) -> Duration {
        self.settings
            .retry_period
            .mul_f64(1.0 + rand::rng().random_range(0.0..1.2))
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)] // a test failing loudly on a broken fixture is the point
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    use super::*;

    const ME: &str = "pod-a";
    const FIFTEEN: Duration = Duration::from_secs(15);

    fn lease(holder: Option<&str>, duration: Option<i32>, transitions: Option<i32>) -> Lease {
        Lease {
            metadata: ObjectMeta {
                name: Some("quay-apitoken-operator".to_owned()),
                resource_version: Some("7".to_owned()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: holder.map(str::to_owned),
                lease_duration_seconds: duration,
                lease_transitions: transitions,
                acquire_time: Some(MicroTime(ts(100))),
                renew_time: Some(MicroTime(ts(110))),
                ..LeaseSpec::default()
            }),
        }
    }

    fn ts(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + seconds).expect("valid timestamp")
    }

    fn settings(identity: &str, lease_ms: u64, renew_ms: u64, retry_ms: u64) -> LeaseSettings {
        LeaseSettings {
            name: "quay-apitoken-operator".to_owned(),
            namespace: "operators".to_owned(),
            identity: identity.to_owned(),
            lease_duration: Duration::from_millis(lease_ms),
            renew_deadline: Duration::from_millis(renew_ms),
            retry_period: Duration::from_millis(retry_ms),
        }
    }

    /// The first replica ever started creates the Lease.
    #[test]
    fn missing_lease_is_created() {
        assert_eq!(decide(None, ME, Duration::ZERO, FIFTEEN), Decision::Create);
    }

    /// A released Lease (no or empty holder) is taken at once, without waiting for expiry.
    #[test]
    fn free_lease_is_acquired_immediately() {
        for holder in [None, Some("")] {
            let current = lease(holder, Some(15), Some(3));
            assert_eq!(
                decide(Some(&current), ME, Duration::ZERO, FIFTEEN),
                Decision::Acquire
            );
        }
        let no_spec = Lease {
            spec: None,
            ..lease(None, None, None)
        };
        assert_eq!(
            decide(Some(&no_spec), ME, Duration::ZERO, FIFTEEN),
            Decision::Acquire
        );
    }

    /// Our own record is renewed, also after a restart with the same pod name.
    #[test]
    fn own_lease_is_renewed() {
        let current = lease(Some(ME), Some(15), Some(1));
        assert_eq!(
            decide(Some(&current), ME, Duration::ZERO, FIFTEEN),
            Decision::Renew
        );
        assert_eq!(
            decide(Some(&current), ME, Duration::from_secs(60), FIFTEEN),
            Decision::Renew
        );
    }

    /// A live holder is left alone until its record has been silent for its lease duration.
    #[test]
    fn live_holder_is_waited_for() {
        let current = lease(Some("pod-b"), Some(15), Some(1));
        assert_eq!(
            decide(Some(&current), ME, Duration::from_secs(4), FIFTEEN),
            Decision::Wait {
                holder: "pod-b".to_owned(),
                remaining: Duration::from_secs(11)
            }
        );
        assert_eq!(
            decide(Some(&current), ME, Duration::from_millis(14_999), FIFTEEN),
            Decision::Wait {
                holder: "pod-b".to_owned(),
                remaining: Duration::from_millis(1)
            }
        );
    }

    /// A holder silent for its whole lease duration is presumed dead and replaced.
    #[test]
    fn silent_holder_is_replaced_after_its_lease_duration() {
        let current = lease(Some("pod-b"), Some(15), Some(1));
        assert_eq!(
            decide(Some(&current), ME, FIFTEEN, FIFTEEN),
            Decision::Acquire
        );
        assert_eq!(
            decide(Some(&current), ME, Duration::from_secs(99), FIFTEEN),
            Decision::Acquire
        );
    }

    /// The holder's own stated duration counts, not ours; ours is only the fallback.
    #[test]
    fn holder_duration_takes_precedence_over_ours() {
        let long = lease(Some("pod-b"), Some(60), None);
        assert!(matches!(
            decide(Some(&long), ME, Duration::from_secs(30), FIFTEEN),
            Decision::Wait { .. }
        ));
        let unstated = lease(Some("pod-b"), None, None);
        assert_eq!(
            decide(Some(&unstated), ME, Duration::from_secs(30), FIFTEEN),
            Decision::Acquire
        );
        assert!(matches!(
            decide(Some(&unstated), ME, Duration::from_secs(5), FIFTEEN),
            Decision::Wait { .. }
        ));
    }

    /// Taking over records a new acquire time and counts one more transition.
    #[test]
    fn acquiring_sets_holder_times_and_transitions() {
        let current = lease(Some("pod-b"), Some(15), Some(3));
        let spec = claimed_spec(
            current.spec.as_ref(),
            &settings(ME, 15_000, 10_000, 2_000),
            false,
            ts(200),
        );
        assert_eq!(spec.holder_identity.as_deref(), Some(ME));
        assert_eq!(spec.lease_duration_seconds, Some(15));
        assert_eq!(spec.acquire_time, Some(MicroTime(ts(200))));
        assert_eq!(spec.renew_time, Some(MicroTime(ts(200))));
        assert_eq!(spec.lease_transitions, Some(4));
        let fresh = claimed_spec(None, &settings(ME, 15_000, 10_000, 2_000), false, ts(5));
        assert_eq!(fresh.lease_transitions, Some(1));
        assert_eq!(fresh.acquire_time, Some(MicroTime(ts(5))));
    }

    /// Renewing moves only renewTime, so acquireTime still tells when leadership began.
    #[test]
    fn renewing_keeps_acquire_time_and_transitions() {
        let current = lease(Some(ME), Some(15), Some(3));
        let spec = claimed_spec(
            current.spec.as_ref(),
            &settings(ME, 15_000, 10_000, 2_000),
            true,
            ts(300),
        );
        assert_eq!(spec.acquire_time, Some(MicroTime(ts(100))));
        assert_eq!(spec.renew_time, Some(MicroTime(ts(300))));
        assert_eq!(spec.lease_transitions, Some(3));
    }

    /// A sub-second setting must not write a zero duration that makes the Lease free at once.
    #[test]
    fn lease_duration_is_rounded_up_to_whole_seconds() {
        let spec = claimed_spec(None, &settings(ME, 1_500, 1_000, 100), false, ts(0));
        assert_eq!(spec.lease_duration_seconds, Some(2));
        assert_eq!(whole_seconds(Duration::from_millis(10)), 1);
    }

    /// Releasing clears the holder but keeps the transition count.
    #[test]
    fn releasing_clears_the_holder() {
        let current = lease(Some(ME), Some(15), Some(3));
        let spec = released_spec(current.spec.as_ref().expect("spec"), ts(400));
        assert_eq!(spec.holder_identity, None);
        assert_eq!(spec.lease_transitions, Some(3));
        assert_eq!(spec.renew_time, Some(MicroTime(ts(400))));
        let released = Lease {
            spec: Some(spec),
            ..current
        };
        assert_eq!(
            decide(Some(&released), "pod-b", Duration::ZERO, FIFTEEN),
            Decision::Acquire
        );
    }

    /// An in-memory Lease with the API server's optimistic concurrency, for testing the loop.
    #[derive(Clone, Default)]
    struct MemoryLeases {
        lease: Arc<Mutex<Option<Lease>>>,
        version: Arc<AtomicU64>,
        down: Arc<AtomicBool>,
    }

    impl MemoryLeases {
        fn check_up(&self) -> Result<(), StoreError> {
            if self.down.load(Ordering::SeqCst) {
                let status =
                    kube::core::Status::failure("unavailable", "ServiceUnavailable").with_code(503);
                return Err(StoreError::Api(kube::Error::Api(status.boxed())));
            }
            Ok(())
        }
        fn stored(&self, mut lease: Lease) -> Lease {
            let version = self.version.fetch_add(1, Ordering::SeqCst) + 1;
            lease.metadata.resource_version = Some(version.to_string());
            *self.lease.lock().expect("lock") = Some(lease.clone());
            lease
        }
        fn spec(&self) -> LeaseSpec {
            self.lease
                .lock()
                .expect("lock")
                .clone()
                .and_then(|l| l.spec)
                .unwrap_or_default()
        }
        fn holder(&self) -> Option<String> {
            self.spec().holder_identity
        }
    }

    impl LeaseStore for MemoryLeases {
        async fn get(&self) -> Result<Option<Lease>, StoreError> {
            self.check_up()?;
            Ok(self.lease.lock().expect("lock").clone())
        }
        async fn create(&self, lease: &Lease) -> Result<Lease, StoreError> {
            self.check_up()?;
            if self.lease.lock().expect("lock").is_some() {
                return Err(StoreError::Conflict);
            }
            Ok(self.stored(lease.clone()))
        }
        async fn replace(&self, lease: &Lease) -> Result<Lease, StoreError> {
            self.check_up()?;
            let current = self.lease.lock().expect("lock").clone();
            let current_version = current.and_then(|l| l.metadata.resource_version);
            if current_version != lease.metadata.resource_version {
                return Err(StoreError::Conflict);
            }
            Ok(self.stored(lease.clone()))
        }
    }

    struct Candidate {
        leading: watch::Receiver<bool>,
        stop: tokio::sync::oneshot::Sender<()>,
        task: tokio::task::JoinHandle<Result<(), LeaderError>>,
    }

    fn start(store: &MemoryLeases, settings: LeaseSettings) -> Candidate {
        let (elector, leading) = LeaderElector::with_store(store.clone(), settings);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(elector.run(async {
            let _ = stopped.await;
        }));
        Candidate {
            leading,
            stop,
            task,
        }
    }

    async fn wait_leading(candidate: &mut Candidate, within: Duration) {
        tokio::time::timeout(within, candidate.leading.wait_for(|leading| *leading))
            .await
            .expect("became leader in time")
            .expect("elector alive");
    }

    /// Two replicas started together: exactly one leads, and keeps leading while it renews.
    #[tokio::test]
    async fn only_one_of_two_candidates_leads() {
        let store = MemoryLeases::default();
        let mut a = start(&store, settings("pod-a", 1_000, 600, 100));
        let mut b = start(&store, settings("pod-b", 1_000, 600, 100));
        tokio::select! {
            () = wait_leading(&mut a, Duration::from_secs(3)) => {}
            () = wait_leading(&mut b, Duration::from_secs(3)) => {}
        }
        let first = store.holder().expect("a holder");
        // Several lease durations: the leader renews, the standby never takes over.
        for _ in 0..25 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert!(
                !(*a.leading.borrow() && *b.leading.borrow()),
                "two leaders at once"
            );
            assert_eq!(store.holder().as_deref(), Some(first.as_str()));
        }
        assert_eq!(store.spec().lease_transitions, Some(1));
    }

    /// A graceful shutdown hands over at once instead of after the lease duration.
    #[tokio::test]
    async fn graceful_shutdown_releases_to_the_standby() {
        let store = MemoryLeases::default();
        let mut a = start(&store, settings("pod-a", 5_000, 3_000, 100));
        wait_leading(&mut a, Duration::from_secs(2)).await;
        let mut b = start(&store, settings("pod-b", 5_000, 3_000, 100));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!*b.leading.borrow());

        let handed_over = Instant::now();
        a.stop.send(()).expect("a running");
        a.task.await.expect("no panic").expect("clean shutdown");
        assert!(!*a.leading.borrow(), "a stopped leading");
        // Well under the 5 s lease duration: the standby saw the holder cleared.
        wait_leading(&mut b, Duration::from_secs(2)).await;
        assert!(handed_over.elapsed() < Duration::from_secs(2));
        assert_eq!(store.holder().as_deref(), Some("pod-b"));
        assert_eq!(store.spec().lease_transitions, Some(2));
    }

    /// A crashed leader (no release) is replaced only once its lease has run out.
    #[tokio::test]
    async fn crashed_leader_is_replaced_after_the_lease_duration() {
        let store = MemoryLeases::default();
        let mut a = start(&store, settings("pod-a", 1_000, 600, 100));
        wait_leading(&mut a, Duration::from_secs(2)).await;
        a.task.abort();
        let crashed = Instant::now();
        let mut b = start(&store, settings("pod-b", 1_000, 600, 100));
        wait_leading(&mut b, Duration::from_secs(4)).await;
        let waited = crashed.elapsed();
        assert!(
            waited >= Duration::from_secs(1),
            "took over after only {waited:?}"
        );
        assert_eq!(store.holder().as_deref(), Some("pod-b"));
    }

    /// A leader cut off from the API server stops before anyone else may start.
    #[tokio::test]
    async fn leader_gives_up_when_renewal_fails_for_the_renew_deadline() {
        let store = MemoryLeases::default();
        let mut a = start(&store, settings("pod-a", 1_000, 600, 100));
        wait_leading(&mut a, Duration::from_secs(2)).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
        store.down.store(true, Ordering::SeqCst);
        let outage = Instant::now();
        let result = tokio::time::timeout(Duration::from_secs(3), a.task)
            .await
            .expect("gave up in time")
            .expect("no panic");
        let after = outage.elapsed();
        assert!(
            matches!(result, Err(LeaderError::Lost { .. })),
            "{result:?}"
        );
        assert!(!*a.leading.borrow(), "lost leadership is published");
        // The deadline counts from the last successful renewal (at most one retry period before
        // the outage), and must end before the 1 s lease would let a standby in.
        assert!(
            after >= Duration::from_millis(450) && after < Duration::from_millis(1_000),
            "{after:?}"
        );
    }

    /// Seeing another holder while leading (e.g. after a long pause) means stop at once.
    #[tokio::test]
    async fn leader_stops_when_another_holder_appears() {
        let store = MemoryLeases::default();
        let mut a = start(&store, settings("pod-a", 5_000, 3_000, 100));
        wait_leading(&mut a, Duration::from_secs(2)).await;
        let mut stolen = store.lease.lock().expect("lock").clone().expect("lease");
        if let Some(spec) = stolen.spec.as_mut() {
            spec.holder_identity = Some("pod-b".to_owned());
        }
        store.stored(stolen);
        let result = tokio::time::timeout(Duration::from_secs(1), a.task)
            .await
            .expect("stopped promptly")
            .expect("no panic");
        assert!(
            matches!(result, Err(LeaderError::Lost { .. })),
            "{result:?}"
        );
        assert!(!*a.leading.borrow());
    }

    /// Releasing a Lease someone else holds must not touch it.
    #[tokio::test]
    async fn release_leaves_other_holders_alone() {
        let store = MemoryLeases::default();
        store.stored(lease(Some("pod-b"), Some(15), Some(2)));
        let (elector, _leading) =
            LeaderElector::with_store(store.clone(), settings(ME, 15_000, 10_000, 2_000));
        elector.release().await.expect("nothing to release");
        assert_eq!(store.holder().as_deref(), Some("pod-b"));
        assert_eq!(store.version.load(Ordering::SeqCst), 1, "no write happened");
    }
}
