//! Facts the client asks Quay once and then remembers: an application's organization and
//! whether the account administers it, whether the account is a superuser, a host's flavour.

use std::collections::HashMap;

use serde::Deserialize;

use super::error::QuayError;
use super::flavour::Flavour;
use super::memory::Memory;
use super::sessions::Sessions;
use super::settings::ConnectionSettings;

const APP: &str = "GET /api/v1/app/{client_id}";
const USER: &str = "GET /api/v1/user/";
const DISCOVERY: &str = "GET /api/v1/discovery";
/// The token API's route in the discovery document (protocol §8, transcripts 07 and 80c).
const TOKEN_API_PATH: &str = "/api/v1/organization/{orgname}/applications/{client_id}/tokens";

/// The part of `GET /api/v1/app/{client_id}` the operator needs.
#[derive(Deserialize)]
struct AppOrg {
    name: String,
    #[serde(default)]
    is_admin: bool,
}

/// The sessions and what was learnt over them; everything the flavours build on.
pub(crate) struct Lookup {
    /// Every account's session.
    pub(crate) sessions: Sessions,
    /// What Quay already told.
    pub(crate) memory: Memory,
}

impl Lookup {
    /// Checks the application exists and the account administers its organization;
    /// returns the organization's name.
    pub(crate) async fn app_info(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
    ) -> Result<String, QuayError> {
        if let Some(org) = self.memory.verified_org(settings, client_id) {
            return Ok(org);
        }
        self.verify_app(settings, client_id).await
    }

    /// Asks Quay whether the application exists and the account administers its
    /// organization, and remembers a yes.
    async fn verify_app(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
    ) -> Result<String, QuayError> {
        let mut org = self.fetch_app(settings, client_id).await?;
        if !org.is_admin {
            // This endpoint allows anonymous access, so a session Quay dropped reads as
            // "not admin" instead of 401: prove the session with a call that requires one
            // (renewing it if needed), then ask once more.
            self.confirm_session(settings).await?;
            org = self.fetch_app(settings, client_id).await?;
        }
        if !org.is_admin {
            return Err(QuayError::NotOrganizationAdmin {
                username: settings.username().to_owned(),
                org: org.name,
            });
        }
        self.memory.note_verified(settings, client_id, &org.name);
        Ok(org.name)
    }

    /// After a refusal that may come from a stale view of the application: forget it and,
    /// when Quay now says the application is gone or not ours, report that instead.
    pub(crate) async fn recheck_app(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        err: QuayError,
    ) -> QuayError {
        let was_known = self.memory.is_verified(settings, client_id);
        self.memory.forget_app(settings, client_id);
        if err.is_transient() || !was_known {
            return err;
        }
        match self.verify_app(settings, client_id).await {
            Err(
                fresh
                @ (QuayError::UnknownClientId { .. } | QuayError::NotOrganizationAdmin { .. }),
            ) => fresh,
            _ => err,
        }
    }

    async fn fetch_app(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
    ) -> Result<AppOrg, QuayError> {
        #[derive(Deserialize)]
        struct App {
            #[serde(default)]
            name: String,
            organization: AppOrg,
        }
        let url = settings.url(&["api", "v1", "app", client_id]);
        let reply = self
            .sessions
            .session_request(settings, APP, |http, _| http.get(url.clone()))
            .await?;
        match reply.status {
            200 => {}
            404 => {
                return Err(QuayError::UnknownClientId {
                    client_id: client_id.to_owned(),
                });
            }
            _ => return Err(reply.error(APP)),
        }
        let app: App = reply.json(APP)?;
        self.memory
            .note_app(settings, client_id, &app.name, &app.organization.name);
        Ok(app.organization)
    }

    async fn confirm_session(&self, settings: &ConnectionSettings) -> Result<(), QuayError> {
        self.fetch_user(settings).await.map(|_| ())
    }

    /// `GET /api/v1/user/` on the session; remembers whether the account is a superuser.
    async fn fetch_user(&self, settings: &ConnectionSettings) -> Result<bool, QuayError> {
        #[derive(Deserialize)]
        struct User {
            // Quay writes the key for superusers only (protocol §15, transcript 66).
            #[serde(default)]
            super_user: bool,
        }
        let url = settings.url(&["api", "v1", "user", ""]);
        let reply = self
            .sessions
            .session_request(settings, USER, |http, _| http.get(url.clone()))
            .await?;
        if reply.status != 200 {
            return Err(reply.error(USER));
        }
        let user: User = reply.json(USER)?;
        self.memory.note_superuser(settings, user.super_user);
        Ok(user.super_user)
    }

    /// Whether the account is a Quay superuser; asked once per account, then remembered until
    /// Quay refuses a mint.
    pub(crate) async fn is_superuser(
        &self,
        settings: &ConnectionSettings,
    ) -> Result<bool, QuayError> {
        if let Some(known) = self.memory.superuser(settings) {
            return Ok(known);
        }
        self.fetch_user(settings).await
    }

    /// How this Quay mints tokens, from its discovery document (asked once per host).
    pub(crate) async fn flavour(
        &self,
        settings: &ConnectionSettings,
    ) -> Result<Flavour, QuayError> {
        let host = settings.host_string();
        if let Some(flavour) = self.memory.flavour(&host) {
            return Ok(flavour);
        }
        #[derive(Deserialize)]
        struct Discovery {
            paths: HashMap<String, serde_json::Value>,
        }
        self.sessions.before_request(settings).await;
        let transport = self.sessions.transport();
        let http = transport.client(settings)?;
        let request = http.get(settings.url(&["api", "v1", "discovery"]));
        let reply = transport.send(settings, DISCOVERY, request).await?;
        if reply.status != 200 {
            return Err(reply.error(DISCOVERY));
        }
        let discovery: Discovery = reply.json(DISCOVERY)?;
        let flavour = if discovery.paths.contains_key(TOKEN_API_PATH) {
            Flavour::TokenApi
        } else {
            Flavour::WebFlow
        };
        tracing::info!(%host, flavour = flavour.as_str(), "detected Quay token flavour");
        self.memory.note_flavour(host, flavour);
        Ok(flavour)
    }

    /// Tells a refused scope from a lost admin right, which Quay answers alike: ask again
    /// whether the account administers the organization, and forget what we knew of it.
    pub(crate) async fn explain_refusal(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        org: String,
        scopes: String,
    ) -> QuayError {
        self.memory.forget_superuser(settings);
        match self.fetch_app(settings, client_id).await {
            Ok(app) if !app.is_admin => QuayError::NotOrganizationAdmin {
                username: settings.username().to_owned(),
                org: app.name,
            },
            Ok(_) => QuayError::RightNotHeld {
                rights: scopes,
                username: settings.username().to_owned(),
                why: format!(
                    "Quay refused them although the account administers organization `{org}` \
                     (super:user needs a Quay superuser, repo:* an org-wide repository \
                     permission)"
                ),
            },
            Err(err) => err,
        }
    }

    /// The application's organization: from cache, else from `app_info`, where a
    /// non-admin answer still names it.
    pub(crate) async fn org_for(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
    ) -> Result<String, QuayError> {
        if let Some(org) = self.memory.cached_org(settings, client_id) {
            return Ok(org);
        }
        match self.app_info(settings, client_id).await {
            Ok(org) | Err(QuayError::NotOrganizationAdmin { org, .. }) => Ok(org),
            Err(err) => Err(err),
        }
    }
}
