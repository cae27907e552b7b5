//! When each ApiToken's token expires and is renewed: one series per ApiToken, removed when it
//! goes.

use prometheus_client::registry::{Registry, Unit};

use super::families::{ObjectLabel, TimestampFamily};

/// The expiration and renewal timestamps.
#[derive(Debug)]
pub(super) struct LifetimeMetrics {
    expiration: TimestampFamily,
    renewal: TimestampFamily,
}

impl LifetimeMetrics {
    /// Creates the families and registers them.
    pub(super) fn register(registry: &mut Registry) -> Self {
        let m = Self {
            expiration: TimestampFamily::default(),
            renewal: TimestampFamily::default(),
        };
        registry.register_with_unit(
            "expiration_timestamp",
            "When the current token of each ApiToken expires, in Unix seconds",
            Unit::Seconds,
            m.expiration.clone(),
        );
        registry.register_with_unit(
            "renewal_timestamp",
            "When the current token of each ApiToken is renewed, in Unix seconds",
            Unit::Seconds,
            m.renewal.clone(),
        );
        m
    }

    /// Sets one ApiToken's pair of timestamps, or drops its series on `None`.
    pub(super) fn set_schedule(&self, namespace: &str, name: &str, times: Option<(f64, f64)>) {
        let label = ObjectLabel {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        };
        match times {
            Some((expires, renews)) => {
                self.expiration.get_or_create(&label).set(expires);
                self.renewal.get_or_create(&label).set(renews);
            }
            None => {
                self.expiration.remove(&label);
                self.renewal.remove(&label);
            }
        }
    }
}
