//! Fixtures for the leader tests: Lease values, settings, and an in-memory Lease store.

#![allow(clippy::expect_used)] // a test failing loudly on a broken fixture is the point

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;

use super::settings::LeaseSettings;
use super::store::{LeaseStore, StoreError};

pub(super) const ME: &str = "pod-a";
pub(super) const FIFTEEN: Duration = Duration::from_secs(15);

pub(super) fn lease(
    holder: Option<&str>,
    duration: Option<i32>,
    transitions: Option<i32>,
) -> Lease {
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

pub(super) fn ts(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + seconds).expect("valid timestamp")
}

pub(super) fn settings(
    identity: &str,
    lease_ms: u64,
    renew_ms: u64,
    retry_ms: u64,
) -> LeaseSettings {
    LeaseSettings {
        name: "quay-apitoken-operator".to_owned(),
        namespace: "operators".to_owned(),
        identity: identity.to_owned(),
        lease_duration: Duration::from_millis(lease_ms),
        renew_deadline: Duration::from_millis(renew_ms),
        retry_period: Duration::from_millis(retry_ms),
    }
}

/// An in-memory Lease with the API server's optimistic concurrency, for testing the loop.
#[derive(Clone, Default)]
pub(super) struct MemoryLeases {
    pub(super) lease: Arc<Mutex<Option<Lease>>>,
    pub(super) version: Arc<AtomicU64>,
    pub(super) down: Arc<AtomicBool>,
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
    pub(super) fn stored(&self, mut lease: Lease) -> Lease {
        let version = self.version.fetch_add(1, Ordering::SeqCst) + 1;
        lease.metadata.resource_version = Some(version.to_string());
        *self.lease.lock().expect("lock") = Some(lease.clone());
        lease
    }
    pub(super) fn spec(&self) -> LeaseSpec {
        self.lease
            .lock()
            .expect("lock")
            .clone()
            .and_then(|l| l.spec)
            .unwrap_or_default()
    }
    pub(super) fn holder(&self) -> Option<String> {
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
