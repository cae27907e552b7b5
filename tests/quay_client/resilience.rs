//! Passing Quay failures inside one call: reads and revocations are tried again briefly, a
//! mint never is; a host that stopped answering fails fast and costs no other host anything.

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use quay_apitoken_operator::quay::{Flavour, QuayClient, RequestObserver};
use quay_emulator::{FaultRule, Faults};

use super::support::*;

fn failing(endpoint: &str) -> Faults {
    Faults {
        rules: vec![FaultRule {
            endpoint: Some(endpoint.to_owned()),
            error_rate: Some(1.0),
            ..FaultRule::default()
        }],
    }
}

/// A read that keeps getting 503 is sent three times in all; a mint that gets 503 once.
#[tokio::test]
async fn reads_are_tried_again_and_mints_are_not() {
    let f = Fixture::http().await;
    let settings = f.admin(&[]);
    f.client
        .mint(&settings, f.request(&["repo:read"]))
        .await
        .expect("a first mint signs in");
    let list = "GET /api/v1/organization/{org}/applications/{client_id}/tokens";
    f.emu.set_faults(failing(list));
    let before = f.count(list);
    let err = f
        .client
        .live_token_ids(&settings, &f.app.client_id, Flavour::TokenApi)
        .await
        .expect_err("Quay keeps failing");
    assert_eq!(err.reason(), "QuayUnavailable");
    assert_eq!(
        f.count(list) - before,
        3,
        "three attempts of an idempotent read"
    );

    let create = "POST /api/v1/organization/{org}/applications/{client_id}/tokens";
    f.emu.set_faults(failing(create));
    let before = f.count(create);
    let err = f
        .client
        .mint(&settings, f.request(&["repo:read"]))
        .await
        .expect_err("Quay fails the mint");
    assert_eq!(err.reason(), "QuayUnavailable");
    assert_eq!(
        f.count(create) - before,
        1,
        "a mint whose outcome is unknown is not repeated"
    );
}

/// A failure that passes between attempts is not seen by the caller at all.
#[tokio::test]
async fn a_passing_failure_is_absorbed() {
    let f = Fixture::http().await;
    let settings = f.admin(&[]);
    let minted = f
        .client
        .mint(&settings, f.request(&["repo:read"]))
        .await
        .expect("mint");
    let list = "GET /api/v1/organization/{org}/applications/{client_id}/tokens";
    // Half the answers fail; with three attempts, 20 reads in a row all get through unless
    // one draws three failures in a row (the emulator's random source is seeded).
    f.emu.set_faults(Faults {
        rules: vec![FaultRule {
            endpoint: Some(list.to_owned()),
            error_rate: Some(0.3),
            ..FaultRule::default()
        }],
    });
    let mut failures = 0;
    for _ in 0..20 {
        match f
            .client
            .live_token_ids(&settings, &f.app.client_id, Flavour::TokenApi)
            .await
        {
            Ok(ids) => assert!(ids.contains(&minted.id)),
            Err(_) => failures += 1,
        }
    }
    assert!(
        failures <= 1,
        "{failures} of 20 reads failed despite retries"
    );
    assert!(f.count(list) > 20, "some reads needed a second attempt");
}

/// A host that refuses connections is given up on after three unanswered requests: the next
/// calls fail at once without a connection attempt, and a healthy host is served meanwhile.
#[tokio::test]
async fn a_dead_host_fails_fast_and_costs_other_hosts_nothing() {
    let mut f = Fixture::http().await;
    // A quiet time no stall of a busy test machine outlasts, so that "no new attempt" does
    // not depend on how fast the second call follows the first.
    f.recorder = Arc::new(Recorder::default());
    f.client = QuayClient::with_first_quiet(
        Some(f.recorder.clone() as Arc<dyn RequestObserver>),
        Duration::from_secs(600),
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dead = settings(
        &format!("http://127.0.0.1:{port}"),
        ADMIN,
        ADMIN_PASSWORD,
        &[],
    );
    let seen = || f.recorder.statuses("GET /csrf_token").len();
    let first = f
        .client
        .app_info(&dead, &f.app.client_id)
        .await
        .expect_err("nothing listens");
    assert_eq!(first.reason(), "QuayUnreachable");
    assert_eq!(seen(), 3, "three attempts reached the network");
    let err = f
        .client
        .app_info(&dead, &f.app.client_id)
        .await
        .expect_err("still down");
    assert_eq!(err.reason(), "QuayUnreachable");
    assert_eq!(seen(), 3, "failed fast: no new connection attempt");
    assert_eq!(
        err, first,
        "in the same words, so status and events stay put"
    );
    f.client
        .app_info(&f.admin(&[]), &f.app.client_id)
        .await
        .expect("another host is served as usual");
}

/// Accounts no ApiToken uses any more are forgotten (memory does not grow with churn); one
/// still in use, or used lately, is kept with its session.
#[tokio::test]
async fn unused_accounts_are_forgotten() {
    let f = Fixture::http().await;
    let settings = f.admin(&[]);
    f.client
        .app_info(&settings, &f.app.client_id)
        .await
        .expect("signed in");
    assert_eq!(f.client.account_count(), 1);
    let key = (settings.host_string(), ADMIN.to_owned());
    f.client
        .retain_accounts(&HashSet::from([key]), Duration::ZERO);
    assert_eq!(f.client.account_count(), 1, "a used account stays");
    f.client
        .retain_accounts(&HashSet::new(), Duration::from_secs(600));
    assert_eq!(f.client.account_count(), 1, "a recently used account stays");
    f.client.retain_accounts(&HashSet::new(), Duration::ZERO);
    assert_eq!(f.client.account_count(), 0, "an unused account goes");
    let signins = f.count("POST /api/v1/signin");
    f.client
        .app_info(&settings, &f.app.client_id)
        .await
        .expect("signs in again when needed");
    assert_eq!(f.count("POST /api/v1/signin"), signins + 1);
}
