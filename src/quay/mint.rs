//! What a mint asks Quay for, and what it hands back.

use super::flavour::Flavour;
use crate::redacted::Redacted;

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
