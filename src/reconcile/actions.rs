//! The actions that change what Quay holds: mint (and retire the replaced token), assign,
//! adopt, and recover an interrupted mint. Network: Quay and the Kubernetes API.

use super::inputs::Inputs;
use super::lifetime::{self, Lifetime};
use super::plan::MintReason;
use super::{Outcome, apply, grant, naming, recovery, secret};
use crate::clock::stamp_of;
use crate::context::Context;
use crate::crd::{ApiToken, ApiTokenStatus, PendingMint, ROTATE_ANNOTATION, Right, TokenRecord};
use crate::error::ReconcileError;
use crate::events;
use crate::fault_points;
use crate::quay::{ConnectionSettings, Flavour, MintRequest, QuayError};
use crate::redacted::Redacted;
use kube::ResourceExt;
use std::collections::HashSet;

/// A mint was started and never recorded (a crash, or a timeout while Quay answered): find
/// the token that mint may have created and revoke it, so no token stays untracked. Only that
/// mint's token: by its own name on the token API; on the web flow, a token of the application
/// with the same scopes that existed neither before the mint nor in any ApiToken's status.
pub(super) async fn recover(
    token: &ApiToken,
    ctx: &Context,
    settings: &ConnectionSettings,
    pending: &PendingMint,
) -> Result<(), ReconcileError> {
    let same_account =
        pending.host == settings.host_string() && pending.username == settings.username();
    let found = if same_account {
        orphans_of(ctx, settings, pending).await?
    } else {
        None
    };
    let Some((flavour, ids)) = found else {
        events::publish(&ctx.recorder, token, true, "MintInterrupted", format!(
            "a mint started at {} did not complete and its token cannot be identified in Quay; if {} holds an extra token for this application, revoke it there",
            pending.started_at, pending.username)).await;
        return Ok(());
    };
    for id in &ids {
        fault_points::hit(fault_points::RECOVER_BEFORE_REVOKE, token)?;
        ctx.quay
            .revoke(settings, &pending.client_id, id, flavour)
            .await?;
        ctx.liveness
            .note(settings, &pending.client_id, flavour, id, false)
            .await;
        ctx.metrics.token_revoked();
        events::publish(
            &ctx.recorder,
            token,
            true,
            "MintInterrupted",
            format!(
                "revoked Quay token {id}, left untracked by a mint interrupted at {}",
                pending.started_at
            ),
        )
        .await;
    }
    Ok(())
}

/// The tokens an interrupted mint left, and how to revoke them; `None` when they cannot be
/// told apart from others (an intent from before intents recorded enough).
async fn orphans_of(
    ctx: &Context,
    settings: &ConnectionSettings,
    pending: &PendingMint,
) -> Result<Option<(Flavour, Vec<String>)>, ReconcileError> {
    match pending.flavour.as_deref() {
        Some("webFlow") => {
            let Some(known) = &pending.known_ids else {
                return Ok(None);
            };
            // The slot holds the account's mint lock: no mint of ours is between its Quay
            // answer and its record while we look. Its list is fresh, not remembered.
            ctx.quay.forget_listing(settings, &pending.client_id);
            let slot = match ctx.quay.begin_mint(settings, &pending.client_id).await {
                Ok(slot) => slot,
                // A deleted application took every token of it along (protocol §14).
                Err(QuayError::UnknownClientId { .. }) => {
                    return Ok(Some((Flavour::WebFlow, Vec::new())));
                }
                Err(e) => return Err(e.into()),
            };
            // Asked under the lock: a mint recorded just before we took it is in `tracked`.
            let tracked = tracked_ids(ctx, settings).await;
            let now = slot.known.clone().unwrap_or_default();
            Ok(Some((
                Flavour::WebFlow,
                recovery::web_flow_orphans(&now, known, &pending.scopes, &tracked),
            )))
        }
        _ => {
            let named = ctx
                .quay
                .token_ids_named(settings, &pending.client_id, &pending.name)
                .await?;
            let tracked = tracked_ids(ctx, settings).await;
            Ok(named.map(|ids| {
                let ids = ids.into_iter().filter(|id| !tracked.contains(id)).collect();
                (Flavour::TokenApi, ids)
            }))
        }
    }
}

