//! A web-flow mint whose token id was one of several (someone else minted for the same account
//! and application at that moment): the candidates are narrowed before the token is given up.
//! Network: Quay.

use super::tracked::tracked_ids;
use crate::context::Context;
use crate::error::ReconcileError;
use crate::quay::{HeldMint, MintSlot, MintedToken, QuayError};
use crate::reconcile::inputs::Inputs;

/// Looks at an ambiguous web-flow mint this many times before giving it up.
const NARROW_ROUNDS: u32 = 3;
const NARROW_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

/// Looks a few times, a second apart: the other candidates may be revoked or recorded by their
/// ApiTokens meanwhile (another install minting for the same account), and then the token need
/// not be thrown away. Still ambiguous: the intent stays, and the next reconcile's recovery
/// revokes every new untracked token of the app.
pub async fn narrow(
    ctx: &Context,
    inputs: &Inputs,
    slot: &MintSlot,
    mut held: HeldMint,
) -> Result<MintedToken, ReconcileError> {
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
