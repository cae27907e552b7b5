//! The Lease store: reads and guarded writes of the one Lease, through the Kubernetes API in
//! production.

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, PostParams};

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

impl KubeLeases {
    /// The Lease `name` in `namespace`.
    pub(super) fn new(client: kube::Client, namespace: &str, name: &str) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            name: name.to_owned(),
        }
    }
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
