//! Quay's organization applications API (protocol §16): list, read, create, replace and delete
//! the OAuth applications of an organization, on the account's session (with its CSRF token) or
//! with an OAuth token (`Authorization: Bearer`, which needs the `org:admin` scope).

mod connection;
mod error;
#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests;
mod view;

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;

pub use connection::{AppConnection, ConnectionError};
pub use error::AppApiError;
pub use view::{AppFields, AppView};

use super::client::QuayClient;
use super::error::QuayError;
use super::retry;
use super::session;
use super::transport::{Reply, RequestObserver, Transport};
use connection::Auth;
use view::RawView;

const LIST: &str = "GET /api/v1/organization/{org}/applications";
const CREATE: &str = "POST /api/v1/organization/{org}/applications";
const GET: &str = "GET /api/v1/organization/{org}/applications/{client_id}";
const UPDATE: &str = "PUT /api/v1/organization/{org}/applications/{client_id}";
const DELETE: &str = "DELETE /api/v1/organization/{org}/applications/{client_id}";
const ORG: &str = "GET /api/v1/organization/{org}";

/// The applications API of every Quay instance: session calls share the [`QuayClient`]'s
/// sessions (the ApiTokens' too), token calls go through a transport of their own.
pub struct Applications {
    quay: QuayClient,
    bearer: Transport,
}

impl fmt::Debug for Applications {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Applications").finish_non_exhaustive()
    }
}

impl Applications {
    /// The API over `quay`'s sessions; token calls are reported to `observer`, if given.
    pub fn new(quay: QuayClient, observer: Option<Arc<dyn RequestObserver>>) -> Self {
        Self {
            quay,
            bearer: Transport::new(observer, retry::FIRST_QUIET),
        }
    }

    /// Every application of `org`, in Quay's order (oldest first).
    pub async fn list(&self, conn: &AppConnection, org: &str) -> Result<Vec<AppView>, AppApiError> {
        #[derive(Deserialize)]
        struct List {
            applications: Vec<RawView>,
        }
        let url = conn.settings.url(&apps_path(org));
        let reply = self.send(conn, LIST, |http| http.get(url.clone())).await?;
        match reply.status {
            200 => {
                let list: List = reply.json(LIST)?;
                Ok(list
                    .applications
                    .into_iter()
                    .map(|raw| raw.into_view(LIST))
                    .collect::<Result<_, _>>()?)
            }
            _ => Err(self.refusal(conn, org, LIST, &reply).await),
        }
    }

    /// The application `client_id` of `org`; `None` when Quay has no such application there.
    pub async fn get(
        &self,
        conn: &AppConnection,
        org: &str,
        client_id: &str,
    ) -> Result<Option<AppView>, AppApiError> {
        let url = conn.settings.url(&app_path(org, client_id));
        let reply = self.send(conn, GET, |http| http.get(url.clone())).await?;
        match reply.status {
            200 => Ok(Some(reply.json::<RawView>(GET)?.into_view(GET)?)),
            404 => self.gone_or_unknown_org(conn, org).await,
            _ => Err(self.refusal(conn, org, GET, &reply).await),
        }
    }

    /// Creates an application; Quay gives it a new client ID whatever names others have.
    pub async fn create(
        &self,
        conn: &AppConnection,
        org: &str,
        fields: &AppFields,
    ) -> Result<AppView, AppApiError> {
        let url = conn.settings.url(&apps_path(org));
        let reply = self
            .send(conn, CREATE, |http| http.post(url.clone()).json(fields))
            .await?;
        match reply.status {
            200 | 201 => Ok(reply.json::<RawView>(CREATE)?.into_view(CREATE)?),
            _ => Err(self.refusal(conn, org, CREATE, &reply).await),
        }
    }

    /// Replaces every field of the application; `None` when it is gone.
    pub async fn update(
        &self,
        conn: &AppConnection,
        org: &str,
        client_id: &str,
        fields: &AppFields,
    ) -> Result<Option<AppView>, AppApiError> {
        let url = conn.settings.url(&app_path(org, client_id));
        let reply = self
            .send(conn, UPDATE, |http| http.put(url.clone()).json(fields))
            .await?;
        match reply.status {
            200 => Ok(Some(reply.json::<RawView>(UPDATE)?.into_view(UPDATE)?)),
            404 => self.gone_or_unknown_org(conn, org).await,
            _ => Err(self.refusal(conn, org, UPDATE, &reply).await),
        }
    }

