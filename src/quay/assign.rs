//! Handing a token to another user (`forUser`): Quay mints it for that user, who must accept it.

use super::error::QuayError;
use super::memory::Memory;
use super::sessions::Sessions;
use super::settings::ConnectionSettings;
use super::web_flow;

const ASSIGN: &str = "POST /oauth/authorize/assignuser";

/// Asks Quay to give `username` a token of the application with `scopes`; the caller has
/// checked the application first.
pub(crate) async fn assign(
    sessions: &Sessions,
    memory: &Memory,
    settings: &ConnectionSettings,
    client_id: &str,
    scopes: &[String],
    username: &str,
) -> Result<(), QuayError> {
    let mut url = settings.url(&["oauth", "authorize", "assignuser"]);
    // Quay reads these from the query string only (41g: a form body gives 400).
    url.query_pairs_mut()
        .append_pair("response_type", "token")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", &web_flow::redirect_uri(settings))
        .append_pair("scope", &scopes.join(" "))
        .append_pair("username", username)
        .append_pair("format", "json");
    let reply = sessions
        .session_request(settings, ASSIGN, |http, _| http.post(url.clone()))
        .await?;
    match reply.status {
        200 => Ok(()),
        404 => Err(QuayError::ForUserNotFound {
            username: username.to_owned(),
        }),
        403 => Err(QuayError::NotOrganizationAdmin {
            username: settings.username().to_owned(),
            org: memory.cached_org(settings, client_id).unwrap_or_default(),
        }),
        _ => Err(reply.error(ASSIGN)),
    }
}
