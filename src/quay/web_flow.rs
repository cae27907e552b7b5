//! Minting through `/oauth/authorizeapp` (every Quay 3.x): Quay answers with the token only,
//! so its id is found in the account's authorization list afterwards.

use std::collections::HashMap;

use url::Url;

use super::authorizations;
use super::error::{HeldMint, QuayError};
use super::flavour::Flavour;
use super::memory::{AppRef, Memory};
use super::mint::{MintRequest, MintedToken};
use super::sessions::Sessions;
use super::settings::ConnectionSettings;
use crate::redacted::Redacted;

const AUTHORIZE: &str = "POST /oauth/authorizeapp";

/// `<host>/oauth/localapp`, which Quay accepts for every application (protocol §4.2).
pub(crate) fn redirect_uri(settings: &ConnectionSettings) -> String {
    format!("{}/oauth/localapp", settings.host_string())
}

/// Mints with the web flow; the caller holds the account's mint lock and passes the
/// application's tokens from before (`known`), so the only new token of the application after
/// the grant is ours. Comparing one application only keeps mints for other applications of
/// the account (by people, or other tools) from making the id ambiguous.
pub(crate) async fn mint(
    sessions: &Sessions,
    memory: &Memory,
    settings: &ConnectionSettings,
    org: &str,
    app: &AppRef,
    known: &HashMap<String, Vec<String>>,
    request: &MintRequest,
) -> Result<MintedToken, QuayError> {
    let url = settings.url(&["oauth", "authorizeapp"]);
    let redirect = redirect_uri(settings);
    let scope = request.scopes.join(" ");
    let reply = sessions
        .session_request(settings, AUTHORIZE, |http, csrf| {
            http.post(url.clone()).form(&[
                ("response_type", "token"),
                ("client_id", request.client_id.as_str()),
                ("redirect_uri", redirect.as_str()),
                ("scope", scope.as_str()),
                ("_csrf_token", csrf.expose()),
            ])
        })
        .await?;
    let grant = match reply.status {
        302 | 303 => read_location(reply.header("Location").unwrap_or_default())?,
        400 => {
            return Err(QuayError::RedirectUriRejected {
                redirect_uri: redirect,
            });
        }
        _ => return Err(reply.error(AUTHORIZE)),
    };
    let (token, expires_in) = match grant {
        Grant::Token { token, expires_in } => (token, expires_in),
        Grant::Error(error) => {
            return Err(match error.as_str() {
                "invalid_scope" => QuayError::InvalidScope { scopes: scope },
                // app_info just said the app exists and we administer its org, so this is
                // a change in between (or Quay < 3.12 wording): report the org check.
                "unauthorized_client" | "access_denied" => QuayError::NotOrganizationAdmin {
                    username: settings.username().to_owned(),
                    org: org.to_owned(),
                },
                "redirect_uri_mismatch" => QuayError::RedirectUriRejected {
                    redirect_uri: redirect,
                },
                _ => QuayError::UnexpectedResponse {
                    endpoint: AUTHORIZE,
                    status: reply.status,
                },
            });
        }
    };
    let after = match authorizations::tokens_of(sessions, settings, app).await {
        Ok(after) => after,
        // The token exists now; one more try is cheaper than losing track of it.
        Err(err) if err.is_transient() => {
            authorizations::tokens_of(sessions, settings, app).await?
        }
        Err(err) => return Err(err),
    };
    // What Quay holds of the application now, ours included: the next mint's "before".
    memory.note_app_tokens(settings, &request.client_id, &after);
    let mut wanted = request.scopes.clone();
    wanted.sort();
    let new: Vec<&String> = after
        .iter()
        .filter(|(id, scopes)| !known.contains_key(*id) && **scopes == wanted)
        .map(|(id, _)| id)
        .collect();
    let [id] = new.as_slice() else {
        tracing::warn!(
            host = %settings.host_string(),
            username = settings.username(),
            new_entries = new.len(),
            "minted a token whose Quay id cannot be told apart"
        );
        let mut candidates: Vec<String> = new.iter().map(|id| (*id).clone()).collect();
        candidates.sort();
        return Err(QuayError::AmbiguousTokenId {
            new_entries: new.len(),
            // No new entry at all: ours is gone already (revoked in between), nothing to hold.
            held: (!candidates.is_empty()).then(|| {
                Box::new(HeldMint {
                    token,
                    candidates,
                    expires_at: expires_in.map(expiry_from_now),
                    expires_in,
                })
            }),
        });
    };
    Ok(MintedToken {
        id: (*id).clone(),
        token,
        flavour: Flavour::WebFlow,
        expires_at: expires_in.map(expiry_from_now),
        expires_in,
    })
}

