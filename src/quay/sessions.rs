//! Every account's session, and requests sent on them: the one place that signs requests in
//! and renews a session Quay dropped.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::error::QuayError;
use super::pace::Pace;
use super::retry;
use super::session::{Account, Credentials, session_is_dead};
use super::settings::ConnectionSettings;
use super::transport::{Reply, Transport};
use crate::redacted::Redacted;

/// The key of one account: (host, username).
pub(crate) type AccountKey = (String, String);

/// The key of one account: (host, username).
pub(crate) fn account_key(settings: &ConnectionSettings) -> AccountKey {
    (settings.host_string(), settings.username().to_owned())
}

/// An account and when a caller last used it.
type KnownAccount = (Arc<Account>, Instant);

/// The transport and the accounts signed in on it.
pub(crate) struct Sessions {
    transport: Transport,
    /// (host, username) → account; sessions are shared by every caller of that account.
    accounts: Mutex<HashMap<AccountKey, KnownAccount>>,
    /// The caller's pacing of waits and requests.
    pace: Arc<dyn Pace>,
}

impl Sessions {
    /// No account signed in yet; every request goes through `transport`, paced by `pace`.
    pub(crate) fn new(transport: Transport, pace: Arc<dyn Pace>) -> Self {
        Self {
            transport,
            accounts: Mutex::new(HashMap::new()),
            pace,
        }
    }

    /// The caller's pacing.
    pub(crate) fn pace(&self) -> &dyn Pace {
        self.pace.as_ref()
    }

    /// Returns once the caller lets a request go to the host of `settings`.
    pub(crate) async fn before_request(&self, settings: &ConnectionSettings) {
        let host = settings.host_string();
        self.pace.before_request(&host).await;
    }

    /// The transport, for requests that need no session.
    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
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
        self.before_request(settings).await;
        retry::repeat(endpoint, || {
            self.session_request_once(settings, endpoint, &build)
        })
        .await
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
        let transport = &self.transport;
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
        let reply = self.transport.send(settings, endpoint, request).await?;
        account.absorb(&reply, credentials.generation).await;
        Ok(reply)
    }

    /// The account of these settings, made on first use; marks it used now.
    pub(crate) fn account(&self, settings: &ConnectionSettings) -> Arc<Account> {
        let key = account_key(settings);
        let mut accounts = self.lock_accounts();
        let entry = accounts
            .entry(key)
            .or_insert_with(|| (Arc::default(), Instant::now()));
        entry.1 = Instant::now();
        entry.0.clone()
    }

    /// Forgets the accounts `keep` does not name and that were not used within `idle`;
    /// returns their keys, so that what was learnt of them can go too.
    pub(crate) fn retain(&self, keep: &HashSet<AccountKey>, idle: Duration) -> Vec<AccountKey> {
        let gone = |key: &AccountKey, last: &Instant| !keep.contains(key) && last.elapsed() >= idle;
        let mut dropped = Vec::new();
        self.lock_accounts().retain(|key, (_, last)| {
            let go = gone(key, last);
            if go {
                dropped.push(key.clone());
            }
            !go
        });
        dropped
    }

    /// How many accounts are remembered.
    pub(crate) fn count(&self) -> usize {
        self.lock_accounts().len()
    }

    fn lock_accounts(&self) -> std::sync::MutexGuard<'_, HashMap<AccountKey, KnownAccount>> {
        self.accounts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