/// Looks a few times, a second apart, at a web-flow mint whose id was one of several: the
/// others may be revoked or recorded by their ApiTokens meanwhile (another install minting for
/// the same account), and then the token need not be thrown away. Still ambiguous: the intent
/// stays, and the next reconcile's recovery revokes every new untracked token of the app.
async fn narrow(
    ctx: &Context,
    inputs: &Inputs,
    slot: &crate::quay::MintSlot,
    mut held: crate::quay::HeldMint,
) -> Result<crate::quay::MintedToken, ReconcileError> {
    for round in 0..NARROW_ROUNDS {
        if round > 0 {
            tokio::time::sleep(NARROW_PAUSE).await;
        }
        let tracked = tracked_ids(ctx, &inputs.settings).await;
        match ctx
            .quay
            .narrow_held(&inputs.settings, slot, &inputs.client_id, held, &tracked)
            .await?
        {
            Ok(minted) => {
                tracing::info!(id = %minted.id, round, "the ambiguous token id narrowed to one");
                return Ok(minted);
            }
            // None left: ours was revoked behind our back; nothing to keep.
            Err(still) if still.candidates.is_empty() => return Err(given_up(0)),
            Err(still) => held = still,
        }
    }
    Err(given_up(held.candidates.len()))
}

fn given_up(new_entries: usize) -> ReconcileError {
    QuayError::AmbiguousTokenId {
        new_entries,
        held: None,
    }
    .into()
}

/// Looks at an ambiguous web-flow mint this many times before giving it up.
const NARROW_ROUNDS: u32 = 3;
const NARROW_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

/// Every token id of this account that an ApiToken records (current or replaced), as this
/// process last wrote it or, for the others, as the cache shows it.
async fn tracked_ids(ctx: &Context, settings: &ConnectionSettings) -> HashSet<String> {
    // A cache still being filled would leave other ApiTokens' tokens out, and they would
    // look like orphans.
    ctx.peers.wait_synced().await;
    let host = settings.host_string();
    let mut ids = HashSet::new();
    for other in ctx.peers.all() {
        let uid = other.uid().unwrap_or_default();
        let Some(status) = ctx.written.current(&uid, other.status.as_ref()) else {
            continue;
        };
        let records = status.token.iter().chain(status.replaced.iter());
        for record in records {
            if record.host == host
                && record.username == settings.username()
                && let Some(id) = &record.id
            {
                ids.insert(id.clone());
            }
        }
    }
    ids
}

pub(super) fn assigned_message(user: &str) -> String {
    format!(
        "token assigned to Quay user {user}, who retrieves it in the Quay web interface; the result Secret holds no token (forUser)"
    )
}

/// Takes over a token written by the earlier operator (or by us with a lost status): no mint.
pub(super) async fn adopt(
    token: &ApiToken,
    ctx: &Context,
    inputs: &Inputs,
    input_hash: &str,
    value: Redacted,
) -> Result<Outcome, ReconcileError> {
    let desired = secret::desired(token, &inputs.target, &inputs.settings, Some(&value));
    apply::secret(ctx, &desired).await?;
    events::publish(&ctx.recorder, token, true, "Adopted", format!(
        "took over the token in Secret {} without minting; its Quay id is unknown, so it cannot be verified or revoked: set the annotation {ROTATE_ANNOTATION} to replace it with a tracked token",
        inputs.target)).await;
    let record = TokenRecord {
        host: inputs.settings.host_string(),
        username: inputs.settings.username().to_string(),
        client_id: inputs.client_id.clone(),
        input_hash: input_hash.to_string(),
        token_hash: Some(secret::token_hash(&value)),
        ..Default::default()
    };
    Ok(Outcome {
        record: Some(record),
        message: String::new(),
        replaced: Vec::new(),
    })
}

