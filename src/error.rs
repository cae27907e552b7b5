//! Why a reconcile of one ApiToken failed, in sentences that name the field or key to fix.

use crate::connection::ConnectionSecretError;
use crate::object_error::ObjectError;
use crate::quay::{QuayError, SettingsError};

/// A failed reconcile or cleanup of one ApiToken.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The connection Secret is missing, unusable, or names a host off the allow-list.
    #[error(transparent)]
    Connection(#[from] ConnectionSecretError<SettingsError>),
    /// The client ID Secret does not exist.
    #[error("clientIdFrom: {reference}: secret not found; create it or use clientId")]
    ClientIdSecretMissing { reference: String },
    /// The client ID Secret lacks the key.
    #[error("clientIdFrom: {reference}: key {key} not found; add it or set clientIdFrom.key")]
    ClientIdKeyMissing { reference: String, key: String },
    /// The client ID key does not hold a client ID; its value is never shown (it may be a password).
    #[error(
        "clientIdFrom: {reference} key {key}: the value is not a Quay client ID (1 to 64 letters and digits), and is not shown in case it is a secret; check clientIdFrom.key"
    )]
    ClientIdKeyInvalid { reference: String, key: String },
    /// The inline client ID cannot be one.
    #[error("clientId: `{value}` is not a Quay client ID (1 to 64 letters and digits)")]
    ClientIdInvalid { value: String },
    /// Quay has no application with the client ID a Secret holds (named, never quoted).
    #[error(
        "Quay has no OAuth application with the client ID in {named}; check that key or create the application"
    )]
    UnknownClientIdFrom { named: String },
    /// The result Secret exists and belongs to someone else.
    #[error("retSecretRef: {secret}: {detail}; choose another retSecretRef.name")]
    SecretConflict { secret: String, detail: String },
    /// A lifetime field (expiration, renewBefore, gracePeriod) cannot be used.
    #[error("{field}: {detail}")]
    InvalidLifetime { field: &'static str, detail: String },
    /// Quay refused or failed.
    #[error(transparent)]
    Quay(#[from] QuayError),
    /// A failure both kinds share: a refused reference, the result Secret's namespace or
    /// name, the Kubernetes API, the deadline.
    #[error(transparent)]
    Object(#[from] ObjectError),
    /// The cached copy a mint was decided on was out of date.
    #[error("the cached copy of the ApiToken was out of date; reconciling again with a fresh one")]
    StaleRead,
    /// A test stopped the reconcile at a fault point (only with the `fault-points` feature).
    #[error("stopped at fault point {0}, as a crash would stop it")]
    FaultInjected(&'static str),
    /// The object lacks fields every stored object has.
    #[error("the ApiToken has no {0}; it was not read from the API server")]
    Malformed(&'static str),
}

impl ReconcileError {
    /// Whether retrying with the same inputs may succeed; permanent errors wait for a change.
    pub fn is_transient(&self) -> bool {
        match self {
            ReconcileError::Quay(e) => e.is_transient(),
            ReconcileError::Object(e) => e.is_transient(),
            ReconcileError::FaultInjected(_) | ReconcileError::StaleRead => true,
            _ => false,
        }
    }

    /// Whether Quay rejected the sign-in itself (a password or account it will keep
    /// rejecting until the connection Secret changes).
    pub fn is_rejected_sign_in(&self) -> bool {
        matches!(
            self,
            ReconcileError::Quay(
                QuayError::InvalidCredentials { .. } | QuayError::UserDisabled { .. }
            )
        )
    }

    /// A CamelCase reason for conditions, events and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            ReconcileError::Connection(e) => e.reason(),
            ReconcileError::ClientIdSecretMissing { .. } => "ClientIdSecretMissing",
            ReconcileError::ClientIdKeyMissing { .. }
            | ReconcileError::ClientIdKeyInvalid { .. } => "ClientIdKeyMissing",
            ReconcileError::ClientIdInvalid { .. } => "ClientIdInvalid",
            ReconcileError::UnknownClientIdFrom { .. } => "UnknownClientId",
            ReconcileError::SecretConflict { .. } => "SecretConflict",
            ReconcileError::InvalidLifetime { .. } => "InvalidLifetime",
            ReconcileError::Quay(e) => e.reason(),
            ReconcileError::Object(e) => e.reason(),
            ReconcileError::Malformed(_) => "Malformed",
            ReconcileError::FaultInjected(_) => "FaultInjected",
            ReconcileError::StaleRead => "StaleRead",
        }
    }
}

crate::object_error::kind_error!(ReconcileError, "ApiToken");

impl From<crate::fault_points::Stopped> for ReconcileError {
    fn from(stopped: crate::fault_points::Stopped) -> Self {
        ReconcileError::FaultInjected(stopped.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::references::{ReferenceError, Refusal, Refused};

    /// A refused reference becomes a permanent CrossNamespaceDenied that says what would allow
    /// it; one refused only because the grants are not listed yet is retried.
    #[test]
    fn a_refused_reference_names_its_field_and_what_would_allow_it() {
        let refused = |why| Refused {
            field: "clientIdFrom",
            namespace: "b".into(),
            why: Box::new(why),
        };
        let error = ReconcileError::from(ReferenceError::from(refused(Refusal::ApiMissing)));
        assert_eq!(error.reason(), "CrossNamespaceDenied");
        assert!(!error.is_transient());
        let missing = error.to_string();
        assert!(
            missing.starts_with("clientIdFrom: namespace b is not this ApiToken's namespace")
                && missing.contains("install the Gateway API ReferenceGrant CRD")
                && missing.contains("--cross-namespace-refs=allow"),
            "{missing}"
        );
        assert!(ReconcileError::from(refused(Refusal::NotLoaded)).is_transient());
        let unread = ReconcileError::from(ReferenceError::NoNamespace);
        assert_eq!(unread.reason(), "Malformed");
    }
}
