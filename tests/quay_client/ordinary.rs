//! The client against current Quay as an ordinary organization owner (protocol §15): scopes
//! Quay refuses told apart from a lost admin right, superuser status, and every list page.

use std::collections::HashSet;

use quay_apitoken_operator::quay::Flavour;

use super::support::*;

/// Quay's token API refuses `super:user` to a non-superuser with the 403 it also gives a
/// non-admin; the client tells the two apart by asking whether the account is still admin.
#[tokio::test]
async fn a_refused_scope_is_not_reported_as_a_lost_admin_right() {
    let f = Fixture::http().await;
    let settings = f.admin(&[]);
    assert_eq!(f.client.is_superuser(&settings).await, Ok(false));
    let err = f
        .client
        .mint(&settings, f.request(&["repo:read", "super:user"]))
        .await
        .expect_err("Quay refuses super:user to an ordinary owner");
    assert_eq!(err.reason(), "RightNotHeld", "{err}");
    let text = err.to_string();
    assert!(
        text.contains("super:user") && text.contains(ADMIN),
        "{text}"
    );
    assert!(f.emu.tokens().is_empty());

    f.emu.remove_org_admin(ORG, ADMIN);
    let err = f
        .client
        .mint(&settings, f.request(&["repo:read"]))
        .await
        .expect_err("no longer an admin");
    assert_eq!(err.reason(), "NotOrganizationAdmin", "{err}");
}

/// Superuser status comes from the user view's `super_user` key, asked once per account.
#[tokio::test]
async fn superuser_status_is_read_once() {
    let f = Fixture::http().await;
    f.emu.set_superuser(ADMIN, true);
    let settings = f.admin(&[]);
    assert_eq!(f.client.is_superuser(&settings).await, Ok(true));
    assert_eq!(f.client.is_superuser(&settings).await, Ok(true));
    assert_eq!(f.count("GET /api/v1/user/"), 1);
    let minted = f
        .client
        .mint(&settings, f.request(&["super:user"]))
        .await
        .expect("a superuser may hold super:user");
    assert_eq!(minted.flavour, Flavour::TokenApi);
}

/// 120 tokens on one application: the liveness list reads all three pages, so the oldest
/// tokens are still seen as live, and a named token on the last page is found by name.
#[tokio::test]
async fn every_page_of_the_token_list_is_read() {
    let f = Fixture::http().await;
    let settings = f.admin(&[]);
    let mut ids = Vec::new();
    for i in 0..120 {
        let mut request = f.request(&["repo:read"]);
        request.name = format!("token-{i:03}");
        ids.push(f.client.mint(&settings, request).await.expect("mint").id);
    }
    let list = "GET /api/v1/organization/{org}/applications/{client_id}/tokens";
    let before = f.count(list);
    let live = f
        .client
        .live_token_ids(&settings, &f.app.client_id, Flavour::TokenApi)
        .await
        .expect("list");
    assert_eq!(f.count(list) - before, 3, "50 + 50 + 20");
    assert_eq!(live, ids.iter().cloned().collect::<HashSet<_>>());
    // Newest first: the oldest token sits on the last page.
    let named = f
        .client
        .token_ids_named(&settings, &f.app.client_id, "token-000")
        .await
        .expect("list");
    assert_eq!(named, Some(vec![ids[0].clone()]));
}
