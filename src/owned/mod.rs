//! What the operator owns for a resource of either kind, ApiToken or Application: its result
//! Secret (marks, ownership, writes), its status (verdict, merge patch, the guarded write) and
//! the memory of what this process wrote. Written once; each kind implements [`Owner`].

mod error;
pub mod secret;
pub mod secret_writes;
pub mod status;
pub mod status_writer;
pub mod written;

pub use error::{OwnedError, retry_may_pass};
pub use status::{OwnedStatus, Verdict};
pub use status_writer::StatusWriter;
pub use written::Written;

use kube::Resource;
use kube::core::NamespaceResourceScope;
use kube::core::object::HasStatus;

/// The field manager of every write this process makes, and its event reporter name.
pub const MANAGER: &str = "quay-apitoken-operator";

/// A kind of resource whose result Secret and status this layer writes.
pub trait Owner:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + HasStatus<Status: OwnedStatus>
    + Clone
    + serde::de::DeserializeOwned
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    /// The kind's name, as the owner marks of a Secret and messages name it.
    const KIND: &'static str;
    /// What a failed status write was doing, for [`OwnedError::Kube`].
    const WRITE_STATUS: &'static str;
}
