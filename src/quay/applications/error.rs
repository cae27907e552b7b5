//! What can go wrong calling the applications API.

use crate::quay::error::QuayError;

/// A failed call of the applications API, each a sentence naming what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppApiError {
    /// Signing in, reaching Quay or reading its answer failed.
    #[error(transparent)]
    Quay(#[from] QuayError),
    /// The account does not administer the organization.
    #[error(
        "spec.organization: Quay user `{username}` is not an administrator of organization \
         `{org}`; add it to the organization's owners team, or name an organization it administers"
    )]
    NotOrganizationAdmin { username: String, org: String },
    /// Quay has no such organization.
    #[error(
        "spec.organization: Quay has no organization `{org}`; create it in Quay or correct \
         spec.organization"
    )]
    UnknownOrganization { org: String },
    /// Quay refused the token on the organization: it lacks `org:admin`, or its user is not an
    /// administrator there (Quay answers both alike).
    #[error(
        "the OAuth token of the connection Secret was refused on organization `{org}`: it needs \
         the org:admin scope, and its user must administer the organization; use a token minted \
         with org:admin (an ApiToken with rights [org:admin]) or username and password"
    )]
    TokenScopeMissing { org: String },
    /// Quay does not accept the token at all.
    #[error(
        "Quay rejected the OAuth token of the connection Secret (revoked, expired or mistyped); \
         put a live token in its `token` key, or use username and password"
    )]
    TokenRejected,
}

impl AppApiError {
    /// Whether retrying later, with the same inputs, may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Quay(e) => e.is_transient(),
            Self::NotOrganizationAdmin { .. }
            | Self::UnknownOrganization { .. }
            | Self::TokenScopeMissing { .. }
            | Self::TokenRejected => false,
        }
    }

    /// A CamelCase reason for conditions, events and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Quay(e) => e.reason(),
            Self::NotOrganizationAdmin { .. } => "NotOrganizationAdmin",
            Self::UnknownOrganization { .. } => "UnknownOrganization",
            Self::TokenScopeMissing { .. } => "TokenScopeMissing",
            Self::TokenRejected => "InvalidToken",
        }
    }

    /// Whether Quay refused the credentials themselves (a password or token it will keep
    /// refusing until the connection Secret changes).
    pub fn is_rejected_credential(&self) -> bool {
        matches!(
            self,
            Self::TokenRejected
                | Self::Quay(QuayError::InvalidCredentials { .. } | QuayError::UserDisabled { .. })
        )
    }
}
