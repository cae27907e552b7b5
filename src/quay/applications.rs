//! Quay's organization applications API (protocol §16): list, read, create, replace and delete
//! the OAuth applications of an organization, on the account's session (with its CSRF token) or
//! with an OAuth token (`Authorization: Bearer`, which needs the `org:admin` scope).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::client::QuayClient;
use super::error::QuayError;
use super::retry;
use super::settings::{ConnectionSettings, SettingsError};
use super::transport::{Reply, RequestObserver, Transport};
use crate::redacted::Redacted;

const LIST: &str = "GET /api/v1/organization/{org}/applications";
const CREATE: &str = "POST /api/v1/organization/{org}/applications";
const GET: &str = "GET /api/v1/organization/{org}/applications/{client_id}";
const UPDATE: &str = "PUT /api/v1/organization/{org}/applications/{client_id}";
const DELETE: &str = "DELETE /api/v1/organization/{org}/applications/{client_id}";
const ORG: &str = "GET /api/v1/organization/{org}";

/// Stands in for the username and password of a token connection: the settings parser wants
/// them, and nothing ever signs in with a token connection's settings.
const TOKEN_ACCOUNT: &str = "(oauth token)";

/// How requests are authenticated.
#[derive(Clone)]
enum Auth {
    /// The account's shared session (signed in with username and password).
    Session,
    /// An OAuth access token.
    Bearer(Redacted),
}

/// A checked connection Secret for the applications API: host, TLS and timeout settings, and
/// either an OAuth token or an account's username and password (`token` wins when both are given).
#[derive(Clone)]
pub struct AppConnection {
    settings: ConnectionSettings,
    auth: Auth,
}

impl fmt::Debug for AppConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppConnection")
            .field("host", &self.settings.host_string())
            .field("account", &self.account())
            .finish_non_exhaustive()
    }
}

/// What is wrong with a connection Secret for the applications API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    /// A key is missing or unusable; the settings error names it.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// Neither kind of credential is there.
    #[error(
        "the connection Secret has neither a `token` key nor `username` and `password` keys; add \
         an OAuth token with the org:admin scope (an ApiToken's result Secret has one) or the \
         username and password of an administrator of the organization"
    )]
    NoCredentials,
}

impl AppConnection {
    /// Reads and checks the data of a connection Secret.
    pub fn from_secret_data(data: &BTreeMap<String, Vec<u8>>) -> Result<Self, ConnectionError> {
        let Some(raw) = data.get("token") else {
            if !data.contains_key("username") && !data.contains_key("password") {
                return Err(ConnectionError::NoCredentials);
            }
            let settings = ConnectionSettings::from_secret_data(data)?;
            return Ok(Self {
                settings,
                auth: Auth::Session,
            });
        };
        let token = std::str::from_utf8(raw)
            .map_err(|_| SettingsError::NotUtf8 { key: "token" })?
            .trim();
        if token.is_empty() {
            return Err(SettingsError::Empty { key: "token" }.into());
        }
        // The shared parser checks host, validateCerts, timeout and caCert; the account keys
        // it also wants are placeholders here, since a token connection never signs in.
        let mut rest: BTreeMap<String, Vec<u8>> = data
            .iter()
            .filter(|(key, _)| !matches!(key.as_str(), "token" | "username" | "password"))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        rest.insert("username".into(), TOKEN_ACCOUNT.into());
        rest.insert("password".into(), TOKEN_ACCOUNT.into());
        Ok(Self {
            settings: ConnectionSettings::from_secret_data(&rest)?,
            auth: Auth::Bearer(Redacted::new(token)),
        })
    }

    /// The normalized Quay URL.
    pub fn host_string(&self) -> String {
        self.settings.host_string()
    }

    /// Whether requests carry an OAuth token rather than the account's session.
    pub fn uses_token(&self) -> bool {
        matches!(self.auth, Auth::Bearer(_))
    }

    /// The account, for messages: `Quay user `admin``, or the OAuth token (whose user Quay
    /// does not tell).
    pub fn account(&self) -> String {
        match &self.auth {
            Auth::Session => format!("Quay user `{}`", self.settings.username()),
            Auth::Bearer(_) => "the OAuth token of the connection Secret".to_owned(),
        }
    }

    /// The username of a session connection; `None` for a token connection.
    pub fn username(&self) -> Option<&str> {
        match self.auth {
            Auth::Session => Some(self.settings.username()),
            Auth::Bearer(_) => None,
        }
    }

