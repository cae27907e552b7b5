//! The two ways a Quay mints tokens, and their stored names.

use std::fmt;
use std::str::FromStr;

/// How tokens are minted on a Quay instance, and so where they are listed and revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavour {
    /// `/oauth/authorizeapp` (every Quay 3.x); listed in `/api/v1/user/authorizations`.
    WebFlow,
    /// The org application token API (Quay 3.18 and later).
    TokenApi,
}

impl Flavour {
    /// The stable name to store in status.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WebFlow => "webFlow",
            Self::TokenApi => "tokenApi",
        }
    }
}

impl fmt::Display for Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored flavour name that this version does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown token flavour `{0}`; expected webFlow or tokenApi")]
pub struct UnknownFlavour(pub String);

impl FromStr for Flavour {
    type Err = UnknownFlavour;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "webFlow" => Ok(Self::WebFlow),
            "tokenApi" => Ok(Self::TokenApi),
            other => Err(UnknownFlavour(other.to_owned())),
        }
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::Flavour;

    /// Stored flavour names round-trip.
    #[test]
    fn flavour_names_round_trip() {
        for flavour in [Flavour::WebFlow, Flavour::TokenApi] {
            assert_eq!(flavour.as_str().parse::<Flavour>(), Ok(flavour));
        }
        assert!("other".parse::<Flavour>().is_err());
    }
}
