//! A small Quay web client for the emulator's tests: a cookie jar and the CSRF token.

#![allow(dead_code)]

use std::net::SocketAddr;

use quay_emulator::{Config, Emulator};
use reqwest::{Response, StatusCode};
use serde_json::Value;

/// Any free port on loopback.
pub fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// An emulator with Quay's defaults.
pub async fn start() -> Emulator {
    crypto();
    Emulator::start(loopback(), Config::default())
        .await
        .expect("emulator starts")
}

/// An emulator with `admin` (org admin of `production`), `dwilde`, and app `quay-operator`.
pub async fn seeded() -> (Emulator, String) {
    let emu = start().await;
    emu.add_user("admin", "Sup3r53cr3L");
    emu.set_superuser("admin", true);
    emu.add_user("dwilde", "Dw1ld3Passw0rd");
    emu.add_org("production", "admin");
    let app = emu.add_app("production", "quay-operator", None);
    (emu, app.client_id)
}

/// One actor with its own cookie jar.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: String,
}

impl Client {
    /// A client with a cookie jar that does not follow redirects.
    pub fn new(base: &str) -> Client {
        Client::with_builder(base, reqwest::Client::builder())
    }

    /// A client from a prepared builder (e.g. with a CA or a timeout).
    pub fn with_builder(base: &str, builder: reqwest::ClientBuilder) -> Client {
        crypto();
        let http = builder
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("quay-emulator-tests/1")
            .build()
            .expect("client builds");
        Client {
            http,
            base: base.to_string(),
            csrf: String::new(),
        }
    }

    /// `GET /csrf_token`.
    pub async fn fetch_csrf(&mut self) {
        let v: Value = self
            .http
            .get(format!("{}/csrf_token", self.base))
            .send()
            .await
            .expect("csrf_token answers")
            .json()
            .await
            .expect("csrf_token is JSON");
        self.csrf = v["csrf_token"]
            .as_str()
            .expect("csrf_token field")
            .to_string();
    }

    /// Keeps the rotated token of a sign-in or sign-up.
    fn rotate(&mut self, resp: &Response) {
        if let Some(next) = resp.headers().get("x-next-csrf-token") {
            self.csrf = next.to_str().expect("ascii token").to_string();
        }
    }

    /// `GET /csrf_token` then `POST /api/v1/signin`.
    pub async fn signin(&mut self, user: &str, password: &str) -> Response {
        self.fetch_csrf().await;
        let resp = self
            .post_json(
                "/api/v1/signin",
                &serde_json::json!({"username": user, "password": password}),
            )
            .await;
        self.rotate(&resp);
        resp
    }

    /// `GET /csrf_token` then sign-up `POST /api/v1/user/`.
    pub async fn signup(&mut self, user: &str, password: &str) -> Response {
        self.fetch_csrf().await;
        let body = serde_json::json!({"username": user, "password": password,
                                       "email": format!("{user}@example.com")});
        let resp = self.post_json("/api/v1/user/", &body).await;
        self.rotate(&resp);
        resp
    }

    /// A JSON request with the CSRF header.
    pub async fn send_json(&self, method: reqwest::Method, path: &str, body: &Value) -> Response {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("X-CSRF-Token", &self.csrf)
            .json(body)
            .send()
            .await
            .expect("request answers")
    }

    /// POST with a JSON body and the CSRF header.
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.send_json(reqwest::Method::POST, path, body).await
    }

    /// GET with the session.
    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request answers")
    }

    /// DELETE with the session and the CSRF header.
    pub async fn delete(&self, path: &str) -> Response {
        self.http
            .delete(format!("{}{path}", self.base))
            .header("X-CSRF-Token", &self.csrf)
            .send()
            .await
            .expect("request answers")
    }

    /// POST without a body, with the session and the CSRF header.
    pub async fn post_empty(&self, path: &str) -> Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("X-CSRF-Token", &self.csrf)
            .send()
            .await
            .expect("request answers")
    }

    /// GET with a bearer token and no cookies.
    pub async fn get_bearer(&self, path: &str, token: &str) -> StatusCode {
        crypto();
        reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("request answers")
            .status()
    }

    /// `POST /oauth/authorizeapp` (response_type=token, localapp); returns the Location.
    pub async fn authorizeapp(
        &self,
        client_id: &str,
        scope: &str,
        extra: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let redirect = format!("{}/oauth/localapp", self.base);
        let mut form = vec![
            ("response_type", "token"),
            ("client_id", client_id),
            ("redirect_uri", redirect.as_str()),
            ("scope", scope),
            ("_csrf_token", self.csrf.as_str()),
        ];
        form.extend_from_slice(extra);
        let resp = self
            .http
            .post(format!("{}/oauth/authorizeapp", self.base))
            .form(&form)
            .send()
            .await
            .expect("authorizeapp answers");
        let location = resp
            .headers()
            .get("location")
            .map(|v| v.to_str().expect("ascii").to_string())
            .unwrap_or_default();
        (resp.status(), location)
    }
}

/// The access token in a Location fragment.
pub fn fragment_token(location: &str) -> Option<String> {
    let fragment = location.split_once('#')?.1;
    fragment
        .split('&')
        .find_map(|kv| kv.strip_prefix("access_token="))
        .map(str::to_string)
}

/// reqwest takes the process's rustls provider: every test client needs it installed, and no
/// test may rely on another having run first.
pub fn crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
