//! The result Secret of an object of either kind at its deletion: it goes if it is ours; one
//! the operator may not read or delete stays, named in a note for a Warning event, so that a
//! namespace deletion never hangs on it.

use crate::owned::{OwnedError, Owner, retry_may_pass, secret_writes};
use crate::references::{Consent, CrossNamespacePolicy, SecretRefs, conn_target, result_target};
use kube::Client;

/// Deletes `object`'s result Secret if it is ours; a broken spec or policy never blocks
/// deletion. `Ok(Some(note))` when the Secret may be left behind and retrying cannot change
/// that (a refusal such as 403): the note is for a Warning event, and the finalizer can go.
pub async fn delete<K: Owner + SecretRefs>(
    client: &Client,
    consent: Consent<'_>,
    object: &K,
) -> Result<Option<String>, OwnedError> {
    // Found wherever it points. Where the policy refuses the reference now (a ReferenceGrant
    // withdrawn, the policy changed), only a Secret carrying the object's owner label goes:
    // one this operator wrote for it while it was allowed, never one it merely names.
    let everywhere = CrossNamespacePolicy::Allow;
    let Ok(target) = result_target(object, everywhere) else {
        return Ok(None);
    };
    let allowed = consent
        .object(object, "retSecretRef", target.clone())
        .is_ok();
    let conn = conn_target(object, everywhere).ok();
    match secret_writes::delete_if_ours(client, object, &target, conn.as_ref(), allowed).await {
        Ok(()) => Ok(None),
        Err(failed) if retry_may_pass(&failed.source) => Err(failed.into()),
        Err(failed) => Ok(Some(failed.note(&target))),
    }
}
