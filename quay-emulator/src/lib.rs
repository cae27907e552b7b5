//! A test Quay: the sign-in, OAuth token and token-lifecycle endpoints of Quay, faithful to
//! `protocol.md` and the captured transcripts, with TLS and fault injection.

mod faults;
mod http;
mod inspect;
mod model;
mod pagetoken;
mod pyfmt;
mod reply;
mod request;
mod router;
mod schema;
mod scopes;
pub mod seed;
mod server;
mod session;
mod time;
mod tls;
mod views;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use faults::{FaultAnswer, FaultRule, Faults};
use model::{App, AppFields, Assignment, State, Switches, Token};
use server::{Shared, lock};

/// How the emulator starts.
pub struct Config {
    /// Serve HTTPS with a certificate from a CA generated at start.
    pub tls: bool,
    /// Offer the org application token API (Quay ≥ 3.18); off plays Quay 3.17.
    pub token_api: bool,
    /// FEATURE_ASSIGN_OAUTH_TOKEN.
    pub assign_oauth_token: bool,
    /// FEATURE_USER_INITIALIZE.
    pub user_initialize: bool,
    /// OAUTH_APPLICATION_MAXIMUM_TOKEN_COUNT.
    pub max_tokens_per_app: Option<usize>,
    /// Faults in force from the start.
    pub faults: Faults,
    /// Seed of the random source that decides probabilistic faults.
    pub rng_seed: u64,
    /// How far ahead of the wall clock the instance's clock starts (see
    /// [`Emulator::advance_clock`]).
    pub clock_offset: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            tls: false,
            token_api: true,
            assign_oauth_token: true,
            user_initialize: false,
            max_tokens_per_app: None,
            faults: Faults::default(),
            rng_seed: 0,
            clock_offset: Duration::ZERO,
        }
    }
}

/// An OAuth application as registered.
#[derive(Clone)]
pub struct AppInfo {
    pub client_id: String,
    pub client_secret: String,
    pub org: String,
    pub name: String,
    pub redirect_uri: String,
    pub description: String,
    pub application_uri: String,
    pub avatar_email: Option<String>,
}

impl fmt::Debug for AppInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppInfo")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("org", &self.org)
            .field("name", &self.name)
            .field("redirect_uri", &self.redirect_uri)
            .field("description", &self.description)
            .field("application_uri", &self.application_uri)
            .field("avatar_email", &self.avatar_email)
            .finish()
    }
}

/// Changes to an application made behind the operator's back, as an edit in Quay's UI would;
/// `None` leaves a field as it is.
#[derive(Clone, Default)]
pub struct AppUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub application_uri: Option<String>,
    pub redirect_uri: Option<String>,
    /// `Some(None)` clears the avatar e-mail.
    pub avatar_email: Option<Option<String>>,
    /// A new client secret (Quay's "reset client secret" draws a random one).
    pub client_secret: Option<String>,
}

impl fmt::Debug for AppUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppUpdate")
            .field("name", &self.name)
            .field("description", &self.description)
            .field("application_uri", &self.application_uri)
            .field("redirect_uri", &self.redirect_uri)
            .field("avatar_email", &self.avatar_email)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// The public copy of an application, secret included (this is a test tool).
pub(crate) fn app_info(a: &App) -> AppInfo {
    AppInfo {
        client_id: a.client_id.clone(),
        client_secret: a.client_secret.clone(),
        org: a.org.clone(),
        name: a.name.clone(),
        redirect_uri: a.redirect_uri.clone(),
        description: a.description.clone(),
        application_uri: a.application_uri.clone(),
        avatar_email: a.avatar_email.clone(),
    }
}

/// A live token, secret included (this is a test tool).
#[derive(Clone, Serialize)]
pub struct TokenInfo {
    pub uuid: String,
    pub token: String,
    pub scopes: Vec<String>,
    pub user: String,
    pub client_id: String,
    pub name: Option<String>,
    pub expires_at: Option<String>,
}

impl fmt::Debug for TokenInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenInfo")
            .field("uuid", &self.uuid)
            .field("token", &"<redacted>")
            .field("scopes", &self.scopes)
            .field("user", &self.user)
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A token assignment waiting to be redeemed.
#[derive(Clone, Debug, Serialize)]
pub struct AssignmentInfo {
    pub uuid: String,
    pub user: String,
    pub client_id: String,
    pub scope: String,
}

