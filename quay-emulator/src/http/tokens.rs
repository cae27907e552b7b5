//! The org application token API of Quay ≥ 3.18 (protocol §8, §15), or its absence on 3.17
//! when switched off.

use serde_json::{Value, json};

use crate::model::{State, TEN_YEARS_S, TOKEN_PAGE_SIZE, Token};
use crate::pagetoken;
use crate::pyfmt;
use crate::reply::{self, Reply};
use crate::request::Req;
use crate::schema::{Kind, ObjectSchema, Prop};
use crate::scopes;
use crate::session::Auth;
use crate::views;

/// Quay's `MAX_TOKEN_DISPLAY_NAME_LENGTH`.
pub const MAX_NAME_LEN: usize = 255;

/// Quay's `NewToken` request schema, in its declaration order (the order decides which of
/// several errors is reported).
const NEW_TOKEN: ObjectSchema = ObjectSchema {
    description: "Description of a new OAuth API token. Duplicate names are allowed within an application.",
    required: &["name", "scope"],
    properties: &[
        (
            "name",
            Prop {
                min_length: Some(1),
                max_length: Some(MAX_NAME_LEN),
                ..Prop::new(
                    Kind::String,
                    "User-facing token name. Leading and trailing whitespace is trimmed before storage.",
                )
            },
        ),
        (
            "scope",
            Prop::new(Kind::String, "Space- or comma-separated scope string"),
        ),
        (
            "expiration",
            Prop {
                minimum: Some(1),
                ..Prop::new(
                    Kind::Number,
                    "Token lifetime in seconds. Must be positive and is capped at the maximum supported lifetime.",
                )
            },
        ),
    ],
};

/// What Quay 3.17 answers to POST/DELETE on these paths: a web route's 405.
fn method_not_allowed() -> Reply {
    reply::werkzeug(405).header("Allow", "HEAD, OPTIONS, GET")
}

/// Quay's permission check and application lookup after authentication: 401 for an anonymous
/// caller, 403 for one who does not administer `org`, 404 when the app is not in `org`.
fn admin_of_app(state: &State, auth: &Auth, org: &str, client_id: &str) -> Result<String, Reply> {
    let Some(user) = auth.user() else {
        return Err(reply::invalid_token(&state.base));
    };
    if !state.is_org_admin(org, user) {
        return Err(reply::insufficient_scope(&state.base));
    }
    if state.apps.get(client_id).is_none_or(|a| a.org != org) {
        return Err(reply::not_found(&state.base));
    }
    Ok(user.to_string())
}

/// The start of the page a `next_page` token names; `None` (the first page) when it does not
/// open, as Quay's `decrypt_page_token` does.
fn page_start(state: &State, token: &str) -> Option<(u64, u64)> {
    let text = pagetoken::open(&state.page_key, token, state.now())?;
    let v: Value = serde_json::from_str(&text).ok()?;
    let start = v.get("start_index")?.as_u64()?;
    let page = v.get("page_number").and_then(Value::as_u64).unwrap_or(0);
    Some((start, page))
}

/// The sealed token of the page starting at `start`, after page number `page`.
fn next_page_token(state: &State, start: u64, page: u64) -> String {
    let payload = format!(
        r#"{{"start_index": {start}, "page_number": {}, "is_datetime": false, "offset_val": 0}}"#,
        page + 1
    );
    pagetoken::seal(&state.page_key, &payload, state.now())
}

/// `GET …/applications/{client_id}/tokens[?next_page=…]`: unexpired tokens of every user,
/// newest first, [`TOKEN_PAGE_SIZE`] a page; `next_page` only when more follow.
pub fn list(state: &mut State, req: &mut Req, org: &str, client_id: &str) -> Reply {
    if !state.switches.token_api {
        return reply::slash_redirect(&state.base, &req.path);
    }
    let auth = match super::api_caller(state, req, "org:admin") {
        Ok(a) => a,
        Err(r) => return r,
    };
    let cursor = req
        .query_param("next_page")
        .and_then(|t| page_start(state, t));
    if let Err(r) = admin_of_app(state, &auth, org, client_id) {
        return r;
    }
    let mut tokens: Vec<&Token> = state
        .live_tokens()
        .into_iter()
        .filter(|t| t.client_id == client_id)
        .filter(|t| cursor.is_none_or(|(start, _)| t.seq <= start))
        .collect();
    tokens.sort_by_key(|t| std::cmp::Reverse(t.seq));
    let next = tokens
        .get(TOKEN_PAGE_SIZE)
        .map(|t| next_page_token(state, t.seq, cursor.map_or(0, |(_, page)| page)));
    tokens.truncate(TOKEN_PAGE_SIZE);
    let entries: Vec<String> = tokens
        .into_iter()
        .map(|t| reply::ordered_object(&views::api_token(t)))
        .collect();
    // `{"tokens": […], "next_page": "…"}`; the last page has no next_page key.
    let mut body = format!("{{\"tokens\": [{}]", entries.join(", "));
    if let Some(next) = next {
        body.push_str(&format!(", \"next_page\": {}", json!(next)));
    }
    body.push('}');
    Reply::new(200, "application/json", body)
}

