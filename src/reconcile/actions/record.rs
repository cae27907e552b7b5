//! What status records of a token: built here only, so every record names its account, app
//! and inputs the same way. Pure.

use crate::clock::{later, stamp_of};
use crate::crd::TokenRecord;
use crate::quay::{ConnectionSettings, MintedToken};
use crate::reconcile::inputs::Inputs;
use crate::reconcile::secret;
use crate::redacted::Redacted;
use std::time::Duration;

/// A record of a token for these inputs; what is known of the token itself is added by the
/// caller (`..for_inputs(..)`).
pub fn for_inputs(inputs: &Inputs, input_hash: &str) -> TokenRecord {
    TokenRecord {
        host: inputs.settings.host_string(),
        username: inputs.settings.username().to_string(),
        client_id: inputs.client_id.clone(),
        input_hash: input_hash.to_string(),
        ..Default::default()
    }
}

/// The record of a token found in the result Secret, whose Quay id is unknown.
pub fn adopted(inputs: &Inputs, input_hash: &str, value: &Redacted) -> TokenRecord {
    TokenRecord {
        token_hash: Some(secret::token_hash(value)),
        ..for_inputs(inputs, input_hash)
    }
}

/// The record of a token Quay minted just now, with its expiry: Quay's own, or on the web flow
/// counted from now on the operator's clock.
pub fn minted(
    inputs: &Inputs,
    input_hash: &str,
    minted: &MintedToken,
    scopes: Vec<String>,
    now: jiff::Timestamp,
) -> TokenRecord {
    let expires_at = match minted.expires_in {
        Some(seconds) => Some(stamp_of(later(now, Duration::from_secs(seconds)))),
        None => minted.expires_at.clone(),
    };
    TokenRecord {
        id: Some(minted.id.clone()),
        flavour: Some(minted.flavour.as_str().to_string()),
        token_hash: Some(secret::token_hash(&minted.token)),
        minted_at: Some(stamp_of(now)),
        expires_at,
        scopes,
        ..for_inputs(inputs, input_hash)
    }
}

/// Whether a token of `host` and `username` belongs to the account these settings sign in as:
/// only then can they revoke it.
pub fn same_account(host: &str, username: &str, settings: &ConnectionSettings) -> bool {
    host == settings.host_string() && username == settings.username()
}
