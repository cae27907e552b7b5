//! The instance's clock and the tokens and assignments it has issued.

use std::time::Duration;

use crate::info::{AssignmentInfo, TokenInfo, assignment_info, token_info};

use super::Emulator;

impl Emulator {
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
}
