//! The organization applications API (protocol §16): an organization's OAuth applications
//! created, listed, read, replaced, given a new secret and deleted by its admins.

use serde_json::Value;

use crate::model::{AppFields, State, random_upper};
use crate::reply::{self, Reply};
use crate::request::Req;
use crate::schema::{Kind, ObjectSchema, Prop};
use crate::session::Auth;
use crate::views;

/// Quay's `BOOTSTRAP_APP_NAME`: kept for the bootstrap token provisioning, refused here.
const RESERVED_NAME: &str = "__quay_bootstrap_app";

/// The properties of Quay's `NewApp` and `UpdateApp` schemas, in declaration order.
const APP_PROPERTIES: &[(&str, Prop)] = &[
    (
        "name",
        Prop::new(Kind::String, "The name of the application"),
    ),
    (
        "redirect_uri",
        Prop::new(Kind::String, "The URI for the application's OAuth redirect"),
    ),
    (
        "application_uri",
        Prop::new(Kind::String, "The URI for the application's homepage"),
    ),
    (
        "description",
        Prop::new(
            Kind::String,
            "The human-readable description for the application",
        ),
    ),
    (
        "avatar_email",
        Prop::new(
            Kind::String,
            "The e-mail address of the avatar to use for the application",
        ),
    ),
];

/// Quay's `NewApp` request schema.
const NEW_APP: ObjectSchema = ObjectSchema {
    description: "Description of a new organization application.",
    required: &["name"],
    properties: APP_PROPERTIES,
};

/// Quay's `UpdateApp` request schema: a PUT replaces, so the URIs are required too.
const UPDATE_APP: ObjectSchema = ObjectSchema {
    description: "Description of an updated application.",
    required: &["name", "redirect_uri", "application_uri"],
    properties: APP_PROPERTIES,
};

/// Quay's `AdministerOrganizationPermission(org).can()`: the caller administers `org` (every
/// user administers the namespace of its own name), and a token caller holds `org:admin`.
fn may_administer(state: &State, auth: &Auth, org: &str) -> bool {
    !auth.token_lacks("org:admin")
        && auth
            .user()
            .is_some_and(|u| u == org || state.is_org_admin(org, u))
}

/// Quay's checks in its order: authentication (CSRF for a session call other than GET), the
/// request schema, the permission (401 anonymous, 403 otherwise, whether or not `org`
/// exists), then the organization itself. Returns the validated body (`null` without schema).
fn admit(
    state: &mut State,
    req: &Req,
    org: &str,
    schema: Option<&ObjectSchema>,
) -> Result<Value, Reply> {
    let auth = super::authenticated(state, req)?;
    let body = match schema {
        Some(schema) => super::json::validated(state, req, schema)?,
        None => Value::Null,
    };
    if !may_administer(state, &auth, org) {
        return Err(match auth {
            Auth::Anonymous => reply::invalid_token(&state.base),
            _ => reply::insufficient_scope(&state.base),
        });
    }
    if !state.orgs.contains_key(org) {
        return Err(reply::not_found(&state.base));
    }
    Ok(body)
}

