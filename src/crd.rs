//! crd (in progress)
