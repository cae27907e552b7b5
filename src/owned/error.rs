//! The failures of the owned layer; each kind turns them into its own error, whose variants of
//! the same names carry the sentences users read.

/// A failed write of a result Secret or a status.
#[derive(Debug, thiserror::Error)]
pub enum OwnedError {
    /// The result Secret was created by someone else after it was found absent; it was left alone.
    #[error("retSecretRef: {secret}: a Secret of that name appeared and was left untouched")]
    SecretAppeared { secret: String },
    /// The namespace the result Secret goes to does not exist.
    #[error("retSecretRef.namespace: namespace {namespace} does not exist")]
    ResultNamespaceMissing { namespace: String },
    /// The cached copy a guarded status write was decided on was out of date.
    #[error("the cached copy was out of date; reconciling again with a fresh one")]
    StaleRead,
    /// The Kubernetes API failed.
    #[error("cannot {action}: {source}")]
    Kube {
        action: &'static str,
        source: kube::Error,
    },
}

/// Whether retrying a failed Kubernetes request may pass: a refusal (403) or a rejected object
/// (422) stays as it is until someone changes something.
pub fn retry_may_pass(error: &kube::Error) -> bool {
    !matches!(error, kube::Error::Api(s) if s.code == 403 || s.code == 422)
}
