//! OAuth applications, registered, read and edited behind the operator's back.

use crate::info::{AppInfo, AppUpdate, app_info};
use crate::model::AppFields;

use super::Emulator;

impl Emulator {
    /// Registers an OAuth application; `None` uses `<url>/oauth/localapp` as redirect URI.
    pub fn add_app(&self, org: &str, name: &str, redirect_uri: Option<&str>) -> AppInfo {
        self.add_app_with_client_id(org, name, redirect_uri, None)
    }

    /// Like [`Emulator::add_app`], with a chosen client ID.
    pub fn add_app_with_client_id(
        &self,
        org: &str,
        name: &str,
        redirect_uri: Option<&str>,
        client_id: Option<&str>,
    ) -> AppInfo {
        let redirect = redirect_uri
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}/oauth/localapp", self.url));
        let fields = AppFields {
            name: name.to_string(),
            redirect_uri: redirect,
            ..AppFields::default()
        };
        app_info(self.state().create_app(org, fields, client_id))
    }

    /// The applications of `org` with all their fields, oldest first (Quay's list order).
    pub fn apps(&self, org: &str) -> Vec<AppInfo> {
        self.state()
            .apps_of(org)
            .into_iter()
            .map(app_info)
            .collect()
    }

    /// The application with this client ID, if any.
    pub fn app(&self, client_id: &str) -> Option<AppInfo> {
        self.state().apps.get(client_id).map(app_info)
    }

    /// How many applications of `org` are named `name` (Quay lets names repeat).
    pub fn app_count(&self, org: &str, name: &str) -> usize {
        self.state()
            .apps_of(org)
            .iter()
            .filter(|a| a.name == name)
            .count()
    }

    /// Edits an application behind the operator's back; false when there is no such app.
    pub fn update_app(&self, client_id: &str, update: AppUpdate) -> bool {
        let mut state = self.state();
        let Some(app) = state.apps.get_mut(client_id) else {
            return false;
        };
        let AppUpdate {
            name,
            description,
            application_uri,
            redirect_uri,
            avatar_email,
            client_secret,
        } = update;
        if let Some(v) = name {
            app.name = v;
        }
        if let Some(v) = description {
            app.description = v;
        }
        if let Some(v) = application_uri {
            app.application_uri = v;
        }
        if let Some(v) = redirect_uri {
            app.redirect_uri = v;
        }
        if let Some(v) = avatar_email {
            app.avatar_email = v;
        }
        if let Some(v) = client_secret {
            app.client_secret = v;
        }
        true
    }

    /// Deletes an application; its tokens and assignments go with it. False when there was none.
    pub fn delete_app(&self, client_id: &str) -> bool {
        self.state().delete_app(client_id)
    }
}
