//! The emulator's clock, which tests move forward instead of waiting: token lifetimes (64–64c),
//! what the lists show of expired tokens (§8, §15, Quay's source for authorizations), session
//! lifetimes, sign-in back-off, page cursors, and the HTTP route a separate process uses.

#[path = "../common/mod.rs"]
mod common;

mod ageing;
mod instances;
mod lifetimes;

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