/// A string member of a validated body.
fn text(body: &Value, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Quay's `_ensure_oauth_app_name_is_not_reserved`.
fn reserved(state: &State, name: &str) -> Result<(), Reply> {
    if name == RESERVED_NAME {
        return Err(reply::invalid_request(
            &state.base,
            "Application name is reserved for bootstrap token provisioning",
        ));
    }
    Ok(())
}

/// The application view of `client_id` in `org`, or 404.
fn view(state: &State, org: &str, client_id: &str) -> Reply {
    match state.app_in(org, client_id) {
        Some(app) => Reply::new(
            200,
            "application/json",
            reply::ordered_object(&views::org_app(app)),
        ),
        None => reply::not_found(&state.base),
    }
}

/// `GET /api/v1/organization/{org}/applications`: every application, oldest first.
pub fn list(state: &mut State, req: &mut Req, org: &str) -> Reply {
    if let Err(r) = admit(state, req, org, None) {
        return r;
    }
    let entries: Vec<String> = state
        .apps_of(org)
        .into_iter()
        .map(|a| reply::ordered_object(&views::org_app(a)))
        .collect();
    Reply::new(
        200,
        "application/json",
        format!("{{\"applications\": [{}]}}", entries.join(", ")),
    )
}

/// `POST /api/v1/organization/{org}/applications`: a new application with its own client ID,
/// whatever names the organization's other applications have.
pub fn create(state: &mut State, req: &mut Req, org: &str) -> Reply {
    let body = match admit(state, req, org, Some(&NEW_APP)) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let name = text(&body, "name").unwrap_or_default();
    if let Err(r) = reserved(state, &name) {
        return r;
    }
    let fields = AppFields {
        name,
        description: text(&body, "description").unwrap_or_default(),
        application_uri: text(&body, "application_uri").unwrap_or_default(),
        redirect_uri: text(&body, "redirect_uri").unwrap_or_default(),
        avatar_email: text(&body, "avatar_email"),
    };
    let client_id = state.create_app(org, fields, None).client_id.clone();
    view(state, org, &client_id)
}

/// `GET /api/v1/organization/{org}/applications/{client_id}`.
pub fn get(state: &mut State, req: &mut Req, org: &str, client_id: &str) -> Reply {
    if let Err(r) = admit(state, req, org, None) {
        return r;
    }
    view(state, org, client_id)
}

/// `PUT /api/v1/organization/{org}/applications/{client_id}`: replaces the fields; a
/// description or avatar e-mail left out becomes empty or null. The secret stays.
pub fn update(state: &mut State, req: &mut Req, org: &str, client_id: &str) -> Reply {
    let body = match admit(state, req, org, Some(&UPDATE_APP)) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if state.app_in(org, client_id).is_none() {
        return reply::not_found(&state.base);
    }
    let name = text(&body, "name").unwrap_or_default();
    if let Err(r) = reserved(state, &name) {
        return r;
    }
    if let Some(app) = state.apps.get_mut(client_id) {
        app.name = name;
        app.application_uri = text(&body, "application_uri").unwrap_or_default();
        app.redirect_uri = text(&body, "redirect_uri").unwrap_or_default();
        app.description = text(&body, "description").unwrap_or_default();
        app.avatar_email = text(&body, "avatar_email");
    }
    view(state, org, client_id)
}

/// `POST …/applications/{client_id}/resetclientsecret`: a new 40-character secret.
pub fn reset_secret(state: &mut State, req: &mut Req, org: &str, client_id: &str) -> Reply {
    if let Err(r) = admit(state, req, org, None) {
        return r;
    }
    if let Some(app) = state.apps.get_mut(client_id).filter(|a| a.org == org) {
        app.client_secret = random_upper(40);
    }
    view(state, org, client_id)
}

/// `DELETE /api/v1/organization/{org}/applications/{client_id}`: 204; its tokens and token
/// assignments go with it (§14); 404 once gone.
pub fn delete(state: &mut State, req: &mut Req, org: &str, client_id: &str) -> Reply {
    if let Err(r) = admit(state, req, org, None) {
        return r;
    }
    if state.app_in(org, client_id).is_none() {
        return reply::not_found(&state.base);
    }
    state.delete_app(client_id);
    Reply::new(204, "application/json", Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Transcript 67c's detail: its first line as Quay's jsonschema 3.2 words it, then the
    /// schema and the instance.
    #[test]
    fn a_missing_name_is_worded_like_jsonschema() {
        let err = NEW_APP.validate(&json!({"description": "x"})).unwrap_err();
        assert_eq!(
            err.lines().next(),
            Some("'name' is a required property"),
            "{err}"
        );
        assert!(
            err.starts_with(
                "'name' is a required property\n\nFailed validating 'required' in schema:\n    {'description': 'Description of a new organization application.', 'properties': {"
            ),
            "{err}"
        );
        assert!(
            err.ends_with("\n\nOn instance:\n    {'description': 'x'}"),
            "{err}"
        );
    }

    /// Transcript 67j: the first missing property of the required list is reported.
    #[test]
    fn a_replace_without_its_uris_names_the_first_missing_one() {
        let err = UPDATE_APP.validate(&json!({"name": "x"})).unwrap_err();
        assert!(
            err.starts_with("'redirect_uri' is a required property\n\nFailed validating 'required' in schema:\n    {'description': 'Description of an updated application.',"),
            "{err}"
        );
        assert!(
            err.ends_with("'required': ['name', 'redirect_uri', 'application_uri'], 'type': 'object'}\n\nOn instance:\n    {'name': 'x'}"),
            "{err}"
        );
        let err = UPDATE_APP
            .validate(&json!({"name": "x", "redirect_uri": "", "application_uri": 1}))
            .unwrap_err();
        assert!(err.starts_with("1 is not of type 'string'\n"), "{err}");
        assert!(
            UPDATE_APP
                .validate(&json!({"name": "", "redirect_uri": "", "application_uri": ""}))
                .is_ok(),
            "Quay sets no minimum length"
        );
    }
}
