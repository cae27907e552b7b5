//! The user endpoints: the caller's view, sign-up, password change, initialize, superuser edits.

use serde_json::json;

use crate::model::{State, TEN_YEARS_S};
use crate::reply::{self, Reply};
use crate::request::Req;
use crate::session::{self, Auth};
use crate::views;

/// `GET /api/v1/user/`: the full view by session, the reduced view by a `user:read` token.
pub fn get(state: &mut State, req: &mut Req) -> Reply {
    match session::api_auth(state, req) {
        Auth::Session(user) => Reply::json(200, &views::user_full(state, &user)),
        Auth::Token { user, scopes } if scopes.iter().any(|s| s == "user:read") => {
            Reply::json(200, &views::user_reduced(state, &user))
        }
        // Quay cannot tell a token lacking user:read from an invalid one here.
        _ => reply::invalid_token_user(&state.base),
    }
}

/// `POST /api/v1/user/`: sign-up; the caller's session is signed in as the new user.
pub fn create(state: &mut State, req: &mut Req) -> Reply {
    let current = state.session_user(req.sid.as_deref());
    if let Err(r) = session::check_csrf(state, req, current.as_deref()) {
        return r;
    }
    let username = req.json_str("username").unwrap_or_default();
    let password = req.json_str("password").unwrap_or_default();
    let email = req.json_str("email").unwrap_or_default();
    if username.is_empty() || password.is_empty() {
        return reply::invalid_request(&state.base, "Missing username or password");
    }
    if state.name_taken(&username) {
        return reply::invalid_request(&state.base, "The username already exists");
    }
    state.create_user(&username, &password, &email);
    let next = session::sign_in(state, req, &username);
    Reply::json(200, &views::user_full(state, &username)).header("X-Next-CSRF-Token", next)
}

/// `PUT /api/v1/user/`: a password change ends the user's other sessions, keeps this one.
pub fn update(state: &mut State, req: &mut Req) -> Reply {
    let user = match super::api_user(state, req, "user:admin") {
        Ok(u) => u,
        Err(r) => return r,
    };
    let by_session = matches!(session::api_auth(state, req), Auth::Session(_));
    let mut reply_headers = Vec::new();
    if let Some(password) = req.json_str("password") {
        if let Some(u) = state.users.get_mut(&user) {
            u.password = password;
        }
        state.invalidate_sessions(&user);
        if by_session {
            let next = session::sign_in(state, req, &user);
            reply_headers.push(("X-Next-CSRF-Token".to_string(), next));
        }
    }
    if let Some(email) = req.json_str("email")
        && let Some(u) = state.users.get_mut(&user)
    {
        u.email = email;
    }
    let mut r = Reply::json(200, &views::user_full(state, &user));
    r.headers.extend(reply_headers);
    r
}

/// `POST /api/v1/user/initialize`: creates the first user of an empty instance when enabled.
pub fn initialize(state: &mut State, req: &mut Req) -> Reply {
    if !state.switches.user_initialize {
        return reply::error_text(404, "Not Found");
    }
    if !state.users.is_empty() {
        return reply::invalid_request(
            &state.base,
            "Cannot initialize user in a non-empty database",
        );
    }
    let username = req.json_str("username").unwrap_or_default();
    let password = req.json_str("password").unwrap_or_default();
    let email = req.json_str("email").unwrap_or_default();
    if username.is_empty() || password.is_empty() {
        return reply::invalid_request(&state.base, "Missing username or password");
    }
    state.create_user(&username, &password, &email);
    if let Some(u) = state.users.get_mut(&username) {
        u.superuser = true;
    }
    let mut body = json!({"username": username, "email": email});
    if req.json().get("access_token").and_then(|v| v.as_bool()) == Some(true) {
        let scopes = State::all_scopes();
        let raw = scopes.join(" ");
        let uuid = state.mint(&username, "", scopes, &raw, None, TEN_YEARS_S);
        let secret = state
            .tokens
            .get(&uuid)
            .map(|t| t.secret.clone())
            .unwrap_or_default();
        if let Some(map) = body.as_object_mut() {
            map.insert("access_token".into(), json!(secret));
        }
    }
    Reply::json(200, &body)
}

/// `PUT /api/v1/superuser/users/{user}`: a superuser enables or disables an account.
pub fn superuser_update(state: &mut State, req: &mut Req, target: &str) -> Reply {
    let caller = match super::api_user(state, req, "super:user") {
        Ok(u) => u,
        Err(r) => return r,
    };
    if !state.users.get(&caller).is_some_and(|u| u.superuser) {
        return reply::insufficient_scope(&state.base);
    }
    let Some(before) = state
        .users
        .get(target)
        .map(|u| (u.email.clone(), u.superuser, u.enabled))
    else {
        return reply::not_found(&state.base);
    };
    // Quay answers with the user as it was before the change.
    let body = json!({"kind": "user", "name": target, "username": target, "email": before.0,
                      "verified": true, "avatar": views::avatar(target, "user"),
                      "super_user": before.1, "global_readonly_super_user": false,
                      "enabled": before.2});
    if let Some(enabled) = req.json().get("enabled").and_then(|v| v.as_bool())
        && let Some(u) = state.users.get_mut(target)
    {
        u.enabled = enabled;
    }
    if let Some(password) = req.json_str("password") {
        if let Some(u) = state.users.get_mut(target) {
            u.password = password;
        }
        state.invalidate_sessions(target);
    }
    Reply::json(200, &body)
}
