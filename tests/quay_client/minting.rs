//! Minting in both flavours, forUser, verification and revocation.

use quay_apitoken_operator::quay::{Flavour, MintedToken, QuayClient};

use super::support::*;

/// The id the client learns is the one Quay lists for that very token value.
fn assert_known(f: &Fixture, minted: &MintedToken, scopes: &[&str]) {
    let tokens = f.emu.tokens();
    let quay = tokens
        .iter()
        .find(|t| t.uuid == minted.id)
        .expect("id is a Quay token");
    assert_eq!(quay.token, minted.token.expose());
    assert_eq!(quay.user, ADMIN);
    assert_eq!(quay.client_id, f.app.client_id);
    let mut expected: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    let mut actual = quay.scopes.clone();
    expected.sort();
    actual.sort();
    assert_eq!(actual, expected);
    assert!(minted.expires_at.is_some());
    assert!(!format!("{minted:?}").contains(minted.token.expose()));
}

/// Token API (Quay 3.18+): minted, named, verified, revoked, revoked again.
#[tokio::test]
async fn token_api_lifecycle() {
    let f = Fixture::http().await;
    let settings = f.admin(&[]);
    assert_eq!(f.client.flavour(&settings).await, Ok(Flavour::TokenApi));
    let minted = f
        .client
        .mint(&settings, f.request(&["repo:read", "org:admin"]))
        .await
        .expect("mint");
    assert_eq!(minted.flavour, Flavour::TokenApi);
    assert_known(&f, &minted, &["repo:read", "org:admin"]);
    let named = f
        .emu
        .tokens()
        .into_iter()
        .find(|t| t.uuid == minted.id)
        .and_then(|t| t.name);
    assert_eq!(named.as_deref(), Some("apitoken-test"));
    assert_eq!(f.count("POST /oauth/authorizeapp"), 0);

    lifecycle(&f, &minted).await;
}

/// Web flow (Quay 3.17): minted, verified, revoked, revoked again.
#[tokio::test]
async fn web_flow_lifecycle() {
    let f = Fixture::web_flow().await;
    let settings = f.admin(&[]);
    assert_eq!(f.client.flavour(&settings).await, Ok(Flavour::WebFlow));
    let minted = f
        .client
        .mint(&settings, f.request(&["repo:read", "user:read"]))
        .await
        .expect("mint");
    assert_eq!(minted.flavour, Flavour::WebFlow);
    assert_known(&f, &minted, &["repo:read", "user:read"]);
    lifecycle(&f, &minted).await;
}

async fn lifecycle(f: &Fixture, minted: &MintedToken) {
    let settings = f.admin(&[]);
    let cid = &f.app.client_id;
    let live = f
        .client
        .live_token_ids(&settings, cid, minted.flavour)
        .await
        .expect("list");
    assert!(live.contains(&minted.id));

    f.client
        .revoke(&settings, cid, &minted.id, minted.flavour)
        .await
        .expect("revoke");
    assert!(
        f.emu.tokens().iter().all(|t| t.uuid != minted.id),
        "gone in Quay"
    );
    let live = f
        .client
        .live_token_ids(&settings, cid, minted.flavour)
        .await
        .expect("list");
    assert!(!live.contains(&minted.id));
    // Already gone is success, so deletion never sticks on it.
    f.client
        .revoke(&settings, cid, &minted.id, minted.flavour)
        .await
        .expect("again");
}

/// A token revoked in Quay disappears from the verification list.
#[tokio::test]
async fn verification_sees_revocation_in_quay() {
    for f in [Fixture::http().await, Fixture::web_flow().await] {
        let settings = f.admin(&[]);
        let keep = f
            .client
            .mint(&settings, f.request(&["repo:read"]))
            .await
            .expect("keep");
        let lose = f
            .client
            .mint(&settings, f.request(&["repo:read"]))
            .await
            .expect("lose");
        f.emu.revoke_token(&lose.id);
        let live = f
            .client
            .live_token_ids(&settings, &f.app.client_id, keep.flavour)
            .await
            .expect("list");
        assert!(live.contains(&keep.id));
        assert!(!live.contains(&lose.id));
    }
}

