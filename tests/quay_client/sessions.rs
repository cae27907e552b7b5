//! One session per account: signed in once, renewed once when Quay drops it, never signed out.

use std::collections::HashSet;

use futures::future::join_all;
use quay_apitoken_operator::quay::{Flavour, HeldMint, QuayClient, QuayError};
use quay_emulator::{FaultRule, Faults};

use super::support::*;

/// Twenty mints cost one sign-in in each flavour, and no sign-out is ever sent.
#[tokio::test]
async fn twenty_mints_one_signin() {
    for f in [Fixture::http().await, Fixture::web_flow().await] {
        let settings = f.admin(&[]);
        let mut ids = HashSet::new();
        for _ in 0..20 {
            let minted = f
                .client
                .mint(&settings, f.request(&["repo:read"]))
                .await
                .expect("mint");
            ids.insert(minted.id);
        }
        assert_eq!(ids.len(), 20);
        assert_eq!(f.count("POST /api/v1/signin"), 1);
        assert_eq!(f.count("GET /csrf_token"), 1);
        assert_eq!(
            f.count("GET /api/v1/discovery"),
            1,
            "flavour detected once per host"
        );
        assert_eq!(f.count("POST /api/v1/signout"), 0);
    }
}

/// Concurrent callers (cloned clients) share one sign-in, and the web flow's id diff stays
/// exact because mints of one account are serialized.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_mints_share_a_session_and_learn_exact_ids() {
    let f = Fixture::web_flow().await;
    let settings = f.admin(&[]);
    let mints = (0..8).map(|_| {
        let client = f.client.clone();
        let settings = settings.clone();
        let request = f.request(&["repo:read", "user:read"]);
        async move { client.mint(&settings, request).await }
    });
    let minted: Vec<_> = join_all(mints)
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("all mint");
    assert_eq!(f.count("POST /api/v1/signin"), 1);
    let tokens = f.emu.tokens();
    for token in &minted {
        let quay = tokens
            .iter()
            .find(|t| t.uuid == token.id)
            .expect("id known to Quay");
        assert_eq!(
            quay.token,
            token.token.expose(),
            "id and value belong together"
        );
    }
    let ids: HashSet<_> = minted.iter().map(|m| m.id.clone()).collect();
    assert_eq!(ids.len(), 8);
}

/// Without the shared lock (two independent clients) the diff would be ambiguous: the
/// client refuses to guess rather than record someone else's token id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_web_flow_ids_are_refused() {
    let f = Fixture::web_flow().await;
    let settings = f.admin(&[]);
    let (a, b) = (QuayClient::new(None), QuayClient::new(None));
    a.app_info(&settings, &f.app.client_id)
        .await
        .expect("warm a");
    b.app_info(&settings, &f.app.client_id)
        .await
        .expect("warm b");
    // Latency is served before a request is handled. Holding both the lists and the mint
    // makes every step of the two clients line up: both "before" lists are read before either
    // mint, and both mints happen before either "after" list, for any start skew under 1.5 s.
    let hold = |endpoint: &str| FaultRule {
        endpoint: Some(endpoint.into()),
        latency_ms: Some(1500),
        random_latency_ms: None,
        error_rate: None,
        drop_rate: None,
        hang: false,
        hang_rate: None,
        answer: None,
    };
    f.emu.set_faults(Faults {
        rules: vec![
            hold("GET /api/v1/user/authorizations"),
            hold("POST /oauth/authorizeapp"),
        ],
    });
    let (ra, rb) = tokio::join!(
        a.mint(&settings, f.request(&["repo:read"])),
        b.mint(&settings, f.request(&["repo:read"]))
    );
    let mut held = Vec::new();
    for result in [ra, rb] {
        let err = result.expect_err("ambiguous");
        assert_eq!(err.reason(), "TokenIdUnknown");
        assert_clean(&err, &f.secrets());
        let QuayError::AmbiguousTokenId {
            new_entries: 2,
            held: Some(one),
        } = err
        else {
            panic!("two candidates and the token held: {err:?}");
        };
        assert_eq!(one.candidates.len(), 2);
        held.push(*one);
    }
    f.emu.set_faults(Faults::default());
    let id_of = |value: &str| {
        f.emu
            .tokens()
            .into_iter()
            .find(|t| t.token == value)
            .map(|t| t.uuid)
            .expect("each client's token is live")
    };
    let (held_a, held_b) = (held.remove(0), held.remove(0));
    let (a_id, b_id) = (id_of(held_a.token.expose()), id_of(held_b.token.expose()));

    // b's owner revokes its token: a's candidates narrow to its own.
    f.emu.revoke_token(&b_id);
    let slot = a
        .begin_mint(&settings, &f.app.client_id)
        .await
        .expect("slot");
    let minted = a
        .narrow_held(
            &settings,
            &slot,
            &f.app.client_id,
            held_a.clone(),
            &HashSet::new(),
        )
        .await
        .expect("listed")
        .expect("one candidate left");
    assert_eq!(minted.id, a_id, "the id of a's own token");
    assert_eq!(minted.token, held_a.token);
    drop(slot);

    // A candidate that an ApiToken records is someone else's, too.
    f.emu.revoke_token(&a_id);
    let again = b
        .mint(&settings, f.request(&["repo:read"]))
        .await
        .expect("an unambiguous mint");
    let slot = a
        .begin_mint(&settings, &f.app.client_id)
        .await
        .expect("slot");
    let staged = HeldMint {
        token: again.token.clone(),
        candidates: vec![again.id.clone(), "someone-elses".into()],
        expires_at: None,
        expires_in: None,
    };
    let narrowed = a
        .narrow_held(
            &settings,
            &slot,
            &f.app.client_id,
            staged,
            &HashSet::from([again.id.clone()]),
        )
        .await
        .expect("listed");
    let left = narrowed.expect_err("the tracked one and a vanished one: none is ours");
    assert!(left.candidates.is_empty(), "{left:?}");
}

