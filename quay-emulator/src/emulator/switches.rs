//! The faults and Quay feature switches in force, changed while serving.

use crate::faults::Faults;
use crate::server::lock;

use super::Emulator;

impl Emulator {
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
}
