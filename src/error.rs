//! Why a reconcile of one ApiToken failed, in sentences that name the field or key to fix.

use crate::quay::{QuayError, SettingsError};
use crate::references::{ReferenceError, Refused};

/// A failed reconcile or cleanup of one ApiToken.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The connection Secret does not exist.
    #[error(
        "connSecretRef: {reference}: secret not found; create it with host, username and password"
    )]
    ConnectionSecretMissing { reference: String },
    /// The connection Secret exists but a key is missing or wrong.
    #[error("connSecretRef: {reference}: {source}")]
    InvalidConnectionSecret {
        reference: String,
        source: SettingsError,
    },
    /// The connection Secret's host is not on the operator's allow-list.
    #[error("connSecretRef: {reference}: {source}")]
    HostNotAllowed {
        reference: String,
        source: crate::hosts::HostRefused,
    },
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
    /// A reference points to another namespace that the cross-namespace policy does not let
    /// this ApiToken use (deny, or no ReferenceGrant there under grant).
    #[error("{field}: namespace {namespace} is not this ApiToken's namespace, and {why}")]
    CrossNamespaceDenied {
        field: &'static str,
        namespace: String,
        why: Box<crate::references::Refusal>,
    },
    /// The result Secret exists and belongs to someone else.
    #[error("retSecretRef: {secret}: {detail}; choose another retSecretRef.name")]
    SecretConflict { secret: String, detail: String },
    /// The result Secret was created by someone else after it was found absent; it was left alone.
    #[error(
        "retSecretRef: {secret}: a Secret of that name appeared while this operator was about to create it, and was left untouched; if it is not this ApiToken's, choose another retSecretRef.name"
    )]
    SecretAppeared { secret: String },
    /// The namespace the result Secret goes to does not exist.
    #[error(
        "retSecretRef.namespace: namespace {namespace} does not exist; create it or change retSecretRef.namespace"
    )]
    ResultNamespaceMissing { namespace: String },
    /// A lifetime field (expiration, renewBefore, gracePeriod) cannot be used.
    #[error("{field}: {detail}")]
    InvalidLifetime { field: &'static str, detail: String },
    /// Quay refused or failed.
    #[error(transparent)]
    Quay(#[from] QuayError),
    /// The Kubernetes API failed.
    #[error("cannot {action}: {source}")]
    Kube {
        action: &'static str,
        source: kube::Error,
    },
    /// The cached copy a mint was decided on was out of date.
    #[error("the cached copy of the ApiToken was out of date; reconciling again with a fresh one")]
    StaleRead,
    /// The reconcile worked past its deadline in its slot and was stopped.
    #[error(transparent)]
    Overran(#[from] crate::controller::slots::Overran),
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
            // The next reconcile checks ownership again; a namespace can be created any time.
            ReconcileError::SecretAppeared { .. }
            | ReconcileError::ResultNamespaceMissing { .. } => true,
            ReconcileError::Kube { source, .. } => {
                !matches!(source, kube::Error::Api(s) if s.code == 403 || s.code == 422)
            }
            ReconcileError::FaultInjected(_)
            | ReconcileError::StaleRead
            | ReconcileError::Overran(_) => true,
            ReconcileError::CrossNamespaceDenied { why, .. } => why.is_transient(),
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
            ReconcileError::ConnectionSecretMissing { .. } => "ConnectionSecretMissing",
            ReconcileError::InvalidConnectionSecret { .. } => "InvalidConnectionSecret",
            ReconcileError::HostNotAllowed { .. } => "HostNotAllowed",
            ReconcileError::ClientIdSecretMissing { .. } => "ClientIdSecretMissing",
            ReconcileError::ClientIdKeyMissing { .. }
            | ReconcileError::ClientIdKeyInvalid { .. } => "ClientIdKeyMissing",
            ReconcileError::ClientIdInvalid { .. } => "ClientIdInvalid",
            ReconcileError::UnknownClientIdFrom { .. } => "UnknownClientId",
            ReconcileError::CrossNamespaceDenied { .. } => "CrossNamespaceDenied",
            ReconcileError::SecretConflict { .. } => "SecretConflict",
            ReconcileError::SecretAppeared { .. } => "SecretAppeared",
            ReconcileError::ResultNamespaceMissing { .. } => "ResultNamespaceMissing",
            ReconcileError::InvalidLifetime { .. } => "InvalidLifetime",
            ReconcileError::Quay(e) => e.reason(),
            ReconcileError::Kube { .. } => "KubernetesApiError",
            ReconcileError::Malformed(_) => "Malformed",
            ReconcileError::FaultInjected(_) => "FaultInjected",
            ReconcileError::StaleRead => "StaleRead",
            ReconcileError::Overran(_) => "DeadlineExceeded",
        }
    }

    /// Wraps a Kubernetes API error with what was being done.
    pub fn kube(action: &'static str) -> impl FnOnce(kube::Error) -> ReconcileError {
        move |source| ReconcileError::Kube { action, source }
    }
}

crate::owned::into_kind_error!(ReconcileError);

impl From<Refused> for ReconcileError {
    fn from(r: Refused) -> Self {
        ReconcileError::CrossNamespaceDenied {
            field: r.field,
            namespace: r.namespace,
            why: r.why,
        }
    }
}

impl From<ReferenceError> for ReconcileError {
    fn from(e: ReferenceError) -> Self {
        match e {
            ReferenceError::NoNamespace => ReconcileError::Malformed("namespace"),
            ReferenceError::Refused(r) => r.into(),
        }
    }
}

impl From<crate::fault_points::Stopped> for ReconcileError {
    fn from(stopped: crate::fault_points::Stopped) -> Self {
        ReconcileError::FaultInjected(stopped.0)
    }
}

/// The finalizer helper wraps our errors; unwrapping them lets status, events and metrics see
/// the cause.
impl From<kube::runtime::finalizer::Error<ReconcileError>> for ReconcileError {
    fn from(e: kube::runtime::finalizer::Error<ReconcileError>) -> Self {
        use kube::runtime::finalizer::Error;
        match e {
            Error::ApplyFailed(e) | Error::CleanupFailed(e) => e,
            Error::AddFinalizer(source) | Error::RemoveFinalizer(source) => ReconcileError::Kube {
                action: "update the finalizer",
                source,
            },
            Error::UnnamedObject => ReconcileError::Malformed("name"),
            Error::InvalidFinalizer => ReconcileError::Malformed("valid finalizer name"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::references::Refusal;

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
