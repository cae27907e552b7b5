//! What reconciling an object of either kind fails on alike: a reference the cross-namespace
//! policy refuses, the result Secret's namespace or a Secret that appeared in its place, the
//! Kubernetes API, the reconcile deadline. Each kind's error enum wraps it ([`kind_error!`]).

use crate::references::Refusal;

/// A failure both kinds share, in the sentence of the kind it befell.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// A reference points to another namespace that the cross-namespace policy does not let
    /// the object use (deny, or no ReferenceGrant there under grant).
    #[error("{field}: namespace {namespace} is not this {kind}'s namespace, and {why}")]
    CrossNamespaceDenied {
        kind: &'static str,
        field: &'static str,
        namespace: String,
        why: Box<Refusal>,
    },
    /// The result Secret was created by someone else after it was found absent; it was left alone.
    #[error(
        "retSecretRef: {secret}: a Secret of that name appeared while this operator was about to \
         create it, and was left untouched; if it is not this {kind}'s, choose another \
         retSecretRef.name"
    )]
    SecretAppeared { kind: &'static str, secret: String },
    /// The namespace the result Secret goes to does not exist.
    #[error(
        "retSecretRef.namespace: namespace {namespace} does not exist; create it or change \
         retSecretRef.namespace"
    )]
    ResultNamespaceMissing { namespace: String },
    /// The Kubernetes API failed.
    #[error("cannot {action}: {source}")]
    Kube {
        action: &'static str,
        source: kube::Error,
    },
    /// The reconcile worked past its deadline in its slot and was stopped.
    #[error(transparent)]
    Overran(#[from] crate::controller::slots::Overran),
}

impl ObjectError {
    /// Whether retrying with the same inputs may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            // The next reconcile checks ownership again; a namespace can be created any time.
            Self::SecretAppeared { .. }
            | Self::ResultNamespaceMissing { .. }
            | Self::Overran(_) => true,
            Self::CrossNamespaceDenied { why, .. } => why.is_transient(),
            Self::Kube { source, .. } => crate::owned::retry_may_pass(source),
        }
    }

    /// A CamelCase reason for conditions, events and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Overran(_) => "DeadlineExceeded",
            Self::CrossNamespaceDenied { .. } => "CrossNamespaceDenied",
            Self::SecretAppeared { .. } => "SecretAppeared",
            Self::ResultNamespaceMissing { .. } => "ResultNamespaceMissing",
            Self::Kube { .. } => "KubernetesApiError",
        }
    }
}

/// What the controller runner needs of a kind's error.
pub trait KindError: std::error::Error + From<ObjectError> + Send + Sync + 'static {
    /// Whether retrying with the same inputs may succeed; permanent errors wait for a change.
    fn is_transient(&self) -> bool;

    /// A CamelCase reason for conditions, events and metrics.
    fn reason(&self) -> &'static str;
}

/// Makes `$error` (an enum with variants `Object(ObjectError)`, `StaleRead` and
/// `Malformed(&'static str)`, and inherent `is_transient` and `reason`) the error of kind
/// `$kind`: the conversions from the owned layer, references, the deadline and the finalizer
/// helper, and [`KindError`].
macro_rules! kind_error {
    ($error:ident, $kind:literal) => {
        impl $error {
            /// Wraps a Kubernetes API error with what was being done.
            pub fn kube(action: &'static str) -> impl FnOnce(kube::Error) -> $error {
                move |source| $crate::object_error::ObjectError::Kube { action, source }.into()
            }
        }

        impl $crate::object_error::KindError for $error {
            fn is_transient(&self) -> bool {
                $error::is_transient(self)
            }

            fn reason(&self) -> &'static str {
                $error::reason(self)
            }
        }

        impl From<$crate::owned::OwnedError> for $error {
            fn from(e: $crate::owned::OwnedError) -> Self {
                use $crate::object_error::ObjectError as Object;
                use $crate::owned::OwnedError as Owned;
                match e {
                    Owned::StaleRead => $error::StaleRead,
                    Owned::SecretAppeared { secret } => Object::SecretAppeared {
                        kind: $kind,
                        secret,
                    }
                    .into(),
                    Owned::ResultNamespaceMissing { namespace } => {
                        Object::ResultNamespaceMissing { namespace }.into()
                    }
                    Owned::Kube { action, source } => Object::Kube { action, source }.into(),
                }
            }
        }

        impl From<$crate::references::Refused> for $error {
            fn from(r: $crate::references::Refused) -> Self {
                $crate::object_error::ObjectError::CrossNamespaceDenied {
                    kind: $kind,
                    field: r.field,
                    namespace: r.namespace,
                    why: r.why,
                }
                .into()
            }
        }

        impl From<$crate::references::ReferenceError> for $error {
            fn from(e: $crate::references::ReferenceError) -> Self {
                match e {
                    $crate::references::ReferenceError::NoNamespace => {
                        $error::Malformed("namespace")
                    }
                    $crate::references::ReferenceError::Refused(r) => r.into(),
                }
            }
        }

        impl From<$crate::controller::slots::Overran> for $error {
            fn from(overran: $crate::controller::slots::Overran) -> Self {
                $crate::object_error::ObjectError::Overran(overran).into()
            }
        }

        /// The finalizer helper wraps our errors; unwrapping them lets status, events and
        /// metrics see the cause.
        impl From<kube::runtime::finalizer::Error<$error>> for $error {
            fn from(e: kube::runtime::finalizer::Error<$error>) -> Self {
                use kube::runtime::finalizer::Error;
                match e {
                    Error::ApplyFailed(e) | Error::CleanupFailed(e) => e,
                    Error::AddFinalizer(source) | Error::RemoveFinalizer(source) => {
                        $error::kube("update the finalizer")(source)
                    }
                    Error::UnnamedObject => $error::Malformed("name"),
                    Error::InvalidFinalizer => $error::Malformed("valid finalizer name"),
                }
            }
        }
    };
}
pub(crate) use kind_error;
