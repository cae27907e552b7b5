//! A string that holds secret material (passwords, tokens, session cookies).
//!
//! Secrets travel through error paths, `tracing` fields and `{:?}` of whole structs; a
//! plain `String` leaks the first time someone derives `Debug`. The newtype makes the
//! safe output the default and the raw value something a caller has to ask for.
//!
//! It wraps `secrecy::SecretString` (already in the build through kube), which also wipes the
//! memory when the value is dropped. The wrapper stays for what `SecretString` deliberately
//! leaves out and the callers rely on: a `Display` (`SecretString` has none), the short
//! `<redacted>` text, and equality (mint results and Secret contents are compared).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// Secret text whose `Debug` and `Display` print `<redacted>`.
#[derive(Clone, Default)]
pub struct Redacted(SecretString);

impl Redacted {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The raw secret, for the few places that must send or store it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl PartialEq for Redacted {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Redacted {}

impl From<String> for Redacted {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Redacted {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::Redacted;

    #[test]
    fn debug_and_display_hide_the_value() {
        let secret = Redacted::new("hunter2-secret");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(format!("{secret}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(secret.clone())), "Some(<redacted>)");
        assert_eq!(secret.expose(), "hunter2-secret");
    }

    #[test]
    fn equality_compares_the_secret() {
        assert_eq!(Redacted::from("a"), Redacted::new("a".to_owned()));
        assert_ne!(Redacted::from("a"), Redacted::from("b"));
        assert!(Redacted::default().is_empty());
    }
}
