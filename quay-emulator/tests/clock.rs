//! The emulator's clock, which tests move forward instead of waiting: token lifetimes (64–64c),
//! what the lists show of expired tokens (§8, §15, Quay's source for authorizations), session
//! lifetimes, sign-in back-off, page cursors, and the HTTP route a separate process uses.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Client, fragment_token, loopback, start};
use quay_emulator::{Config, Emulator};
use reqwest::StatusCode;
use serde_json::{Value, json};

const OWNER: &str = "towner";
const OWNER_PW: &str = "0wn3rPassw0rd";
const ORG: &str = "production";
const APPS: &str = "/api/v1/organization/production/applications";
const TEN_YEARS: Duration = Duration::from_secs(315_576_000);
const DAY: Duration = Duration::from_secs(86_400);

async fn world() -> (Emulator, String) {
    let emu = start().await;
    emu.add_user(OWNER, OWNER_PW);
    emu.add_org(ORG, OWNER);
    let app = emu.add_app(ORG, "quay-operator", None);
    (emu, app.client_id)
}

async fn signed_in(emu: &Emulator) -> Client {
    let mut c = Client::new(&emu.url());
    assert_eq!(c.signin(OWNER, OWNER_PW).await.status(), 200);
    c
}

fn tokens_path(client_id: &str) -> String {
    format!("{APPS}/{client_id}/tokens")
}

/// Mints through the token API; returns the create answer (with its `token`).
async fn api_token(c: &Client, client_id: &str, body: Value) -> Value {
    let resp = c.post_json(&tokens_path(client_id), &body).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("token json")
}

fn wall_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Unix seconds of `2036-12-01T08:48:06.253753Z` (or without the fraction).
fn parse_time(s: &str) -> f64 {
    let s = s.strip_suffix('Z').expect("ends with Z");
    let (date, time) = s.split_once('T').expect("date and time");
    let d: Vec<i64> = date.split('-').map(|p| p.parse().unwrap()).collect();
    let (y, m, day) = (d[0], d[1], d[2]);
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let t: Vec<f64> = time.split(':').map(|p| p.parse().unwrap()).collect();
    days as f64 * 86_400.0 + t[0] * 3600.0 + t[1] * 60.0 + t[2]
}

fn uuids(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .expect("a list")
        .iter()
        .map(|t| t["uuid"].as_str().expect("uuid").to_string())
        .collect()
}

#[tokio::test]
async fn a_600_second_token_answers_until_the_clock_passes_601_seconds() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu).await;
    let short = api_token(
        &owner,
        &client_id,
        json!({"name": "short", "scope": "org:admin", "expiration": 600}),
    )
    .await;
    let long = api_token(
        &owner,
        &client_id,
        json!({"name": "long", "scope": "org:admin"}),
    )
    .await;
    let secret = short["token"].as_str().unwrap();
    assert_eq!(owner.get_bearer(APPS, secret).await, 200);
    assert_eq!(emu.tokens().len(), 2);

    emu.advance_clock(Duration::from_secs(601));
    assert_eq!(owner.get_bearer(APPS, secret).await, 401);
    assert_eq!(owner.get_bearer("/api/v1/user/", secret).await, 401);
    // An anonymous-allowed endpoint treats the expired token as no token (64c).
    let org: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/organization/{ORG}", emu.url()))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(org["is_admin"], json!(false));
    assert_eq!(
        owner
            .get_bearer(APPS, long["token"].as_str().unwrap())
            .await,
        200
    );

    let live: Vec<String> = emu.tokens().into_iter().map(|t| t.uuid).collect();
    assert_eq!(live, [long["uuid"].as_str().unwrap()]);
    let list: Value = owner
        .get(&tokens_path(&client_id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        uuids(&list, "tokens"),
        [long["uuid"].as_str().unwrap()],
        "the token API lists unexpired tokens only"
    );
    // Quay's authorizations have no expiry filter: the expired token is still there, and
    // can still be read and revoked.
    let auths: Value = owner
        .get("/api/v1/user/authorizations")
        .await
        .json()
        .await
        .unwrap();
    let mut listed = uuids(&auths, "authorizations");
    listed.sort();
    let mut both = vec![
        short["uuid"].as_str().unwrap().to_string(),
        long["uuid"].as_str().unwrap().to_string(),
    ];
    both.sort();
    assert_eq!(listed, both);
    let one = format!(
        "/api/v1/user/authorizations/{}",
        short["uuid"].as_str().unwrap()
    );
    assert_eq!(owner.get(&one).await.status(), 200);
    assert_eq!(owner.delete(&one).await.status(), 204);
    assert_eq!(owner.get(&one).await.status(), 404);
}

