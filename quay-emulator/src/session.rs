//! Sessions, the `_csrf_token` cookie, CSRF checks and who a request is authenticated as.

use crate::model::{Session, State, random_alnum, random_csrf};
use crate::reply::{self, Reply};
use crate::request::Req;
use crate::time;

/// The cookie name Quay (Flask's SESSION_COOKIE_NAME) uses for its session.
pub const COOKIE: &str = "_csrf_token";

/// A session lasts 31 days from the last cookie that carried it (Quay's SESSION_TIMEOUT, Flask's
/// `permanent_session_lifetime`, which is also the `max_age` its cookie signature is read with).
const SESSION_TIMEOUT_S: f64 = 31.0 * 86_400.0;

/// Who a request is authenticated as.
pub enum Auth {
    Anonymous,
    /// A signed-in session.
    Session(String),
    /// A valid OAuth bearer token.
    Token {
        user: String,
        scopes: Vec<String>,
    },
}

impl Auth {
    /// The authenticated user's name.
    pub fn user(&self) -> Option<&str> {
        match self {
            Auth::Anonymous => None,
            Auth::Session(u) | Auth::Token { user: u, .. } => Some(u),
        }
    }

    /// Whether the request is authenticated by a token that lacks `scope`.
    pub fn token_lacks(&self, scope: &str) -> bool {
        matches!(self, Auth::Token { scopes, .. } if !scopes.iter().any(|s| s == scope))
    }
}

/// The session id carried by the request's cookie, whether or not the server knows it.
pub fn cookie_sid(req: &Req) -> Option<String> {
    req.headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

/// Whether the cookie's session exists and is younger than SESSION_TIMEOUT. An older one is
/// forgotten: Flask rejects its expired signature and starts an empty session, as for garbage.
pub fn resume(state: &mut State, sid: &str) -> bool {
    let now = state.now();
    match state.sessions.get(sid) {
        Some(s) if now - s.signed_at <= SESSION_TIMEOUT_S => true,
        Some(_) => {
            state.sessions.remove(sid);
            false
        }
        None => false,
    }
}

/// The request's session, creating an anonymous one when it has none.
pub fn ensure_session(state: &mut State, req: &mut Req) -> String {
    if let Some(sid) = req.sid.clone() {
        return sid;
    }
    let sid = random_alnum(43);
    let now = state.now();
    state.sessions.insert(
        sid.clone(),
        Session {
            csrf: random_csrf(),
            user: None,
            permanent: false,
            login_marked: false,
            signed_at: now,
        },
    );
    req.sid = Some(sid.clone());
    req.session_changed = true;
    sid
}

/// The CSRF token of the request's session, creating the session if needed.
pub fn csrf_token(state: &mut State, req: &mut Req) -> String {
    let sid = ensure_session(state, req);
    state
        .sessions
        .get(&sid)
        .map(|s| s.csrf.clone())
        .unwrap_or_default()
}

/// Signs the session in as `user`: a new CSRF token, a permanent cookie. Returns the new token.
pub fn sign_in(state: &mut State, req: &mut Req, user: &str) -> String {
    let generation = state.users.get(user).map(|u| u.generation).unwrap_or(0);
    let sid = ensure_session(state, req);
    let csrf = random_csrf();
    if let Some(s) = state.sessions.get_mut(&sid) {
        s.csrf = csrf.clone();
        s.user = Some((user.to_string(), generation));
        s.permanent = true;
    }
    req.session_changed = true;
    csrf
}

/// Forgets the signed-in user of the request's session (the CSRF token stays).
pub fn sign_out(state: &mut State, req: &mut Req) {
    if let Some(s) = req.sid.as_ref().and_then(|sid| state.sessions.get_mut(sid)) {
        s.user = None;
        req.session_changed = true;
    }
}

/// Verifies the CSRF token: `_csrf_token` in the query or form first, then `X-CSRF-Token`.
pub fn csrf_ok(state: &State, req: &Req) -> bool {
    let Some(session) = req.sid.as_ref().and_then(|sid| state.sessions.get(sid)) else {
        return false;
    };
    let sent = req
        .value("_csrf_token")
        .or_else(|| req.header("x-csrf-token"));
    sent.is_some_and(|t| !t.is_empty() && t == session.csrf)
}

/// Quay's `csrf_protect`: a 403 unless the CSRF token matches; `user` only shapes the message.
pub fn check_csrf(state: &State, req: &Req, user: Option<&str>) -> Result<(), Reply> {
    if csrf_ok(state, req) {
        Ok(())
    } else {
        Err(reply::csrf_failure(user))
    }
}

/// Resolves API authentication: a valid bearer token, else a valid session, else anonymous.
/// An invalid token silently counts as anonymous, as on Quay's anonymous-allowed endpoints.
pub fn api_auth(state: &mut State, req: &Req) -> Auth {
    if let Some(bearer) = req.bearer()
        && let Some(token) = state.token_by_secret(bearer)
    {
        return Auth::Token {
            user: token.user.clone(),
            scopes: token.scopes.clone(),
        };
    }
    match state.session_user(req.sid.as_deref()) {
        Some(user) => Auth::Session(user),
        None => Auth::Anonymous,
    }
}

/// Quay's Flask-Login adds `_fresh: false` to an anonymous session on its first request past
/// `/csrf_token` and `/`, which re-sends the cookie once (03, 17, 71b vs 03b, 04, 41f).
pub fn mark_login_touch(state: &mut State, req: &mut Req) {
    if let Some(s) = req.sid.as_ref().and_then(|sid| state.sessions.get_mut(sid))
        && !s.permanent
        && !s.login_marked
    {
        s.login_marked = true;
        req.session_changed = true;
    }
}

/// The `Set-Cookie` value to send after handling, if any: new or changed sessions, and every
/// response of a permanent session (Flask refreshes those on each request). Sending it renews
/// the session's lifetime, as Flask's freshly signed cookie does.
pub fn set_cookie(state: &mut State, req: &Req, secure: bool) -> Option<String> {
    let sid = req.sid.as_ref()?;
    let now = state.now();
    let session = state.sessions.get_mut(sid)?;
    if !req.session_changed && !session.permanent {
        return None;
    }
    session.signed_at = now;
    let mut value = format!("{COOKIE}={sid}");
    if session.permanent {
        value.push_str(&format!(
            "; Expires={}",
            time::http_date(now + SESSION_TIMEOUT_S)
        ));
    }
    if secure {
        value.push_str("; Secure");
    }
    value.push_str("; HttpOnly; Path=/; SameSite=Lax");
    Some(value)
}
