//! Deterministic fault points for the crash-safety tests: "crash here" at a named step of a
//! mint, a recovery or a cleanup. Compiled in only with the `fault-points` feature, which only
//! tests enable; without it every point is a no-op the compiler removes.
//!
//! In-process tests arm a point for one ApiToken with [`arm`] (tests run side by side in one
//! process, so a point never fires for another test's objects): the reconcile that reaches it
//! stops there with [`Stopped`] (a `FaultInjected` error of the reconcile), as a crash would
//! stop it, and the test then restarts the controller with fresh memory. A process started with
//! `QAO_FAULT_POINTS=<point>[,<point>…]` exits at once (status 86) when it reaches one, as a
//! SIGKILL at that instant would.

use crate::crd::ApiToken;

/// A reconcile stopped at a fault point a test armed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stopped at fault point {0}, as a crash would stop it")]
pub struct Stopped(pub &'static str);

/// Every point, in the order a mint and a cleanup reach them.
pub const POINTS: &[&str] = &[
    MINT_AFTER_INTENT,
    MINT_AFTER_QUAY,
    MINT_AFTER_RECORD,
    MINT_AFTER_SECRET,
    RECOVER_BEFORE_REVOKE,
    CLEANUP_AFTER_REVOKE,
];
/// The intent is written; Quay has not been asked.
pub const MINT_AFTER_INTENT: &str = "mint.after-intent";
/// Quay minted; nothing recorded it yet.
pub const MINT_AFTER_QUAY: &str = "mint.after-quay";
/// Status records the new token; the Secret does not hold it yet. A first mint never stops
/// here: it records its token with the verdict, after the Secret.
pub const MINT_AFTER_RECORD: &str = "mint.after-record";
/// The Secret holds the new token; the replaced ones are not revoked, status not final.
pub const MINT_AFTER_SECRET: &str = "mint.after-secret";
/// Recovery found an interrupted mint's token and has not revoked it yet.
pub const RECOVER_BEFORE_REVOKE: &str = "recover.before-revoke";
/// Cleanup revoked the token; the Secret and the finalizer are still there.
pub const CLEANUP_AFTER_REVOKE: &str = "cleanup.after-revoke";

#[cfg(feature = "fault-points")]
mod armed {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};

    /// (point, "namespace/name") → how many more times it fires.
    static ARMED: Mutex<Option<HashMap<(String, String), u32>>> = Mutex::new(None);
    /// Points that end the process, from `QAO_FAULT_POINTS`.
    static EXIT_AT: OnceLock<Vec<String>> = OnceLock::new();

    pub(super) fn arm(point: &str, object: &str, times: u32) {
        let mut armed = ARMED.lock().unwrap_or_else(|p| p.into_inner());
        armed
            .get_or_insert_with(HashMap::new)
            .insert((point.to_owned(), object.to_owned()), times);
    }

    pub(super) fn left(point: &str, object: &str) -> u32 {
        let armed = ARMED.lock().unwrap_or_else(|p| p.into_inner());
        armed
            .as_ref()
            .and_then(|a| a.get(&(point.to_owned(), object.to_owned())))
            .copied()
            .unwrap_or(0)
    }

    pub(super) fn fires(point: &str, object: &str) -> bool {
        let exit_at = EXIT_AT.get_or_init(|| {
            std::env::var("QAO_FAULT_POINTS")
                .unwrap_or_default()
                .split(',')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect()
        });
        if exit_at.iter().any(|p| p == point) {
            tracing::warn!(point, "fault point: exiting as a crash would");
            std::process::exit(86);
        }
        let mut armed = ARMED.lock().unwrap_or_else(|p| p.into_inner());
        let key = (point.to_owned(), object.to_owned());
        let Some(left) = armed.as_mut().and_then(|a| a.get_mut(&key)) else {
            return false;
        };
        if *left == 0 {
            return false;
        }
        *left -= 1;
        true
    }
}

/// Makes the next `times` reconciles of ApiToken `namespace/name` that reach `point` stop
/// there.
#[cfg(feature = "fault-points")]
pub fn arm(point: &str, namespace: &str, name: &str, times: u32) {
    armed::arm(point, &format!("{namespace}/{name}"), times);
}

/// How many more times `point` fires for ApiToken `namespace/name` (0 once it fired).
#[cfg(feature = "fault-points")]
pub fn left(point: &str, namespace: &str, name: &str) -> u32 {
    armed::left(point, &format!("{namespace}/{name}"))
}

/// Passes, or stops the reconcile of `token` here when a test armed `point` for it.
#[inline]
pub fn hit(point: &'static str, token: &ApiToken) -> Result<(), Stopped> {
    #[cfg(feature = "fault-points")]
    {
        use kube::ResourceExt;
        let object = format!(
            "{}/{}",
            token.namespace().unwrap_or_default(),
            token.name_any()
        );
        if armed::fires(point, &object) {
            return Err(Stopped(point));
        }
    }
    let _ = (point, token);
    Ok(())
}
