//! redacted (in progress)
