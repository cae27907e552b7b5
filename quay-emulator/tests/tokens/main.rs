//! The org application token API's permission and input checks and its pagination
//! (protocol §8, §15), driven over HTTP.

#[path = "../common/mod.rs"]
mod common;

mod example_seed;
mod input;
mod listing;
mod minting;

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
