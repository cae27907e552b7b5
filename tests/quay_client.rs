//! The Quay client against the Quay emulator, over HTTP and HTTPS.
#![allow(clippy::expect_used, clippy::unwrap_used)] // a failing fixture is a failing test

#[path = "quay_client/costs.rs"]
mod costs;
#[path = "quay_client/errors.rs"]
mod errors;
#[path = "support/hostile.rs"]
#[allow(dead_code)]
mod hostile;
#[path = "quay_client/hostile.rs"]
mod hostile_client;
#[path = "quay_client/minting.rs"]
mod minting;
#[path = "quay_client/ordinary.rs"]
mod ordinary;
#[path = "quay_client/resilience.rs"]
mod resilience;
#[path = "quay_client/sessions.rs"]
mod sessions;
#[path = "quay_client/stub.rs"]
mod stub;
#[path = "quay_client/support.rs"]
mod support;
#[path = "quay_client/tls.rs"]
mod tls;
