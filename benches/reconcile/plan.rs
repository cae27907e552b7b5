//! What the bench measures and holds the controller to: sample sizes, patience, goals.

use std::error::Error;
use std::time::Duration;

/// Every step of the bench fails with a message; the bench has no caller to recover.
pub type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// ApiTokens applied one after another for the latency median.
pub const LATENCY_SAMPLES: usize = 10;
/// ApiTokens applied at once.
pub const BURST: usize = 50;
/// Concurrency of the in-process controller: the binary's default.
pub const CONCURRENCY: u16 = 4;
/// How long any wait lasts before the bench gives up.
pub const PATIENCE: Duration = Duration::from_secs(120);
/// Goals: one token within a second of `kubectl apply`; a burst of 50 within 30 s.
pub const GOAL_LATENCY: Duration = Duration::from_secs(1);
pub const GOAL_BURST: Duration = Duration::from_secs(30);
