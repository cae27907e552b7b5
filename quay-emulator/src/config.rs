//! How an emulator is configured when it starts.

use std::time::Duration;

use crate::faults::Faults;

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
    /// [`Emulator::advance_clock`](crate::Emulator::advance_clock)).
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
