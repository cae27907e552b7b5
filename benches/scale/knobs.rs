//! The bench's settings, read from the environment (see the bench's documentation).

use std::time::Duration;

/// What the environment asks for.
pub struct Knobs {
    pub tokens: usize,
    pub web_tokens: usize,
    pub warm: Option<usize>,
    pub accounts: Vec<usize>,
    pub latencies: Vec<u64>,
    pub concurrency: u16,
    pub idle: Duration,
    pub patience: Duration,
    pub only: Vec<String>,
}

impl Knobs {
    /// Reads the knobs; a knob that is not a number stops the bench, naming it.
    pub fn read() -> Knobs {
        let num = |key: &str, default: u64| -> u64 {
            std::env::var(key)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| {
                    v.trim()
                        .parse()
                        .unwrap_or_else(|e| panic!("{key}={v}: not a number: {e}"))
                })
                .unwrap_or(default)
        };
        let list = |key: &str, default: &str| -> Vec<u64> {
            std::env::var(key)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_owned())
                .split(',')
                .map(|v| {
                    v.trim()
                        .parse()
                        .unwrap_or_else(|e| panic!("{key}: {v}: not a number: {e}"))
                })
                .collect()
        };
        let tokens = num("QAO_SCALE_TOKENS", 1000) as usize;
        Knobs {
            tokens,
            web_tokens: num("QAO_SCALE_WEB_TOKENS", tokens as u64) as usize,
            warm: std::env::var("QAO_SCALE_WARM_TOKENS")
                .ok()
                .filter(|v| !v.is_empty())
                .map(|_| num("QAO_SCALE_WARM_TOKENS", 0) as usize),
            accounts: list("QAO_SCALE_ACCOUNTS", "1,10")
                .into_iter()
                .map(|a| a.max(1) as usize)
                .collect(),
            latencies: list("QAO_SCALE_LATENCY_MS", "0,50"),
            concurrency: num("QAO_SCALE_CONCURRENCY", 10) as u16,
            idle: Duration::from_secs(num("QAO_SCALE_IDLE_SECS", 60)),
            patience: Duration::from_secs(num("QAO_SCALE_PATIENCE_SECS", 600)),
            only: std::env::var("QAO_BENCH_ONLY")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        }
    }

    /// Whether `QAO_BENCH_ONLY` lets `scenario` run.
    pub fn wants(&self, scenario: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == scenario)
    }
}