/// What `/oauth/authorizeapp` redirected to.
#[derive(Debug, PartialEq)]
pub(super) enum Grant {
    Token {
        token: Redacted,
        expires_in: Option<u64>,
    },
    Error(String),
}

/// Reads the token from the `Location` fragment, or the OAuth error from its query.
pub(super) fn read_location(location: &str) -> Result<Grant, QuayError> {
    let malformed = |what| QuayError::MalformedResponse {
        endpoint: AUTHORIZE,
        what,
    };
    let url = Url::parse(location).map_err(|_| malformed("the Location header is not a URL"))?;
    if let Some(fragment) = url.fragment() {
        let mut token = None;
        let mut expires_in = None;
        for (key, value) in url::form_urlencoded::parse(fragment.as_bytes()) {
            match key.as_ref() {
                "access_token" if !value.is_empty() => token = Some(Redacted::new(value)),
                "expires_in" => {
                    expires_in = value.parse().ok().map(super::bounds::lifetime_secs);
                }
                _ => {}
            }
        }
        if let Some(token) = token {
            return Ok(Grant::Token { token, expires_in });
        }
    }
    url.query_pairs()
        .find(|(key, _)| key == "error")
        .map(|(_, value)| Grant::Error(value.into_owned()))
        .ok_or_else(|| malformed("the redirect carries neither a token nor an error"))
}

fn expiry_from_now(seconds: u64) -> String {
    let expiry = crate::clock::later(
        jiff::Timestamp::now(),
        std::time::Duration::from_secs(seconds),
    );
    crate::clock::stamp_of(expiry)
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::{Grant, read_location};
    use crate::redacted::Redacted;

    /// The token sits in the fragment of the redirect (transcript 10).
    #[test]
    fn token_is_read_from_the_fragment() {
        let location = "http://localhost:8080/oauth/localapp?scope=repo%3Aread+org%3Aadmin&state=x\
                        #access_token=I9ZrUsVPNYOBZBsQ0Q1K2vR2GBAmIohsEhalikVO&token_type=Bearer&expires_in=315576000";
        assert_eq!(
            read_location(location).expect("grant"),
            Grant::Token {
                token: Redacted::new("I9ZrUsVPNYOBZBsQ0Q1K2vR2GBAmIohsEhalikVO"),
                expires_in: Some(315_576_000),
            }
        );
    }

    /// OAuth errors arrive in the query (transcripts 11, 14).
    #[test]
    fn errors_are_read_from_the_query() {
        for error in ["unauthorized_client", "invalid_scope"] {
            let location = format!("http://localhost:8080/oauth/localapp?error={error}");
            assert_eq!(
                read_location(&location).expect("grant"),
                Grant::Error(error.to_owned())
            );
        }
    }

    /// Anything else is reported as unreadable, never guessed at.
    #[test]
    fn other_redirects_are_malformed() {
        for location in ["", "/relative", "http://h/oauth/localapp?scope=x"] {
            let err = read_location(location).expect_err(location);
            assert_eq!(err.reason(), "UnexpectedResponse");
        }
    }
}