pub(super) async fn assign(
    token: &ApiToken,
    ctx: &Context,
    inputs: &Inputs,
    input_hash: &str,
    old: Option<TokenRecord>,
    shown: &mut Option<ApiTokenStatus>,
) -> Result<Outcome, ReconcileError> {
    let user = token.spec.for_user.clone().unwrap_or_default();
    let scopes: Vec<String> = inputs.scopes.iter().map(|s| s.to_string()).collect();
    ctx.quay
        .assign(&inputs.settings, &inputs.client_id, &scopes, &user)
        .await?; // Quay
    apply::write_secret(
        ctx,
        &secret::desired(token, &inputs.target, &inputs.settings, None),
        inputs.existing.is_some(),
    )
    .await?;
    events::publish(
        &ctx.recorder,
        token,
        false,
        "Assigned",
        format!(
            "assigned a token of client ID {} to Quay user {user}",
            inputs.client_id
        ),
    )
    .await;
    let record = TokenRecord {
        host: inputs.settings.host_string(),
        username: inputs.settings.username().to_string(),
        client_id: inputs.client_id.clone(),
        input_hash: input_hash.to_string(),
        minted_at: Some(ctx.clock.stamp()),
        assigned_to: Some(user.clone()),
        ..Default::default()
    };
    // The token minted before forUser was set is no longer in any Secret: revoke it.
    let mut replaced = shown
        .as_ref()
        .map(|s| s.replaced.clone())
        .unwrap_or_default();
    replaced.extend(to_retire(token, old));
    // forUser hands the token to a person: the operator's old one goes at once.
    let (replaced, _) = retire_all(token, ctx, &inputs.settings, replaced, Grace::Ignore).await;
    Ok(Outcome {
        record: Some(record),
        message: assigned_message(&user),
        replaced,
    })
}

/// Mints a token, records it (with the token it replaces) before the Secret can hold it,
/// writes the Secret, and only then revokes what it replaced.
pub(super) async fn mint(
    token: &ApiToken,
    ctx: &Context,
    inputs: &Inputs,
    input_hash: &str,
    old: Option<TokenRecord>,
    reason: MintReason,
    shown: &mut Option<ApiTokenStatus>,
) -> Result<Outcome, ReconcileError> {
    let uid = token.uid().unwrap_or_default();
    let name = naming::token_name(
        &token.namespace().unwrap_or_default(),
        &token.name_any(),
        &uid,
        &naming::mint_mark(),
    );
    // Converge read it already: a bad one never gets here.
    let lifetime = Lifetime::of(&token.spec).unwrap_or_default();
    let grant = grant_for(ctx, inputs, &token.spec.rights).await?; // Quay, once per account
    let scopes: Vec<String> = grant.scopes.iter().map(|s| s.to_string()).collect();
    let slot = ctx
        .quay
        .begin_mint(&inputs.settings, &inputs.client_id)
        .await?; // Quay
    // Record the intent first: a crash between Quay's answer and the record must not leave a
    // token that nothing knows about.
    let mut intent = shown.clone().unwrap_or_default();
    let mut sorted_scopes = scopes.clone();
    sorted_scopes.sort();
    intent.pending_mint = Some(PendingMint {
        name: name.clone(),
        host: inputs.settings.host_string(),
        username: inputs.settings.username().to_string(),
        client_id: inputs.client_id.clone(),
        started_at: ctx.clock.stamp(),
        flavour: Some(slot.flavour.as_str().to_string()),
        scopes: sorted_scopes,
        known_ids: slot.known.as_ref().map(|known| {
            let mut ids: Vec<String> = known.keys().cloned().collect();
            ids.sort();
            ids
        }),
    });
    apply::status_fresh(ctx, token, shown, intent).await?;
    fault_points::hit(fault_points::MINT_AFTER_INTENT, token)?;
    let minted = ctx
        .quay
        .mint_in(
            &inputs.settings,
            &slot,
            MintRequest {
                client_id: inputs.client_id.clone(),
                scopes: scopes.clone(),
                name,
                expiration: lifetime.quay_expiration(),
            },
        )
        .await; // Quay
    let minted = match minted {
        Err(QuayError::AmbiguousTokenId {
            held: Some(held), ..
        }) => narrow(ctx, inputs, &slot, *held).await?, // Quay, a few times at most
        other => other?,
    };
    fault_points::hit(fault_points::MINT_AFTER_QUAY, token)?;
    ctx.liveness
        .note(
            &inputs.settings,
            &inputs.client_id,
            minted.flavour,
            &minted.id,
            true,
        )
        .await;
    let minted_now = ctx.clock.now();
    let record = TokenRecord {
        id: Some(minted.id.clone()),
        flavour: Some(minted.flavour.as_str().to_string()),
        host: inputs.settings.host_string(),
        username: inputs.settings.username().to_string(),
        client_id: inputs.client_id.clone(),
        organization: None,
        input_hash: input_hash.to_string(),
        token_hash: Some(secret::token_hash(&minted.token)),
        minted_at: Some(stamp_of(minted_now)),
        // Quay's own expiry; the web flow's is counted from now on the operator's clock.
        expires_at: match minted.expires_in {
            Some(seconds) => Some(stamp_of(
                minted_now + chrono::Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX)),
            )),
            None => minted.expires_at.clone(),
        },
        assigned_to: None,
        scopes,
        revoke_at: None,
    };
    // Record the new token and what it replaces in one write, before the Secret can be seen
    // holding it: from here on a crash leaves both tracked, and the next reconcile revokes
    // whatever the Secret does not hold.
    let mut recorded = shown.clone().unwrap_or_default();
    // Consumers that read the Secret from time to time keep the old token for the grace
    // period, recorded so that a restart neither forgets to revoke it nor revokes it early.
    recorded
        .replaced
        .extend(to_retire(token, old).map(|mut old| {
            let old_schedule = lifetime::schedule(&old, &lifetime);
            old.revoke_at = lifetime::revoke_at(
                minted_now,
                lifetime.grace,
                old_schedule.as_ref(),
                reason.old_is_dead(),
            );
            old
        }));
    if reason == MintReason::Unrecorded {
        recorded
            .replaced
            .extend(unrecorded(token, ctx, inputs, &record).await);
    }
    recorded.token = Some(record.clone());
    recorded.pending_mint = None;
    recorded.exist_in_quay = true;
    recorded.rotation = token.annotations().get(ROTATE_ANNOTATION).cloned();
    apply::status(ctx, token, shown, recorded).await?;
    drop(slot);
    fault_points::hit(fault_points::MINT_AFTER_RECORD, token)?;
    let desired = secret::desired(token, &inputs.target, &inputs.settings, Some(&minted.token));
    // A failed write leaves the new token recorded: the next reconcile sees the Secret without
    // it, mints again and revokes it, so nothing is left untracked.
    apply::write_secret(ctx, &desired, inputs.existing.is_some()).await?;
    fault_points::hit(fault_points::MINT_AFTER_SECRET, token)?;
    ctx.metrics.token_minted();
    if reason == MintReason::Renewal {
        ctx.metrics.token_rotated();
        events::publish(
            &ctx.recorder,
            token,
            false,
            "Renewed",
            format!(
                "minted Quay token {} because the renewal time of its predecessor came",
                minted.id
            ),
        )
        .await;
    } else if reason == MintReason::First {
        events::publish(
            &ctx.recorder,
            token,
            false,
            "Minted",
            format!(
                "minted Quay token {} for {} into Secret {}",
                minted.id,
                inputs.settings.username(),
                inputs.target
            ),
        )
        .await;
    } else {
        ctx.metrics.token_rotated();
        events::publish(
            &ctx.recorder,
            token,
            false,
            "Rotated",
            format!(
                "minted Quay token {} because {}",
                minted.id,
                reason.describe()
            ),
        )
        .await;
    }
    if !grant.left_out.is_empty() {
        events::publish(
            &ctx.recorder,
            token,
            false,
            "ScopesLeftOut",
            format!(
                "minted without {}: `all` means every scope the account can hold, and Quay user {} is not a Quay superuser",
                grant.left_out.join(", "),
                inputs.settings.username()
            ),
        )
        .await;
    }
    let pending_revocation = shown
        .as_ref()
        .map(|s| s.replaced.clone())
        .unwrap_or_default();
    let (replaced, _) = retire_all(
        token,
        ctx,
        &inputs.settings,
        pending_revocation,
        Grace::Honour,
    )
    .await;
    Ok(Outcome {
        record: Some(record),
        message: String::new(),
        replaced,
    })
}

