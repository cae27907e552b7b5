//! A Secret as an object names it (namespace and name), and the role it plays for that object.
//! Below the reference and ReferenceGrant modules, which both speak of it.

/// Where a Secret lives.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// How an object uses a Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// It reads it (connection, client ID).
    Input,
    /// It writes its token there.
    Result,
}
