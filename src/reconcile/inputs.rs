//! Reads what a token depends on: the connection Secret, the client ID, and the result Secret
//! (and whether it could be created where it goes). Network: Kubernetes API only.

use super::apply;
use super::secret;
use crate::context::Context;
use crate::crd::{ApiToken, ApiTokenStatus, scopes_of};
use crate::error::ReconcileError;
use crate::quay::ConnectionSettings;
use crate::references::client_id_target;
pub use crate::references::{Target, conn_target, result_target};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use std::collections::BTreeMap;

/// The resolved inputs of one ApiToken.
pub struct Inputs {
    /// Checked connection settings.
    pub settings: ConnectionSettings,
    /// Where the connection Secret is.
    pub conn: Target,
    /// The OAuth application's client ID.
    pub client_id: String,
    /// Quay scopes from `rights`.
    pub scopes: Vec<&'static str>,
    /// Where the result Secret goes.
    pub target: Target,
    /// The result Secret as it is now.
    pub existing: Option<Secret>,
}

async fn read_secret(ctx: &Context, at: &Target) -> Result<Option<Secret>, ReconcileError> {
    Api::<Secret>::namespaced(ctx.client.clone(), &at.namespace)
        .get_opt(&at.name)
        .await
        .map_err(ReconcileError::kube("read a Secret"))
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
    let conn = ctx.consent().token(
        token,
        "connSecretRef",
        conn_target(token, ctx.settings.cross_namespace)?,
    )?;
    let reference = conn.to_string();
    let secret =
        read_secret(ctx, &conn)
            .await?
            .ok_or_else(|| ReconcileError::ConnectionSecretMissing {
                reference: reference.clone(),
            })?;
    let settings = ConnectionSettings::from_secret_data(&data_of(&secret))
        .map_err(|source| ReconcileError::InvalidConnectionSecret { reference, source })?;
    Ok((conn, settings))
}

/// Reads the client ID, inline or from its Secret.
async fn client_id(ctx: &Context, token: &ApiToken) -> Result<String, ReconcileError> {
    if let Some(id) = &token.spec.client_id {
        return Ok(id.trim().to_string());
    }
    let from = token
        .spec
        .client_id_from
        .as_ref()
        .ok_or(ReconcileError::Malformed("clientId or clientIdFrom"))?;
    let at = client_id_target(token, ctx.settings.cross_namespace)
        .ok_or(ReconcileError::Malformed("clientId or clientIdFrom"))??;
    let at = ctx.consent().token(token, "clientIdFrom", at)?;
    let reference = at.to_string();
    let secret =
        read_secret(ctx, &at)
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
        Ok(id) if !id.is_empty() => Ok(id.to_string()),
        _ => Err(ReconcileError::ClientIdKeyInvalid {
            reference,
            key: from.key.clone(),
        }),
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
    let client_id = client_id(ctx, token).await?;
    let target = ctx.consent().token(
        token,
        "retSecretRef",
        result_target(token, ctx.settings.cross_namespace)?,
    )?;
    let existing = read_secret(ctx, &target).await?;
    if existing.is_none() && needs_probe(token, &target, status) {
        // Before anything is minted: a token for a Secret that cannot be created would be minted
        // and then fail to be written, again on every retry.
        let probe = secret::desired(token, &target, &settings, None);
        apply::check_result_target(ctx, &probe).await?;
    }
    Ok(Inputs {
        settings,
        conn,
        client_id,
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