/// The live tokens of this ApiToken that no status records (its record was lost): found by
/// the name prefix every mint of it shares, on the token API; the web flow cannot tell them.
async fn unrecorded(
    token: &ApiToken,
    ctx: &Context,
    inputs: &Inputs,
    new: &TokenRecord,
) -> Vec<TokenRecord> {
    if token.spec.preserve_in_quay_on_deletion {
        return Vec::new();
    }
    let prefix = naming::name_prefix(
        &token.namespace().unwrap_or_default(),
        &token.name_any(),
        &token.uid().unwrap_or_default(),
    );
    let found = ctx
        .quay
        .token_ids_with_prefix(&inputs.settings, &inputs.client_id, &prefix)
        .await;
    let ids = match found {
        Ok(Some(ids)) => ids,
        Ok(None) => {
            events::publish(&ctx.recorder, token, true, "UnrecordedToken", format!(
                "the result Secret {} held a token that no status records; this Quay's tokens have no names, so it cannot be found and revoked: revoke it by hand under {}'s authorized applications", inputs.target, inputs.settings.username())).await;
            return Vec::new();
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot look for unrecorded tokens");
            return Vec::new();
        }
    };
    let tracked = tracked_ids(ctx, &inputs.settings).await;
    ids.into_iter()
        .filter(|id| Some(id) != new.id.as_ref() && !tracked.contains(id))
        .map(|id| TokenRecord {
            id: Some(id),
            flavour: Some(Flavour::TokenApi.as_str().to_string()),
            ..new.clone()
        })
        .collect()
}

