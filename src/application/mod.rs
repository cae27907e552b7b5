//! The `Application` resource: an OAuth application of a Quay organization, declared in
//! Kubernetes, with its client ID and secret delivered in a Secret that ApiTokens read.
//!
//! Built like the ApiToken side: pure decisions (`plan`, `secret`, `status`), then idempotent
//! actions (`actions`, `cleanup`) that write the Secret and status through `crate::owned`, the
//! client ID recorded in status with the intent first, so that a crash never leads to a second
//! application.

mod actions;
mod cleanup;
pub mod context;
pub mod controller;
pub mod crd;
pub mod error;
pub mod inputs;
mod org_locks;
pub mod plan;
mod reconcile;
pub mod secret;
pub mod status;

pub use controller::run;
pub use crd::{
    AppRecord, AppSecretRef, Application, ApplicationSpec, ApplicationStatus, CRD_FILE,
    PendingCreate, append_crd, crd_yaml,
};
pub use error::ApplicationError;

/// Now, as status records times (RFC 3339, whole seconds).
fn now() -> String {
    crate::clock::stamp_of(jiff::Timestamp::now())
}
