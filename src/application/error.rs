//! Why a reconcile of one Application failed, in sentences that name the field or key to fix.

use crate::quay::{AppApiError, ConnectionError};

/// A failed reconcile or cleanup of one Application.
#[derive(Debug, thiserror::Error)]
pub enum ApplicationError {
    /// The connection Secret does not exist.
    #[error(
        "connSecretRef: {reference}: secret not found; create it with host and token, or host, \
         username and password"
    )]
    ConnectionSecretMissing { reference: String },
    /// The connection Secret exists but a key is missing or wrong.
    #[error("connSecretRef: {reference}: {source}")]
    InvalidConnectionSecret {
        reference: String,
        source: ConnectionError,
    },
    /// The connection Secret's host is not on the operator's allow-list.
    #[error("connSecretRef: {reference}: {source}")]
    HostNotAllowed {
        reference: String,
        source: crate::hosts::HostRefused,
    },
    /// A reference points to another namespace that the cross-namespace policy does not let
    /// this Application use (deny, or no ReferenceGrant there under grant).
    #[error("{field}: namespace {namespace} is not this Application's namespace, and {why}")]
    CrossNamespaceDenied {
        field: &'static str,
        namespace: String,
        why: Box<crate::references::Refusal>,
    },
    /// A spec field holds a value Quay cannot take (objects stored before the schema said so).
    #[error("{field}: {problem}")]
    InvalidSpec {
        field: &'static str,
        problem: String,
    },
    /// Several applications fit and the operator cannot tell which one is this resource's.
    #[error(
        "{field}: organization `{org}` has several applications named {names} (client IDs {}); \
         the operator cannot tell which one is this resource's and creates no other: delete or \
         rename the extra ones in Quay",
        .client_ids.join(", ")
    )]
    Ambiguous {
        field: &'static str,
        org: String,
        names: String,
        client_ids: Vec<String>,
    },
    /// The application of that name is another Application resource's.
    #[error(
        "{field}: application `{name}` of organization `{org}` (client ID {client_id}) is managed \
         by Application {other}; give this resource another name, or delete the other resource"
    )]
    Claimed {
        field: &'static str,
        name: String,
        org: String,
        client_id: String,
        other: String,
    },
    /// The application disappeared from Quay between reading and updating it.
    #[error(
        "application {client_id} disappeared from Quay while it was being updated; it is created \
         again on the next attempt"
    )]
    Vanished { client_id: String },
    /// Quay refused or failed.
    #[error(transparent)]
    Quay(#[from] AppApiError),
    /// The result Secret exists and belongs to someone else.
    #[error("retSecretRef: {secret}: {detail}; choose another retSecretRef.name")]
    SecretConflict { secret: String, detail: String },
    /// The result Secret was created by someone else after it was found absent.
    #[error(
        "retSecretRef: {secret}: a Secret of that name appeared while this operator was about to \
         create it, and was left untouched; if it is not this Application's, choose another \
         retSecretRef.name"
    )]
    SecretAppeared { secret: String },
    /// The namespace the result Secret goes to does not exist.
    #[error(
        "retSecretRef.namespace: namespace {namespace} does not exist; create it or change \
         retSecretRef.namespace"
    )]
    ResultNamespaceMissing { namespace: String },
    /// The Kubernetes API failed.
    #[error("cannot {action}: {source}")]
    Kube {
        action: &'static str,
        source: kube::Error,
    },
    /// The cached copy a create was decided on was out of date.
    #[error(
        "the cached copy of the Application was out of date; reconciling again with a fresh one"
    )]
    StaleRead,
    /// The reconcile worked past its deadline in its slot and was stopped.
    #[error(transparent)]
    Overran(#[from] crate::controller::slots::Overran),
    /// The object lacks fields every stored object has.
    #[error("the Application has no {0}; it was not read from the API server")]
    Malformed(&'static str),
}

impl ApplicationError {
    /// Whether retrying with the same inputs may succeed; permanent errors wait for a change.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Quay(e) => e.is_transient(),
            Self::SecretAppeared { .. }
            | Self::ResultNamespaceMissing { .. }
            | Self::StaleRead
            | Self::Overran(_)
            | Self::Vanished { .. } => true,
            Self::CrossNamespaceDenied { why, .. } => why.is_transient(),
            Self::Kube { source, .. } => {
                !matches!(source, kube::Error::Api(s) if s.code == 403 || s.code == 422)
            }
            _ => false,
        }
    }

    /// A CamelCase reason for conditions, events and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::ConnectionSecretMissing { .. } => "ConnectionSecretMissing",
            Self::InvalidConnectionSecret { .. } => "InvalidConnectionSecret",
            Self::HostNotAllowed { .. } => "HostNotAllowed",
            Self::CrossNamespaceDenied { .. } => "CrossNamespaceDenied",
            Self::InvalidSpec { .. } => "InvalidSpec",
            Self::Ambiguous { .. } => "ApplicationAmbiguous",
            Self::Claimed { .. } => "ApplicationConflict",
            Self::Vanished { .. } => "ApplicationVanished",
            Self::Quay(e) => e.reason(),
            Self::SecretConflict { .. } => "SecretConflict",
            Self::SecretAppeared { .. } => "SecretAppeared",
            Self::ResultNamespaceMissing { .. } => "ResultNamespaceMissing",
            Self::Kube { .. } => "KubernetesApiError",
            Self::StaleRead => "StaleRead",
            Self::Overran(_) => "DeadlineExceeded",
            Self::Malformed(_) => "Malformed",
        }
    }

    /// Wraps a Kubernetes API error with what was being done.
    pub fn kube(action: &'static str) -> impl FnOnce(kube::Error) -> ApplicationError {
        move |source| ApplicationError::Kube { action, source }
    }
}

crate::owned::into_kind_error!(ApplicationError);

impl From<crate::references::Refused> for ApplicationError {
    fn from(r: crate::references::Refused) -> Self {
        ApplicationError::CrossNamespaceDenied {
            field: r.field,
            namespace: r.namespace,
            why: r.why,
        }
    }
}

impl From<crate::references::ReferenceError> for ApplicationError {
    fn from(error: crate::references::ReferenceError) -> Self {
        match error {
            crate::references::ReferenceError::NoNamespace => {
                ApplicationError::Malformed("namespace")
            }
            crate::references::ReferenceError::Refused(r) => r.into(),
        }
    }
}

impl From<crate::quay::QuayError> for ApplicationError {
    fn from(e: crate::quay::QuayError) -> Self {
        Self::Quay(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Conflicts and ambiguities name the field, every candidate and what to do, and wait.
    #[test]
    fn refusals_name_the_field_and_the_candidates() {
        let e = ApplicationError::Ambiguous {
            field: "spec.name",
            org: "production".into(),
            names: "`extapp`".into(),
            client_ids: vec!["A1".into(), "B2".into()],
        };
        let text = e.to_string();
        assert!(text.starts_with("spec.name: "), "{text}");
        assert!(text.contains("A1, B2"), "{text}");
        assert!(!e.is_transient());
        assert_eq!(e.reason(), "ApplicationAmbiguous");
        let claimed = ApplicationError::Claimed {
            field: "spec.name",
            name: "extapp".into(),
            org: "production".into(),
            client_id: "A1".into(),
            other: "ns/first".into(),
        };
        assert!(claimed.to_string().contains("Application ns/first"));
        assert_eq!(claimed.reason(), "ApplicationConflict");
    }
}
