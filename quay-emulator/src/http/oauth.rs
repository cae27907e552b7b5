//! The OAuth web flow: `/oauth/authorizeapp`, `/oauth/authorize` and token assignment.

use serde_json::json;
use url::Url;

use crate::http::web::{Verdict, too_many, verify_user};
use crate::model::{App, Assignment, State, TEN_YEARS_S, new_uuid, random_alnum};
use crate::reply::{self, Reply};
use crate::request::Req;
use crate::scopes;
use crate::session;

/// The CORS headers Flask-CORS puts on the OAuth blueprint's error answers.
fn oauth_cors(r: Reply) -> Reply {
    r.header("Access-Control-Allow-Origin", "*")
        .header("Access-Control-Allow-Methods", "POST, GET, HEAD, OPTIONS")
        .header("Access-Control-Max-Age", "21600")
        .header("Access-Control-Allow-Headers", "Authorization")
        .header("Access-Control-Allow-Headers", "Content-Type")
}

/// `uri` with extra query parameters appended, form-encoded with `+` for spaces.
fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let (base, existing) = match uri.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (uri, None),
    };
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    if let Some(q) = existing {
        for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
            ser.append_pair(&k, &v);
        }
    }
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    format!("{base}?{}", ser.finish())
}

/// An OAuth error redirect: `<redirect_uri>?error=<code>`, with no state.
fn error_redirect(uri: &str, code: &str) -> Reply {
    Reply::redirect(&with_query(uri, &[("error", code)]))
}

/// Quay's `validate_redirect_uri`: the server's own localapp always; otherwise same scheme and
/// host as the app's redirect_uri and a path under it, with no credentials, `..`, `@` or `%`.
pub fn redirect_ok(state: &State, app: &App, uri: &str) -> bool {
    if uri == format!("{}/oauth/localapp", state.base) {
        return true;
    }
    let (Ok(given), Ok(registered)) = (Url::parse(uri), Url::parse(&app.redirect_uri)) else {
        return false;
    };
    if !given.username().is_empty() || given.password().is_some() || uri.contains("..") {
        return false;
    }
    let same_origin = given.scheme() == registered.scheme()
        && given.host_str() == registered.host_str()
        && given.port_or_known_default() == registered.port_or_known_default();
    let Some(rest) = given.path().strip_prefix(registered.path()) else {
        return false;
    };
    same_origin && !given.path().contains('@') && !rest.contains('%')
}

/// The mismatch answer of the OAuth provider.
fn invalid_request() -> Reply {
    Reply::new(
        400,
        "application/json;charset=UTF-8",
        r#"{"error": "invalid_request"}"#,
    )
    .header("Cache-Control", "no-store")
    .header("Pragma", "no-cache")
}

/// `with_query` for owned parameter values.
fn build(uri: &str, params: &[(&str, String)]) -> String {
    let refs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    with_query(uri, &refs)
}

/// Mints a token (or a code) for an accepted request and builds the redirect of §4.1.
fn grant(state: &mut State, user: &str, client_id: &str, req: &Req, raw_scope: &str) -> Reply {
    let redirect_uri = req.value("redirect_uri").unwrap_or("").to_string();
    let mut params = vec![("scope", raw_scope.to_string())];
    if let Some(s) = req.value("state") {
        params.push(("state", s.to_string()));
    }
    match req.value("response_type").unwrap_or("code") {
        "token" => {
            let scopes = scopes::parse(raw_scope).unwrap_or_default();
            let uuid = state.mint(user, client_id, scopes, raw_scope, None, TEN_YEARS_S);
            let secret = state
                .tokens
                .get(&uuid)
                .map(|t| t.secret.clone())
                .unwrap_or_default();
            // Quay formats the fragment by hand; the token is [A-Za-z0-9] so nothing needs escaping.
            let location = format!(
                "{}#access_token={secret}&token_type=Bearer&expires_in={TEN_YEARS_S}",
                build(&redirect_uri, &params)
            );
            Reply::redirect(&location)
        }
        "code" => {
            params.push(("code", random_alnum(40)));
            Reply::redirect(&build(&redirect_uri, &params))
        }
        _ => error_redirect(&redirect_uri, "unsupported_response_type"),
    }
}

/// `POST /oauth/authorizeapp`: checks in Quay's order — signed in, CSRF, client and admin (or
/// assignment), redirect_uri, scope — then mints.
pub fn authorizeapp(state: &mut State, req: &mut Req) -> Reply {
    let client_id = req.value("client_id").unwrap_or("").to_string();
    let (user, via_basic) = match state.session_user(req.sid.as_deref()) {
        Some(u) => (u, false),
        None => match req.basic() {
            Some((name, password)) => match verify_user(state, &name, &password) {
                Verdict::Ok => (name, true),
                Verdict::TooMany(secs) => return too_many(secs),
                _ => return reply::werkzeug(401),
            },
            None => return reply::werkzeug(401),
        },
    };
    let whitelisted = via_basic && state.switches.direct_oauth_whitelist.contains(&client_id);
    if !whitelisted && let Err(r) = session::check_csrf(state, req, Some(&user)) {
        return oauth_cors(r);
    }
    let assignment_uuid = req.value("assignment_uuid").map(str::to_string);
    if assignment_uuid.is_some() && !state.switches.assign_oauth_token {
        return reply::werkzeug(400);
    }
    let redirect_uri = req.value("redirect_uri").unwrap_or("").to_string();
    let allowed = match (&assignment_uuid, state.apps.get(&client_id)) {
        (_, None) => false,
        (Some(a), Some(_)) => state
            .assignments
            .get(a)
            .is_some_and(|a| a.user == user && a.client_id == client_id),
        (None, Some(app)) => state.is_org_admin(&app.org, &user),
    };
    let Some(app) = state.apps.get(&client_id).filter(|_| allowed) else {
        return error_redirect(&redirect_uri, "unauthorized_client");
    };
    if !redirect_ok(state, app, &redirect_uri) {
        return invalid_request();
    }
    let raw_scope = req.value("scope").unwrap_or("").to_string();
    if scopes::parse(&raw_scope).is_none() {
        return error_redirect(&redirect_uri, "invalid_scope");
    }
    if let Some(a) = assignment_uuid {
        state.assignments.remove(&a);
    }
    grant(state, &user, &client_id, req, &raw_scope)
}

