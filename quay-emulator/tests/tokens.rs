//! The org application token API's permission and input checks and its pagination
//! (protocol.md §8, §15), driven over HTTP.

mod common;

use std::collections::HashSet;

use common::{Client, start};
use quay_emulator::Emulator;
use quay_emulator::seed::Seed;
use reqwest::StatusCode;
use serde_json::{Value, json};

const OWNER: &str = "towner";
const OWNER_PW: &str = "0wn3rPassw0rd";
const ROOT: &str = "root";
const ROOT_PW: &str = "R00tPassw0rd";
const ORG: &str = "production";
const TEN_YEARS_S: f64 = 315_576_000.0;
const SEVEN: &str = "org:admin repo:admin repo:create repo:read repo:write user:admin user:read";

/// An emulator where `towner` (not a superuser) and `root` (a superuser) both own `production`.
async fn world() -> (Emulator, String) {
    let emu = start().await;
    emu.add_user(OWNER, OWNER_PW);
    emu.add_user(ROOT, ROOT_PW);
    emu.set_superuser(ROOT, true);
    emu.add_org(ORG, OWNER);
    emu.add_org_admin(ORG, ROOT);
    let app = emu.add_app(ORG, "quay-operator", None);
    (emu, app.client_id)
}

async fn signed_in(emu: &Emulator, user: &str, password: &str) -> Client {
    let mut c = Client::new(&emu.url());
    assert_eq!(c.signin(user, password).await.status(), 200);
    c
}

fn tokens_path(client_id: &str) -> String {
    format!("/api/v1/organization/{ORG}/applications/{client_id}/tokens")
}

async fn create(c: &Client, client_id: &str, body: &Value) -> (StatusCode, Value) {
    let resp = c.post_json(&tokens_path(client_id), body).await;
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Seconds since the epoch of `2036-12-01T08:48:06.253753Z` (or without the fraction).
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

fn lifetime(token: &Value) -> f64 {
    parse_time(token["expires_at"].as_str().expect("expires_at"))
        - parse_time(token["created"].as_str().expect("created"))
}

/// The 403 of Quay's token API, whether the caller is no admin or lacks a scope's permission.
fn insufficient_scope(emu: &Emulator) -> Value {
    json!({"detail": "Unauthorized", "error_message": "Unauthorized",
           "error_type": "insufficient_scope", "title": "insufficient_scope",
           "type": format!("{}/api/v1/error/insufficient_scope", emu.url()), "status": 403})
}

#[tokio::test]
async fn super_user_scope_needs_a_superuser() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    for scope in ["super:user", &format!("{SEVEN} super:user")] {
        let (status, body) =
            create(&owner, &client_id, &json!({"name": "su", "scope": scope})).await;
        assert_eq!(status, 403, "{scope}");
        assert_eq!(body, insufficient_scope(&emu));
    }
    // The same answer as for a user who administers nothing.
    emu.add_user("dwilde", "Dw1ld3Passw0rd");
    let outsider = signed_in(&emu, "dwilde", "Dw1ld3Passw0rd").await;
    let (status, body) = create(
        &outsider,
        &client_id,
        &json!({"name": "x", "scope": "repo:read"}),
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::FORBIDDEN, insufficient_scope(&emu))
    );

    let root = signed_in(&emu, ROOT, ROOT_PW).await;
    let (status, body) = create(
        &root,
        &client_id,
        &json!({"name": "su", "scope": "super:user"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], json!("super:user"));
    assert_eq!(body["created_by"], json!(ROOT));
    assert_eq!(emu.tokens().len(), 1, "only the superuser's token exists");
}

#[tokio::test]
async fn an_owner_mints_every_scope_but_super_user() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let (status, body) = create(
        &owner,
        &client_id,
        &json!({"name": "seven", "scope": SEVEN}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], json!(SEVEN));
    assert_eq!(body["name"], json!("seven"));
    assert_eq!(body["last_accessed"], Value::Null);
    assert_eq!(body["token"].as_str().map(str::len), Some(40));
    // The session view of a non-superuser has no super_user key; a superuser's has it.
    let me: Value = owner.get("/api/v1/user/").await.json().await.unwrap();
    assert!(me.get("super_user").is_none(), "{me}");
    let root = signed_in(&emu, ROOT, ROOT_PW).await;
    let me: Value = root.get("/api/v1/user/").await.json().await.unwrap();
    assert_eq!(me["super_user"], json!(true));
}

