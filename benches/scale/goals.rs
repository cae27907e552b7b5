//! Goals from issue 13, printed met or MISSED.

/// Peak and idle resident memory of the binary, MiB.
pub const GOAL_RSS_MIB: f64 = 40.0;
/// Quay requests per mint in steady state, token API.
pub const GOAL_REQUESTS_TOKEN_API: f64 = 1.0;
/// Quay requests per mint in steady state, web flow.
pub const GOAL_REQUESTS_WEB_FLOW: f64 = 2.0;
/// Slack over the time the requests alone take at the emulator's latency.
pub const GOAL_TIME_FACTOR: f64 = 1.3;
