//! What the controllers remember in this process, grouped by owner: the objects of each kind
//! as the caches see them and which use which Secret, the reconciles at work, per-object
//! backoff, tokens minted but not recorded yet, and the Secret versions of our own writes.
//! Every per-UID memory here forgets and sweeps through [`crate::per_uid::PerUid`].

pub mod backoff;
pub mod in_flight;
pub mod own_writes;
pub mod peers;
pub mod secret_index;
pub mod slots;
