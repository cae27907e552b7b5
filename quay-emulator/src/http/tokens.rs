//! The org application token API of Quay ≥ 3.18, or its absence on 3.17 when switched off.

use serde_json::json;

use crate::model::{State, TEN_YEARS_S};
use crate::reply::{self, Reply};
use crate::request::Req;
use crate::scopes;
use crate::session::{self, Auth};
use crate::views;

/// What Quay 3.17 answers to POST/DELETE on these paths: a web route's 405.
fn method_not_allowed() -> Reply {
    reply::werkzeug(405).header("Allow", "HEAD, OPTIONS, GET")
}

/// The caller, an admin of the app's organization; and a 404 when the app is not in `org`.
fn guard(state: &mut State, req: &Req, org: &str, client_id: &str) -> Result<String, Reply> {
    let user = super::api_user(state, req, "org:admin")?;
    if !state.is_org_admin(org, &user) {
        return Err(reply::insufficient_scope(&state.base));
    }
    if state.apps.get(client_id).is_none_or(|a| a.org != org) {
        return Err(reply::not_found(&state.base));
    }
    Ok(user)
}

/// `GET …/applications/{client_id}/tokens`: unexpired tokens of every user, newest first.
pub fn list(state: &mut State, req: &mut Req, org: &str, client_id: &str) -> Reply {
    if !state.switches.token_api {
        return reply::slash_redirect(&state.base, &req.path);
    }
    if let Err(r) = guard(state, req, org, client_id) {
        return r;
    }
    let mut tokens: Vec<_> = state
        .live_tokens()
        .into_iter()
        .filter(|t| t.client_id == client_id)
        .collect();
    tokens.reverse();
    let list: Vec<_> = tokens.into_iter().map(views::api_token).collect();
    Reply::json(200, &json!({"tokens": list}))
}

/// `POST …/applications/{client_id}/tokens`: mints a named token and returns its secret once.
pub fn create(state: &mut State, req: &mut Req, org: &str, client_id: &str) -> Reply {
    if !state.switches.token_api {
        return method_not_allowed();
    }
    let auth = session::api_auth(state, req);
    let user = match guard(state, req, org, client_id) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let body = req.json();
    let name = body.get("name").and_then(|v| v.as_str()).unwrap_or("");
    let raw = body.get("scope").and_then(|v| v.as_str()).unwrap_or("");
    let Some(wanted) = scopes::parse(raw) else {
        return Reply::json(400, &json!({"message": format!("Invalid scope: {raw}")}));
    };
    if let Auth::Token { scopes: held, .. } = &auth
        && wanted.iter().any(|s| !held.contains(s))
    {
        return reply::insufficient_scope(&state.base);
    }
    if let Some(max) = state.switches.max_tokens_per_app {
        let count = state
            .live_tokens()
            .iter()
            .filter(|t| t.client_id == client_id)
            .count();
        if count >= max {
            return Reply::json(
                400,
                &json!({"message": format!("Token limit reached: this application already has {count} tokens (maximum {max})")}),
            );
        }
    }
    let lifetime = body
        .get("expiration")
        .and_then(|v| v.as_u64())
        .filter(|s| *s > 0)
        .unwrap_or(TEN_YEARS_S)
        .min(TEN_YEARS_S);
    let normalised = wanted.join(" ");
    let name = (!name.is_empty()).then(|| name.to_string());
    let uuid = state.mint(&user, client_id, wanted, &normalised, name, lifetime);
    let Some(token) = state.tokens.get(&uuid) else {
        return reply::not_found(&state.base);
    };
    let mut view = views::api_token(token);
    if let Some(map) = view.as_object_mut() {
        map.insert("token".into(), json!(token.secret));
    }
    Reply::json(200, &view)
}

/// `DELETE …/applications/{client_id}/tokens/{uuid}`: 204, or 404 when already gone.
pub fn delete(state: &mut State, req: &mut Req, org: &str, client_id: &str, uuid: &str) -> Reply {
    if !state.switches.token_api {
        return method_not_allowed();
    }
    if let Err(r) = guard(state, req, org, client_id) {
        return r;
    }
    if state
        .tokens
        .get(uuid)
        .is_none_or(|t| t.client_id != client_id)
    {
        return reply::not_found(&state.base);
    }
    state.tokens.remove(uuid);
    Reply::new(204, "application/json", Vec::new())
}
