//! Applications as Quay shows them and as a create or replace sends them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::quay::error::QuayError;
use crate::redacted::Redacted;

/// An application as Quay shows it to an administrator of its organization.
#[derive(Clone, PartialEq, Eq)]
pub struct AppView {
    /// Its name (not unique in the organization).
    pub name: String,
    /// Its description; empty when none.
    pub description: String,
    /// Its homepage; empty when none.
    pub application_uri: String,
    /// The OAuth client ID, Quay's only identity of an application.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: Redacted,
    /// Prefix of its OAuth redirect URLs; empty when none.
    pub redirect_uri: String,
    /// The e-mail address of its avatar, if one is set.
    pub avatar_email: Option<String>,
}

impl fmt::Debug for AppView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppView")
            .field("name", &self.name)
            .field("description", &self.description)
            .field("application_uri", &self.application_uri)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("redirect_uri", &self.redirect_uri)
            .field("avatar_email", &self.avatar_email)
            .finish()
    }
}

/// The view as Quay writes it; only admins see the secret, which the operator always is.
#[derive(Deserialize)]
pub(super) struct RawView {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    application_uri: Option<String>,
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    redirect_uri: Option<String>,
    #[serde(default)]
    avatar_email: Option<String>,
}

impl RawView {
    pub(super) fn into_view(self, endpoint: &'static str) -> Result<AppView, QuayError> {
        let Some(secret) = self.client_secret.filter(|s| !s.is_empty()) else {
            return Err(QuayError::MalformedResponse {
                endpoint,
                what: "the application view has no client_secret",
            });
        };
        Ok(AppView {
            name: self.name,
            description: self.description.unwrap_or_default(),
            application_uri: self.application_uri.unwrap_or_default(),
            client_id: self.client_id,
            client_secret: Redacted::new(secret),
            redirect_uri: self.redirect_uri.unwrap_or_default(),
            avatar_email: self.avatar_email,
        })
    }
}

/// Every field of an application, as a create or a replacing `PUT` sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppFields {
    /// The name.
    pub name: String,
    /// The description.
    pub description: String,
    /// The homepage.
    pub application_uri: String,
    /// The redirect URL prefix.
    pub redirect_uri: String,
    /// The avatar e-mail; `None` leaves it unset (a `PUT` without it clears it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_email: Option<String>,
}
