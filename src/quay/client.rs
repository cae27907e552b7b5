//! `QuayClient`: the shared entry point; routes each operation to the right flavour.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use serde::Deserialize;

use super::error::{HeldMint, QuayError};
use super::session::{Account, Credentials, session_is_dead};
use super::settings::ConnectionSettings;
use super::transport::{Reply, Transport};
use super::{Flavour, MintRequest, MintedToken, RequestObserver, retry, token_api, web_flow};
use crate::redacted::Redacted;

/// Talks to any number of Quay instances; one per process, cheap to clone.
#[derive(Clone)]
pub struct QuayClient {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    /// (host, username) → account; sessions are shared by every caller of that account.
    accounts: Mutex<HashMap<(String, String), KnownAccount>>,
    /// host → flavour, detected once per host.
    flavours: Mutex<HashMap<String, Flavour>>,
    /// (host, client_id) → organization owning the application (it never moves).
    orgs: Mutex<HashMap<(String, String), String>>,
    /// (host, client_id) → the application's name, as the web flow's authorizations show it.
    app_names: Mutex<HashMap<(String, String), String>>,
    /// (host, username) → whether the account is a Quay superuser, as its user view said.
    superusers: Mutex<HashMap<(String, String), bool>>,
    /// (host, username, client_id) → organization, for applications the account was seen to
    /// administer: a steady-state mint asks Quay nothing else first. Dropped on any answer that
    /// contradicts it, so a lost admin right or a deleted application is seen at once.
    verified: Mutex<HashMap<(String, String, String), String>>,
    /// Web flow: (host, username, client_id) → the application's tokens of the account as the
    /// last list under the mint lock showed them, the "before" of the next mint.
    app_tokens: Mutex<HashMap<AppKey, TokenScopes>>,
}

/// (host, username, client_id): one account's view of one application.
type AppKey = (String, String, String);
/// Token id → its scopes, sorted.
type TokenScopes = HashMap<String, Vec<String>>;

/// The key of one account's view of one application.
fn app_key(settings: &ConnectionSettings, client_id: &str) -> (String, String, String) {
    (
        settings.host_string(),
        settings.username().to_owned(),
        client_id.to_owned(),
    )
}

const APP: &str = "GET /api/v1/app/{client_id}";
const USER: &str = "GET /api/v1/user/";
const DISCOVERY: &str = "GET /api/v1/discovery";
const ASSIGN: &str = "POST /oauth/authorize/assignuser";
/// The token API's route in the discovery document (protocol §8, transcripts 07 and 80c).
const TOKEN_API_PATH: &str = "/api/v1/organization/{orgname}/applications/{client_id}/tokens";

/// The part of `GET /api/v1/app/{client_id}` the operator needs.
#[derive(Deserialize)]
struct AppOrg {
    name: String,
    #[serde(default)]
    is_admin: bool,
}

/// A prepared mint (see [`QuayClient::begin_mint`]).
pub struct MintSlot {
    _guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// How the token will be minted.
    pub flavour: Flavour,
    org: String,
    /// Web flow: the application's tokens of the account before this mint, with their scopes.
    pub known: Option<HashMap<String, Vec<String>>>,
}

impl std::fmt::Debug for MintSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MintSlot")
            .field("flavour", &self.flavour)
            .field("org", &self.org)
            .finish_non_exhaustive()
    }
}

/// An application as the web flow's authorization list names it: by name and organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppRef {
    pub(crate) name: String,
    pub(crate) org: String,
}

/// An account and when a caller last used it.
type KnownAccount = (Arc<Account>, Instant);

/// The key of one account: (host, username).
fn account_key(settings: &ConnectionSettings) -> (String, String) {
    (settings.host_string(), settings.username().to_owned())
}

impl std::fmt::Debug for QuayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuayClient").finish_non_exhaustive()
    }
}

impl QuayClient {
    /// A client reporting each request to `observer`, if given.
    pub fn new(observer: Option<Arc<dyn RequestObserver>>) -> Self {
        Self::with_first_quiet(observer, retry::FIRST_QUIET)
    }