#[tokio::test]
async fn a_bearer_caller_mints_only_within_its_scopes() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let (_, held) = create(
        &owner,
        &client_id,
        &json!({"name": "held", "scope": "org:admin,repo:admin"}),
    )
    .await;
    let bearer = held["token"].as_str().unwrap().to_string();
    let mint = |scope: &'static str| {
        let url = format!("{}{}", emu.url(), tokens_path(&client_id));
        let bearer = bearer.clone();
        async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(bearer)
                .json(&json!({"name": "child", "scope": scope}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // repo:admin implies repo:write and repo:read (Quay's IMPLIED_SCOPES).
    assert_eq!(mint("repo:read repo:write org:admin").await, 200);
    assert_eq!(mint("user:read").await, 403);
    assert_eq!(mint("repo:create").await, 403);
}

#[tokio::test]
async fn names_are_trimmed_and_at_most_255_characters() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let ok = "n".repeat(255);
    let (status, body) = create(
        &owner,
        &client_id,
        &json!({"name": ok, "scope": "repo:read"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["name"], json!(ok));

    let long = "n".repeat(256);
    let (status, body) = create(
        &owner,
        &client_id,
        &json!({"name": long, "scope": "repo:read"}),
    )
    .await;
    assert_eq!(status, 400);
    let detail = format!(
        "'{long}' is too long\n\nFailed validating 'maxLength' in schema['properties']['name']:\n    {{'description': 'User-facing token name. Leading and trailing '\n                    'whitespace is trimmed before storage.',\n     'maxLength': 255,\n     'minLength': 1,\n     'type': 'string'}}\n\nOn instance['name']:\n    '{long}'"
    );
    assert_eq!(
        body,
        json!({"detail": detail, "error_message": detail, "error_type": "invalid_request",
               "title": "invalid_request",
               "type": format!("{}/api/v1/error/invalid_request", emu.url()), "status": 400})
    );

    let (status, body) = create(&owner, &client_id, &json!({"scope": "repo:read"})).await;
    assert_eq!(status, 400);
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(
            "'name' is a required property\n\nFailed validating 'required' in schema:\n"
        ),
        "{detail}"
    );
    assert!(
        detail.ends_with("\n\nOn instance:\n    {'scope': 'repo:read'}"),
        "{detail}"
    );

    let (status, body) = create(
        &owner,
        &client_id,
        &json!({"name": "  k8s:ns/name  ", "scope": "repo:read"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["name"], json!("k8s:ns/name"), "stored trimmed");
    let (status, body) = create(
        &owner,
        &client_id,
        &json!({"name": "   ", "scope": "repo:read"}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"message": "'name' must not be empty"})
        )
    );
    assert_eq!(emu.tokens().len(), 2);
}

#[tokio::test]
async fn expiration_is_clamped_to_ten_years_and_must_be_a_positive_number() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let cases = [
        (json!(3600), 3600.0),
        (json!(1_000_000_000_000u64), TEN_YEARS_S),
        (json!(2.5), 2.0),
    ];
    for (expiration, want) in cases {
        let (status, body) = create(
            &owner,
            &client_id,
            &json!({"name": "e", "scope": "repo:read", "expiration": expiration}),
        )
        .await;
        assert_eq!(status, 200, "{expiration}");
        assert!(
            (lifetime(&body) - want).abs() < 0.01,
            "{expiration}: {body}"
        );
    }
    let (_, body) = create(
        &owner,
        &client_id,
        &json!({"name": "d", "scope": "repo:read"}),
    )
    .await;
    assert!(
        (lifetime(&body) - TEN_YEARS_S).abs() < 0.01,
        "default: {body}"
    );
    // The list carries the same expires_at.
    let list: Value = owner
        .get(&tokens_path(&client_id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["tokens"][0]["expires_at"], body["expires_at"]);

    let rejected = [
        (json!(-5), "-5 is less than the minimum of 1"),
        (json!(0), "0 is less than the minimum of 1"),
        (json!(0.5), "0.5 is less than the minimum of 1"),
        (json!("3600"), "'3600' is not of type 'number'"),
        (json!(null), "None is not of type 'number'"),
    ];
    for (expiration, first_line) in rejected {
        let (status, body) = create(
            &owner,
            &client_id,
            &json!({"name": "e", "scope": "repo:read", "expiration": expiration}),
        )
        .await;
        assert_eq!(status, 400, "{expiration}");
        assert_eq!(body["error_type"], json!("invalid_request"));
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(&format!("{first_line}\n\nFailed validating ")),
            "{detail}"
        );
        assert!(
            detail.contains("in schema['properties']['expiration']:\n"),
            "{detail}"
        );
        assert!(
            detail.ends_with(&format!(
                "On instance['expiration']:\n    {}",
                &first_line[..first_line.find(" is ").unwrap()]
            )),
            "{detail}"
        );
    }
    assert_eq!(emu.tokens().len(), 4);
}

