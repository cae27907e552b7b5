//! End-to-end tests of the ApiToken controller: the real API server (started once for this
//! binary), the Quay emulator, and the controller running in-process, one namespace per test.

#[path = "../support/mod.rs"]
mod support;

mod capture;
mod crash_windows;
mod env;
mod invariant;

mod application;
mod bad_input;
mod busy_account;
mod consent;
mod deletion;
mod failures;
mod fair_share;
mod fault_steps;
mod lifecycle;
mod lifetime;
mod namespaces;
mod ordinary;
mod quay_hosts;
mod recovery;
mod release;
mod robustness;
mod secrecy;
mod timeouts;
mod tls;
mod watching;
mod writes;
