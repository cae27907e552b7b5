//! A connection Secret as both kinds check it: there, holding usable settings, for a Quay host
//! the operator may reach. Each kind reads the Secret and keeps its own settings type.

use crate::context::Context;
use crate::hosts::HostRefused;
use crate::object_error::ObjectError;
use crate::owned::Owner;
use crate::references::{ReferenceError, SecretRefs, Target, conn_target};
use k8s_openapi::api::core::v1::Secret;
use std::collections::BTreeMap;

/// Connection settings as one kind reads them from its connection Secret.
pub trait Settings: Sized {
    /// Why the Secret's keys cannot be used.
    type Invalid: std::error::Error + Send + Sync + 'static;
    /// The keys the Secret must hold, as a message asks for them.
    const KEYS: &'static str;

    /// The settings in the Secret's data.
    fn parse(data: &BTreeMap<String, Vec<u8>>) -> Result<Self, Self::Invalid>;

    /// The Quay host they name, as the allow-list checks it.
    fn host(&self) -> String;
}

/// Implements [`Settings`] for a settings type with `from_secret_data` and `host_string`.
macro_rules! settings {
    ($settings:ty, $invalid:ty, $keys:literal) => {
        impl Settings for $settings {
            type Invalid = $invalid;
            const KEYS: &'static str = $keys;

            fn parse(data: &BTreeMap<String, Vec<u8>>) -> Result<Self, $invalid> {
                Self::from_secret_data(data)
            }

            fn host(&self) -> String {
                self.host_string()
            }
        }
    };
}

settings!(
    crate::quay::ConnectionSettings,
    crate::quay::SettingsError,
    "host, username and password"
);
settings!(
    crate::quay::AppConnection,
    crate::quay::ConnectionError,
    "host and token, or host, username and password"
);

/// Why a connection Secret cannot be used; `E` is why its keys cannot.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionSecretError<E: std::error::Error + 'static> {
    /// The connection Secret does not exist.
    #[error("connSecretRef: {reference}: secret not found; create it with {keys}")]
    Missing {
        reference: String,
        keys: &'static str,
    },
    /// The connection Secret exists but a key is missing or wrong.
    #[error("connSecretRef: {reference}: {source}")]
    Invalid { reference: String, source: E },
    /// The connection Secret's host is not on the operator's allow-list.
    #[error("connSecretRef: {reference}: {source}")]
    HostNotAllowed {
        reference: String,
        source: HostRefused,
    },
}

impl<E: std::error::Error + 'static> ConnectionSecretError<E> {
    /// A CamelCase reason for conditions, events and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing { .. } => "ConnectionSecretMissing",
            Self::Invalid { .. } => "InvalidConnectionSecret",
            Self::HostNotAllowed { .. } => "HostNotAllowed",
        }
    }
}

/// Where `object`'s connection Secret is and its settings, checked: the cross-namespace
/// policy lets the object use it, and [`check`] passes.
pub async fn read<K, S, E>(ctx: &Context, object: &K) -> Result<(Target, S), E>
where
    K: Owner + SecretRefs,
    S: Settings,
    E: From<ReferenceError> + From<ObjectError> + From<ConnectionSecretError<S::Invalid>>,
{
    let at = conn_target(object, ctx.settings.cross_namespace)?;
    let at = ctx.consent().object(object, "connSecretRef", at)?;
    let secret = ctx.read_secret(&at).await?;
    let settings = check(ctx, &at, secret).await?;
    Ok((at, settings))
}

/// The settings in `secret` (as read at `at`, `None` when it does not exist), once the
/// allow-list admits their host and the host's share of the slots lets the reconcile on.
pub async fn check<S: Settings>(
    ctx: &Context,
    at: &Target,
    secret: Option<Secret>,
) -> Result<S, ConnectionSecretError<S::Invalid>> {
    let reference = at.to_string();
    let Some(secret) = secret else {
        let keys = S::KEYS;
        return Err(ConnectionSecretError::Missing { reference, keys });
    };
    let data = secret.data.into_iter().flatten();
    let settings = match S::parse(&data.map(|(k, v)| (k, v.0)).collect()) {
        Ok(settings) => settings,
        Err(source) => return Err(ConnectionSecretError::Invalid { reference, source }),
    };
    match ctx.admit_host(&settings.host()).await {
        Ok(()) => Ok(settings),
        Err(source) => Err(ConnectionSecretError::HostNotAllowed { reference, source }),
    }
}
