//! The parsed request handed to endpoint handlers.

use axum::http::{HeaderMap, Method};

/// A request with its body read and its query string and form decoded.
pub struct Req {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The session id of the `_csrf_token` cookie, when it names a session the server knows.
    pub sid: Option<String>,
    /// Set when a handler created or changed the session, so the cookie must be (re)sent.
    pub session_changed: bool,
}

impl Req {
    /// A header value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The first query-string parameter with this name.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        first(&self.query, name)
    }

    /// The first form-body parameter with this name.
    pub fn form_param(&self, name: &str) -> Option<&str> {
        first(&self.form, name)
    }

    /// Flask's `request.values`: the query string, then the form body.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.query_param(name).or_else(|| self.form_param(name))
    }

    /// The JSON body as an object, or an empty object when absent or malformed.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .filter(|v| v.is_object())
            .unwrap_or_else(|| serde_json::json!({}))
    }

    /// A string field of the JSON body.
    pub fn json_str(&self, field: &str) -> Option<String> {
        self.json()
            .get(field)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }

    /// The bearer token of the Authorization header.
    pub fn bearer(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (kind, token) = value.split_once(' ')?;
        kind.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }

    /// The username and password of a Basic Authorization header.
    pub fn basic(&self) -> Option<(String, String)> {
        use base64::Engine;
        let value = self.header("authorization")?;
        let (kind, encoded) = value.split_once(' ')?;
        if !kind.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        Some((user.to_string(), password.to_string()))
    }
}

fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Decodes an `application/x-www-form-urlencoded` string.
pub fn decode_form(raw: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw).into_owned().collect()
}
