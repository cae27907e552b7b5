//! Minting, listing and revoking with the org application token API (Quay 3.18+, protocol §8).

use std::collections::HashSet;

use serde::Deserialize;

use super::authorizations;
use super::error::QuayError;
use super::flavour::Flavour;
use super::memory::Memory;
use super::mint::{MintRequest, MintedToken};
use super::sessions::Sessions;
use super::settings::ConnectionSettings;
use crate::redacted::Redacted;

const CREATE: &str = "POST /api/v1/organization/{org}/applications/{client_id}/tokens";
const LIST: &str = "GET /api/v1/organization/{org}/applications/{client_id}/tokens";
const DELETE: &str = "DELETE /api/v1/organization/{org}/applications/{client_id}/tokens/{uuid}";

fn tokens_path<'a>(org: &'a str, client_id: &'a str) -> Vec<&'a str> {
    vec![
        "api",
        "v1",
        "organization",
        org,
        "applications",
        client_id,
        "tokens",
    ]
}

/// Creates a token; the answer carries both its id and its value.
pub(crate) async fn mint(
    sessions: &Sessions,
    memory: &Memory,
    settings: &ConnectionSettings,
    org: &str,
    request: &MintRequest,
) -> Result<MintedToken, QuayError> {
    #[derive(Deserialize)]
    struct Created {
        uuid: String,
        token: String,
        #[serde(default)]
        expires_at: Option<String>,
    }
    let url = settings.url(&tokens_path(org, &request.client_id));
    let scope = request.scopes.join(" ");
    let mut body = serde_json::json!({ "name": request.name, "scope": scope });
    if let Some(seconds) = request.expiration {
        body["expiration"] = seconds.into();
    }
    let reply = sessions
        .session_request(settings, CREATE, |http, _| {
            http.post(url.clone()).json(&body)
        })
        .await?;
    match reply.status {
        200 | 201 => {
            let created: Created = reply.json(CREATE)?;
            Ok(MintedToken {
                id: created.uuid,
                token: Redacted::new(created.token),
                flavour: Flavour::TokenApi,
                expires_at: created
                    .expires_at
                    .and_then(|at| super::bounds::expiry(&at, jiff::Timestamp::now())),
                expires_in: None,
            })
        }
        400 => Err(refusal(&reply.body, &request.client_id, scope)),
        // The route is gone (Quay downgraded to < 3.18, protocol §13): detect again next time.
        status @ (308 | 405) => {
            memory.forget_flavour(settings);
            Err(QuayError::UnexpectedResponse {
                endpoint: CREATE,
                status,
            })
        }
        // Quay checks one permission per scope and answers a missing one exactly as it
        // answers a non-admin (protocol §15): the caller tells the two apart.
        403 => Err(QuayError::ScopesRefused {
            org: org.to_owned(),
            scopes: scope,
        }),
        404 => Err(QuayError::UnknownClientId {
            client_id: request.client_id.clone(),
        }),
        _ => Err(reply.error(CREATE)),
    }
}

/// Ids of every live token of the application (all users), in one call.
pub(crate) async fn list(
    sessions: &Sessions,
    memory: &Memory,
    settings: &ConnectionSettings,
    org: &str,
    client_id: &str,
) -> Result<HashSet<String>, QuayError> {
    match entries(sessions, memory, settings, org, client_id).await? {
        Some(entries) => Ok(entries.into_iter().map(|entry| entry.uuid).collect()),
        // The route is gone (Quay < 3.18): the account's tokens are its authorizations.
        None => authorizations::authorization_ids(sessions, settings).await,
    }
}

/// Ids of the application's live tokens whose name `matches` (None: this Quay has no token
/// API).
pub(crate) async fn ids_named(
    sessions: &Sessions,
    memory: &Memory,
    settings: &ConnectionSettings,
    org: &str,
    client_id: &str,
    matches: impl Fn(&str) -> bool,
) -> Result<Option<Vec<String>>, QuayError> {
    Ok(entries(sessions, memory, settings, org, client_id)
        .await?
        .map(|entries| {
            entries
                .into_iter()
                .filter(|entry| entry.name.as_deref().is_some_and(&matches))
                .map(|entry| entry.uuid)
                .collect()
        }))
}

#[derive(Deserialize)]
struct Entry {
    uuid: String,
    #[serde(default)]
    name: Option<String>,
}

/// Pages read at most before the list is taken as broken (50 tokens a page: 100 000 tokens).
const MAX_PAGES: usize = 2_000;

