//! quay-apitoken-operator: declarative Quay OAuth access tokens for Kubernetes.

pub mod admin;
pub mod cli;
pub mod crd;
pub mod leader;
pub mod metrics;
pub mod quay;
pub mod redacted;
pub mod telemetry;