    /// SHA-256 (hex) over every setting and the credential, to tell when the Secret changed.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let credential = match &self.auth {
            Auth::Session => self.settings.fingerprint(),
            Auth::Bearer(token) => format!("{}:{}", self.settings.fingerprint(), token.expose()),
        };
        hex::encode(Sha256::digest(credential.as_bytes()))
    }
}

/// An application as Quay shows it to an administrator of its organization.
#[derive(Clone, PartialEq, Eq)]
pub struct AppView {
    /// Its name (not unique in the organization).
    pub name: String,
    /// Its description; empty when none.
    pub description: String,
    /// Its homepage; empty when none.
    pub application_uri: String,
    /// The OAuth client ID, Quay's only identity of an application.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: Redacted,
    /// Prefix of its OAuth redirect URLs; empty when none.
    pub redirect_uri: String,
    /// The e-mail address of its avatar, if one is set.
    pub avatar_email: Option<String>,
}

impl fmt::Debug for AppView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppView")
            .field("name", &self.name)
            .field("description", &self.description)
            .field("application_uri", &self.application_uri)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("redirect_uri", &self.redirect_uri)
            .field("avatar_email", &self.avatar_email)
            .finish()
    }
}

/// The view as Quay writes it; only admins see the secret, which the operator always is.
#[derive(Deserialize)]
struct RawView {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    application_uri: Option<String>,
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    redirect_uri: Option<String>,
    #[serde(default)]
    avatar_email: Option<String>,
}

impl RawView {
    fn into_view(self, endpoint: &'static str) -> Result<AppView, QuayError> {
        let Some(secret) = self.client_secret.filter(|s| !s.is_empty()) else {
            return Err(QuayError::MalformedResponse {
                endpoint,
                what: "the application view has no client_secret",
            });
        };
        Ok(AppView {
            name: self.name,
            description: self.description.unwrap_or_default(),
            application_uri: self.application_uri.unwrap_or_default(),
            client_id: self.client_id,
            client_secret: Redacted::new(secret),
            redirect_uri: self.redirect_uri.unwrap_or_default(),
            avatar_email: self.avatar_email,
        })
    }
}

/// Every field of an application, as a create or a replacing `PUT` sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppFields {
    /// The name.
    pub name: String,
    /// The description.
    pub description: String,
    /// The homepage.
    pub application_uri: String,
    /// The redirect URL prefix.
    pub redirect_uri: String,
    /// The avatar e-mail; `None` leaves it unset (a `PUT` without it clears it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_email: Option<String>,
}

/// A failed call of the applications API, each a sentence naming what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppApiError {
    /// Signing in, reaching Quay or reading its answer failed.
    #[error(transparent)]
    Quay(#[from] QuayError),
    /// The account does not administer the organization.
    #[error(
        "spec.organization: Quay user `{username}` is not an administrator of organization \
         `{org}`; add it to the organization's owners team, or name an organization it administers"
    )]
    NotOrganizationAdmin { username: String, org: String },
    /// Quay has no such organization.
    #[error(
        "spec.organization: Quay has no organization `{org}`; create it in Quay or correct \
         spec.organization"
    )]
    UnknownOrganization { org: String },
    /// Quay refused the token on the organization: it lacks `org:admin`, or its user is not an
    /// administrator there (Quay answers both alike).
    #[error(
        "the OAuth token of the connection Secret was refused on organization `{org}`: it needs \
         the org:admin scope, and its user must administer the organization; use a token minted \
         with org:admin (an ApiToken with rights [org:admin]) or username and password"
    )]
    TokenScopeMissing { org: String },
    /// Quay does not accept the token at all.
    #[error(
        "Quay rejected the OAuth token of the connection Secret (revoked, expired or mistyped); \
         put a live token in its `token` key, or use username and password"
    )]
    TokenRejected,
}

