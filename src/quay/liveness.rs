//! Which tokens Quay still holds: one list call per account serves every ApiToken of it.

use super::{ConnectionSettings, Flavour, QuayClient, QuayError};
use crate::crd::TokenRecord;
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

impl ListKey {
    fn new(host: String, username: &str, flavour: Flavour, client_id: &str) -> ListKey {
        ListKey {
            host,
            username: username.to_string(),
            flavour,
            // The web flow's list covers every application of the account.
            client_id: if flavour == Flavour::TokenApi {
                client_id.to_string()
            } else {
                String::new()
            },
        }
    }

    /// The list that verifies `record`, if it names a token that can be verified at all.
    fn of(record: &TokenRecord) -> Option<ListKey> {
        record.id.as_ref()?;
        let flavour: Flavour = record.flavour.as_deref()?.parse().ok()?;
        Some(ListKey::new(
            record.host.clone(),
            &record.username,
            flavour,
            &record.client_id,
        ))
    }
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
        // Without a cached list there is nothing to correct, and creating one here would
        // outlive a revoked token's account.
        let key = ListKey::new(
            settings.host_string(),
            settings.username(),
            flavour,
            client_id,
        );
        let Some(entry) = self.lock().get(&key).cloned() else {
            return;
        };
        let mut entry = entry.lock().await;
        if let Some((_, ids)) = &mut entry.fetched {
            if live {
                ids.insert(token_id.to_string());
            } else {
                ids.remove(token_id);
            }
        }
    }

    /// Drops the lists that none of `records` (the tokens still tracked) would be checked against.
    pub fn retain_used<'a>(&self, records: impl IntoIterator<Item = &'a TokenRecord>) {
        let used: HashSet<ListKey> = records.into_iter().filter_map(ListKey::of).collect();
        // A caller holding an entry keeps its Arc; the next check of that account starts afresh.
        self.lock().retain(|key, _| used.contains(key));
    }

    /// How many lists (one per account or application) are cached.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no list is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ListKey, Arc<tokio::sync::Mutex<Entry>>>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn entry(
        &self,
        settings: &ConnectionSettings,
        client_id: &str,
        flavour: Flavour,
    ) -> Arc<tokio::sync::Mutex<Entry>> {
        let key = ListKey::new(
            settings.host_string(),
            settings.username(),
            flavour,
            client_id,
        );
        let mut entries = self.lock();
        entries.entry(key).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(host: &str, flavour: &str, client_id: &str) -> TokenRecord {
        TokenRecord {
            id: Some("t1".into()),
            flavour: Some(flavour.into()),
            host: host.into(),
            username: "admin".into(),
            client_id: client_id.into(),
            ..TokenRecord::default()
        }
    }

    #[test]
    fn lists_no_recorded_token_needs_are_dropped() {
        let liveness = Liveness::new(Duration::from_secs(60));
        let keys = [
            ListKey::new("https://a".into(), "admin", Flavour::TokenApi, "app1"),
            ListKey::new("https://b".into(), "admin", Flavour::WebFlow, "app2"),
        ];
        for key in keys {
            liveness.lock().insert(key, Arc::default());
        }
        let kept = record("https://a", Flavour::TokenApi.as_str(), "app1");
        liveness.retain_used([&kept]);
        assert_eq!(liveness.len(), 1);
        liveness.retain_used([]);
        assert!(liveness.is_empty());
    }
}
