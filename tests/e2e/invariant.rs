//! The invariant checker of `support/invariant.rs`, over one e2e fixture.

use crate::env::*;
use crate::support::invariant;

/// Waits until the invariant holds for the fixture's namespace and account.
pub async fn assert_converged(env: &Env) {
    let world = invariant::World {
        tokens: env.tokens(),
        client: env.ns.client.clone(),
        quay: &env.quay,
        client_id: &env.app.client_id,
        user: ADMIN,
    };
    invariant::assert_converged(&world, PATIENCE).await;
}
