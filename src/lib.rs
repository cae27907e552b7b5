//! quay-apitoken-operator: declarative Quay OAuth access tokens for Kubernetes.

// A panic in the controller takes every ApiToken down with it: errors are values here.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod admin;
pub mod application;
pub mod check;
pub mod cli;
pub mod clock;
pub mod connection;
pub mod context;
pub mod controller;
pub mod controllers;
pub mod crd;
pub mod duration;
pub mod error;
pub mod events;
pub mod fault_points;
pub mod hosts;
pub mod leader;
pub mod metrics;
pub mod object_error;
pub mod owned;
pub mod per_uid;
pub mod quay;
pub mod reconcile;
pub mod redacted;
pub mod reference_grants;
pub mod references;
pub mod release;
pub mod result_secret;
pub mod runner;
pub mod stored;
pub mod target;
pub mod telemetry;
