//! The organization applications API (protocol §16) over HTTP: each endpoint's answers, who
//! may call it, PUT's replace semantics, the secret reset, and deletion killing tokens.

#[path = "../common/mod.rs"]
mod common;

mod access;
mod create;
mod edit;
mod harness;

use common::{Client, fragment_token, start};
use quay_emulator::{AppUpdate, Emulator, FaultAnswer, FaultRule, Faults};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const OWNER: &str = "aowner";
const OWNER_PW: &str = "0wn3rPassw0rd";
const OUTSIDER: &str = "outsider";
const OUTSIDER_PW: &str = "0uts1d3rPassw0rd";
const ROOT: &str = "root";
const ROOT_PW: &str = "R00tPassw0rd";
const ORG: &str = "acme";
const OTHER_ORG: &str = "elsewhere";
const APPS: &str = "/api/v1/organization/acme/applications";

/// `aowner` owns `acme`; `outsider` owns `elsewhere`; `root` is a superuser in neither.
async fn world() -> Emulator {
    let emu = start().await;
    emu.add_user(OWNER, OWNER_PW);
    emu.add_user(OUTSIDER, OUTSIDER_PW);
    emu.add_user(ROOT, ROOT_PW);
    emu.set_superuser(ROOT, true);
    emu.add_org(ORG, OWNER);
    emu.add_org(OTHER_ORG, OUTSIDER);
    emu.add_app(ORG, "quay-operator", None);
    emu.add_app(OTHER_ORG, "their-app", None);
    emu
}

async fn signed_in(emu: &Emulator, user: &str, password: &str) -> Client {
    let mut c = Client::new(&emu.url());
    assert_eq!(c.signin(user, password).await.status(), 200);
    c
}

/// A token minted by `c` through the web flow for `client_id`.
async fn web_token(c: &Client, client_id: &str, scope: &str) -> String {
    let (status, location) = c.authorizeapp(client_id, scope, &[]).await;
    assert_eq!(status, StatusCode::FOUND, "{location}");
    fragment_token(&location).expect("a token in the fragment")
}

fn app_path(client_id: &str) -> String {
    format!("{APPS}/{client_id}")
}

/// Status and parsed body (`null` when empty or not JSON).
async fn answer(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A request as one caller makes it: a session sends its CSRF token, a bearer none.
enum Caller {
    Session(Client),
    Bearer(String),
}

impl Caller {
    async fn call(
        &self,
        base: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let url = format!("{base}{path}");
        let mut req = match self {
            Caller::Session(c) => c.http.request(method, url).header("X-CSRF-Token", &c.csrf),
            Caller::Bearer(t) => reqwest::Client::new().request(method, url).bearer_auth(t),
        };
        if let Some(b) = body {
            req = req.json(b);
        }
        answer(req.send().await.expect("request answers")).await
    }
}

fn problem(emu: &Emulator, status: u16, error_type: &str, detail: &str) -> Value {
    json!({"detail": detail, "error_message": detail, "error_type": error_type,
           "title": error_type, "type": format!("{}/api/v1/error/{error_type}", emu.url()),
           "status": status})
}

fn insufficient_scope(emu: &Emulator) -> Value {
    problem(emu, 403, "insufficient_scope", "Unauthorized")
}

fn not_found(emu: &Emulator) -> Value {
    problem(emu, 404, "not_found", "Not Found")
}
