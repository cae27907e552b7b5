//! The connection Secret of the applications API: where Quay is, and an OAuth token or an
//! account to call it with.

use std::collections::BTreeMap;
use std::fmt;

use crate::quay::settings::{ConnectionSettings, SettingsError};
use crate::redacted::Redacted;

/// Stands in for the username and password of a token connection: the settings parser wants
/// them, and nothing ever signs in with a token connection's settings.
const TOKEN_ACCOUNT: &str = "(oauth token)";

/// How requests are authenticated.
#[derive(Clone)]
pub(super) enum Auth {
    /// The account's shared session (signed in with username and password).
    Session,
    /// An OAuth access token.
    Bearer(Redacted),
}

/// A checked connection Secret for the applications API: host, TLS and timeout settings, and
/// either an OAuth token or an account's username and password (`token` wins when both are given).
#[derive(Clone)]
pub struct AppConnection {
    pub(super) settings: ConnectionSettings,
    pub(super) auth: Auth,
}

impl fmt::Debug for AppConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppConnection")
            .field("host", &self.settings.host_string())
            .field("account", &self.account())
            .finish_non_exhaustive()
    }
}

/// What is wrong with a connection Secret for the applications API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    /// A key is missing or unusable; the settings error names it.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// Neither kind of credential is there.
    #[error(
        "the connection Secret has neither a `token` key nor `username` and `password` keys; add \
         an OAuth token with the org:admin scope (an ApiToken's result Secret has one) or the \
         username and password of an administrator of the organization"
    )]
    NoCredentials,
}

impl AppConnection {
    /// Reads and checks the data of a connection Secret.
    pub fn from_secret_data(data: &BTreeMap<String, Vec<u8>>) -> Result<Self, ConnectionError> {
        let Some(raw) = data.get("token") else {
            if !data.contains_key("username") && !data.contains_key("password") {
                return Err(ConnectionError::NoCredentials);
            }
            let settings = ConnectionSettings::from_secret_data(data)?;
            return Ok(Self {
                settings,
                auth: Auth::Session,
            });
        };
        let token = std::str::from_utf8(raw)
            .map_err(|_| SettingsError::NotUtf8 { key: "token" })?
            .trim();
        if token.is_empty() {
            return Err(SettingsError::Empty { key: "token" }.into());
        }
        // The shared parser checks host, validateCerts, timeout and caCert; the account keys
        // it also wants are placeholders here, since a token connection never signs in.
        let mut rest: BTreeMap<String, Vec<u8>> = data
            .iter()
            .filter(|(key, _)| !matches!(key.as_str(), "token" | "username" | "password"))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        rest.insert("username".into(), TOKEN_ACCOUNT.into());
        rest.insert("password".into(), TOKEN_ACCOUNT.into());
        Ok(Self {
            settings: ConnectionSettings::from_secret_data(&rest)?,
            auth: Auth::Bearer(Redacted::new(token)),
        })
    }

    /// The normalized Quay URL.
    pub fn host_string(&self) -> String {
        self.settings.host_string()
    }

    /// Whether requests carry an OAuth token rather than the account's session.
    pub fn uses_token(&self) -> bool {
        matches!(self.auth, Auth::Bearer(_))
    }

    /// The account, for messages: `Quay user `admin``, or the OAuth token (whose user Quay
    /// does not tell).
    pub fn account(&self) -> String {
        match &self.auth {
            Auth::Session => format!("Quay user `{}`", self.settings.username()),
            Auth::Bearer(_) => "the OAuth token of the connection Secret".to_owned(),
        }
    }

    /// The username of a session connection; `None` for a token connection.
    pub fn username(&self) -> Option<&str> {
        match self.auth {
            Auth::Session => Some(self.settings.username()),
            Auth::Bearer(_) => None,
        }
    }

    /// SHA-256 (hex) over every setting and the credential, to tell when the Secret changed.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let credential = match &self.auth {
            Auth::Session => self.settings.fingerprint(),
            Auth::Bearer(token) => format!("{}:{}", self.settings.fingerprint(), token.expose()),
        };
        hex::encode(Sha256::digest(credential.as_bytes()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    /// `token` wins over username and password; neither is an error naming both choices.
    #[test]
    fn a_connection_takes_a_token_or_an_account() {
        let both = AppConnection::from_secret_data(&data(&[
            ("host", "quay.example.com"),
            ("token", "T0KEN"),
            ("username", "admin"),
            ("password", "pw"),
        ]))
        .unwrap();
        assert!(both.uses_token());
        assert_eq!(both.username(), None);
        assert_eq!(both.host_string(), "https://quay.example.com");
        assert!(!format!("{both:?}").contains("T0KEN"));
        let account = AppConnection::from_secret_data(&data(&[
            ("host", "quay.example.com"),
            ("username", "admin"),
            ("password", "pw"),
        ]))
        .unwrap();
        assert_eq!(account.username(), Some("admin"));
        assert_ne!(both.fingerprint(), account.fingerprint());
        let none = AppConnection::from_secret_data(&data(&[("host", "quay.example.com")]));
        assert_eq!(none.unwrap_err(), ConnectionError::NoCredentials);
        let empty = AppConnection::from_secret_data(&data(&[("host", "h"), ("token", " ")]));
        assert_eq!(
            empty.unwrap_err(),
            ConnectionError::Settings(SettingsError::Empty { key: "token" })
        );
        let no_host = AppConnection::from_secret_data(&data(&[("token", "T")]));
        assert_eq!(
            no_host.unwrap_err(),
            ConnectionError::Settings(SettingsError::Missing { key: "host" })
        );
    }
}
