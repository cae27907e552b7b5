//! How many requests each endpoint has received.

use std::collections::BTreeMap;

use crate::server::lock;

use super::Emulator;

impl Emulator {
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
}