impl AppApiError {
    /// Whether retrying later, with the same inputs, may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Quay(e) => e.is_transient(),
            Self::NotOrganizationAdmin { .. }
            | Self::UnknownOrganization { .. }
            | Self::TokenScopeMissing { .. }
            | Self::TokenRejected => false,
        }
    }

    /// A CamelCase reason for conditions, events and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Quay(e) => e.reason(),
            Self::NotOrganizationAdmin { .. } => "NotOrganizationAdmin",
            Self::UnknownOrganization { .. } => "UnknownOrganization",
            Self::TokenScopeMissing { .. } => "TokenScopeMissing",
            Self::TokenRejected => "InvalidToken",
        }
    }

    /// Whether Quay refused the credentials themselves (a password or token it will keep
    /// refusing until the connection Secret changes).
    pub fn is_rejected_credential(&self) -> bool {
        matches!(
            self,
            Self::TokenRejected
                | Self::Quay(QuayError::InvalidCredentials { .. } | QuayError::UserDisabled { .. })
        )
    }
}

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
        let http = self.bearer.client(&conn.settings)?;
        let attempts = if retry::is_idempotent(endpoint) {
            retry::ATTEMPTS
        } else {
            1
        };
        let mut attempt = 1;
        loop {
            let request = build(&http).bearer_auth(token.expose());
            let result = self.bearer.send(&conn.settings, endpoint, request).await;
            let passing = match &result {
                Ok(reply) => retry::is_passing_status(reply.status),
                Err(QuayError::Timeout { .. } | QuayError::Unreachable { .. }) => true,
                Err(_) => false,
            };
            if !passing || attempt >= attempts {
                return result;
            }
            tokio::time::sleep(retry::pause(attempt, rand::random::<f64>())).await;
            attempt += 1;
        }
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

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;
    use quay_emulator::{Config, Emulator};

    const ORG: &str = "production";

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    async fn quay() -> Emulator {
        let quay = Emulator::start("127.0.0.1:0".parse().unwrap(), Config::default())
            .await
            .unwrap();
        quay.add_user("admin", "Sup3r53cr3L");
        quay.add_user("dwilde", "Dw1ld3Passw0rd");
        quay.add_org(ORG, "admin");
        quay
    }

    fn session(quay: &Emulator, user: &str, password: &str) -> AppConnection {
        AppConnection::from_secret_data(&data(&[
            ("host", &quay.url()),
            ("username", user),
            ("password", password),
        ]))
        .unwrap()
    }

    fn bearer(quay: &Emulator, token: &str) -> AppConnection {
        AppConnection::from_secret_data(&data(&[("host", &quay.url()), ("token", token)])).unwrap()
    }

    /// A token of `admin` with `scope`, minted directly through the emulator's own app.
    async fn token_with(quay: &Emulator, scope: &str) -> String {
        let app = quay.add_app(ORG, "minter", None);
        let settings = ConnectionSettings::from_secret_data(&data(&[
            ("host", &quay.url()),
            ("username", "admin"),
            ("password", "Sup3r53cr3L"),
        ]))
        .unwrap();
        let minted = QuayClient::new(None)
            .mint(
                &settings,
                super::super::MintRequest {
                    client_id: app.client_id,
                    scopes: vec![scope.to_owned()],
                    name: format!("test-{scope}"),
                    expiration: None,
                },
            )
            .await
            .unwrap();
        minted.token.expose().to_owned()
    }

    fn fields(name: &str) -> AppFields {
        AppFields {
            name: name.into(),
            description: "External application".into(),
            application_uri: "http://applicationuri.example.com".into(),
            redirect_uri: "http://redirecturi.example.com".into(),
            avatar_email: Some("avatar@example.com".into()),
        }
    }

    /// `token` wins over username and password; neither is an error naming both choices.
    #[test]
    fn a_connection_takes_a_token_or_an_account() {
        let both = AppConnection::from_secret_data(&data(&[
            ("host", "quay.example.com"),
            ("token", "T0KEN"),
            ("username", "admin"),
            ("password", "pw"),
        ]))
        .unwrap();
        assert!(both.uses_token());
        assert_eq!(both.username(), None);
        assert_eq!(both.host_string(), "https://quay.example.com");
        assert!(!format!("{both:?}").contains("T0KEN"));
        let account = AppConnection::from_secret_data(&data(&[
            ("host", "quay.example.com"),
            ("username", "admin"),
            ("password", "pw"),
        ]))
        .unwrap();
        assert_eq!(account.username(), Some("admin"));
        assert_ne!(both.fingerprint(), account.fingerprint());
        let none = AppConnection::from_secret_data(&data(&[("host", "quay.example.com")]));
        assert_eq!(none.unwrap_err(), ConnectionError::NoCredentials);
        let empty = AppConnection::from_secret_data(&data(&[("host", "h"), ("token", " ")]));
        assert_eq!(
            empty.unwrap_err(),
            ConnectionError::Settings(SettingsError::Empty { key: "token" })
        );
        let no_host = AppConnection::from_secret_data(&data(&[("token", "T")]));
        assert_eq!(
            no_host.unwrap_err(),
            ConnectionError::Settings(SettingsError::Missing { key: "host" })
        );
    }

    /// 67, 67b, 67e, 67f, 67i, 67p, 67q on a session: the whole life of two same-named apps.
    #[tokio::test]
    async fn the_session_manages_applications_by_client_id() {
        let quay = quay().await;
        let api = Applications::new(QuayClient::new(None), None);
        let conn = session(&quay, "admin", "Sup3r53cr3L");
        let first = api.create(&conn, ORG, &fields("extapp")).await.unwrap();
        let second = api.create(&conn, ORG, &fields("extapp")).await.unwrap();
        assert_ne!(first.client_id, second.client_id, "names repeat (67b)");
        assert_eq!(first.avatar_email.as_deref(), Some("avatar@example.com"));
        assert!(!first.client_secret.is_empty());
        let listed = api.list(&conn, ORG).await.unwrap();
        assert_eq!(listed.len(), 2);
        let mut changed = fields("extapp2");
        changed.avatar_email = None;
        let updated = api
            .update(&conn, ORG, &first.client_id, &changed)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(updated.name, "extapp2");
        assert_eq!(updated.avatar_email, None, "PUT replaces (67i)");
        assert_eq!(updated.client_secret, first.client_secret);
        let got = api.get(&conn, ORG, &first.client_id).await.unwrap();
        assert_eq!(got, Some(updated));
        assert!(api.delete(&conn, ORG, &first.client_id).await.unwrap());
        assert!(!api.delete(&conn, ORG, &first.client_id).await.unwrap());
        assert_eq!(api.get(&conn, ORG, &first.client_id).await.unwrap(), None);
        assert_eq!(
            api.update(&conn, ORG, &first.client_id, &changed)
                .await
                .unwrap(),
            None,
            "67k"
        );
        assert_eq!(quay.request_count("POST /api/v1/signin"), 1);
    }

    /// 67g, 67h, 67r: not an admin and an unknown organization are told apart.
    #[tokio::test]
    async fn refusals_name_the_organization_problem() {
        let quay = quay().await;
        let api = Applications::new(QuayClient::new(None), None);
        let outsider = session(&quay, "dwilde", "Dw1ld3Passw0rd");
        let err = api.list(&outsider, ORG).await.unwrap_err();
        assert_eq!(err.reason(), "NotOrganizationAdmin");
        assert!(err.to_string().contains("spec.organization"), "{err}");
        assert!(err.to_string().contains("`dwilde`"), "{err}");
        let err = api
            .create(&outsider, "nosuchorg", &fields("x1"))
            .await
            .unwrap_err();
        assert_eq!(err.reason(), "UnknownOrganization");
        assert!(err.to_string().contains("nosuchorg"), "{err}");
        assert!(!err.is_transient());
        let admin = session(&quay, "admin", "Sup3r53cr3L");
        let err = api
            .create(&admin, ORG, &fields("__quay_bootstrap_app"))
            .await
            .unwrap_err();
        assert_eq!(err.reason(), "QuayRejected", "67d");
        assert!(err.to_string().contains("reserved"), "{err}");
        let wrong = session(&quay, "admin", "wrong");
        assert!(
            api.list(&wrong, ORG)
                .await
                .unwrap_err()
                .is_rejected_credential()
        );
    }

    /// 67m, 67n, 67o, 67p: a token works with org:admin; without it the scope is named.
    #[tokio::test]
    async fn a_token_needs_org_admin() {
        let quay = quay().await;
        let api = Applications::new(QuayClient::new(None), None);
        let admin_token = token_with(&quay, "org:admin").await;
        let conn = bearer(&quay, &admin_token);
        let created = api.create(&conn, ORG, &fields("byToken")).await.unwrap();
        assert!(
            api.list(&conn, ORG)
                .await
                .unwrap()
                .iter()
                .any(|a| a.client_id == created.client_id)
        );
        assert!(api.delete(&conn, ORG, &created.client_id).await.unwrap());
        let read_token = token_with(&quay, "repo:read").await;
        let err = api
            .create(&bearer(&quay, &read_token), ORG, &fields("nope"))
            .await
            .unwrap_err();
        assert_eq!(err.reason(), "TokenScopeMissing");
        assert!(err.to_string().contains("org:admin"), "{err}");
        assert!(!err.to_string().contains(&read_token));
        let err = api
            .list(&bearer(&quay, "NOTATOKEN0123456789"), ORG)
            .await
            .unwrap_err();
        assert_eq!(err, AppApiError::TokenRejected);
        assert!(err.is_rejected_credential());
        assert_eq!(
            quay.request_count("POST /api/v1/signin"),
            2,
            "only the two mints signed in; token calls never do"
        );
    }
}
