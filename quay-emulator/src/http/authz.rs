//! The caller's authorizations (one per token) and token assignments.

use serde_json::json;

use crate::model::State;
use crate::reply::{self, Reply};
use crate::request::Req;
use crate::views;

/// `GET /api/v1/user/authorizations`: every token of the caller, expired ones included as in
/// Quay (only the token API's list leaves them out).
pub fn list(state: &mut State, req: &mut Req) -> Reply {
    let user = match super::api_user(state, req, "user:admin") {
        Ok(u) => u,
        Err(r) => return r,
    };
    let list: Vec<_> = state
        .tokens_of(&user)
        .into_iter()
        .filter(|t| state.apps.contains_key(&t.client_id))
        .map(|t| views::authorization(state, t))
        .collect();
    Reply::json(200, &json!({"authorizations": list}))
}

/// Whether `uuid` is a token of `user` listed in the authorizations (expired or not).
fn owns(state: &State, user: &str, uuid: &str) -> bool {
    state
        .tokens
        .get(uuid)
        .is_some_and(|t| t.user == user && state.apps.contains_key(&t.client_id))
}

/// `GET /api/v1/user/authorizations/{uuid}`.
pub fn get(state: &mut State, req: &mut Req, uuid: &str) -> Reply {
    let user = match super::api_user(state, req, "user:admin") {
        Ok(u) => u,
        Err(r) => return r,
    };
    match state.tokens.get(uuid).filter(|_| owns(state, &user, uuid)) {
        Some(t) => Reply::json(200, &views::authorization(state, t)),
        None => reply::not_found(&state.base),
    }
}

/// `DELETE /api/v1/user/authorizations/{uuid}`: revokes the token.
pub fn delete(state: &mut State, req: &mut Req, uuid: &str) -> Reply {
    let user = match super::api_user(state, req, "user:admin") {
        Ok(u) => u,
        Err(r) => return r,
    };
    if !owns(state, &user, uuid) {
        return reply::not_found(&state.base);
    }
    state.tokens.remove(uuid);
    Reply::new(204, "application/json", Vec::new())
}

/// `GET /api/v1/user/assignedauthorization`: assignments waiting for the caller.
pub fn assigned(state: &mut State, req: &mut Req) -> Reply {
    if !state.switches.assign_oauth_token {
        return reply::slash_redirect(&state.base, &req.path);
    }
    let user = match super::api_user(state, req, "user:admin") {
        Ok(u) => u,
        Err(r) => return r,
    };
    let list: Vec<_> = state
        .assignments
        .values()
        .filter(|a| a.user == user)
        .map(|a| views::assignment(state, a))
        .collect();
    Reply::json(200, &json!({"authorizations": list}))
}

/// `DELETE /api/v1/user/assignedauthorization/{uuid}`: declines an assignment.
pub fn assigned_delete(state: &mut State, req: &mut Req, uuid: &str) -> Reply {
    if !state.switches.assign_oauth_token {
        return reply::angular_404();
    }
    let user = match super::api_user(state, req, "user:admin") {
        Ok(u) => u,
        Err(r) => return r,
    };
    if state.assignments.get(uuid).is_none_or(|a| a.user != user) {
        return reply::not_found(&state.base);
    }
    state.assignments.remove(uuid);
    Reply::new(204, "application/json", Vec::new())
}
