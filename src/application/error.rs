//! Why a reconcile of one Application failed, in sentences that name the field or key to fix.

use crate::connection::ConnectionSecretError;
use crate::object_error::ObjectError;
use crate::quay::{AppApiError, ConnectionError};

/// A failed reconcile or cleanup of one Application.
#[derive(Debug, thiserror::Error)]
pub enum ApplicationError {
    /// The connection Secret is missing, unusable, or names a host off the allow-list.
    #[error(transparent)]
    Connection(#[from] ConnectionSecretError<ConnectionError>),
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
    /// A failure both kinds share: a refused reference, the result Secret's namespace or
    /// name, the Kubernetes API, the deadline.
    #[error(transparent)]
    Object(#[from] ObjectError),
    /// The cached copy a create was decided on was out of date.
    #[error(
        "the cached copy of the Application was out of date; reconciling again with a fresh one"
    )]
    StaleRead,
    /// The object lacks fields every stored object has.
    #[error("the Application has no {0}; it was not read from the API server")]
    Malformed(&'static str),
}

impl ApplicationError {
    /// Whether retrying with the same inputs may succeed; permanent errors wait for a change.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Quay(e) => e.is_transient(),
            Self::Object(e) => e.is_transient(),
            Self::StaleRead | Self::Vanished { .. } => true,
            _ => false,
        }
    }

    /// A CamelCase reason for conditions, events and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Connection(e) => e.reason(),
            Self::Object(e) => e.reason(),
            Self::Quay(e) => e.reason(),
            Self::InvalidSpec { .. } => "InvalidSpec",
            Self::Ambiguous { .. } => "ApplicationAmbiguous",
            Self::Claimed { .. } => "ApplicationConflict",
            Self::Vanished { .. } => "ApplicationVanished",
            Self::SecretConflict { .. } => "SecretConflict",
            Self::StaleRead => "StaleRead",
            Self::Malformed(_) => "Malformed",
        }
    }
}

crate::object_error::kind_error!(ApplicationError, "Application");

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