    /// A client that leaves a host it took for down alone for `first_quiet` before probing
    /// it (then twice as long after each failed probe, up to 30 s).
    pub fn with_first_quiet(
        observer: Option<Arc<dyn RequestObserver>>,
        first_quiet: std::time::Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                transport: Transport::new(observer, first_quiet),
                accounts: Mutex::new(HashMap::new()),
                flavours: Mutex::new(HashMap::new()),
                orgs: Mutex::new(HashMap::new()),
                app_names: Mutex::new(HashMap::new()),
                superusers: Mutex::new(HashMap::new()),
                verified: Mutex::new(HashMap::new()),
                app_tokens: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Checks the application exists and the account administers its organization;
    /// returns the organization's name.
    pub async fn app_info(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
    ) -> Result<String, QuayError> {
        if let Some(org) = self.lock_verified().get(&app_key(settings, client_id)) {
            return Ok(org.clone());
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
        self.lock_verified()
            .insert(app_key(settings, client_id), org.name.clone());
        Ok(org.name)
    }

    /// Forgets what was learnt of the application for this account (an answer contradicted
    /// it): the next call asks Quay again.
    fn forget_app(&self, settings: &ConnectionSettings, client_id: &str) {
        let key = app_key(settings, client_id);
        self.lock_verified().remove(&key);
        self.lock_app_tokens().remove(&key);
    }

    /// After a refusal that may come from a stale view of the application: forget it and,
    /// when Quay now says the application is gone or not ours, report that instead.
    async fn recheck_app(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        err: QuayError,
    ) -> QuayError {
        let was_known = self
            .lock_verified()
            .contains_key(&app_key(settings, client_id));
        self.forget_app(settings, client_id);
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

    fn lock_verified(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(String, String, String), String>> {
        self.inner
            .verified
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_app_tokens(&self) -> std::sync::MutexGuard<'_, HashMap<AppKey, TokenScopes>> {
        self.inner
            .app_tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes the next web-flow mint slot list the application's tokens afresh (recovery needs
    /// what Quay holds now, not what this process last saw).
    pub fn forget_listing(&self, settings: &ConnectionSettings, client_id: &str) {
        self.lock_app_tokens().remove(&app_key(settings, client_id));
    }

    /// Records the application's tokens as a list under the mint lock showed them.
    pub(crate) fn note_app_tokens(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        tokens: &HashMap<String, Vec<String>>,
    ) {
        self.lock_app_tokens()
            .insert(app_key(settings, client_id), tokens.clone());
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
        self.inner
            .app_names
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                (settings.host_string(), client_id.to_owned()),
                app.name.clone(),
            );
        self.inner
            .orgs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                (settings.host_string(), client_id.to_owned()),
                app.organization.name.clone(),
            );
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
            .session_request(settings, USER, |http, _| http.get(url.clone()))
            .await?;
        if reply.status != 200 {
            return Err(reply.error(USER));
        }
        let user: User = reply.json(USER)?;
        self.lock_superusers()
            .insert(account_key(settings), user.super_user);
        Ok(user.super_user)
    }

    /// Whether the account is a Quay superuser; asked once per account, then remembered until
    /// Quay refuses a mint.
    pub async fn is_superuser(&self, settings: &ConnectionSettings) -> Result<bool, QuayError> {
        if let Some(known) = self.lock_superusers().get(&account_key(settings)) {
            return Ok(*known);
        }
        self.fetch_user(settings).await
    }

    /// How this Quay mints tokens, from its discovery document (asked once per host).
    pub async fn flavour(&self, settings: &ConnectionSettings) -> Result<Flavour, QuayError> {
        let host = settings.host_string();
        if let Some(flavour) = self.lock_flavours().get(&host) {
            return Ok(*flavour);
        }
        #[derive(Deserialize)]
        struct Discovery {
            paths: HashMap<String, serde_json::Value>,
        }
        let http = self.inner.transport.client(settings)?;
        let request = http.get(settings.url(&["api", "v1", "discovery"]));
        let reply = self
            .inner
            .transport
            .send(settings, DISCOVERY, request)
            .await?;
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
        self.lock_flavours().insert(host, flavour);
        Ok(flavour)
    }

    /// Mints one token for the account, checking the application first.
    pub async fn mint(
        &self,
        settings: &ConnectionSettings,
        request: MintRequest,
    ) -> Result<MintedToken, QuayError> {
        let slot = self.begin_mint(settings, &request.client_id).await?;
        self.mint_in(settings, &slot, request).await
    }

    /// Prepares a mint: checks the application and, on the web flow, takes the account's mint
    /// lock and lists the application's tokens that exist before it. Keep the slot until the
    /// new token is recorded: while it lives, nothing else of this process mints for the
    /// account on the web flow, so any unknown token of the application is one of ours.
    pub async fn begin_mint(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
    ) -> Result<MintSlot, QuayError> {
        let org = self.app_info(settings, client_id).await?;
        let flavour = self.flavour(settings).await?;
        let (guard, known) = match flavour {
            // Named tokens need no lock: each mint is found by its own name.
            Flavour::TokenApi => (None, None),
            Flavour::WebFlow => {
                let guard = self.account(settings).mint_lock.clone().lock_owned().await;
                // Under the lock, the last list of ours is still what Quay holds of the
                // application, but for tokens others minted since (an ambiguous diff then).
                let cached = self
                    .lock_app_tokens()
                    .get(&app_key(settings, client_id))
                    .cloned();
                let known = match cached {
                    Some(known) => known,
                    None => {
                        let app = self.app_ref(settings, client_id, &org);
                        let known = web_flow::tokens_of(self, settings, &app).await?;
                        self.note_app_tokens(settings, client_id, &known);
                        known
                    }
                };
                (Some(guard), Some(known))
            }
        };
        Ok(MintSlot {
            _guard: guard,
            flavour,
            org,
            known,
        })
    }

    /// Mints in a prepared slot.
    pub async fn mint_in(
        &self,
        settings: &ConnectionSettings,
        slot: &MintSlot,
        request: MintRequest,
    ) -> Result<MintedToken, QuayError> {
        let minted = match (slot.flavour, &slot.known) {
            (Flavour::WebFlow, Some(known)) => {
                let app = self.app_ref(settings, &request.client_id, &slot.org);
                web_flow::mint(self, settings, &slot.org, &app, known, &request).await
            }
            _ => token_api::mint(self, settings, &slot.org, &request).await,
        };
        match minted {
            Err(QuayError::ScopesRefused { org, scopes }) => {
                self.forget_app(settings, &request.client_id);
                Err(self
                    .explain_refusal(settings, &request.client_id, org, scopes)
                    .await)
            }
            // Ambiguous: the cached "before" missed others' tokens; list afresh next time.
            Err(err @ QuayError::AmbiguousTokenId { .. }) => {
                self.lock_app_tokens()
                    .remove(&app_key(settings, &request.client_id));
                Err(err)
            }
            Err(err) if !err.is_transient() => {
                Err(self.recheck_app(settings, &request.client_id, err).await)
            }
            Err(err) => {
                // Unknown outcome: a token may have been minted; list afresh next time.
                self.lock_app_tokens()
                    .remove(&app_key(settings, &request.client_id));
                Err(err)
            }
            Ok(minted) => Ok(minted),
        }
    }

    /// Looks again at a web-flow mint whose id was ambiguous, in the same slot: a candidate
    /// that is gone from Quay, or that `tracked` says an ApiToken records, is not ours. One
    /// left: the mint is complete after all. Otherwise the narrowed mint comes back.
    pub async fn narrow_held(
        &self,
        settings: &ConnectionSettings,
        slot: &MintSlot,
        client_id: &str,
        mut held: HeldMint,
        tracked: &HashSet<String>,
    ) -> Result<Result<MintedToken, HeldMint>, QuayError> {
        let app = self.app_ref(settings, client_id, &slot.org);
        let now = web_flow::tokens_of(self, settings, &app).await?;
        self.note_app_tokens(settings, client_id, &now);
        held.candidates
            .retain(|id| now.contains_key(id) && !tracked.contains(id));
        Ok(match held.candidates.as_slice() {
            [id] => Ok(MintedToken {
                id: id.clone(),
                token: held.token,
                flavour: Flavour::WebFlow,
                expires_at: held.expires_at,
                expires_in: held.expires_in,
            }),
            _ => Err(held),
        })
    }

    /// The application as the web flow's authorization list names it.
    fn app_ref(&self, settings: &ConnectionSettings, client_id: &str, org: &str) -> AppRef {
        let name = self
            .inner
            .app_names
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(settings.host_string(), client_id.to_owned()))
            .cloned()
            .unwrap_or_default();
        AppRef {
            name,
            org: org.to_owned(),
        }
    }

    /// Tells a refused scope from a lost admin right, which Quay answers alike: ask again
    /// whether the account administers the organization, and forget what we knew of it.
    async fn explain_refusal(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        org: String,
        scopes: String,
    ) -> QuayError {
        self.lock_superusers().remove(&account_key(settings));
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

    /// Assigns a token to another user (`forUser`); Quay gives that user the token.
    pub async fn assign(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        scopes: &[String],
        username: &str,
    ) -> Result<(), QuayError> {
        self.app_info(settings, client_id).await?;
        let mut url = settings.url(&["oauth", "authorize", "assignuser"]);
        // Quay reads these from the query string only (41g: a form body gives 400).
        url.query_pairs_mut()
            .append_pair("response_type", "token")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", &web_flow::redirect_uri(settings))
            .append_pair("scope", &scopes.join(" "))
            .append_pair("username", username)
            .append_pair("format", "json");
        let reply = self
            .session_request(settings, ASSIGN, |http, _| http.post(url.clone()))
            .await?;
        match reply.status {
            200 => Ok(()),
            404 => Err(QuayError::ForUserNotFound {
                username: username.to_owned(),
            }),
            403 => Err(QuayError::NotOrganizationAdmin {
                username: settings.username().to_owned(),
                org: self.cached_org(settings, client_id).unwrap_or_default(),
            }),
            _ => Err(reply.error(ASSIGN)),
        }
    }

    /// The ids of the account's tokens Quay still holds, in one list call.
    ///
    /// Web flow: every token of the account (all applications). Token API: every live token
    /// of the application (all users). Either way the caller intersects with its own ids.
    pub async fn live_token_ids(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        flavour: Flavour,
    ) -> Result<HashSet<String>, QuayError> {
        match flavour {
            Flavour::WebFlow => web_flow::authorization_ids(self, settings).await,
            Flavour::TokenApi => match self.org_for(settings, client_id).await {
                Ok(org) => token_api::list(self, settings, &org, client_id).await,
                // A deleted application takes all its tokens with it (protocol §14).
                Err(QuayError::UnknownClientId { .. }) => Ok(HashSet::new()),
                Err(err) => Err(err),
            },
        }
    }

    /// Ids of the application's live tokens named `name`, to find a token whose mint was
    /// interrupted; `None` when this Quay mints without names (web flow).
    pub async fn token_ids_named(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        name: &str,
    ) -> Result<Option<Vec<String>>, QuayError> {
        if self.flavour(settings).await? != Flavour::TokenApi {
            return Ok(None);
        }
        self.token_ids_matching(settings, client_id, |n| n == name)
            .await
    }

    /// Ids of the application's live tokens whose name starts with `prefix` (every mint of
    /// one ApiToken); `None` when this Quay mints without names (web flow).
    pub async fn token_ids_with_prefix(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        prefix: &str,
    ) -> Result<Option<Vec<String>>, QuayError> {
        if self.flavour(settings).await? != Flavour::TokenApi {
            return Ok(None);
        }
        self.token_ids_matching(settings, client_id, |n| n.starts_with(prefix))
            .await
    }

    async fn token_ids_matching(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        matches: impl Fn(&str) -> bool,
    ) -> Result<Option<Vec<String>>, QuayError> {
        match self.org_for(settings, client_id).await {
            Ok(org) => token_api::ids_named(self, settings, &org, client_id, matches).await,
            Err(QuayError::UnknownClientId { .. }) => Ok(Some(Vec::new())),
            Err(err) => Err(err),
        }
    }

    /// Revokes a token by id, using the flavour it was minted with; gone already is fine.
    pub async fn revoke(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        token_id: &str,
        flavour: Flavour,
    ) -> Result<(), QuayError> {
        match flavour {
            Flavour::WebFlow => {
                web_flow::revoke(self, settings, token_id).await?;
                if let Some(known) = self
                    .lock_app_tokens()
                    .get_mut(&app_key(settings, client_id))
                {
                    known.remove(token_id);
                }
                Ok(())
            }
            Flavour::TokenApi => match self.org_for(settings, client_id).await {
                Ok(org) => token_api::revoke(self, settings, &org, client_id, token_id).await,
                Err(QuayError::UnknownClientId { .. }) => Ok(()),
                Err(err) => Err(err),
            },
        }
    }

    /// Sends a request on the account's session; on a dead session, signs in again once and
    /// retries once. `build` gets the HTTP client and the CSRF token (for form bodies). A read
    /// or revocation that meets a passing failure (5xx, no answer) is tried again, briefly,
    /// within this call; a mint never is, since its outcome is unknown.
    pub(crate) async fn session_request<F>(
        &self,
        settings: &ConnectionSettings,
        endpoint: &'static str,
        build: F,
    ) -> Result<Reply, QuayError>
    where
        F: Fn(&reqwest::Client, &Redacted) -> reqwest::RequestBuilder,
    {
        let attempts = if retry::is_idempotent(endpoint) {
            retry::ATTEMPTS
        } else {
            1
        };
        let mut attempt = 1;
        loop {
            let result = self.session_request_once(settings, endpoint, &build).await;
            let passing = match &result {
                Ok(reply) => retry::is_passing_status(reply.status),
                Err(QuayError::Timeout { .. } | QuayError::Unreachable { .. }) => true,
                Err(_) => false,
            };
            if !passing || attempt >= attempts {
                return result;
            }
            let pause = retry::pause(attempt, rand::random::<f64>());
            tracing::debug!(
                endpoint,
                attempt,
                ?pause,
                "passing Quay failure; trying again"
            );
            tokio::time::sleep(pause).await;
            attempt += 1;
        }
    }

    async fn session_request_once<F>(
        &self,
        settings: &ConnectionSettings,
        endpoint: &'static str,
        build: &F,
    ) -> Result<Reply, QuayError>
    where
        F: Fn(&reqwest::Client, &Redacted) -> reqwest::RequestBuilder,
    {
        let account = self.account(settings);
        let transport = &self.inner.transport;
        let http = transport.client(settings)?;
        let credentials = account.credentials(transport, settings, None).await?;
        let reply = self
            .send_on(settings, endpoint, &http, build, &credentials, &account)
            .await?;
        if !session_is_dead(&reply) {
            return Ok(reply);
        }
        tracing::info!(endpoint, "Quay session expired; signing in again");
        let stale = Some(credentials.generation);
        let credentials = account.credentials(transport, settings, stale).await?;
        let reply = self
            .send_on(settings, endpoint, &http, build, &credentials, &account)
            .await?;
        if session_is_dead(&reply) {
            return Err(QuayError::SessionRejected {
                username: settings.username().to_owned(),
                endpoint,
            });
        }
        Ok(reply)
    }

    async fn send_on<F>(
        &self,
        settings: &ConnectionSettings,
        endpoint: &'static str,
        http: &reqwest::Client,
        build: &F,
        credentials: &Credentials,
        account: &Account,
    ) -> Result<Reply, QuayError>
    where
        F: Fn(&reqwest::Client, &Redacted) -> reqwest::RequestBuilder,
    {
        let mut request =
            build(http, &credentials.csrf).header("X-CSRF-Token", credentials.csrf.expose());
        if let Some(cookie) = &credentials.cookie {
            request = request.header(reqwest::header::COOKIE, cookie.expose());
        }
        let reply = self
            .inner
            .transport
            .send(settings, endpoint, request)
            .await?;
        account.absorb(&reply, credentials.generation).await;
        Ok(reply)
    }

    fn account(&self, settings: &ConnectionSettings) -> Arc<Account> {
        let key = account_key(settings);
        let mut accounts = self
            .inner
            .accounts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let entry = accounts
            .entry(key)
            .or_insert_with(|| (Arc::default(), Instant::now()));
        entry.1 = Instant::now();
        entry.0.clone()
    }

    /// Forgets accounts that no kept ApiToken uses: those `keep` does not name and that were
    /// not used within `idle`, so that memory does not grow with accounts that went away.
    pub fn retain_accounts(
        &self,
        keep: &std::collections::HashSet<(String, String)>,
        idle: std::time::Duration,
    ) {
        let gone =
            |key: &(String, String), last: &Instant| !keep.contains(key) && last.elapsed() >= idle;
        let mut dropped = Vec::new();
        self.inner
            .accounts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|key, (_, last)| {
                let go = gone(key, last);
                if go {
                    dropped.push(key.clone());
                }
                !go
            });
        let mut superusers = self.lock_superusers();
        for key in &dropped {
            superusers.remove(key);
        }
        drop(superusers);
        let of_dropped = |(host, user, _): &(String, String, String)| {
            dropped.iter().any(|(h, u)| h == host && u == user)
        };
        self.lock_verified().retain(|key, _| !of_dropped(key));
        self.lock_app_tokens().retain(|key, _| !of_dropped(key));
    }

    /// How many accounts this client remembers (sessions and their state).
    pub fn account_count(&self) -> usize {
        self.inner
            .accounts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Drops the remembered flavour of a host whose token API route vanished.
    pub(crate) fn forget_flavour(&self, settings: &ConnectionSettings) {
        self.lock_flavours().remove(&settings.host_string());
    }

    fn lock_superusers(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), bool>> {
        self.inner
            .superusers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_flavours(&self) -> std::sync::MutexGuard<'_, HashMap<String, Flavour>> {
        self.inner
            .flavours
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn cached_org(&self, settings: &ConnectionSettings, client_id: &str) -> Option<String> {
        let orgs = self
            .inner
            .orgs
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        orgs.get(&(settings.host_string(), client_id.to_owned()))
            .cloned()
    }

    /// The application's organization: from cache, else from `app_info`, where a
    /// non-admin answer still names it.
    async fn org_for(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
    ) -> Result<String, QuayError> {
        if let Some(org) = self.cached_org(settings, client_id) {
            return Ok(org);
        }
        match self.app_info(settings, client_id).await {
            Ok(org) | Err(QuayError::NotOrganizationAdmin { org, .. }) => Ok(org),
            Err(err) => Err(err),
        }
    }
}