    /// Deletes the application (and with it every token minted for it, protocol §14);
    /// `false` when it was already gone.
    pub async fn delete(
        &self,
        conn: &AppConnection,
        org: &str,
        client_id: &str,
    ) -> Result<bool, AppApiError> {
        let url = conn.settings.url(&app_path(org, client_id));
        let reply = self
            .send(conn, DELETE, |http| http.delete(url.clone()))
            .await?;
        match reply.status {
            200 | 204 => Ok(true),
            404 => self
                .gone_or_unknown_org::<()>(conn, org)
                .await
                .map(|_| false),
            _ => Err(self.refusal(conn, org, DELETE, &reply).await),
        }
    }

    /// Sends one request, on the session or with the token. Token reads are tried again on a
    /// passing failure, as the client does for session reads; creates and replaces never are.
    async fn send(
        &self,
        conn: &AppConnection,
        endpoint: &'static str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Reply, QuayError> {
        let token = match &conn.auth {
            Auth::Session => {
                return self
                    .quay
                    .sessions()
                    .session_request(&conn.settings, endpoint, |http, _| build(http))
                    .await;
            }
            Auth::Bearer(token) => token,
        };
        self.quay.sessions().before_request(&conn.settings).await;
        // Without a session nothing asked the host for a CSRF token yet: ask once, so that
        // Quay's refusals are explained and another service's replies are not.
        session::prove_host(&self.bearer, &conn.settings).await?;
        let http = self.bearer.client(&conn.settings)?;
        retry::repeat(endpoint, || {
            let request = build(&http).bearer_auth(token.expose());
            self.bearer.send(&conn.settings, endpoint, request)
        })
        .await
    }

    /// A 404 on one application: gone, unless the organization itself is unknown (which a
    /// superuser, let past the permission check, meets as a 404).
    async fn gone_or_unknown_org<T>(
        &self,
        conn: &AppConnection,
        org: &str,
    ) -> Result<Option<T>, AppApiError> {
        match self.org_exists(conn, org).await? {
            false => Err(AppApiError::UnknownOrganization {
                org: org.to_owned(),
            }),
            true => Ok(None),
        }
    }

    /// The error for an answer other than success.
    async fn refusal(
        &self,
        conn: &AppConnection,
        org: &str,
        endpoint: &'static str,
        reply: &Reply,
    ) -> AppApiError {
        match reply.status {
            401 if conn.uses_token() => AppApiError::TokenRejected,
            // Quay checks the permission before it looks for the organization (67r), so an
            // unknown organization and a missing right both answer 403: ask which.
            403 | 404 => match self.org_exists(conn, org).await {
                Ok(false) => AppApiError::UnknownOrganization {
                    org: org.to_owned(),
                },
                Ok(true) if reply.status == 404 => reply.error(endpoint).into(),
                Ok(true) => match conn.username() {
                    Some(username) => AppApiError::NotOrganizationAdmin {
                        username: username.to_owned(),
                        org: org.to_owned(),
                    },
                    None => AppApiError::TokenScopeMissing {
                        org: org.to_owned(),
                    },
                },
                Err(e) => e,
            },
            _ => reply.error(endpoint).into(),
        }
    }

    /// Whether Quay has the organization, asked anonymously: its public view is anyone's, and
    /// an unknown name answers 404.
    async fn org_exists(&self, conn: &AppConnection, org: &str) -> Result<bool, AppApiError> {
        session::prove_host(&self.bearer, &conn.settings).await?;
        let http = self.bearer.client(&conn.settings)?;
        let url = conn.settings.url(&["api", "v1", "organization", org]);
        let reply = self.bearer.send(&conn.settings, ORG, http.get(url)).await?;
        match reply.status {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(reply.error(ORG).into()),
        }
    }
}

fn apps_path(org: &str) -> Vec<&str> {
    vec!["api", "v1", "organization", org, "applications"]
}

fn app_path<'a>(org: &'a str, client_id: &'a str) -> Vec<&'a str> {
    let mut path = apps_path(org);
    path.push(client_id);
    path
}