/// A session Quay dropped (password changed and back) is renewed once, then reused.
#[tokio::test]
async fn dead_session_is_renewed_once() {
    for f in [Fixture::http().await, Fixture::web_flow().await] {
        let settings = f.admin(&[]);
        f.client
            .mint(&settings, f.request(&["repo:read"]))
            .await
            .expect("first");
        f.emu.set_password(ADMIN, "temporary-pw-1");
        f.emu.set_password(ADMIN, ADMIN_PASSWORD);
        for _ in 0..3 {
            f.client
                .mint(&settings, f.request(&["repo:read"]))
                .await
                .expect("renewed");
        }
        assert_eq!(f.count("POST /api/v1/signin"), 2);
        assert_eq!(f.count("POST /api/v1/signout"), 0);
        assert_eq!(f.emu.tokens().len(), 4);
    }
}

/// A password changed in Quay behind the operator's back: the dead session leads to one
/// sign-in, which fails; no loop, and no further attempt with the same Secret.
#[tokio::test]
async fn renewal_with_a_stale_password_does_not_loop() {
    let f = Fixture::http().await;
    let settings = f.admin(&[]);
    f.client
        .app_info(&settings, &f.app.client_id)
        .await
        .expect("warm");
    f.emu.set_password(ADMIN, "changed-in-quay-9");
    for _ in 0..3 {
        // A call that needs the session (the application itself is remembered by now).
        let err = f
            .client
            .live_token_ids(&settings, &f.app.client_id, Flavour::TokenApi)
            .await
            .expect_err("stale");
        assert!(
            matches!(err, QuayError::InvalidCredentials { .. }),
            "{err:?}"
        );
    }
    assert_eq!(
        f.count("POST /api/v1/signin"),
        2,
        "the first sign-in and one renewal"
    );
    assert_eq!(
        f.count("GET /api/v1/organization/{org}/applications/{client_id}/tokens"),
        1,
        "the first refusal; afterwards the rejected password is not sent again"
    );
    assert_eq!(f.count("POST /api/v1/signout"), 0);
}

/// A live session is never lent to a caller with another password for the same account.
#[tokio::test]
async fn session_is_not_shared_with_a_different_password() {
    let f = Fixture::http().await;
    f.client
        .app_info(&f.admin(&[]), &f.app.client_id)
        .await
        .expect("warm");
    let guess = settings(&f.emu.url(), ADMIN, WRONG_PASSWORD, &[]);
    let err = f
        .client
        .mint(&guess, f.request(&["repo:read"]))
        .await
        .expect_err("no piggyback");
    assert!(
        matches!(err, QuayError::InvalidCredentials { .. }),
        "{err:?}"
    );
    assert!(f.emu.tokens().is_empty());
}

/// Every request is reported to the observer with its endpoint and status.
#[tokio::test]
async fn requests_are_observed() {
    let f = Fixture::http().await;
    f.client
        .mint(&f.admin(&[]), f.request(&["repo:read"]))
        .await
        .expect("mint");
    assert_eq!(f.recorder.statuses("GET /csrf_token"), vec![Some(200)]);
    assert_eq!(f.recorder.statuses("POST /api/v1/signin"), vec![Some(200)]);
    assert_eq!(
        f.recorder.statuses("GET /api/v1/app/{client_id}"),
        vec![Some(200)]
    );
    assert_eq!(
        f.recorder
            .statuses("POST /api/v1/organization/{org}/applications/{client_id}/tokens"),
        vec![Some(200)]
    );
}
