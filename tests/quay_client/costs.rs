//! The application a mint is for is remembered (a steady-state mint costs one request on the
//! token API, two on the web flow: see `minting::requests_per_warm_mint`), and that memory
//! never hides a lost admin right or a deleted application.

use quay_apitoken_operator::quay::QuayError;

use super::support::*;

/// The cached application is dropped by the first answer that contradicts it, and the mint
/// that met it reports the real cause.
#[tokio::test]
async fn a_lost_admin_right_or_a_deleted_application_is_seen_at_once() {
    for f in [Fixture::http().await, Fixture::web_flow().await] {
        let settings = f.admin(&[]);
        f.client
            .mint(&settings, f.request(&["repo:read"]))
            .await
            .expect("warm");
        f.emu.remove_org_admin(ORG, ADMIN);
        let err = f
            .client
            .mint(&settings, f.request(&["repo:read"]))
            .await
            .expect_err("no longer an admin");
        assert_eq!(err.reason(), "NotOrganizationAdmin", "{err}");
        f.emu.add_org_admin(ORG, ADMIN);
        f.client
            .mint(&settings, f.request(&["repo:read"]))
            .await
            .expect("an admin again");

        assert!(f.emu.delete_app(&f.app.client_id));
        let err = f
            .client
            .mint(&settings, f.request(&["repo:read"]))
            .await
            .expect_err("the application is gone");
        assert!(matches!(err, QuayError::UnknownClientId { .. }), "{err:?}");
    }
}
