//! The token ids that ApiTokens record, so that recovery never takes another's token for an
//! orphan. No I/O beyond waiting for the controller's caches.

use super::record::same_account;
use crate::context::Context;
use crate::quay::ConnectionSettings;
use kube::ResourceExt;
use std::collections::HashSet;

/// Every token id of this account that an ApiToken records (current or replaced), as this
/// process last wrote it or, for the others, as the cache shows it; and those this process
/// minted that a running reconcile is about to record.
pub async fn tracked_ids(ctx: &Context, settings: &ConnectionSettings) -> HashSet<String> {
    // A cache still being filled would leave other ApiTokens' tokens out, and they would
    // look like orphans.
    ctx.peers.wait_synced().await;
    let mut ids: HashSet<String> = ctx
        .in_flight
        .records()
        .into_iter()
        .filter(|r| same_account(&r.host, &r.username, settings))
        .filter_map(|r| r.id)
        .collect();
    for other in ctx.peers.all() {
        let uid = other.uid().unwrap_or_default();
        let Some(status) = ctx.written.current(&uid, other.status.as_ref()) else {
            continue;
        };
        let records = status.token.iter().chain(status.replaced.iter());
        for record in records {
            if same_account(&record.host, &record.username, settings)
                && let Some(id) = &record.id
            {
                ids.insert(id.clone());
            }
        }
    }
    ids
}
