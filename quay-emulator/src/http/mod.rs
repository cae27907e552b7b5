//! Endpoint handlers, one module per endpoint group, and the dispatcher that calls them.

mod apps;
mod authz;
mod discovery;
mod json;
mod oauth;
mod org;
mod tokens;
mod user;
mod web;

use axum::http::Method;

use crate::model::State;
use crate::reply::{self, Reply};
use crate::request::Req;
use crate::router::Route;
use crate::session::{self, Auth};

/// Calls the handler of `route`; runs with the state lock held.
pub fn dispatch(state: &mut State, req: &mut Req, route: &Route) -> Reply {
    if req.method == Method::GET && req.path.starts_with("/api/") && browser_without_xhr(req) {
        return reply::error_text(
            400,
            "API calls must be invoked with an X-Requested-With header if called from a browser",
        );
    }
    match route {
        Route::Root => web::root(state, req),
        Route::CsrfToken => web::csrf_token(state, req),
        Route::Signin => web::signin(state, req),
        Route::Signout => web::signout(state, req),
        Route::LocalApp => web::localapp(),
        Route::UserGet => user::get(state, req),
        Route::UserCreate => user::create(state, req),
        Route::UserUpdate => user::update(state, req),
        Route::UserInitialize => user::initialize(state, req),
        Route::SuperuserUser { user } => user::superuser_update(state, req, user),
        Route::Discovery => discovery::get(state, req),
        Route::AppLookup { client_id } => org::app_lookup(state, req, client_id),
        Route::OrgGet { org } => org::get(state, req, org),
        Route::OrgCreate => org::create(state, req),
        Route::OrgApps { org } => apps::list(state, req, org),
        Route::OrgAppCreate { org } => apps::create(state, req, org),
        Route::OrgAppGet { org, client_id } => apps::get(state, req, org, client_id),
        Route::OrgAppUpdate { org, client_id } => apps::update(state, req, org, client_id),
        Route::OrgAppDelete { org, client_id } => apps::delete(state, req, org, client_id),
        Route::OrgAppResetSecret { org, client_id } => {
            apps::reset_secret(state, req, org, client_id)
        }
        Route::OwnerAdd { org, user } => org::owner_add(state, req, org, user),
        Route::OwnerRemove { org, user } => org::owner_remove(state, req, org, user),
        Route::TokensList { org, client_id } => tokens::list(state, req, org, client_id),
        Route::TokensCreate { org, client_id } => tokens::create(state, req, org, client_id),
        Route::TokensDelete {
            org,
            client_id,
            uuid,
        } => tokens::delete(state, req, org, client_id, uuid),
        Route::TokensSlash => reply::angular_404(),
        Route::Authorizations => authz::list(state, req),
        Route::AuthorizationGet { uuid } => authz::get(state, req, uuid),
        Route::AuthorizationDelete { uuid } => authz::delete(state, req, uuid),
        Route::Assigned => authz::assigned(state, req),
        Route::AssignedSlash => reply::angular_404(),
        Route::AssignedDelete { uuid } => authz::assigned_delete(state, req, uuid),
        Route::AuthorizeApp => oauth::authorizeapp(state, req),
        Route::Authorize => oauth::authorize(state, req),
        Route::AssignUser => oauth::assignuser(state, req),
        Route::NotFound => reply::angular_404(),
    }
}

/// Quay's BROWSER_API_CALLS_XHR_ONLY: a browser user agent must send `X-Requested-With`.
fn browser_without_xhr(req: &Req) -> bool {
    let ua = req.header("user-agent").unwrap_or("");
    let browser = [
        "Mozilla/", "Chrome/", "Safari/", "Firefox/", "Opera/", "Edg/",
    ]
    .iter()
    .any(|b| ua.contains(b));
    browser && req.header("x-requested-with") != Some("XMLHttpRequest")
}

/// The authenticated user of an API call that needs `scope` when made with a token.
/// Session calls other than GET must carry the CSRF token; token calls skip CSRF.
pub(crate) fn api_user(state: &mut State, req: &Req, scope: &str) -> Result<String, Reply> {
    let auth = api_caller(state, req, scope)?;
    auth.user()
        .map(str::to_string)
        .ok_or_else(|| reply::invalid_token(&state.base))
}

/// Who is calling, after Quay's CSRF check of session calls other than GET (token calls skip
/// it); the caller may still be anonymous.
pub(crate) fn authenticated(state: &mut State, req: &Req) -> Result<Auth, Reply> {
    let auth = session::api_auth(state, req);
    if req.method != Method::GET && !matches!(auth, Auth::Token { .. }) {
        session::check_csrf(state, req, auth.user())?;
    }
    Ok(auth)
}

/// The checks Quay makes before an endpoint's own code (CSRF, then `require_scope`); the
/// caller may still be anonymous, which the endpoint answers with 401 when it needs a user.
pub(crate) fn api_caller(state: &mut State, req: &Req, scope: &str) -> Result<Auth, Reply> {
    let auth = authenticated(state, req)?;
    if auth.token_lacks(scope) {
        return Err(reply::insufficient_scope(&state.base));
    }
    Ok(auth)
}