pub(crate) fn token_info(t: &Token) -> TokenInfo {
    TokenInfo {
        uuid: t.uuid.clone(),
        token: t.secret.clone(),
        scopes: t.scopes.clone(),
        user: t.user.clone(),
        client_id: t.client_id.clone(),
        name: t.name.clone(),
        expires_at: Some(time::iso8601(t.expires_at)),
    }
}

pub(crate) fn assignment_info(a: &Assignment) -> AssignmentInfo {
    AssignmentInfo {
        uuid: a.uuid.clone(),
        user: a.user.clone(),
        client_id: a.client_id.clone(),
        scope: a.scope.clone(),
    }
}

/// A running emulator; it stops when dropped or on [`Emulator::shutdown`].
pub struct Emulator {
    shared: Arc<Shared>,
    url: String,
    ca_pem: Option<String>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Binds `addr` (port 0 picks a free port) and starts serving.
    pub async fn start(addr: SocketAddr, config: Config) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let tls = if config.tls {
            Some(tls::generate()?)
        } else {
            None
        };
        let scheme = if config.tls { "https" } else { "http" };
        let url = format!("{scheme}://{local}");
        let switches = Switches {
            token_api: config.token_api,
            assign_oauth_token: config.assign_oauth_token,
            user_initialize: config.user_initialize,
            max_tokens_per_app: config.max_tokens_per_app,
            direct_oauth_whitelist: Vec::new(),
        };
        let mut state = State::new(url.clone(), switches);
        state.clock.advance(config.clock_offset);
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            faults: Mutex::new(faults::FaultEngine::new(config.faults, config.rng_seed)),
            counts: Mutex::new(BTreeMap::new()),
            secure: config.tls,
        });
        let (stop, stopped) = watch::channel(false);
        let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
        let acceptor = tls.map(|t| t.acceptor);
        let task = tokio::spawn(server::serve(listener, acceptor, shared.clone(), stopped));
        Ok(Emulator {
            shared,
            url,
            ca_pem,
            stop,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The PEM of the CA that signed the server certificate, when serving HTTPS.
    pub fn ca_cert_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared.state)
    }

    /// Adds an enabled, non-superuser account (replacing one of the same name).
    pub fn add_user(&self, name: &str, password: &str) {
        self.state()
            .create_user(name, password, &format!("{name}@example.com"));
    }

    /// Grants or removes superuser status.
    pub fn set_superuser(&self, name: &str, on: bool) {
        if let Some(u) = self.state().users.get_mut(name) {
            u.superuser = on;
        }
    }

    /// Enables or disables an account; a disabled user's sessions and tokens stop working.
    pub fn set_user_enabled(&self, name: &str, enabled: bool) {
        if let Some(u) = self.state().users.get_mut(name) {
            u.enabled = enabled;
        }
    }

    /// Changes a password and, like Quay, ends every session of the user; tokens survive.
    pub fn set_password(&self, name: &str, password: &str) {
        let mut state = self.state();
        if let Some(u) = state.users.get_mut(name) {
            u.password = password.to_string();
        }
        state.invalidate_sessions(name);
    }

    /// Creates an organization whose first owner is `admin`.
    pub fn add_org(&self, org: &str, admin: &str) {
        self.state()
            .create_org(org, &format!("{org}@example.com"), admin);
    }

    /// Adds `user` to the organization's owners team.
    pub fn add_org_admin(&self, org: &str, user: &str) {
        if let Some(o) = self.state().orgs.get_mut(org)
            && !o.admins.iter().any(|a| a == user)
        {
            o.admins.push(user.to_string());
        }
    }

    /// Removes `user` from the organization's owners team (its tokens stay alive, as in Quay).
    pub fn remove_org_admin(&self, org: &str, user: &str) {
        if let Some(o) = self.state().orgs.get_mut(org) {
            o.admins.retain(|a| a != user);
        }
    }

    /// Registers an OAuth application; `None` uses `<url>/oauth/localapp` as redirect URI.
    pub fn add_app(&self, org: &str, name: &str, redirect_uri: Option<&str>) -> AppInfo {
        self.add_app_with_client_id(org, name, redirect_uri, None)
    }

    /// Like [`Emulator::add_app`], with a chosen client ID.
    pub fn add_app_with_client_id(
        &self,
        org: &str,
        name: &str,
        redirect_uri: Option<&str>,
        client_id: Option<&str>,
    ) -> AppInfo {
        let redirect = redirect_uri
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}/oauth/localapp", self.url));
        let fields = AppFields {
            name: name.to_string(),
            redirect_uri: redirect,
            ..AppFields::default()
        };
        app_info(self.state().create_app(org, fields, client_id))
    }

    /// The applications of `org` with all their fields, oldest first (Quay's list order).
    pub fn apps(&self, org: &str) -> Vec<AppInfo> {
        self.state()
            .apps_of(org)
            .into_iter()
            .map(app_info)
            .collect()
    }

    /// The application with this client ID, if any.
    pub fn app(&self, client_id: &str) -> Option<AppInfo> {
        self.state().apps.get(client_id).map(app_info)
    }

    /// How many applications of `org` are named `name` (Quay lets names repeat).
    pub fn app_count(&self, org: &str, name: &str) -> usize {
        self.state()
            .apps_of(org)
            .iter()
            .filter(|a| a.name == name)
            .count()
    }

    /// Edits an application behind the operator's back; false when there is no such app.
    pub fn update_app(&self, client_id: &str, update: AppUpdate) -> bool {
        let mut state = self.state();
        let Some(app) = state.apps.get_mut(client_id) else {
            return false;
        };
        let AppUpdate {
            name,
            description,
            application_uri,
            redirect_uri,
            avatar_email,
            client_secret,
        } = update;
        if let Some(v) = name {
            app.name = v;
        }
        if let Some(v) = description {
            app.description = v;
        }
        if let Some(v) = application_uri {
            app.application_uri = v;
        }
        if let Some(v) = redirect_uri {
            app.redirect_uri = v;
        }
        if let Some(v) = avatar_email {
            app.avatar_email = v;
        }
        if let Some(v) = client_secret {
            app.client_secret = v;
        }
        true
    }

    /// Deletes an application; its tokens and assignments go with it. False when there was none.
    pub fn delete_app(&self, client_id: &str) -> bool {
        self.state().delete_app(client_id)
    }

    /// Moves this instance's clock forward: tokens expire, sessions age and sign-in back-off
    /// windows pass as if `by` had gone by. Other emulators in the process are unaffected.
    pub fn advance_clock(&self, by: Duration) {
        self.state().clock.advance(by);
    }

    /// Unix seconds by this instance's clock (the wall clock plus every advance).
    pub fn now(&self) -> f64 {
        self.state().now()
    }

    /// Live (unrevoked, unexpired by this instance's clock) tokens, oldest first.
    pub fn tokens(&self) -> Vec<TokenInfo> {
        self.state()
            .live_tokens()
            .into_iter()
            .map(token_info)
            .collect()
    }

    /// Token assignments not yet redeemed or declined.
    pub fn assignments(&self) -> Vec<AssignmentInfo> {
        self.state()
            .assignments
            .values()
            .map(assignment_info)
            .collect()
    }

    /// Revokes a token.
    pub fn revoke_token(&self, uuid: &str) {
        self.state().tokens.remove(uuid);
    }

    /// Requests received for an endpoint key such as `"POST /oauth/authorizeapp"`.
    pub fn request_count(&self, endpoint_key: &str) -> u64 {
        lock(&self.shared.counts)
            .get(endpoint_key)
            .copied()
            .unwrap_or(0)
    }

    /// Requests received per endpoint key.
    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        lock(&self.shared.counts).clone()
    }

    /// Zeroes the request counters.
    pub fn reset_counters(&self) {
        lock(&self.shared.counts).clear();
    }

    /// Replaces the faults in force.
    pub fn set_faults(&self, faults: Faults) {
        lock(&self.shared.faults).set(faults);
    }

    /// Switches the token API on (Quay ≥ 3.18) or off (Quay 3.17).
    pub fn set_token_api(&self, on: bool) {
        self.state().switches.token_api = on;
    }

    /// Switches FEATURE_ASSIGN_OAUTH_TOKEN.
    pub fn set_assign_oauth_token(&self, on: bool) {
        self.state().switches.assign_oauth_token = on;
    }

    /// Switches FEATURE_USER_INITIALIZE.
    pub fn set_user_initialize(&self, on: bool) {
        self.state().switches.user_initialize = on;
    }

    /// Sets OAUTH_APPLICATION_MAXIMUM_TOKEN_COUNT.
    pub fn set_max_tokens_per_app(&self, max: Option<usize>) {
        self.state().switches.max_tokens_per_app = max;
    }

    /// Sets DIRECT_OAUTH_CLIENTID_WHITELIST (Basic auth without CSRF on `/oauth/authorizeapp`).
    pub fn set_direct_oauth_whitelist(&self, client_ids: &[&str]) {
        self.state().switches.direct_oauth_whitelist =
            client_ids.iter().map(|s| s.to_string()).collect();
    }

    /// Stops serving and waits for the listener to close.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