/// The stored flavour decides where a token is revoked, whatever the host offers today.
#[tokio::test]
async fn revoke_follows_the_recorded_flavour() {
    let f = Fixture::web_flow().await;
    let settings = f.admin(&[]);
    let web = f
        .client
        .mint(&settings, f.request(&["repo:read"]))
        .await
        .expect("web flow");
    assert_eq!(web.flavour, Flavour::WebFlow);

    // Quay upgraded: a new process detects the token API, yet revokes the old token.
    f.emu.set_token_api(true);
    let upgraded = QuayClient::new(None);
    let api = upgraded
        .mint(&settings, f.request(&["repo:read"]))
        .await
        .expect("token api");
    assert_eq!(api.flavour, Flavour::TokenApi);
    upgraded
        .revoke(&settings, &f.app.client_id, &web.id, web.flavour)
        .await
        .expect("revoke web");

    // Quay downgraded: the token API route is gone; its token is still revocable.
    f.emu.set_token_api(false);
    let downgraded = QuayClient::new(None);
    downgraded
        .revoke(&settings, &f.app.client_id, &api.id, api.flavour)
        .await
        .expect("revoke api");
    assert!(f.emu.tokens().is_empty(), "both gone");
}

/// A Quay downgraded under a running operator: the next mint fails once (transient), the
/// one after re-detects and uses the web flow, and token API tokens can still be verified.
#[tokio::test]
async fn downgrade_is_noticed() {
    let f = Fixture::http().await;
    let settings = f.admin(&[]);
    let api = f
        .client
        .mint(&settings, f.request(&["repo:read"]))
        .await
        .expect("token api");
    f.emu.set_token_api(false);
    let err = f
        .client
        .mint(&settings, f.request(&["repo:read"]))
        .await
        .expect_err("405");
    assert_eq!(err.reason(), "UnexpectedResponse");
    assert!(err.is_transient());
    let web = f
        .client
        .mint(&settings, f.request(&["repo:read"]))
        .await
        .expect("web flow");
    assert_eq!(web.flavour, Flavour::WebFlow);
    assert_eq!(f.count("GET /api/v1/discovery"), 2);
    let live = f
        .client
        .live_token_ids(&settings, &f.app.client_id, api.flavour)
        .await
        .expect("list");
    assert!(live.contains(&api.id) && live.contains(&web.id));
}

/// forUser: Quay records an assignment for that user, with the scopes asked for.
#[tokio::test]
async fn for_user_assigns() {
    let f = Fixture::http().await;
    let scopes = vec!["repo:read".to_owned(), "user:read".to_owned()];
    f.client
        .assign(&f.admin(&[]), &f.app.client_id, &scopes, OTHER)
        .await
        .expect("assign");
    let assignments = f.emu.assignments();
    assert_eq!(assignments.len(), 1);
    assert_eq!(assignments[0].user, OTHER);
    assert_eq!(assignments[0].client_id, f.app.client_id);
    assert_eq!(assignments[0].scope, "repo:read user:read");
    assert!(
        f.emu.tokens().is_empty(),
        "no token comes back with forUser"
    );
}

/// Quay requests per mint with a warm session, measured at the emulator: the token API's
/// create alone; the web flow's grant and one list (the application is remembered).
#[tokio::test]
async fn requests_per_warm_mint() {
    for (f, expected) in [(Fixture::http().await, 1), (Fixture::web_flow().await, 2)] {
        let settings = f.admin(&[]);
        f.client
            .mint(&settings, f.request(&["repo:read"]))
            .await
            .expect("warm up");
        f.emu.reset_counters();
        f.client
            .mint(&settings, f.request(&["repo:read"]))
            .await
            .expect("warm mint");
        let counts = f.emu.request_counts();
        let total: u64 = counts.values().sum();
        println!("requests per warm mint: {total} {counts:?}");
        assert_eq!(total, expected, "{counts:?}");
    }
}
