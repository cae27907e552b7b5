//! What the client learnt of hosts, accounts and applications, so that a steady-state call
//! asks Quay nothing it already told.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::flavour::Flavour;
use super::sessions::{AccountKey, account_key};
use super::settings::ConnectionSettings;

/// (host, username, client_id): one account's view of one application.
type AppKey = (String, String, String);
/// (host, client_id): one application.
type HostApp = (String, String);
/// Token id → its scopes, sorted.
pub(crate) type TokenScopes = HashMap<String, Vec<String>>;

/// The key of one account's view of one application.
fn app_key(settings: &ConnectionSettings, client_id: &str) -> AppKey {
    (
        settings.host_string(),
        settings.username().to_owned(),
        client_id.to_owned(),
    )
}

fn host_app(settings: &ConnectionSettings, client_id: &str) -> HostApp {
    (settings.host_string(), client_id.to_owned())
}

/// An application as the web flow's authorization list names it: by name and organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppRef {
    pub(crate) name: String,
    pub(crate) org: String,
}

/// The client's memory; every entry can be dropped at any time, at the cost of asking again.
#[derive(Default)]
pub(crate) struct Memory {
    /// host → flavour, detected once per host.
    flavours: Mutex<HashMap<String, Flavour>>,
    /// (host, client_id) → organization owning the application (it never moves).
    orgs: Mutex<HashMap<HostApp, String>>,
    /// (host, client_id) → the application's name, as the web flow's authorizations show it.
    app_names: Mutex<HashMap<HostApp, String>>,
    /// (host, username) → whether the account is a Quay superuser, as its user view said.
    superusers: Mutex<HashMap<AccountKey, bool>>,
    /// (host, username, client_id) → organization, for applications the account was seen to
    /// administer: a steady-state mint asks Quay nothing else first. Dropped on any answer that
    /// contradicts it, so a lost admin right or a deleted application is seen at once.
    verified: Mutex<HashMap<AppKey, String>>,
    /// Web flow: (host, username, client_id) → the application's tokens of the account as the
    /// last list under the mint lock showed them, the "before" of the next mint.
    app_tokens: Mutex<HashMap<AppKey, TokenScopes>>,
}

/// Locks one map; a panic elsewhere leaves a map that is still consistent entry by entry.
fn lock<T>(map: &Mutex<T>) -> MutexGuard<'_, T> {
    map.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Memory {
    /// The organization of an application the account was seen to administer.
    pub(crate) fn verified_org(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
    ) -> Option<String> {
        lock(&self.verified)
            .get(&app_key(settings, client_id))
            .cloned()
    }

    /// Whether the account was seen to administer the application's organization.
    pub(crate) fn is_verified(&self, settings: &ConnectionSettings, client_id: &str) -> bool {
        lock(&self.verified).contains_key(&app_key(settings, client_id))
    }

    /// Remembers that the account administers `org`, the application's organization.
    pub(crate) fn note_verified(&self, settings: &ConnectionSettings, client_id: &str, org: &str) {
        lock(&self.verified).insert(app_key(settings, client_id), org.to_owned());
    }

    /// Forgets what was learnt of the application for this account (an answer contradicted
    /// it): the next call asks Quay again.
    pub(crate) fn forget_app(&self, settings: &ConnectionSettings, client_id: &str) {
        let key = app_key(settings, client_id);
        lock(&self.verified).remove(&key);
        lock(&self.app_tokens).remove(&key);
    }

    /// Remembers the application's name and organization, as its view showed them.
    pub(crate) fn note_app(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        name: &str,
        org: &str,
    ) {
        lock(&self.app_names).insert(host_app(settings, client_id), name.to_owned());
        lock(&self.orgs).insert(host_app(settings, client_id), org.to_owned());
    }

    /// The application's organization, if its view was ever read.
    pub(crate) fn cached_org(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
    ) -> Option<String> {
        lock(&self.orgs)
            .get(&host_app(settings, client_id))
            .cloned()
    }

    /// The application as the web flow's authorization list names it.
    pub(crate) fn app_ref(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        org: &str,
    ) -> AppRef {
        let name = lock(&self.app_names)
            .get(&host_app(settings, client_id))
            .cloned()
            .unwrap_or_default();
        AppRef {
            name,
            org: org.to_owned(),
        }
    }

    /// The application's tokens of the account as the last list showed them.
    pub(crate) fn app_tokens(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
    ) -> Option<TokenScopes> {
        lock(&self.app_tokens)
            .get(&app_key(settings, client_id))
            .cloned()
    }

    /// Records the application's tokens as a list under the mint lock showed them.
    pub(crate) fn note_app_tokens(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        tokens: &TokenScopes,
    ) {
        lock(&self.app_tokens).insert(app_key(settings, client_id), tokens.clone());
    }

    /// Makes the next web-flow mint list the application's tokens afresh.
    pub(crate) fn forget_app_tokens(&self, settings: &ConnectionSettings, client_id: &str) {
        lock(&self.app_tokens).remove(&app_key(settings, client_id));
    }

    /// Drops one revoked token from the application's remembered list.
    pub(crate) fn forget_token(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        token_id: &str,
    ) {
        if let Some(known) = lock(&self.app_tokens).get_mut(&app_key(settings, client_id)) {
            known.remove(token_id);
        }
    }

    /// Whether the account is a Quay superuser, if its user view was read.
    pub(crate) fn superuser(&self, settings: &ConnectionSettings) -> Option<bool> {
        lock(&self.superusers).get(&account_key(settings)).copied()
    }

    /// Remembers whether the account is a Quay superuser.
    pub(crate) fn note_superuser(&self, settings: &ConnectionSettings, superuser: bool) {
        lock(&self.superusers).insert(account_key(settings), superuser);
    }

    /// Forgets whether the account is a Quay superuser (Quay refused one of its mints).
    pub(crate) fn forget_superuser(&self, settings: &ConnectionSettings) {
        lock(&self.superusers).remove(&account_key(settings));
    }

    /// The host's flavour, if detected.
    pub(crate) fn flavour(&self, host: &str) -> Option<Flavour> {
        lock(&self.flavours).get(host).copied()
    }

    /// Remembers the host's flavour.
    pub(crate) fn note_flavour(&self, host: String, flavour: Flavour) {
        lock(&self.flavours).insert(host, flavour);
    }

    /// Drops the remembered flavour of a host whose token API route vanished.
    pub(crate) fn forget_flavour(&self, settings: &ConnectionSettings) {
        lock(&self.flavours).remove(&settings.host_string());
    }

    /// Forgets everything learnt of these accounts (the client forgot their sessions).
    pub(crate) fn forget_accounts(&self, dropped: &[AccountKey]) {
        let mut superusers = lock(&self.superusers);
        for key in dropped {
            superusers.remove(key);
        }
        drop(superusers);
        let of_dropped =
            |(host, user, _): &AppKey| dropped.iter().any(|(h, u)| h == host && u == user);
        lock(&self.verified).retain(|key, _| !of_dropped(key));
        lock(&self.app_tokens).retain(|key, _| !of_dropped(key));
    }
}
