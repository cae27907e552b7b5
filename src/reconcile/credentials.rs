//! Connection settings Quay rejected: remembered in status as a salted hash, so that no restart
//! signs in again with a password Quay refused until the Secret changes. No I/O.

use crate::crd::ApiTokenStatus;
use crate::error::ReconcileError;
use crate::quay::{ConnectionSettings, QuayError};

/// The mark of these settings for the ApiToken of `uid`; refused when status says Quay
/// rejected exactly them before.
pub fn mark_unless_rejected(
    uid: &str,
    settings: &ConnectionSettings,
    status: &ApiTokenStatus,
    mark: &mut Option<String>,
) -> Result<(), ReconcileError> {
    let fingerprint = rejection_mark(uid, settings);
    let rejected_before = status.rejected_credentials.as_deref() == Some(fingerprint.as_str());
    *mark = Some(fingerprint);
    if rejected_before {
        // Asking again would only lengthen Quay's login back-off for the account.
        return Err(ReconcileError::Quay(QuayError::InvalidCredentials {
            username: settings.username().to_owned(),
        }));
    }
    Ok(())
}

/// A salted, shortened hash of the connection settings, safe to show in status: the
/// ApiToken's uid salts it, so equal passwords of two ApiTokens do not look alike.
fn rejection_mark(uid: &str, settings: &ConnectionSettings) -> String {
    use sha2::{Digest, Sha256};
    let salted = format!("{uid}:{}", settings.fingerprint());
    hex::encode(&Sha256::digest(salted.as_bytes())[..12])
}
