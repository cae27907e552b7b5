//! Users and organizations, set up or changed behind the operator's back.

use super::Emulator;

impl Emulator {
    /// Adds an enabled, non-superuser account (replacing one of the same name).
    pub fn add_user(&self, name: &str, password: &str) {
        self.state()
            .create_user(name, password, &format!("{name}@example.com"));
    }

    /// Grants or removes superuser status.
    pub fn set_superuser(&self, name: &str, on: bool) {
        if let Some(u) = self.state().users.get_mut(name) {
            u.superuser = on;
        }
    }

    /// Enables or disables an account; a disabled user's sessions and tokens stop working.
    pub fn set_user_enabled(&self, name: &str, enabled: bool) {
        if let Some(u) = self.state().users.get_mut(name) {
            u.enabled = enabled;
        }
    }

    /// Changes a password and, like Quay, ends every session of the user; tokens survive.
    pub fn set_password(&self, name: &str, password: &str) {
        let mut state = self.state();
        if let Some(u) = state.users.get_mut(name) {
            u.password = password.to_string();
        }
        state.invalidate_sessions(name);
    }

    /// Creates an organization whose first owner is `admin`.
    pub fn add_org(&self, org: &str, admin: &str) {
        self.state()
            .create_org(org, &format!("{org}@example.com"), admin);
    }

    /// Adds `user` to the organization's owners team.
    pub fn add_org_admin(&self, org: &str, user: &str) {
        if let Some(o) = self.state().orgs.get_mut(org)
            && !o.admins.iter().any(|a| a == user)
        {
            o.admins.push(user.to_string());
        }
    }

    /// Removes `user` from the organization's owners team (its tokens stay alive, as in Quay).
    pub fn remove_org_admin(&self, org: &str, user: &str) {
        if let Some(o) = self.state().orgs.get_mut(org) {
            o.admins.retain(|a| a != user);
        }
    }
}
