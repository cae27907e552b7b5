//! The Helm chart renders what the contract promises: least-privilege RBAC, a restricted pod,
//! flags the binary accepts, and a per-namespace mode without cluster-wide Secret access.
//!
//! Uses the helm in `$QAO_CONTROL_PLANE_BIN` (set by CI), else the one built by
//! `hack/build-control-plane.sh` (a no-op once built).
#![allow(clippy::expect_used)] // a test failing loudly on a broken fixture is the point

mod render;

mod deployment;
mod dry_run;
mod install;
mod monitoring;
mod production;
mod rbac;
