//! The loop: campaign until elected, renew on every retry period, give up after the renew
//! deadline, release the Lease on shutdown. It owns all the timing; each round's reading,
//! deciding and writing is in `round`.

use std::future::Future;
use std::time::Duration;

use rand::Rng;
use tokio::sync::watch;
use tokio::time::Instant;

use super::decision::Observation;
use super::round::{self, Round};
use super::settings::LeaseSettings;
use super::store::{KubeLeases, LeaseStore, StoreError};

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

/// Campaigns for the Lease and keeps it; publishes "is leader" on a watch channel.
pub struct LeaderElector<S = KubeLeases> {
    store: S,
    settings: LeaseSettings,
    leading: watch::Sender<bool>,
}

impl LeaderElector<KubeLeases> {
    /// An elector for the Lease in `settings`, and the receiver of its "is leader" flag.
    pub fn new(client: kube::Client, settings: LeaseSettings) -> (Self, watch::Receiver<bool>) {
        let store = KubeLeases::new(client, &settings.namespace, &settings.name);
        Self::with_store(store, settings)
    }
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
        let mut observed = Observation::default();
        // Measured from before each request, so our deadline never ends later than the moment
        // others start counting the lease duration.
        let mut last_renewed = loop {
            let started = Instant::now();
            // A hung request must not keep a candidate from trying again.
            let attempt = tokio::time::timeout(
                self.settings.renew_deadline,
                round::acquire_or_renew(&self.store, &self.settings, &mut observed),
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
            let deadline = Instant::from_std(crate::clock::deadline_after(
                last_renewed.into_std(),
                self.settings.renew_deadline,
            ));
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep_until(deadline) => return Err(self.lost()),
                () = tokio::time::sleep(self.settings.retry_period) => {}
            }
            let started = Instant::now();
            let attempt = round::acquire_or_renew(&self.store, &self.settings, &mut observed);
            match tokio::time::timeout_at(deadline, attempt).await {
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
        let release = round::release(&self.store, &self.settings);
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
mod tests;