/// Whether `user` may mint every scope of `wanted` for `org` (Quay's `_can_mint_scope`): a
/// bearer caller only within its own token's scopes, and one permission per scope.
fn can_mint(state: &State, auth: &Auth, org: &str, user: &str, wanted: &[String]) -> bool {
    if let Auth::Token { scopes: held, .. } = auth
        && !scopes::is_subset(held, wanted)
    {
        return false;
    }
    wanted.iter().all(|scope| match scope.as_str() {
        "super:user" => state.is_superuser(user),
        // Org-wide repository permissions: the emulator has no finer model than org admin.
        "org:admin" | "repo:read" | "repo:write" | "repo:admin" | "repo:create" => {
            state.is_org_admin(org, user)
        }
        // UserReadPermission / UserAdminPermission of the user itself.
        "user:read" | "user:admin" => true,
        _ => false,
    })
}

/// Quay's `validate_expiration` of a schema-valid `expiration`: whole seconds, 1 to 10 years.
fn lifetime(expiration: Option<&Value>) -> u64 {
    match expiration.and_then(Value::as_f64) {
        Some(x) if x >= TEN_YEARS_S as f64 => TEN_YEARS_S,
        Some(x) => (x.trunc() as u64).max(1),
        None => TEN_YEARS_S,
    }
}

/// `POST …/applications/{client_id}/tokens`: mints a named token and returns its secret once.
/// The checks run in Quay's order: CSRF and the caller's `org:admin` scope, the request
/// schema, org admin, the application, the trimmed name, the scope string, the permission
/// for each scope, then the token limit.
pub fn create(state: &mut State, req: &mut Req, org: &str, client_id: &str) -> Reply {
    if !state.switches.token_api {
        return method_not_allowed();
    }
    let auth = match super::api_caller(state, req, "org:admin") {
        Ok(a) => a,
        Err(r) => return r,
    };
    let body = match super::json::validated(state, req, &NEW_TOKEN) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let user = match admin_of_app(state, &auth, org, client_id) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let name = pyfmt::strip(body["name"].as_str().unwrap_or(""));
    if name.is_empty() {
        return Reply::json(400, &json!({"message": "'name' must not be empty"}));
    }
    let raw = body["scope"].as_str().unwrap_or("");
    let Some(wanted) = scopes::parse(&scopes::normalize(raw)) else {
        return Reply::json(400, &json!({"message": format!("Invalid scope: {raw}")}));
    };
    if !can_mint(state, &auth, org, &user, &wanted) {
        return reply::insufficient_scope(&state.base);
    }
    let lifetime = lifetime(body.get("expiration"));
    if let Some(max) = state.switches.max_tokens_per_app {
        let count = state
            .live_tokens()
            .iter()
            .filter(|t| t.client_id == client_id)
            .count();
        if count >= max {
            return Reply::json(
                400,
                &json!({"message": format!("Token limit reached: maximum {max} non-expired tokens per application")}),
            );
        }
    }
    let normalised = wanted.join(" ");
    let name = Some(name.to_string());
    let uuid = state.mint(&user, client_id, wanted, &normalised, name, lifetime);
    let Some(token) = state.tokens.get(&uuid) else {
        return reply::not_found(&state.base);
    };
    let mut view = views::api_token(token);
    view.push(("token", json!(token.secret)));
    Reply::new(200, "application/json", reply::ordered_object(&view))
}

/// `DELETE …/applications/{client_id}/tokens/{uuid}`: 204, or 404 when already gone.
pub fn delete(state: &mut State, req: &mut Req, org: &str, client_id: &str, uuid: &str) -> Reply {
    if !state.switches.token_api {
        return method_not_allowed();
    }
    let auth = match super::api_caller(state, req, "org:admin") {
        Ok(a) => a,
        Err(r) => return r,
    };
    if let Err(r) = admin_of_app(state, &auth, org, client_id) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected texts from jsonschema 3.2.0 (Quay's pin) validating against the same schema.
    #[test]
    fn schema_errors_are_worded_like_jsonschema() {
        let err = NEW_TOKEN
            .validate(&json!({"name": "", "scope": 1}))
            .unwrap_err();
        assert_eq!(
            err,
            "'' is too short\n\nFailed validating 'minLength' in schema['properties']['name']:\n    {'description': 'User-facing token name. Leading and trailing whitespace is trimmed before storage.', 'maxLength': 255, 'minLength': 1, 'type': 'string'}\n\nOn instance['name']:\n    ''"
        );
        let err = NEW_TOKEN
            .validate(&json!({"name": "n", "expiration": 0}))
            .unwrap_err();
        assert!(err.starts_with("'scope' is a required property\n\nFailed validating 'required' in schema:\n    {'description': 'Description of a new OAuth API token. Duplicate names "), "{err}");
        assert!(
            err.ends_with("\n\nOn instance:\n    {'expiration': 0, 'name': 'n'}"),
            "{err}"
        );
        let err = NEW_TOKEN
            .validate(&json!({"name": "a", "scope": "r", "expiration": true}))
            .unwrap_err();
        assert!(err.starts_with("True is not of type 'number'\n"), "{err}");
        assert!(
            NEW_TOKEN
                .validate(&json!({"name": " a ", "scope": "r", "expiration": 1.5}))
                .is_ok()
        );
    }

    #[test]
    fn lifetime_is_whole_seconds_clamped_to_ten_years() {
        assert_eq!(lifetime(None), TEN_YEARS_S);
        assert_eq!(lifetime(Some(&json!(3600))), 3600);
        assert_eq!(lifetime(Some(&json!(1.9))), 1);
        assert_eq!(lifetime(Some(&json!(1_000_000_000_000u64))), TEN_YEARS_S);
        assert_eq!(lifetime(Some(&json!(1e300))), TEN_YEARS_S);
    }
}