#[tokio::test]
async fn an_expired_token_no_longer_counts_against_the_token_limit() {
    let (emu, client_id) = world().await;
    emu.set_max_tokens_per_app(Some(1));
    let owner = signed_in(&emu).await;
    api_token(
        &owner,
        &client_id,
        json!({"name": "a", "scope": "repo:read", "expiration": 60}),
    )
    .await;
    let body = json!({"name": "b", "scope": "repo:read"});
    let refused = owner.post_json(&tokens_path(&client_id), &body).await;
    assert_eq!(refused.status(), 400);
    emu.advance_clock(Duration::from_secs(61));
    api_token(&owner, &client_id, body).await;
}

#[tokio::test]
async fn web_flow_tokens_live_ten_years_by_the_clock() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu).await;
    let (status, location) = owner.authorizeapp(&client_id, "org:admin", &[]).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location.ends_with("&expires_in=315576000"), "{location}");
    let token = fragment_token(&location).unwrap();
    let info = emu.tokens().remove(0);
    let lifetime = parse_time(info.expires_at.as_deref().unwrap()) - emu.now();
    assert!(
        lifetime <= TEN_YEARS.as_secs_f64() && lifetime > (TEN_YEARS - DAY).as_secs_f64(),
        "{lifetime}"
    );

    emu.advance_clock(TEN_YEARS - DAY);
    assert_eq!(owner.get_bearer(APPS, &token).await, 200);
    emu.advance_clock(DAY + Duration::from_secs(1));
    assert_eq!(owner.get_bearer(APPS, &token).await, 401);
    assert!(emu.tokens().is_empty());
}

#[tokio::test]
async fn created_and_expires_at_are_stamped_by_the_instances_clock() {
    let (emu, client_id) = world().await;
    let year = Duration::from_secs(365 * 86_400);
    let wall = wall_now();
    emu.advance_clock(year);
    // Signed in after the jump: a session would not outlive a year without requests.
    let owner = signed_in(&emu).await;
    let before = emu.now();
    let token = api_token(
        &owner,
        &client_id,
        json!({"name": "t", "scope": "repo:read", "expiration": 3600}),
    )
    .await;
    let after = emu.now();
    let created = parse_time(token["created"].as_str().unwrap());
    let expires = parse_time(token["expires_at"].as_str().unwrap());
    // Microsecond formatting: allow its rounding.
    assert!(
        created >= before - 1e-5 && created <= after + 1e-5,
        "{before} {created} {after}"
    );
    assert!((expires - created - 3600.0).abs() < 1e-3);
    assert!(created >= wall + year.as_secs_f64());

    owner
        .get_bearer(APPS, token["token"].as_str().unwrap())
        .await;
    let list: Value = owner
        .get(&tokens_path(&client_id))
        .await
        .json()
        .await
        .unwrap();
    let accessed = parse_time(list["tokens"][0]["last_accessed"].as_str().unwrap());
    assert!(accessed >= created && accessed <= emu.now() + 1e-5);
}

#[tokio::test]
async fn a_session_ends_after_31_days_without_a_request() {
    let (emu, _) = world().await;
    let owner = signed_in(&emu).await;
    // Each answer re-sends the permanent session's cookie and renews its lifetime.
    for _ in 0..3 {
        emu.advance_clock(30 * DAY);
        assert_eq!(owner.get("/api/v1/user/").await.status(), 200);
    }
    emu.advance_clock(31 * DAY + Duration::from_secs(1));
    assert_eq!(owner.get("/api/v1/user/").await.status(), 401);
    // Its CSRF token went with it, so a write is refused too.
    let resp = owner.post_json(APPS, &json!({"name": "x"})).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.text().await.unwrap(),
        "{\"error\": \"CSRF token was invalid or missing.\"}"
    );
    // Signing in again works.
    let again = signed_in(&emu).await;
    assert_eq!(again.get("/api/v1/user/").await.status(), 200);
}

#[tokio::test]
async fn the_sign_in_back_off_window_passes_with_the_clock() {
    let (emu, _) = world().await;
    let mut c = Client::new(&emu.url());
    // Each failure outside the window doubles it: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s.
    for window_s in [1, 2, 4, 8, 16] {
        assert_eq!(c.signin(OWNER, "wrong").await.status(), 403);
        emu.advance_clock(Duration::from_secs(window_s));
    }
    assert_eq!(c.signin(OWNER, "wrong").await.status(), 403);
    let resp = c.signin(OWNER, OWNER_PW).await;
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry <= 31 && retry > 0, "{retry}");
    emu.advance_clock(Duration::from_secs(32));
    assert_eq!(c.signin(OWNER, OWNER_PW).await.status(), 200);
}

