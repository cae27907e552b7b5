//! The account's authorization list (`/api/v1/user/authorizations`): every token of the
//! account, whichever application and flavour minted it, listed and revoked one by one.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::error::QuayError;
use super::memory::AppRef;
use super::sessions::Sessions;
use super::settings::ConnectionSettings;

const LIST: &str = "GET /api/v1/user/authorizations";
const DELETE: &str = "DELETE /api/v1/user/authorizations/{uuid}";

/// One entry of `GET /api/v1/user/authorizations` (transcript 30): no client ID, so the
/// application is known by its name and organization.
#[derive(Deserialize)]
struct Authorization {
    uuid: String,
    #[serde(default)]
    application: Option<Application>,
    #[serde(default)]
    scopes: Vec<ScopeInfo>,
}

#[derive(Deserialize)]
struct Application {
    #[serde(default)]
    name: String,
    #[serde(default)]
    organization: Option<Organization>,
}

#[derive(Deserialize)]
struct Organization {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct ScopeInfo {
    scope: String,
}

/// Every token of the account (all applications), in one call; Quay does not page this list.
async fn authorizations(
    sessions: &Sessions,
    settings: &ConnectionSettings,
) -> Result<Vec<Authorization>, QuayError> {
    #[derive(Deserialize)]
    struct List {
        authorizations: Vec<Authorization>,
    }
    let url = settings.url(&["api", "v1", "user", "authorizations"]);
    let reply = sessions
        .session_request(settings, LIST, |http, _| http.get(url.clone()))
        .await?;
    if reply.status != 200 {
        return Err(reply.error(LIST));
    }
    let list: List = reply.json(LIST)?;
    Ok(list.authorizations)
}

/// The uuids of every token of the account (all applications), in one call.
pub(crate) async fn authorization_ids(
    sessions: &Sessions,
    settings: &ConnectionSettings,
) -> Result<HashSet<String>, QuayError> {
    Ok(authorizations(sessions, settings)
        .await?
        .into_iter()
        .map(|entry| entry.uuid)
        .collect())
}

/// The account's tokens of one application, with their scopes (sorted).
pub(crate) async fn tokens_of(
    sessions: &Sessions,
    settings: &ConnectionSettings,
    app: &AppRef,
) -> Result<HashMap<String, Vec<String>>, QuayError> {
    Ok(authorizations(sessions, settings)
        .await?
        .into_iter()
        .filter(|entry| {
            entry.application.as_ref().is_some_and(|a| {
                a.name == app.name && a.organization.as_ref().is_some_and(|o| o.name == app.org)
            })
        })
        .map(|entry| {
            let mut scopes: Vec<String> = entry.scopes.into_iter().map(|s| s.scope).collect();
            scopes.sort();
            (entry.uuid, scopes)
        })
        .collect())
}

/// Deletes one of the account's tokens; 404 means it is already gone.
pub(crate) async fn revoke(
    sessions: &Sessions,
    settings: &ConnectionSettings,
    token_id: &str,
) -> Result<(), QuayError> {
    let url = settings.url(&["api", "v1", "user", "authorizations", token_id]);
    let reply = sessions
        .session_request(settings, DELETE, |http, _| http.delete(url.clone()))
        .await?;
    match reply.status {
        200 | 204 | 404 => Ok(()),
        _ => Err(reply.error(DELETE)),
    }
}
