//! Quay client (in progress)
