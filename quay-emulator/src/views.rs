//! The JSON shapes Quay returns for users, organizations, applications and authorizations.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::model::{App, Assignment, State, Token};
use crate::scopes;

const COLORS: [&str; 8] = [
    "#98df8a", "#a1d99b", "#9c9ede", "#c7c7c7", "#8c6d31", "#8c564b", "#5254a3", "#c49c94",
];

/// Quay's avatar object for a name and kind (`user`, `org`, `app`).
pub fn avatar(name: &str, kind: &str) -> Value {
    let hash = hex::encode(Sha256::digest(name.as_bytes()));
    let color = COLORS[usize::from(Sha256::digest(name.as_bytes())[0]) % COLORS.len()];
    json!({"name": name, "hash": hash, "color": color, "kind": kind})
}

/// Organizations `user` belongs to (as admin), in name order.
fn user_orgs(state: &State, user: &str) -> Vec<String> {
    state
        .orgs
        .iter()
        .filter(|(_, o)| o.admins.iter().any(|a| a == user))
        .map(|(n, _)| n.clone())
        .collect()
}

/// The session view of `GET /api/v1/user/`.
pub fn user_full(state: &State, name: &str) -> Value {
    let (email, superuser) = state
        .users
        .get(name)
        .map(|u| (u.email.clone(), u.superuser))
        .unwrap_or_default();
    let orgs: Vec<Value> = user_orgs(state, name)
        .iter()
        .map(|o| {
            json!({"name": o, "avatar": avatar(o, "org"), "can_create_repo": true,
                   "public": false, "is_org_admin": true, "preferred_namespace": false})
        })
        .collect();
    let mut view = json!({"anonymous": false, "username": name, "avatar": avatar(name, "user"),
           "can_create_repo": true, "is_me": true, "verified": true, "email": email,
           "logins": [], "invoice_email": false, "invoice_email_address": null,
           "preferred_namespace": false, "tag_expiration_s": 1_209_600, "prompts": [],
           "company": null, "family_name": null, "given_name": null, "location": null,
           "is_free_account": true, "has_password_set": true, "organizations": orgs});
    // Quay adds super_user only for superusers.
    if superuser && let Some(map) = view.as_object_mut() {
        map.insert("super_user".into(), Value::Bool(true));
    }
    view
}

/// The reduced view of `GET /api/v1/user/` through a bearer token.
pub fn user_reduced(state: &State, name: &str) -> Value {
    let orgs: Vec<Value> = user_orgs(state, name)
        .iter()
        .map(|o| json!({"name": o, "avatar": avatar(o, "org"), "can_create_repo": true, "public": false}))
        .collect();
    json!({"anonymous": false, "username": name, "avatar": avatar(name, "user"), "organizations": orgs})
}

/// An application of `/organization/{org}/applications` as its admins see it, its fields in
/// Quay's order (serialise with `reply::ordered_object`). Quay blanks the secret, redirect URI
/// and avatar e-mail for others (superusers with full or read-only access), whom the emulator
/// never lets in.
pub fn org_app(app: &App) -> Vec<(&'static str, Value)> {
    vec![
        ("name", json!(app.name)),
        ("description", json!(app.description)),
        ("application_uri", json!(app.application_uri)),
        ("client_id", json!(app.client_id)),
        ("client_secret", json!(app.client_secret)),
        ("redirect_uri", json!(app.redirect_uri)),
        ("avatar_email", json!(app.avatar_email)),
    ]
}

/// The `application` object of an authorization entry.
fn app_brief(app: &App) -> Value {
    json!({"name": app.name, "description": app.description, "url": app.application_uri,
           "avatar": avatar(&app.name, "app"),
           "organization": {"name": app.org, "avatar": avatar(&app.org, "org")}})
}

/// One entry of `GET /api/v1/user/authorizations`.
pub fn authorization(state: &State, token: &Token) -> Value {
    let application = state
        .apps
        .get(&token.client_id)
        .map(app_brief)
        .unwrap_or(Value::Null);
    json!({"application": application, "scopes": scopes::describe(&token.scopes), "uuid": token.uuid})
}

/// One entry of `GET /api/v1/user/assignedauthorization` (camelCase keys, as Quay).
pub fn assignment(state: &State, a: &Assignment) -> Value {
    let application = state.apps.get(&a.client_id).map(|app| {
        json!({"name": app.name, "clientId": app.client_id, "description": app.description,
               "url": app.application_uri, "avatar": avatar(&app.name, "app"),
               "organization": {"name": app.org, "avatar": avatar(&app.org, "org")}})
    });
    let scope_list = scopes::parse(&a.scope).unwrap_or_default();
    json!({"application": application, "uuid": a.uuid, "redirectUri": a.redirect_uri,
           "scopes": scopes::describe(&scope_list), "responseType": a.response_type})
}

/// The organization view: public fields, plus the admin-only ones for an admin.
pub fn org(state: &State, name: &str, admin: bool) -> Value {
    let email = state
        .orgs
        .get(name)
        .map(|o| o.email.clone())
        .unwrap_or_default();
    let mut v = json!({"name": name, "email": if admin { email } else { String::new() },
                       "avatar": avatar(name, "user"), "is_admin": admin, "is_member": admin});
    if admin && let Some(map) = v.as_object_mut() {
        map.insert("invoice_email".into(), json!(false));
        map.insert("invoice_email_address".into(), Value::Null);
        map.insert("tag_expiration_s".into(), json!(1_209_600));
        map.insert("is_free_account".into(), json!(true));
    }
    v
}

/// `GET /api/v1/app/{client_id}`: the application and its organization seen by the caller.
pub fn app_lookup(state: &State, app: &App, caller: Option<&str>) -> Value {
    let admin = caller.is_some_and(|u| state.is_org_admin(&app.org, u));
    let mut organization = org(state, &app.org, admin);
    if let Some(map) = organization.as_object_mut() {
        map.insert("teams".into(), json!({}));
        map.insert("ordered_teams".into(), json!([]));
    }
    json!({"name": app.name, "description": app.description, "uri": app.application_uri,
           "avatar": avatar(&app.name, "app"), "organization": organization})
}

/// One token of the token API (`…/applications/{client_id}/tokens`), without its secret: its
/// fields in Quay's order (serialise with `reply::ordered_object`).
pub fn api_token(token: &Token) -> Vec<(&'static str, Value)> {
    vec![
        ("uuid", json!(token.uuid)),
        ("name", json!(token.name)),
        ("scope", json!(token.scope_raw)),
        ("expires_at", json!(crate::time::iso8601(token.expires_at))),
        ("created", json!(crate::time::iso8601(token.created))),
        ("created_by", json!(token.user)),
        (
            "last_accessed",
            json!(token.last_accessed.map(crate::time::iso8601)),
        ),
    ]
}

/// The member view of `PUT …/team/owners/members/{user}`.
pub fn member(name: &str) -> Value {
    json!({"name": name, "kind": "user", "is_robot": false, "avatar": avatar(name, "user"),
           "invited": false})
}