#[tokio::test]
async fn a_page_cursor_expires_after_two_days() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu).await;
    for i in 0..51 {
        api_token(
            &owner,
            &client_id,
            json!({"name": format!("t{i}"), "scope": "repo:read"}),
        )
        .await;
    }
    let first: Value = owner
        .get(&tokens_path(&client_id))
        .await
        .json()
        .await
        .unwrap();
    let cursor: String =
        url::form_urlencoded::byte_serialize(first["next_page"].as_str().unwrap().as_bytes())
            .collect();
    let next = format!("{}?next_page={cursor}", tokens_path(&client_id));
    let last: Value = owner.get(&next).await.json().await.unwrap();
    assert_eq!(last["tokens"].as_array().unwrap().len(), 1);
    emu.advance_clock(2 * DAY + Duration::from_secs(60));
    // A cursor that does not open reads as none: the first page again.
    let stale: Value = owner.get(&next).await.json().await.unwrap();
    assert_eq!(stale["tokens"].as_array().unwrap().len(), 50);
    assert!(stale.get("next_page").is_some());
}

#[tokio::test]
async fn each_instance_has_its_own_clock() {
    let (a, a_app) = world().await;
    let (b, b_app) = world().await;
    let (a_owner, b_owner) = (signed_in(&a).await, signed_in(&b).await);
    let body = json!({"name": "t", "scope": "org:admin", "expiration": 600});
    let a_token = api_token(&a_owner, &a_app, body.clone()).await;
    let b_token = api_token(&b_owner, &b_app, body).await;
    a.advance_clock(Duration::from_secs(3600));
    assert!(a.now() > b.now() + 3599.0);
    let (a_secret, b_secret) = (
        a_token["token"].as_str().unwrap(),
        b_token["token"].as_str().unwrap(),
    );
    assert_eq!(a_owner.get_bearer(APPS, a_secret).await, 401);
    assert_eq!(b_owner.get_bearer(APPS, b_secret).await, 200);
}

#[tokio::test]
async fn config_starts_the_clock_ahead() {
    let config = Config {
        clock_offset: TEN_YEARS,
        ..Config::default()
    };
    let wall = wall_now();
    let emu = Emulator::start(loopback(), config).await.unwrap();
    assert!(emu.now() >= wall + TEN_YEARS.as_secs_f64());
    let state: Value = reqwest::get(format!("{}/_emulator/clock", emu.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["offset_s"], json!(TEN_YEARS.as_secs_f64()));
}

#[tokio::test]
async fn another_process_moves_the_clock_over_http() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu).await;
    let token = api_token(
        &owner,
        &client_id,
        json!({"name": "t", "scope": "org:admin", "expiration": 600}),
    )
    .await;
    let secret = token["token"].as_str().unwrap();
    let http = reqwest::Client::new();
    let advance = |body: &'static str| {
        http.post(format!("{}/_emulator/clock/advance", emu.url()))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let before = emu.now();
    let resp = advance(r#"{"seconds": 601}"#).await.unwrap();
    assert_eq!(resp.status(), 200);
    let clock: Value = resp.json().await.unwrap();
    assert_eq!(clock["offset_s"], json!(601.0));
    assert!(clock["now"].as_f64().unwrap() >= before + 601.0);
    assert_eq!(owner.get_bearer(APPS, secret).await, 401);

    for bad in [
        r#"{"seconds": -1}"#,
        r#"{"secs": 1}"#,
        "nonsense",
        r#"{"seconds": "1"}"#,
    ] {
        let resp = advance(bad).await.unwrap();
        assert_eq!(resp.status(), 400, "{bad}");
        let err: Value = resp.json().await.unwrap();
        assert!(err["error"].as_str().unwrap().contains("seconds"), "{err}");
    }
    let read: Value = http
        .get(format!("{}/_emulator/clock", emu.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["offset_s"], json!(601.0), "bad requests moved nothing");
    let state: Value = http
        .get(format!("{}/_emulator/state", emu.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["clock"]["offset_s"], json!(601.0));
    assert!(
        emu.request_counts()
            .keys()
            .all(|k| !k.contains("_emulator")),
        "the emulator's own routes are not Quay's and are not counted"
    );
}
