//! A test Quay (in progress).
