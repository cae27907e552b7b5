//! Tokens this process has minted and no status records yet. Other ApiTokens' recoveries take
//! an untracked token of the application for an orphan; one of ours between Quay's answer and
//! its status write is not one, so they count these as tracked. That lets a web-flow mint give
//! its account's lock back as soon as Quay answered, instead of after a status write.

use crate::crd::TokenRecord;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The minted, not yet recorded token of each ApiToken (by uid) that is being reconciled.
#[derive(Debug, Default)]
pub struct InFlight(Mutex<HashMap<String, TokenRecord>>);

impl InFlight {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, TokenRecord>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Holds `record` as tracked for `uid` until its reconcile ends.
    pub fn hold(&self, uid: &str, record: TokenRecord) {
        self.lock().insert(uid.to_owned(), record);
    }

    /// Starts a reconcile of `uid`: whatever it holds is released when the returned guard
    /// goes, by then in a status write or, if that failed, named by the intent left in status.
    pub fn reconcile(&self, uid: &str) -> Release<'_> {
        self.lock().remove(uid);
        Release {
            flight: self,
            uid: uid.to_owned(),
        }
    }

    /// Every token held.
    pub fn records(&self) -> Vec<TokenRecord> {
        self.lock().values().cloned().collect()
    }

    /// How many are held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

/// Releases the token a reconcile held, however the reconcile ends.
#[must_use = "the token is released when this guard goes"]
pub struct Release<'a> {
    flight: &'a InFlight,
    uid: String,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.flight.lock().remove(&self.uid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> TokenRecord {
        TokenRecord {
            id: Some(id.to_owned()),
            ..TokenRecord::default()
        }
    }

    #[test]
    fn a_token_is_held_while_its_reconcile_runs() {
        let flight = InFlight::default();
        {
            let _running = flight.reconcile("uid-a");
            flight.hold("uid-a", record("X"));
            let ids: Vec<_> = flight.records().into_iter().filter_map(|r| r.id).collect();
            assert_eq!(ids, vec!["X".to_string()]);
        }
        assert!(flight.is_empty(), "released when the reconcile ends");
    }

    #[test]
    fn a_new_reconcile_drops_what_an_earlier_one_left() {
        let flight = InFlight::default();
        flight.hold("uid-a", record("X"));
        flight.hold("uid-b", record("Y"));
        let _running = flight.reconcile("uid-a");
        let ids: Vec<_> = flight.records().into_iter().filter_map(|r| r.id).collect();
        assert_eq!(ids, vec!["Y".to_string()]);
        assert_eq!(flight.len(), 1);
    }
}
