//! `QuayClient`: the shared entry point; routes each operation to the right flavour.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use super::error::{HeldMint, QuayError};
use super::flavour::Flavour;
use super::lookup::Lookup;
use super::memory::Memory;
use super::mint::{MintRequest, MintedToken};
use super::pace::{Pace, Unpaced};
use super::sessions::Sessions;
use super::settings::ConnectionSettings;
use super::transport::{RequestObserver, Transport};
use super::{assign, authorizations, retry, token_api, web_flow};

/// Talks to any number of Quay instances; one per process, cheap to clone.
#[derive(Clone)]
pub struct QuayClient {
    inner: Arc<Lookup>,
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
        first_quiet: Duration,
    ) -> Self {
        Self::built(observer, first_quiet, Arc::new(Unpaced))
    }

    /// A client whose waits and requests `pace` paces (the operator's concurrency slots).
    pub fn paced(observer: Option<Arc<dyn RequestObserver>>, pace: Arc<dyn Pace>) -> Self {
        Self::built(observer, retry::FIRST_QUIET, pace)
    }

    fn built(
        observer: Option<Arc<dyn RequestObserver>>,
        first_quiet: Duration,
        pace: Arc<dyn Pace>,
    ) -> Self {
        Self {
            inner: Arc::new(Lookup {
                sessions: Sessions::new(Transport::new(observer, first_quiet), pace),
                memory: Memory::default(),
            }),
        }
    }

    /// The accounts' sessions, shared with the applications API.
    pub(crate) fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    fn memory(&self) -> &Memory {
        &self.inner.memory
    }

    /// Checks the application exists and the account administers its organization;
    /// returns the organization's name.
    pub async fn app_info(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
    ) -> Result<String, QuayError> {
        self.inner.app_info(settings, client_id).await
    }

    /// Makes the next web-flow mint slot list the application's tokens afresh (recovery needs
    /// what Quay holds now, not what this process last saw).
    pub fn forget_listing(&self, settings: &ConnectionSettings, client_id: &str) {
        self.memory().forget_app_tokens(settings, client_id);
    }

    /// Whether the account is a Quay superuser; asked once per account, then remembered until
    /// Quay refuses a mint.
    pub async fn is_superuser(&self, settings: &ConnectionSettings) -> Result<bool, QuayError> {
        self.inner.is_superuser(settings).await
    }

    /// How this Quay mints tokens, from its discovery document (asked once per host).
    pub async fn flavour(&self, settings: &ConnectionSettings) -> Result<Flavour, QuayError> {
        self.inner.flavour(settings).await
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
        let org = self.inner.app_info(settings, client_id).await?;
        let flavour = self.inner.flavour(settings).await?;
        let (guard, known) = match flavour {
            // Named tokens need no lock: each mint is found by its own name.
            Flavour::TokenApi => (None, None),
            Flavour::WebFlow => {
                let lock = self.sessions().account(settings).mint_lock.clone();
                // Queued behind another mint of this account: the caller may lend what it
                // holds (the reconcile's slot) to other accounts meanwhile.
                let guard = match lock.clone().try_lock_owned() {
                    Ok(guard) => guard,
                    Err(_) => {
                        let mut taken = None;
                        let queue = async {
                            taken = Some(lock.clone().lock_owned().await);
                        };
                        self.sessions().pace().while_waiting(Box::pin(queue)).await;
                        match taken {
                            Some(guard) => guard,
                            // A pace that did not await the queue: wait here instead.
                            None => lock.lock_owned().await,
                        }
                    }
                };
                // Under the lock, the last list of ours is still what Quay holds of the
                // application, but for tokens others minted since (an ambiguous diff then).
                let cached = self.memory().app_tokens(settings, client_id);
                let known = match cached {
                    Some(known) => known,
                    None => {
                        let app = self.memory().app_ref(settings, client_id, &org);
                        let known =
                            authorizations::tokens_of(self.sessions(), settings, &app).await?;
                        self.memory().note_app_tokens(settings, client_id, &known);
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
        let (sessions, memory) = (self.sessions(), self.memory());
        let minted = match (slot.flavour, &slot.known) {
            (Flavour::WebFlow, Some(known)) => {
                let app = memory.app_ref(settings, &request.client_id, &slot.org);
                web_flow::mint(sessions, memory, settings, &slot.org, &app, known, &request).await
            }
            _ => token_api::mint(sessions, memory, settings, &slot.org, &request).await,
        };
        match minted {
            Err(QuayError::ScopesRefused { org, scopes }) => {
                memory.forget_app(settings, &request.client_id);
                Err(self
                    .inner
                    .explain_refusal(settings, &request.client_id, org, scopes)
                    .await)
            }
            // Ambiguous: the cached "before" missed others' tokens; list afresh next time.
            Err(err @ QuayError::AmbiguousTokenId { .. }) => {
                memory.forget_app_tokens(settings, &request.client_id);
                Err(err)
            }
            Err(err) if !err.is_transient() => Err(self
                .inner
                .recheck_app(settings, &request.client_id, err)
                .await),
            Err(err) => {
                // Unknown outcome: a token may have been minted; list afresh next time.
                memory.forget_app_tokens(settings, &request.client_id);
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
        let app = self.memory().app_ref(settings, client_id, &slot.org);
        let now = authorizations::tokens_of(self.sessions(), settings, &app).await?;
        self.memory().note_app_tokens(settings, client_id, &now);
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

    /// Assigns a token to another user (`forUser`); Quay gives that user the token.
    pub async fn assign(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        scopes: &[String],
        username: &str,
    ) -> Result<(), QuayError> {
        self.inner.app_info(settings, client_id).await?;
        assign::assign(
            self.sessions(),
            self.memory(),
            settings,
            client_id,
            scopes,
            username,
        )
        .await
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
            Flavour::WebFlow => authorizations::authorization_ids(self.sessions(), settings).await,
            Flavour::TokenApi => match self.inner.org_for(settings, client_id).await {
                Ok(org) => {
                    token_api::list(self.sessions(), self.memory(), settings, &org, client_id).await
                }
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
        if self.inner.flavour(settings).await? != Flavour::TokenApi {
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
        if self.inner.flavour(settings).await? != Flavour::TokenApi {
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
        match self.inner.org_for(settings, client_id).await {
            Ok(org) => {
                let (sessions, memory) = (self.sessions(), self.memory());
                token_api::ids_named(sessions, memory, settings, &org, client_id, matches).await
            }
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
                authorizations::revoke(self.sessions(), settings, token_id).await?;
                self.memory().forget_token(settings, client_id, token_id);
                Ok(())
            }
            Flavour::TokenApi => match self.inner.org_for(settings, client_id).await {
                Ok(org) => {
                    token_api::revoke(self.sessions(), settings, &org, client_id, token_id).await
                }
                Err(QuayError::UnknownClientId { .. }) => Ok(()),
                Err(err) => Err(err),
            },
        }
    }

    /// Forgets accounts that no kept ApiToken uses: those `keep` does not name and that were
    /// not used within `idle`, so that memory does not grow with accounts that went away.
    pub fn retain_accounts(&self, keep: &HashSet<(String, String)>, idle: Duration) {
        let dropped = self.sessions().retain(keep, idle);
        self.memory().forget_accounts(&dropped);
    }

    /// How many accounts this client remembers (sessions and their state).
    pub fn account_count(&self) -> usize {
        self.sessions().count()
    }
}
