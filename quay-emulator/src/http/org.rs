//! Organizations, their owners team, and the public app lookup.

use serde_json::json;

use crate::model::State;
use crate::reply::{self, Reply};
use crate::request::Req;
use crate::session;
use crate::views;

/// The caller, who must be an admin of `org` (`org:admin` for tokens); 403 otherwise.
fn org_admin(state: &mut State, req: &Req, org: &str) -> Result<String, Reply> {
    let user = super::api_user(state, req, "org:admin")?;
    if !state.is_org_admin(org, &user) {
        return Err(reply::insufficient_scope(&state.base));
    }
    Ok(user)
}

/// `GET /api/v1/app/{client_id}` (anonymous allowed).
pub fn app_lookup(state: &mut State, req: &mut Req, client_id: &str) -> Reply {
    let caller = session::api_auth(state, req).user().map(str::to_string);
    match state.apps.get(client_id) {
        Some(app) => Reply::json(200, &views::app_lookup(state, app, caller.as_deref())),
        None => reply::not_found(&state.base),
    }
}

/// `GET /api/v1/organization/{org}` (anonymous allowed; an invalid token counts as anonymous).
pub fn get(state: &mut State, req: &mut Req, org: &str) -> Reply {
    let auth = session::api_auth(state, req);
    if !state.orgs.contains_key(org) {
        return reply::not_found(&state.base);
    }
    let admin =
        !auth.token_lacks("org:admin") && auth.user().is_some_and(|u| state.is_org_admin(org, u));
    Reply::json(200, &views::org(state, org, admin))
}

/// `POST /api/v1/organization/`: the creator becomes the organization's admin.
pub fn create(state: &mut State, req: &mut Req) -> Reply {
    let user = match super::api_user(state, req, "user:admin") {
        Ok(u) => u,
        Err(r) => return r,
    };
    let name = req.json_str("name").unwrap_or_default();
    if name.is_empty() {
        return reply::invalid_request(&state.base, "Missing organization name");
    }
    if state.name_taken(&name) {
        return reply::invalid_request(
            &state.base,
            "A user or organization with this name already exists",
        );
    }
    let email = req.json_str("email").unwrap_or_default();
    state.create_org(&name, &email, &user);
    Reply::json(201, &json!("Created"))
}

/// `PUT /api/v1/organization/{org}/team/owners/members/{user}`: makes `member` an admin.
pub fn owner_add(state: &mut State, req: &mut Req, org: &str, member: &str) -> Reply {
    if let Err(r) = org_admin(state, req, org) {
        return r;
    }
    if !state.users.contains_key(member) {
        return reply::not_found(&state.base);
    }
    if let Some(o) = state.orgs.get_mut(org)
        && !o.admins.iter().any(|a| a == member)
    {
        o.admins.push(member.to_string());
    }
    Reply::json(200, &views::member(member))
}

/// `DELETE /api/v1/organization/{org}/team/owners/members/{user}`; tokens are not revoked.
pub fn owner_remove(state: &mut State, req: &mut Req, org: &str, member: &str) -> Reply {
    if let Err(r) = org_admin(state, req, org) {
        return r;
    }
    if let Some(o) = state.orgs.get_mut(org) {
        o.admins.retain(|a| a != member);
    }
    Reply::new(204, "application/json", Vec::new())
}
