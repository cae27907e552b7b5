//! quay-apitoken-operator: declarative Quay OAuth access tokens for Kubernetes.

// A panic in the controller takes every ApiToken down with it: errors are values here.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod admin;
pub mod cli;
pub mod crd;
pub mod leader;
pub mod metrics;
pub mod quay;
pub mod redacted;
pub mod telemetry;