#[tokio::test]
async fn the_list_pages_by_fifty_newest_first() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let mut minted = Vec::new();
    for i in 0..120 {
        let (status, body) = create(
            &owner,
            &client_id,
            &json!({"name": format!("t{i:03}"), "scope": "repo:read"}),
        )
        .await;
        assert_eq!(status, 200);
        minted.push(body["uuid"].as_str().unwrap().to_string());
    }
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url =
            reqwest::Url::parse(&format!("{}{}", emu.url(), tokens_path(&client_id))).unwrap();
        if let Some(c) = &cursor {
            url.query_pairs_mut().append_pair("next_page", c);
        }
        let page: Value = owner
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let obj = page.as_object().unwrap();
        let names: Vec<String> = page["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["uuid"].as_str().unwrap().to_string())
            .collect();
        pages.push(names);
        match obj.get("next_page") {
            Some(next) => {
                assert_eq!(obj.len(), 2, "only tokens and next_page: {obj:?}");
                let next = next.as_str().expect("an opaque string").to_string();
                assert!(next.starts_with("gAAAAA"), "{next}");
                assert_ne!(Some(&next), cursor.as_ref());
                cursor = Some(next);
            }
            None => {
                assert_eq!(obj.len(), 1, "the last page has no next_page key");
                break;
            }
        }
        assert!(pages.len() < 5, "the list does not end");
    }
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [50, 50, 20]);
    let all: Vec<String> = pages.concat();
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), 120, "no duplicates");
    let newest_first: Vec<String> = minted.iter().rev().cloned().collect();
    assert_eq!(all, newest_first);

    // A cursor that does not open reads as none: Quay answers with the first page.
    let garbage: Value = owner
        .get(&format!("{}?next_page=garbage", tokens_path(&client_id)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(garbage["tokens"].as_array().unwrap().len(), 50);
    assert_eq!(garbage["tokens"][0]["uuid"], json!(minted[119]));
    assert!(garbage.get("next_page").is_some());

    // Revoked tokens vanish from the pages.
    for uuid in &minted[..30] {
        emu.revoke_token(uuid);
    }
    let first: Value = owner
        .get(&tokens_path(&client_id))
        .await
        .json()
        .await
        .unwrap();
    let next = first["next_page"].as_str().unwrap();
    let url = format!(
        "{}?next_page={}",
        tokens_path(&client_id),
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    let last: Value = owner.get(&url).await.json().await.unwrap();
    assert_eq!(last["tokens"].as_array().unwrap().len(), 40);
    assert!(last.get("next_page").is_none());
}

#[tokio::test]
async fn expired_tokens_are_not_listed() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let (_, short) = create(
        &owner,
        &client_id,
        &json!({"name": "short", "scope": "repo:read", "expiration": 1}),
    )
    .await;
    let (_, long) = create(
        &owner,
        &client_id,
        &json!({"name": "long", "scope": "repo:read"}),
    )
    .await;
    emu.advance_clock(std::time::Duration::from_millis(1100));
    let list: Value = owner
        .get(&tokens_path(&client_id))
        .await
        .json()
        .await
        .unwrap();
    let uuids: Vec<&Value> = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["uuid"])
        .collect();
    assert_eq!(uuids, [&long["uuid"]]);
    assert_ne!(short["uuid"], long["uuid"]);
}

#[tokio::test]
async fn the_example_seed_has_a_superuser_and_an_ordinary_owner() {
    let text = include_str!("../seed.example.yaml");
    let seed = Seed::parse(text, "seed.example.yaml").expect("the example parses");
    let emu = start().await;
    let apps = seed.apply(&emu).expect("applies");
    let client_id = apps[0].client_id.clone();
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let (status, _) = create(
        &owner,
        &client_id,
        &json!({"name": "seven", "scope": SEVEN}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = create(
        &owner,
        &client_id,
        &json!({"name": "su", "scope": "super:user"}),
    )
    .await;
    assert_eq!(status, 403);
    let admin = signed_in(&emu, "admin", "Sup3r53cr3L").await;
    let (status, _) = create(
        &admin,
        &client_id,
        &json!({"name": "su", "scope": "super:user"}),
    )
    .await;
    assert_eq!(status, 200);
}