/// The application's live tokens, every page of them; `None` when the route is gone (Quay
/// downgraded). A page that fails fails the whole list: a partial list would make the
/// tokens it misses look revoked.
async fn entries(
    sessions: &Sessions,
    memory: &Memory,
    settings: &ConnectionSettings,
    org: &str,
    client_id: &str,
) -> Result<Option<Vec<Entry>>, QuayError> {
    #[derive(Deserialize)]
    struct Page {
        tokens: Vec<Entry>,
        #[serde(default)]
        next_page: Option<String>,
    }
    let base = settings.url(&tokens_path(org, client_id));
    let mut all = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut url = base.clone();
        if let Some(cursor) = &next {
            url.query_pairs_mut().append_pair("next_page", cursor);
        }
        let reply = sessions
            .session_request(settings, LIST, |http, _| http.get(url.clone()))
            .await?;
        match reply.status {
            200 => {}
            403 => {
                return Err(QuayError::NotOrganizationAdmin {
                    username: settings.username().to_owned(),
                    org: org.to_owned(),
                });
            }
            // The application is gone, and with it every token (protocol §14). A later page
            // answering 404 means it went while we read: nothing of it is live either.
            404 => return Ok(Some(Vec::new())),
            308 | 405 if next.is_none() => {
                memory.forget_flavour(settings);
                return Ok(None);
            }
            _ => return Err(reply.error(LIST)),
        }
        let page: Page = reply.json(LIST)?;
        all.extend(page.tokens);
        match page.next_page.filter(|cursor| !cursor.is_empty()) {
            Some(cursor) if Some(&cursor) == next.as_ref() => {
                return Err(QuayError::MalformedResponse {
                    endpoint: LIST,
                    what: "the token list repeats its page cursor",
                });
            }
            Some(cursor) => next = Some(cursor),
            None => return Ok(Some(all)),
        }
    }
    Err(QuayError::MalformedResponse {
        endpoint: LIST,
        what: "the token list does not end",
    })
}

/// Deletes a token; 404 means already gone.
pub(crate) async fn revoke(
    sessions: &Sessions,
    settings: &ConnectionSettings,
    org: &str,
    client_id: &str,
    token_id: &str,
) -> Result<(), QuayError> {
    let mut segments = tokens_path(org, client_id);
    segments.push(token_id);
    let url = settings.url(&segments);
    let reply = sessions
        .session_request(settings, DELETE, |http, _| http.delete(url.clone()))
        .await?;
    match reply.status {
        200 | 204 | 404 => Ok(()),
        // The route is missing (a Quay older than 3.18 answers 405 or 308, protocol §13):
        // the token is still an access token of the account, revocable as an authorization.
        308 | 405 => authorizations::revoke(sessions, settings, token_id).await,
        403 => Err(QuayError::NotOrganizationAdmin {
            username: settings.username().to_owned(),
            org: org.to_owned(),
        }),
        _ => Err(reply.error(DELETE)),
    }
}

/// Maps a 400 from token creation (`{"message": "..."}`) to its cause.
pub(super) fn refusal(body: &[u8], client_id: &str, scopes: String) -> QuayError {
    #[derive(Deserialize)]
    struct Message {
        #[serde(default)]
        message: String,
        #[serde(default)]
        error_message: String,
    }
    let text = serde_json::from_slice::<Message>(body)
        .map(|m| format!("{} {}", m.message, m.error_message))
        .unwrap_or_default()
        .to_ascii_lowercase();
    if text.contains("token limit") {
        QuayError::TokenLimitReached {
            client_id: client_id.to_owned(),
        }
    } else if text.contains("invalid scope") {
        QuayError::InvalidScope { scopes }
    } else {
        QuayError::for_reply(CREATE, 400, body)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::refusal;

    /// Quay's 400 messages (transcript 63b and the token cap from source) map to causes.
    #[test]
    fn refusals_are_told_apart() {
        let scope = refusal(
            br#"{"message": "Invalid scope: nope:nope"}"#,
            "CID",
            "nope:nope".into(),
        );
        assert_eq!(scope.reason(), "InvalidScope");
        let limit = refusal(
            br#"{"message": "Token limit reached: 5"}"#,
            "CID",
            "repo:read".into(),
        );
        assert_eq!(limit.reason(), "TokenLimitReached");
        let other = refusal(b"<html>", "CID", "repo:read".into());
        assert_eq!(other.reason(), "UnexpectedResponse");
    }
}
