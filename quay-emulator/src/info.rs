//! The public copies of applications, tokens and assignments that tests read and edit; their
//! `Debug` output redacts every secret.

use std::fmt;

use serde::Serialize;

use crate::model::{App, Assignment, Token};
use crate::time;

/// An OAuth application as registered.
#[derive(Clone)]
pub struct AppInfo {
    pub client_id: String,
    pub client_secret: String,
    pub org: String,
    pub name: String,
    pub redirect_uri: String,
    pub description: String,
    pub application_uri: String,
    pub avatar_email: Option<String>,
}

impl fmt::Debug for AppInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppInfo")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("org", &self.org)
            .field("name", &self.name)
            .field("redirect_uri", &self.redirect_uri)
            .field("description", &self.description)
            .field("application_uri", &self.application_uri)
            .field("avatar_email", &self.avatar_email)
            .finish()
    }
}

/// Changes to an application made behind the operator's back, as an edit in Quay's UI would;
/// `None` leaves a field as it is.
#[derive(Clone, Default)]
pub struct AppUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub application_uri: Option<String>,
    pub redirect_uri: Option<String>,
    /// `Some(None)` clears the avatar e-mail.
    pub avatar_email: Option<Option<String>>,
    /// A new client secret (Quay's "reset client secret" draws a random one).
    pub client_secret: Option<String>,
}

impl fmt::Debug for AppUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppUpdate")
            .field("name", &self.name)
            .field("description", &self.description)
            .field("application_uri", &self.application_uri)
            .field("redirect_uri", &self.redirect_uri)
            .field("avatar_email", &self.avatar_email)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// The public copy of an application, secret included (this is a test tool).
pub(crate) fn app_info(a: &App) -> AppInfo {
    AppInfo {
        client_id: a.client_id.clone(),
        client_secret: a.client_secret.clone(),
        org: a.org.clone(),
        name: a.name.clone(),
        redirect_uri: a.redirect_uri.clone(),
        description: a.description.clone(),
        application_uri: a.application_uri.clone(),
        avatar_email: a.avatar_email.clone(),
    }
}

/// A live token, secret included (this is a test tool).
#[derive(Clone, Serialize)]
pub struct TokenInfo {
    pub uuid: String,
    pub token: String,
    pub scopes: Vec<String>,
    pub user: String,
    pub client_id: String,
    pub name: Option<String>,
    pub expires_at: Option<String>,
}

impl fmt::Debug for TokenInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenInfo")
            .field("uuid", &self.uuid)
            .field("token", &"<redacted>")
            .field("scopes", &self.scopes)
            .field("user", &self.user)
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A token assignment waiting to be redeemed.
#[derive(Clone, Debug, Serialize)]
pub struct AssignmentInfo {
    pub uuid: String,
    pub user: String,
    pub client_id: String,
    pub scope: String,
}

pub(crate) fn token_info(t: &Token) -> TokenInfo {
    TokenInfo {
        uuid: t.uuid.clone(),
        token: t.secret.clone(),
        scopes: t.scopes.clone(),
        user: t.user.clone(),
        client_id: t.client_id.clone(),
        name: t.name.clone(),
        expires_at: Some(time::iso8601(t.expires_at)),
    }
}

pub(crate) fn assignment_info(a: &Assignment) -> AssignmentInfo {
    AssignmentInfo {
        uuid: a.uuid.clone(),
        user: a.user.clone(),
        client_id: a.client_id.clone(),
        scope: a.scope.clone(),
    }
}
