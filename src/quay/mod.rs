//! The operator's only door to Quay: sessions, minting, assignment, verification, revocation.
//!
//! Built on the Quay behaviour that docs/quay-protocol.md records (comments cite its sections).
//!
//! Each module uses only modules further down this list, and none uses this index:
//! - `liveness`: one token list per account and interval, the cache every verification reads;
//! - `applications`: the organization applications API, over the client's sessions;
//! - `client`: the `QuayClient` facade, which routes each call to its flavour;
//! - `assign`, `web_flow`, `token_api`: one family of Quay endpoints each (`assign` takes the
//!   web flow's redirect URI);
//! - `authorizations`, `lookup`: the account's token list; facts asked once;
//! - `memory`: what Quay already told; `sessions`: requests on every account's session;
//! - `session`: one account's sign-in; `transport`: one HTTP request;
//! - `mint`, `flavour`, `error`, `retry`, `settings`, `bounds`: plain types and rules
//!   (`bounds`: the limits on what a host may send); `pace`: what the caller does around
//!   waits and before requests.

mod applications;
mod assign;
mod authorizations;
mod bounds;
mod client;
mod error;
mod flavour;
mod liveness;
mod lookup;
mod memory;
mod mint;
mod pace;
#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod proptests;
mod retry;
mod session;
mod sessions;
mod settings;
mod token_api;
mod transport;
mod web_flow;

pub use applications::{
    AppApiError, AppConnection, AppFields, AppView, Applications, ConnectionError,
};
pub use client::{MintSlot, QuayClient};
pub use error::{HeldMint, QuayError};
pub use flavour::{Flavour, UnknownFlavour};
pub use liveness::Liveness;
pub use mint::{MintRequest, MintedToken};
pub use pace::{Pace, Unpaced};
pub use settings::{ConnectionSettings, DEFAULT_TIMEOUT_SECS, MAX_TIMEOUT_SECS, SettingsError};
pub use transport::{RequestObserver, USER_AGENT};
