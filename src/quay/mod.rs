//! The operator's only door to Quay: sessions, minting, assignment, verification, revocation.
//!
//! Built from `shared/quay/protocol.md` ("What this means for the operator").

mod applications;
mod client;
mod error;
mod retry;
mod session;
mod settings;
mod token_api;
mod transport;
mod web_flow;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

pub use applications::{
    AppApiError, AppConnection, AppFields, AppView, Applications, ConnectionError,
};
pub use client::{MintSlot, QuayClient};
pub use error::{HeldMint, QuayError};
pub use settings::{ConnectionSettings, DEFAULT_TIMEOUT_SECS, SettingsError};
pub use transport::USER_AGENT;

use crate::redacted::Redacted;

/// How tokens are minted on a Quay instance, and so where they are listed and revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavour {
    /// `/oauth/authorizeapp` (every Quay 3.x); listed in `/api/v1/user/authorizations`.
    WebFlow,
    /// The org application token API (Quay 3.18 and later).
    TokenApi,
}

impl Flavour {
    /// The stable name to store in status.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WebFlow => "webFlow",
            Self::TokenApi => "tokenApi",
        }
    }
}

impl fmt::Display for Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored flavour name that this version does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown token flavour `{0}`; expected webFlow or tokenApi")]
pub struct UnknownFlavour(pub String);

impl FromStr for Flavour {
    type Err = UnknownFlavour;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "webFlow" => Ok(Self::WebFlow),
            "tokenApi" => Ok(Self::TokenApi),
            other => Err(UnknownFlavour(other.to_owned())),
        }
    }
}

/// What to mint: scopes are already expanded (see `crd::scopes_of`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintRequest {
    /// The OAuth application's client ID.
    pub client_id: String,
    /// Scopes, e.g. `["repo:read", "org:admin"]`.
    pub scopes: Vec<String>,
    /// The token's name in Quay (token API only; the web flow has no names).
    pub name: String,
    /// The token's lifetime in seconds (token API only: the web flow's tokens live 10 years);
    /// `None` for Quay's default and maximum.
    pub expiration: Option<u64>,
}

/// A freshly minted token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintedToken {
    /// Quay's id (uuid) of the token, needed to verify and revoke it.
    pub id: String,
    /// The token itself.
    pub token: Redacted,
    /// How it was minted; pass it back to verify and revoke.
    pub flavour: Flavour,
    /// When Quay will expire it (RFC 3339), if known.
    pub expires_at: Option<String>,
    /// Web flow: the lifetime Quay gave it, in seconds from the mint (`expires_in`), which the
    /// caller turns into a time with its own clock.
    pub expires_in: Option<u64>,
}

/// Sees every HTTP request to Quay, for metrics.
pub trait RequestObserver: Send + Sync {
    /// `endpoint` is "<METHOD> <route template>"; `status` is `None` when no answer came.
    fn observe(&self, endpoint: &'static str, status: Option<u16>, elapsed: Duration);
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::Flavour;

    /// Stored flavour names round-trip.
    #[test]
    fn flavour_names_round_trip() {
        for flavour in [Flavour::WebFlow, Flavour::TokenApi] {
            assert_eq!(flavour.as_str().parse::<Flavour>(), Ok(flavour));
        }
        assert!("other".parse::<Flavour>().is_err());
    }
}
