//! Token lifetime on both flavours: scheduled renewal, grace periods that survive a crash,
//! expiry behind the operator's back, the API server's validation of the fields, and the
//! expiry metrics. Time moves by [`Env::advance_clock`] (Quay's clock and the operator's
//! together), never by waiting.

use crate::env::*;
use crate::invariant::assert_converged;
use kube::api::PostParams;
use serde_json::{Value, json};
use std::time::Duration;

fn options(token_api: bool) -> Options {
    Options {
        token_api,
        ..Options::default()
    }
}

fn flavour(token_api: bool) -> &'static str {
    if token_api { "api" } else { "web" }
}

fn spec(env: &Env, extra: Value) -> Value {
    let mut spec =
        json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": env.app.client_id});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    spec
}

const MINUTE: Duration = Duration::from_secs(60);

/// Waits until the ApiToken records a token other than `old`, delivered to its Secret.
async fn wait_replaced(env: &Env, name: &str, old: &str) -> String {
    let token = env
        .wait_token(name, &format!("a token other than {old}"), |t| {
            token_id(t).is_some_and(|id| id != old) && ready(t) == Some(true)
        })
        .await;
    let id = token_id(&token).unwrap();
    env.wait_delivered(name, &id).await;
    id
}

fn live(env: &Env, id: &str) -> bool {
    env.quay.tokens().iter().any(|t| t.uuid == id)
}

