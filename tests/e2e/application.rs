//! The Application resource: an OAuth application of a Quay organization declared in
//! Kubernetes, and the ApiTokens that mint for it through its Secret. On the real API server
//! and the Quay emulator, like every e2e test.

pub(crate) mod fixture;

mod changes;
mod conflicts;
mod connection;
mod creation;
mod deletion;
mod inputs;
mod secrecy;
mod slots;
mod watching;
