//! The Application's status as the owned layer writes it: which fields it shares with every kind.

use super::crd::{Application, ApplicationStatus};

pub use crate::owned::status::{Verdict, is_ready, with_verdict};

/// Condition reason of a ready Application.
pub const READY_REASON: &str = "ApplicationReady";

crate::owned::status::owned_kind!(Application, ApplicationStatus);
