//! The seed file of the binary: users, organizations and applications, in YAML.
//!
//! Users are ordinary accounts unless `superuser: true` (Quay's SUPER_USERS). An operator
//! usually signs in as an organization owner who is not a superuser; such an owner may mint
//! every scope but `super:user` through the token API (protocol §15). Example
//! (`seed.example.yaml` in this crate):
//!
//! ```yaml
//! users:
//!   - name: admin          # a Quay superuser
//!     password: Sup3r53cr3L
//!     superuser: true
//!   - name: towner         # an ordinary account that owns the organization below
//!     password: 0wn3rPassw0rd
//! organizations:
//!   - name: production
//!     admins: [towner, admin]   # the first creates it; all are in its owners team
//! applications:
//!   - org: production
//!     name: quay-operator
//!     client_id: PZ6F80R1LCVPGYNZGSZQ   # optional; random when left out
//! ```

use serde::Deserialize;

use crate::{AppInfo, Emulator};

/// The whole seed file.
#[derive(Debug, Default, Deserialize)]
pub struct Seed {
    #[serde(default)]
    pub users: Vec<SeedUser>,
    #[serde(default)]
    pub organizations: Vec<SeedOrg>,
    #[serde(default)]
    pub applications: Vec<SeedApp>,
}

/// A user to create.
#[derive(Deserialize)]
pub struct SeedUser {
    pub name: String,
    pub password: String,
    /// A Quay superuser (SUPER_USERS); false, an ordinary account, when left out.
    #[serde(default)]
    pub superuser: bool,
}

impl std::fmt::Debug for SeedUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedUser")
            .field("name", &self.name)
            .field("password", &"<redacted>")
            .field("superuser", &self.superuser)
            .finish()
    }
}

/// An organization and its admins (the first one creates it).
#[derive(Debug, Deserialize)]
pub struct SeedOrg {
    pub name: String,
    pub admins: Vec<String>,
}

/// An OAuth application; `redirect_uri` defaults to the emulator's `/oauth/localapp`.
#[derive(Debug, Deserialize)]
pub struct SeedApp {
    pub org: String,
    pub name: String,
    #[serde(default)]
    pub redirect_uri: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
}

/// Why a seed file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("could not read the seed file {path}: {source}; check the path and permissions")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the seed file {path} is not valid YAML for a seed: {source}")]
    Parse {
        path: String,
        source: serde_yaml_ng::Error,
    },
    #[error("organization {org} in the seed file has no admins; list at least one user")]
    NoAdmin { org: String },
}

impl Seed {
    /// Reads and parses a seed file.
    pub fn load(path: &str) -> Result<Seed, SeedError> {
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: path.to_string(),
            source,
        })?;
        Seed::parse(&text, path)
    }

    /// Parses seed YAML; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Seed, SeedError> {
        serde_yaml_ng::from_str(text).map_err(|source| SeedError::Parse {
            path: origin.to_string(),
            source,
        })
    }

    /// Creates everything in the emulator and returns the applications with their client IDs.
    pub fn apply(&self, emulator: &Emulator) -> Result<Vec<AppInfo>, SeedError> {
        for u in &self.users {
            emulator.add_user(&u.name, &u.password);
            emulator.set_superuser(&u.name, u.superuser);
        }
        for o in &self.organizations {
            let (first, rest) = o.admins.split_first().ok_or_else(|| SeedError::NoAdmin {
                org: o.name.clone(),
            })?;
            emulator.add_org(&o.name, first);
            for admin in rest {
                emulator.add_org_admin(&o.name, admin);
            }
        }
        Ok(self
            .applications
            .iter()
            .map(|a| {
                emulator.add_app_with_client_id(
                    &a.org,
                    &a.name,
                    a.redirect_uri.as_deref(),
                    a.client_id.as_deref(),
                )
            })
            .collect())
    }
}
