//! Which tokens Quay still holds: one list call per account serves every ApiToken of it.

use crate::quay::{ConnectionSettings, Flavour, QuayClient, QuayError};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Key of one list call: the web flow lists per account, the token API per application.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct ListKey {
    host: String,
    username: String,
    flavour: Flavour,
    client_id: String,
}

#[derive(Default)]
struct Entry {
    fetched: Option<(Instant, HashSet<String>)>,
}

/// A cache of Quay's live token ids, refreshed at most once per `max_age` per list.
pub struct Liveness {
    max_age: Duration,
    entries: Mutex<HashMap<ListKey, Arc<tokio::sync::Mutex<Entry>>>>,
}

impl Liveness {
    /// A cache whose lists are trusted for `max_age`.
    pub fn new(max_age: Duration) -> Self {
        Liveness {
            max_age,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Whether Quay still holds `token_id`; concurrent callers of one account share one list call.
    pub async fn is_live(
        &self,
        quay: &QuayClient,
        settings: &ConnectionSettings,
        client_id: &str,
        flavour: Flavour,
        token_id: &str,
    ) -> Result<bool, QuayError> {
        let entry = self.entry(settings, client_id, flavour);
        let mut entry = entry.lock().await;
        if let Some((at, ids)) = &entry.fetched
            && at.elapsed() < self.max_age
        {
            return Ok(ids.contains(token_id));
        }
        let ids = quay.live_token_ids(settings, client_id, flavour).await?;
        let live = ids.contains(token_id);
        entry.fetched = Some((Instant::now(), ids));
        Ok(live)
    }

    /// Notes a token just minted (`live`) or revoked by us, so a list fetched before the
    /// change does not misreport it.
    pub async fn note(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        flavour: Flavour,
        token_id: &str,
        live: bool,
    ) {
        let entry = self.entry(settings, client_id, flavour);
        let mut entry = entry.lock().await;
        if let Some((_, ids)) = &mut entry.fetched {
            if live {
                ids.insert(token_id.to_string());
            } else {
                ids.remove(token_id);
            }
        }
    }

    fn entry(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        flavour: Flavour,
    ) -> Arc<tokio::sync::Mutex<Entry>> {
        let key = ListKey {
            host: settings.host_string(),
            username: settings.username().to_string(),
            flavour,
            // The web flow's list covers every application of the account.
            client_id: if flavour == Flavour::TokenApi {
                client_id.to_string()
            } else {
                String::new()
            },
        };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.entry(key).or_default().clone()
    }
}
