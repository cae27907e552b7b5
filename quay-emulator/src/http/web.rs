//! The web endpoints of a session: `/`, `/csrf_token`, sign-in and sign-out.

use serde_json::json;

use crate::model::State;
use crate::reply::{self, Reply};
use crate::request::Req;
use crate::session;

/// `GET /`: the Angular index page with `window.__token`.
pub fn root(state: &mut State, req: &mut Req) -> Reply {
    let token = session::csrf_token(state, req);
    reply::angular_page(200, Some(&token))
}

/// `GET /csrf_token`: `{"csrf_token": ...}`, creating a session when there is none.
pub fn csrf_token(state: &mut State, req: &mut Req) -> Reply {
    let token = session::csrf_token(state, req);
    Reply::new(
        200,
        "application/json",
        serde_json::to_string(&json!({"csrf_token": token})).unwrap_or_default(),
    )
}

/// `GET /oauth/localapp`: a page the token fragment never reaches.
pub fn localapp() -> Reply {
    Reply::html(
        200,
        "<!DOCTYPE html>\n<html><head><title>Quay</title></head><body>Application authorized.</body></html>\n",
    )
}

fn bad_credentials(message: &str) -> Reply {
    Reply::json(
        403,
        &json!({"needsEmailVerification": false, "invalidCredentials": true, "message": message}),
    )
}

/// The outcome of checking a username and password, with Quay's login back-off.
pub enum Verdict {
    Ok,
    Invalid,
    Disabled,
    /// Inside the back-off window; carries Retry-After in whole seconds.
    TooMany(u64),
}

/// Quay's `verify_user`: back-off first, then the password; failures extend the back-off.
pub fn verify_user(state: &mut State, name: &str, password: &str) -> Verdict {
    let now = state.now();
    let Some(user) = state.users.get_mut(name) else {
        return Verdict::Invalid;
    };
    if user.failed_logins > 0 {
        let window = 0.5 * (2f64.powi(user.failed_logins.min(30) as i32) - 1.0);
        let until = user.last_invalid_login + window;
        if now < until {
            return Verdict::TooMany((until - now) as u64);
        }
    }
    if user.password != password {
        user.failed_logins += 1;
        user.last_invalid_login = now;
        return Verdict::Invalid;
    }
    user.failed_logins = 0;
    if !user.enabled {
        return Verdict::Disabled;
    }
    Verdict::Ok
}

/// The 429 of the login back-off.
pub fn too_many(retry_after: u64) -> Reply {
    Reply::html(
        429,
        "Too many login attempts. \nPlease reset your Quay password and try again.",
    )
    .header("Retry-After", retry_after.to_string())
}

/// `POST /api/v1/signin`.
pub fn signin(state: &mut State, req: &mut Req) -> Reply {
    let current = state.session_user(req.sid.as_deref());
    if let Err(r) = session::check_csrf(state, req, current.as_deref()) {
        return r;
    }
    let username = req.json_str("username").unwrap_or_default();
    let password = req.json_str("password").unwrap_or_default();
    match verify_user(state, &username, &password) {
        Verdict::Invalid => bad_credentials("Invalid Username or Password"),
        Verdict::Disabled => {
            bad_credentials("This user has been disabled. Please contact your administrator.")
        }
        Verdict::TooMany(secs) => too_many(secs),
        Verdict::Ok => {
            let next = session::sign_in(state, req, &username);
            Reply::json(200, &json!({"success": true})).header("X-Next-CSRF-Token", next)
        }
    }
}

/// `POST /api/v1/signout`: logs out every session of the user (the user generation changes).
pub fn signout(state: &mut State, req: &mut Req) -> Reply {
    let current = state.session_user(req.sid.as_deref());
    if let Err(r) = session::check_csrf(state, req, current.as_deref()) {
        return r;
    }
    if let Some(user) = current {
        state.invalidate_sessions(&user);
    }
    session::sign_out(state, req);
    Reply::json(200, &json!({"success": true}))
}