async fn scheduled_renewal(token_api: bool) {
    let env = Env::start_with(
        &format!("e2e-life-renew-{}", flavour(token_api)),
        options(token_api),
    )
    .await;
    env.create(
        "short",
        spec(&env, json!({"expiration": "10m", "renewBefore": "5m"})),
    )
    .await;
    let first = env.wait_ready("short").await;
    let t1 = token_id(&first).unwrap();
    let status = first.status.as_ref().unwrap();
    let expires = status.expires_at.clone().expect("status.expiresAt");
    let renews = status.renew_at.clone().expect("status.renewAt");
    let minted = status.token.as_ref().unwrap().minted_at.clone().unwrap();
    let gap = |a: &str, b: &str| {
        let (a, b) = (
            a.parse::<jiff::Timestamp>().unwrap(),
            b.parse::<jiff::Timestamp>().unwrap(),
        );
        b.duration_since(a).as_secs()
    };
    assert!(
        (599..=601).contains(&gap(&minted, &expires)),
        "{minted} → {expires}"
    );
    assert!(
        (299..=301).contains(&gap(&minted, &renews)),
        "{minted} → {renews}"
    );
    if token_api {
        let quay_expiry = env
            .quay
            .tokens()
            .into_iter()
            .find(|t| t.uuid == t1)
            .and_then(|t| t.expires_at)
            .expect("Quay records an expiry");
        assert!(
            (599..=601).contains(&gap(&minted, &quay_expiry)),
            "Quay was asked for the lifetime: {quay_expiry}"
        );
    }
    let minted_before = env.operator().counter("quay_apitoken_tokens_minted_total");

    env.advance_clock(5 * MINUTE + Duration::from_secs(1));
    let t2 = wait_replaced(&env, "short", &t1).await;
    env.wait_only_live(&t2).await;
    assert!(
        !live(&env, &t1),
        "the renewed token is revoked (no grace period)"
    );
    let events = env.events("short").await;
    assert!(
        events.iter().any(|(_, reason, _)| reason == "Renewed"),
        "{events:?}"
    );

    let before = env.quay.request_counts();
    env.advance_clock(5 * MINUTE + Duration::from_secs(1));
    let t3 = wait_replaced(&env, "short", &t2).await;
    env.wait_only_live(&t3).await;
    let cost: std::collections::BTreeMap<String, u64> = env
        .quay
        .request_counts()
        .into_iter()
        .map(|(k, n)| (k.clone(), n - before.get(&k).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    let (mint, revoke) = if token_api {
        (
            "POST /api/v1/organization/{org}/applications/{client_id}/tokens",
            "DELETE /api/v1/organization/{org}/applications/{client_id}/tokens/{uuid}",
        )
    } else {
        (
            "POST /oauth/authorizeapp",
            "DELETE /api/v1/user/authorizations/{uuid}",
        )
    };
    assert_eq!(cost.get(mint), Some(&1), "one mint per renewal: {cost:?}");
    assert_eq!(cost.get(revoke), Some(&1), "one revocation: {cost:?}");
    assert!(
        !cost.keys().any(|k| k.contains("signin")),
        "the session is reused: {cost:?}"
    );
    assert_eq!(
        env.operator().counter("quay_apitoken_tokens_minted_total"),
        minted_before + 2,
        "one mint per renewal, no other"
    );
    assert_converged(&env).await;
}

#[tokio::test]
async fn scheduled_renewal_token_api() {
    scheduled_renewal(true).await;
}

#[tokio::test]
async fn scheduled_renewal_web_flow() {
    scheduled_renewal(false).await;
}

async fn grace_period(token_api: bool) {
    let mut env = Env::start_with(
        &format!("e2e-life-grace-{}", flavour(token_api)),
        options(token_api),
    )
    .await;
    env.create(
        "graceful",
        spec(
            &env,
            json!({"expiration": "10m", "renewBefore": "5m", "gracePeriod": "2m"}),
        ),
    )
    .await;
    let t1 = token_id(&env.wait_ready("graceful").await).unwrap();

    // Renewal: the old token stays live for the grace period.
    env.advance_clock(5 * MINUTE + Duration::from_secs(1));
    let t2 = wait_replaced(&env, "graceful", &t1).await;
    let during = env.tokens().get("graceful").await.unwrap();
    let replaced = &during.status.as_ref().unwrap().replaced;
    assert_eq!(replaced.len(), 1, "{replaced:?}");
    assert_eq!(replaced[0].id.as_deref(), Some(t1.as_str()));
    assert!(
        replaced[0].revoke_at.is_some(),
        "the revoke time is recorded"
    );
    assert!(
        live(&env, &t1) && live(&env, &t2),
        "both live during the grace"
    );

    // A crash during the grace: the next operator has only status to go by.
    env.stop_operator().await;
    env.advance_clock(2 * MINUTE + Duration::from_secs(1));
    assert!(live(&env, &t1), "nothing revoked while no operator runs");
    env.start_operator().await;
    env.wait_only_live(&t2).await;
    // Revoked first, then recorded: the status follows a moment later.
    let after = env
        .wait_token("graceful", "no replaced token left", |t| {
            t.status.as_ref().is_some_and(|s| s.replaced.is_empty())
        })
        .await;
    assert_eq!(token_id(&after).as_deref(), Some(t2.as_str()));
    assert_converged(&env).await;
}

#[tokio::test]
async fn grace_period_survives_a_crash_token_api() {
    grace_period(true).await;
}

#[tokio::test]
async fn grace_period_survives_a_crash_web_flow() {
    grace_period(false).await;
}

async fn expired_behind_the_back(token_api: bool) {
    let mut env = Env::start_with(
        &format!("e2e-life-expired-{}", flavour(token_api)),
        options(token_api),
    )
    .await;
    env.create(
        "lapsed",
        spec(&env, json!({"expiration": "10m", "gracePeriod": "2m"})),
    )
    .await;
    let t1 = token_id(&env.wait_ready("lapsed").await).unwrap();
    env.stop_operator().await;
    env.advance_clock(10 * MINUTE + Duration::from_secs(5));
    env.start_operator().await;
    let t2 = wait_replaced(&env, "lapsed", &t1).await;
    // Dead (or past its lifetime) already: no grace period for it.
    env.wait_only_live(&t2).await;
    env.wait_event(
        "lapsed",
        "a Rotated event saying why",
        |(_, reason, msg)| {
            reason == "Rotated"
                && (msg.contains("lifetime is over") || msg.contains("no longer live"))
        },
    )
    .await;
    assert_converged(&env).await;
}

#[tokio::test]
async fn a_token_expired_behind_the_operators_back_is_replaced_token_api() {
    expired_behind_the_back(true).await;
}

#[tokio::test]
async fn a_token_expired_behind_the_operators_back_is_replaced_web_flow() {
    expired_behind_the_back(false).await;
}

/// The API server refuses contradictory or malformed lifetimes, naming the field.
#[tokio::test]
async fn invalid_lifetimes_are_refused_by_the_api_server() {
    let env = Env::start("e2e-life-invalid").await;
    let cases = [
        (
            json!({"expiration": "10m", "renewBefore": "10m"}),
            "renewBefore",
        ),
        (
            json!({"expiration": "10m", "renewBefore": "1h"}),
            "renewBefore",
        ),
        (json!({"expiration": "1m"}), "expiration"),
        (json!({"expiration": "87601h"}), "expiration"),
        (json!({"expiration": "10 minutes"}), "expiration"),
        (json!({"expiration": "10d"}), "expiration"),
        (json!({"renewBefore": "soon"}), "renewBefore"),
        (json!({"gracePeriod": "2"}), "gracePeriod"),
        (json!({"gracePeriod": "-2m"}), "gracePeriod"),
    ];
    for (i, (extra, field)) in cases.into_iter().enumerate() {
        let token =
            ApiTokenFixture::from_spec(&format!("bad-{i}"), spec(&env, extra.clone())).build();
        let err = env
            .tokens()
            .create(&PostParams::default(), &token)
            .await
            .expect_err(&format!("{extra} is refused"));
        let text = err.to_string();
        assert!(text.contains(field), "{extra}: {text}");
        assert!(
            text.contains("422") || text.contains("Invalid"),
            "{extra}: {text}"
        );
    }
    assert!(
        env.tokens()
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "nothing was stored"
    );
}

/// cert-manager-style series: one per ApiToken with the expiry and renewal times, gone
/// with the ApiToken.
#[tokio::test]
async fn expiry_metrics_follow_the_apitoken() {
    let env = Env::start("e2e-life-metrics").await;
    env.create(
        "measured",
        spec(&env, json!({"expiration": "1h", "renewBefore": "15m"})),
    )
    .await;
    let (expires, renews) = recorded_times(&env.wait_ready("measured").await);
    assert_exported(&env, "measured", expires, renews);
    assert_eq!(renews + 15.0 * 60.0, expires);
    let series = |metric: &str| series(&env, "measured", metric);

    env.delete_and_wait("measured").await;
    crate::support::wait_for(PATIENCE, "the series gone", || async {
        series("quay_apitoken_expiration_timestamp_seconds")
            .is_none()
            .then_some(())
    })
    .await;
    assert!(series("quay_apitoken_renewal_timestamp_seconds").is_none());
}

/// A replica that starts while Quay fails, with a renewal due, still exports the recorded
/// token's times: the expiring-soon alert needs them exactly when renewals fail.
#[tokio::test]
async fn expiry_metrics_survive_a_restart_while_quay_fails() {
    let mut env = Env::start("e2e-life-metrics-failing").await;
    env.create(
        "held",
        spec(&env, json!({"expiration": "1h", "renewBefore": "15m"})),
    )
    .await;
    let (expires, renews) = recorded_times(&env.wait_ready("held").await);
    env.stop_operator().await;
    // Past the renewal time: the new replica's first reconcile asks Quay, which fails.
    env.advance_clock(46 * MINUTE);
    env.quay.set_faults(quay_emulator::Faults {
        rules: vec![quay_emulator::FaultRule {
            error_rate: Some(1.0),
            ..Default::default()
        }],
    });
    env.start_operator().await;
    env.wait_token("held", "not Ready after the restart", |t| {
        ready(t) == Some(false)
    })
    .await;
    assert_exported(&env, "held", expires, renews);
}

/// The expiry and renewal times the status records, in Unix seconds.
fn recorded_times(token: &quay_apitoken_operator::crd::ApiToken) -> (f64, f64) {
    let status = token.status.as_ref().unwrap();
    let unix = |text: &str| text.parse::<jiff::Timestamp>().unwrap().as_second() as f64;
    let expires = unix(status.expires_at.as_deref().unwrap());
    let renews = unix(status.renew_at.as_deref().unwrap());
    (expires, renews)
}

/// The value of the operator's `metric` series for the ApiToken `name`, if it has one.
fn series(env: &Env, name: &str, metric: &str) -> Option<f64> {
    let key = format!("{metric}{{namespace=\"{}\",name=\"{name}\"}}", env.ns.name);
    env.operator().metrics.encode().lines().find_map(|l| {
        let (k, v) = l.rsplit_once(' ')?;
        (k == key).then(|| v.parse::<f64>().ok())?
    })
}

/// The operator exports `expires` and `renews` for the ApiToken `name`.
fn assert_exported(env: &Env, name: &str, expires: f64, renews: f64) {
    let got = series(env, name, "quay_apitoken_expiration_timestamp_seconds").expect("expiry");
    assert!((got - expires).abs() < 1.0, "{got} vs {expires}");
    let got = series(env, name, "quay_apitoken_renewal_timestamp_seconds").expect("renewal");
    assert!((got - renews).abs() < 1.0, "{got} vs {renews}");
}
