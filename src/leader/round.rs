//! One round against the store: read the Lease, decide, and write if we may; and the release
//! on shutdown. No timing here: the elector bounds each round and spaces them out.

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use tokio::time::Instant;

use super::decision::{Decision, Observation, decide};
use super::settings::LeaseSettings;
use super::spec::{claimed_spec, released_spec};
use super::store::{LeaseStore, StoreError};

/// Outcome of one acquire-or-renew round.
pub(super) enum Round {
    /// We hold the Lease now.
    Holding,
    /// Another replica holds a live Lease.
    HeldByOther,
    /// Our write lost a race; read again next round.
    Conflict,
}

/// One round: read the Lease, decide, and write if we may.
pub(super) async fn acquire_or_renew<S: LeaseStore>(
    store: &S,
    settings: &LeaseSettings,
    observed: &mut Observation,
) -> Result<Round, StoreError> {
    let current = store.get().await?;
    let now = Instant::now();
    let version = current
        .as_ref()
        .and_then(|l| l.metadata.resource_version.clone());
    let unchanged_for = observed.unchanged_for(version, now);
    let identity = &settings.identity;
    let decision = decide(
        current.as_ref(),
        identity,
        unchanged_for,
        settings.lease_duration,
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
                    name: Some(settings.name.clone()),
                    namespace: Some(settings.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(claimed_spec(None, settings, false, wall)),
            };
            store.create(&lease).await
        }
        Decision::Acquire | Decision::Renew => {
            let mut lease = current.clone().unwrap_or_default();
            let renewing = decision == Decision::Renew;
            lease.spec = Some(claimed_spec(lease.spec.as_ref(), settings, renewing, wall));
            store.replace(&lease).await
        }
    };
    match written {
        Ok(lease) => {
            if decision != Decision::Renew {
                let previous = current.and_then(|l| l.spec).and_then(|s| s.holder_identity);
                tracing::info!(%identity, ?previous, lease = %settings.name, "acquired the leader Lease");
            }
            observed.wrote(lease.metadata.resource_version, now);
            Ok(Round::Holding)
        }
        Err(StoreError::Conflict) => Ok(Round::Conflict),
        Err(error) => Err(error),
    }
}

/// Clears the holder if `settings.identity` holds the Lease; `true` when it did.
pub(super) async fn release<S: LeaseStore>(
    store: &S,
    settings: &LeaseSettings,
) -> Result<bool, StoreError> {
    let Some(mut lease) = store.get().await? else {
        return Ok(false);
    };
    let Some(spec) = lease.spec.as_ref() else {
        return Ok(false);
    };
    if spec.holder_identity.as_deref() != Some(settings.identity.as_str()) {
        return Ok(false);
    }
    lease.spec = Some(released_spec(spec, Timestamp::now()));
    store.replace(&lease).await.map(|_| true)
}
