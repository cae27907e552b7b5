//! Reads what a token depends on: the connection Secret, the client ID, and the result Secret
//! (and whether it could be created where it goes). Network: Kubernetes API only.

use super::secret;
use crate::context::Context;
use crate::crd::{ApiToken, ApiTokenStatus, scopes_of};
use crate::error::ReconcileError;
use crate::quay::{ConnectionSettings, QuayError};
use crate::references::client_id_target;
pub use crate::references::{Target, result_target};
use k8s_openapi::api::core::v1::Secret;
use std::collections::BTreeMap;

/// The resolved inputs of one ApiToken.
pub struct Inputs {
    /// Checked connection settings.
    pub settings: ConnectionSettings,
    /// Where the connection Secret is.
    pub conn: Target,
    /// The OAuth application's client ID.
    pub client_id: String,
    /// Where the client ID came from when a Secret held it (`clientIdFrom: ns/name key k`):
    /// messages name this instead of the value.
    pub client_id_from: Option<String>,
    /// Quay scopes from `rights`.
    pub scopes: Vec<&'static str>,
    /// Where the result Secret goes.
    pub target: Target,
    /// The result Secret as it is now.
    pub existing: Option<Secret>,
}

impl Inputs {
    /// The client ID as messages show it: quoted when the spec holds it, else named by the
    /// Secret and key that hold it.
    pub fn client_id_shown(&self) -> String {
        match &self.client_id_from {
            Some(named) => format!("the client ID in {named}"),
            None => format!("client ID {}", self.client_id),
        }
    }
}

fn data_of(secret: &Secret) -> BTreeMap<String, Vec<u8>> {
    secret
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect()
}

/// Reads and checks the connection settings alone (also used at deletion).
pub async fn connection(
    ctx: &Context,
    token: &ApiToken,
) -> Result<(Target, ConnectionSettings), ReconcileError> {
    crate::connection::read(ctx, token).await
}

/// Reads the client ID, inline or from its Secret, with where a Secret held it.
async fn client_id(
    ctx: &Context,
    token: &ApiToken,
) -> Result<(String, Option<String>), ReconcileError> {
    if let Some(id) = &token.spec.client_id {
        let id = id.trim();
        if !looks_like_client_id(id) {
            // A spec field, not a secret: it may be quoted.
            return Err(ReconcileError::ClientIdInvalid { value: id.into() });
        }
        return Ok((id.to_string(), None));
    }
    let from = token
        .spec
        .client_id_from
        .as_ref()
        .ok_or(ReconcileError::Malformed("clientId or clientIdFrom"))?;
    let at = client_id_target(token, ctx.settings.cross_namespace)
        .ok_or(ReconcileError::Malformed("clientId or clientIdFrom"))??;
    let at = ctx.consent().object(token, "clientIdFrom", at)?;
    let reference = at.to_string();
    let secret =
        ctx.read_secret(&at)
            .await?
            .ok_or_else(|| ReconcileError::ClientIdSecretMissing {
                reference: reference.clone(),
            })?;
    let data = data_of(&secret);
    let raw = data
        .get(&from.key)
        .ok_or_else(|| ReconcileError::ClientIdKeyMissing {
            reference: reference.clone(),
            key: from.key.clone(),
        })?;
    match std::str::from_utf8(raw).map(str::trim) {
        Ok(id) if looks_like_client_id(id) => {
            let named = client_id_source(&reference, &from.key);
            Ok((id.to_string(), Some(named)))
        }
        // Never quoted: a wrong key may well hold a password.
        _ => Err(ReconcileError::ClientIdKeyInvalid {
            reference,
            key: from.key.clone(),
        }),
    }
}

/// How messages name a client ID a Secret holds, in place of its value.
pub fn client_id_source(reference: &str, key: &str) -> String {
    format!("clientIdFrom: {reference} key {key}")
}

/// Whether `id` can be a Quay client ID, checked before it goes into a URL or a message.
/// Quay makes them 20 characters of A–Z and 0–9; any length up to 64 and lower case are
/// accepted too, so that a Quay that made them differently still works, while a password
/// with punctuation, a URL or a sentence is refused before it is sent anywhere.
pub fn looks_like_client_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// An error of a reconcile that used `inputs`, with a client ID a Secret held replaced by
/// where it came from: Quay's "no such application" would quote it otherwise. Other Quay
/// errors that name a client ID come only after Quay knew it as an application's.
pub fn conceal_client_id(inputs: &Inputs, error: ReconcileError) -> ReconcileError {
    match (error, &inputs.client_id_from) {
        (ReconcileError::Quay(QuayError::UnknownClientId { .. }), Some(named)) => {
            ReconcileError::UnknownClientIdFrom {
                named: named.clone(),
            }
        }
        (error, _) => error,
    }
}

/// Resolves every input; each failure names the field and key. `status` is what the ApiToken
/// shows now.
pub async fn resolve(
    ctx: &Context,
    token: &ApiToken,
    status: &ApiTokenStatus,
) -> Result<Inputs, ReconcileError> {
    let (conn, settings) = connection(ctx, token).await?;
    let (client_id, client_id_from) = client_id(ctx, token).await?;
    let target = ctx.consent().object(
        token,
        "retSecretRef",
        result_target(token, ctx.settings.cross_namespace)?,
    )?;
    let existing = ctx.read_secret(&target).await?;
    if existing.is_none() && needs_probe(token, &target, status) {
        // Before anything is minted: a token for a Secret that cannot be created would be minted
        // and then fail to be written, again on every retry.
        let probe = secret::desired(token, &target, &settings, None);
        crate::owned::secret_writes::check_target(&ctx.client, &probe).await?;
    }
    Ok(Inputs {
        settings,
        conn,
        client_id,
        client_id_from,
        scopes: scopes_of(&token.spec.rights),
        target,
        existing,
    })
}

/// Whether an absent result Secret is checked by a dry run before a mint. Its own namespace
/// exists while the ApiToken does, so a first mint there goes straight to the create (one
/// Kubernetes request less per token); once a token is recorded that no Secret holds, a write
/// may have failed (a quota, a webhook), and the dry run keeps the retries from minting again.
fn needs_probe(token: &ApiToken, target: &Target, status: &ApiTokenStatus) -> bool {
    token.metadata.namespace.as_deref() != Some(target.namespace.as_str()) || status.token.is_some()
}

#[cfg(test)]
mod tests {
    use super::looks_like_client_id;

    /// Quay's own shape passes; what a mistaken key may hold does not.
    #[test]
    fn only_letters_and_digits_make_a_client_id() {
        assert!(looks_like_client_id("PZ6F80R1LCVPGYNZGSZQ"));
        assert!(looks_like_client_id("abc123"));
        for not in [
            "",
            "Wr0ng Passw0rd",
            "p@ssw0rd!",
            "../../api/v1/superuser",
            "https://quay.example.com",
            &"A".repeat(65),
            "ÄBC",
        ] {
            assert!(!looks_like_client_id(not), "{not}");
        }
    }
}