/// Whether replaced tokens wait for the end of their grace period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Grace {
    /// Revoke only those whose grace period is over (the ApiToken stays).
    Honour,
    /// Revoke them all now (the ApiToken goes, or its token goes to a user).
    Ignore,
}

/// The replaced token, when it is one to revoke: minted by us (an id), not assigned, and not
/// kept by `preserveInQuayOnDeletion`.
pub(super) fn to_retire(token: &ApiToken, old: Option<TokenRecord>) -> Option<TokenRecord> {
    old.filter(|o| {
        o.assigned_to.is_none() && o.id.is_some() && !token.spec.preserve_in_quay_on_deletion
    })
}

/// Revokes every replaced token once the Secret holds their successor; returns those that
/// are still to revoke (a passing failure is retried on the next reconcile), and the last
/// such failure.
pub(super) async fn retire_all(
    token: &ApiToken,
    ctx: &Context,
    settings: &ConnectionSettings,
    replaced: Vec<TokenRecord>,
    grace: Grace,
) -> (Vec<TokenRecord>, Option<QuayError>) {
    let now = ctx.clock.now();
    let mut left = Vec::new();
    let mut failure = None;
    for old in replaced {
        if grace == Grace::Honour && !lifetime::grace_over(&old, now) {
            left.push(old);
            continue;
        }
        if let Err(e) = retire(token, ctx, settings, &old).await {
            left.push(old);
            failure = Some(e);
        }
    }
    (left, failure)
}

/// The scopes to mint for `rights`; asks Quay whether the account is a superuser only when
/// the answer matters.
async fn grant_for(
    ctx: &Context,
    inputs: &Inputs,
    rights: &[Right],
) -> Result<grant::Grant, ReconcileError> {
    let superuser = if grant::needs_superuser_check(rights) {
        ctx.quay.is_superuser(&inputs.settings).await?
    } else {
        false
    };
    grant::decide(rights, superuser).map_err(|refused| {
        ReconcileError::Quay(QuayError::RightNotHeld {
            rights: refused.join(" "),
            username: inputs.settings.username().to_owned(),
            why: "it is not a Quay superuser".to_owned(),
        })
    })
}

/// Revokes a replaced token; failures become events, not errors, since the new token is
/// already in place. `Err` when revoking should be tried again later.
pub(super) async fn retire(
    token: &ApiToken,
    ctx: &Context,
    settings: &ConnectionSettings,
    old: &TokenRecord,
) -> Result<(), QuayError> {
    let Some(id) = old.id.as_deref() else {
        return Ok(());
    };
    let flavour: Option<Flavour> = old.flavour.as_deref().and_then(|f| f.parse().ok());
    let same_account = old.host == settings.host_string() && old.username == settings.username();
    let flavour = match flavour {
        Some(flavour) if same_account => flavour,
        _ => {
            events::publish(&ctx.recorder, token, true, "RevokeSkipped", format!(
                "the replaced token {id} belongs to {} on {}, not the current connection; revoke it there by hand", old.username, old.host)).await;
            return Ok(());
        }
    };
    match ctx.quay.revoke(settings, &old.client_id, id, flavour).await {
        Ok(()) => {
            ctx.liveness
                .note(settings, &old.client_id, flavour, id, false)
                .await;
            ctx.metrics.token_revoked();
            events::publish(
                &ctx.recorder,
                token,
                false,
                "Revoked",
                format!("revoked the replaced Quay token {id}"),
            )
            .await;
            Ok(())
        }
        Err(e) => {
            let again = e.is_transient();
            let fate = if again {
                "revoking it is retried"
            } else {
                "it stays in Quay"
            };
            events::publish(
                &ctx.recorder,
                token,
                true,
                "RevokeFailed",
                format!("the replaced Quay token {id} could not be revoked ({e}); {fate}"),
            )
            .await;
            if again { Err(e) } else { Ok(()) }
        }
    }
}