/// `GET /oauth/authorize`: consent data, or a new token when the scopes were granted before.
pub fn authorize(state: &mut State, req: &mut Req) -> Reply {
    let Some(user) = state.session_user(req.sid.as_deref()) else {
        return reply::werkzeug(401);
    };
    let client_id = req.value("client_id").unwrap_or("").to_string();
    let redirect_uri = req.value("redirect_uri").unwrap_or("").to_string();
    let raw_scope = req.value("scope").unwrap_or("").to_string();
    let Some(app) = state.apps.get(&client_id) else {
        return reply::angular_404();
    };
    if !state.is_org_admin(&app.org, &user) {
        return reply::werkzeug(403);
    }
    let Some(wanted) = scopes::parse(&raw_scope) else {
        return error_redirect(&redirect_uri, "invalid_scope");
    };
    let now = state.now();
    let granted = state.tokens.values().any(|t| {
        t.user == user
            && t.client_id == client_id
            && t.live(now)
            && wanted.iter().all(|s| t.scopes.contains(s))
    });
    let redirect_valid = redirect_ok(state, app, &redirect_uri);
    if granted {
        if !redirect_valid {
            return invalid_request();
        }
        return grant(state, &user, &client_id, req, &raw_scope)
            .header("Cache-Control", "no-cache, no-store, must-revalidate");
    }
    if !redirect_valid {
        return error_redirect(&app.redirect_uri, "redirect_uri_mismatch")
            .header("Cache-Control", "no-cache, no-store, must-revalidate");
    }
    let avatar = |name: &str, kind: &str| crate::views::avatar(name, kind).to_string();
    let body = json!({
        "application": {"avatar": avatar(&app.name, "app"), "name": app.name, "description": app.description,
                        "organization": {"avatar": avatar(&app.org, "org"), "name": app.org},
                        "url": app.application_uri},
        "assignment_uuid": null, "client_id": client_id,
        "csrf_token_val": state.sessions.get(req.sid.as_deref().unwrap_or("")).map(|s| s.csrf.clone()),
        "has_dangerous_scopes": scopes::any_dangerous(&wanted), "redirect_uri": redirect_uri,
        "response_type": req.value("response_type").unwrap_or("code"), "scope": raw_scope,
        "scopes": scopes::describe(&wanted), "state": req.value("state")});
    let text = serde_json::to_string(&body).unwrap_or_default();
    if req.value("format") == Some("json") {
        Reply::new(200, "application/json", text)
    } else {
        Reply::html(
            200,
            format!("<html><body><script>window.__consent = {text};</script></body></html>"),
        )
    }
    .header("Cache-Control", "no-cache, no-store, must-revalidate")
}

/// `POST /oauth/authorize/assignuser`: an org admin assigns a token to another user.
pub fn assignuser(state: &mut State, req: &mut Req) -> Reply {
    if !state.switches.assign_oauth_token {
        return reply::angular_404();
    }
    let Some(user) = state.session_user(req.sid.as_deref()) else {
        return reply::werkzeug(401);
    };
    if let Err(r) = session::check_csrf(state, req, Some(&user)) {
        return oauth_cors(r);
    }
    let mut params = Vec::new();
    for name in ["client_id", "redirect_uri", "scope", "username"] {
        match req.query_param(name) {
            Some(v) if !v.is_empty() => params.push(v.to_string()),
            _ => return oauth_cors(reply::error_text(400, &format!("Required param: {name}"))),
        }
    }
    let [client_id, redirect_uri, scope, username] =
        <[String; 4]>::try_from(params).unwrap_or_else(|_| Default::default());
    let Some(app) = state.apps.get(&client_id) else {
        return reply::angular_404();
    };
    if !state.is_org_admin(&app.org, &user) {
        return reply::werkzeug(403);
    }
    if !state.users.contains_key(&username) {
        return reply::angular_404();
    }
    let uuid = new_uuid();
    state.assignments.insert(
        uuid.clone(),
        Assignment {
            uuid,
            user: username,
            client_id,
            redirect_uri,
            scope,
            response_type: req
                .query_param("response_type")
                .unwrap_or("token")
                .to_string(),
        },
    );
    if req.query_param("format") == Some("json") {
        Reply::new(
            200,
            "application/json",
            r#"{"message":"Token assigned successfully"}"#,
        )
        .header("Cache-Control", "no-cache, no-store, must-revalidate")
    } else {
        Reply::html(
            200,
            "<html class=\"onprem\">\n  <title>Quay</title>\n  <head></head>\n  <body>\n      <h5>Token assigned successfully</h5>\n  </body>\n</html>\n",
        )
        .header("X-FRAME-OPTIONS", "DENY")
        .header("Cache-Control", "no-cache, no-store, must-revalidate")
    }
}
