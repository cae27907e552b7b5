//! Binary-level end-to-end tests, "run it like production": the real operator binary as a child
//! process against the real API server of the harness (RBAC on, one control plane for this test
//! binary, one namespace per test) and the Quay emulator. Covers the Helm chart on the server
//! (dry run, its RBAC as the only permissions), leader election across processes, the admin
//! port, and the idle memory footprint.
//!
//! `QAO_OPERATOR_BIN` runs another build of the binary (e.g. target/release) instead of the one
//! Cargo built for these tests; `QAO_OPERATOR_LOG` sets its log filter (default `info`). A failing
//! test prints the end of each operator's log.

#[path = "../support/mod.rs"]
mod support;

mod audit;
mod chart;
mod identity;
mod pod;
mod process;
mod world;

mod admin;
mod alerts;
mod check;
mod crashes;
mod election;
mod evaluate;
mod footprint;
mod hostile_hosts;
mod image;
mod pod_rights;
mod promql;
mod rbac;
