//! What each kind records about its finished reconciles, written once for both: a count by
//! result and the durations.

use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use super::families::{ResultLabel, reconcile_buckets};

/// One kind's finished reconciles: a count by result and a duration histogram.
#[derive(Debug)]
pub(super) struct Outcomes {
    by_result: Family<ResultLabel, Counter>,
    duration: Histogram,
}

impl Outcomes {
    /// Registers `<prefix>reconciles` and `<prefix>reconcile_duration` for `kind` ("ApiToken").
    pub(super) fn register(registry: &mut Registry, prefix: &str, kind: &str) -> Self {
        let outcomes = Self {
            by_result: Family::default(),
            duration: reconcile_buckets(),
        };
        registry.register(
            format!("{prefix}reconciles"),
            format!("Reconciliations of {kind}s by result: ok, or the error category"),
            outcomes.by_result.clone(),
        );
        registry.register_with_unit(
            format!("{prefix}reconcile_duration"),
            format!("Time spent reconciling one {kind}"),
            Unit::Seconds,
            outcomes.duration.clone(),
        );
        outcomes
    }

    /// Records one finished reconcile; `result` is `"ok"` or the error's category.
    pub(super) fn finished(&self, result: &str, elapsed: Duration) {
        self.by_result
            .get_or_create(&ResultLabel {
                result: result.to_owned(),
            })
            .inc();
        self.duration.observe(elapsed.as_secs_f64());
    }
}
