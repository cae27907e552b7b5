//! Fault injection: latency, 503 answers, dropped connections, hangs and canned answers, per
//! endpoint key.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// The faults in force; every rule whose endpoint matches applies.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Faults {
    pub rules: Vec<FaultRule>,
}

/// One fault rule.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FaultRule {
    /// The endpoint key ("POST /oauth/authorizeapp"); `None` applies to every endpoint.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// A fixed delay before answering.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// A delay drawn uniformly from this inclusive range.
    #[serde(default)]
    pub random_latency_ms: Option<(u64, u64)>,
    /// The fraction of requests answered `503` with a plain-text body.
    #[serde(default)]
    pub error_rate: Option<f64>,
    /// The fraction of requests whose connection is closed without an answer.
    #[serde(default)]
    pub drop_rate: Option<f64>,
    /// Never answer (sleep an hour) until the client gives up.
    #[serde(default)]
    pub hang: bool,
    /// The fraction of requests left unanswered as `hang` leaves them.
    #[serde(default)]
    pub hang_rate: Option<f64>,
    /// Answer every matching request with this status and JSON body instead of serving it,
    /// e.g. a refusal whose wording a test needs.
    #[serde(default)]
    pub answer: Option<FaultAnswer>,
}

/// A canned answer: a status code and a JSON body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultAnswer {
    pub status: u16,
    pub body: String,
}

/// What to do with a request after the delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Proceed,
    Unavailable,
    Drop,
    Hang,
    Answer(FaultAnswer),
}

/// How long a hung request waits: longer than any sensible client timeout.
pub const HANG: Duration = Duration::from_secs(3600);

/// The rules and the seeded random source that decides the probabilistic ones.
pub struct FaultEngine {
    faults: Faults,
    rng: StdRng,
}

impl FaultEngine {
    /// An engine with `faults` and a random source seeded with `seed`.
    pub fn new(faults: Faults, seed: u64) -> FaultEngine {
        FaultEngine {
            faults,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Replaces the rules (the random source keeps its sequence).
    pub fn set(&mut self, faults: Faults) {
        self.faults = faults;
    }

    /// The rules in force.
    pub fn get(&self) -> Faults {
        self.faults.clone()
    }

    /// The delay and outcome for a request to `key`.
    pub fn decide(&mut self, key: &str) -> (Duration, Outcome) {
        let mut delay_ms = 0u64;
        let mut outcome = Outcome::Proceed;
        for rule in &self.faults.rules {
            if rule.endpoint.as_deref().is_some_and(|e| e != key) {
                continue;
            }
            delay_ms += rule.latency_ms.unwrap_or(0);
            if let Some((lo, hi)) = rule.random_latency_ms {
                let (lo, hi) = (lo.min(hi), lo.max(hi));
                delay_ms += self.rng.random_range(lo..=hi);
            }
            if outcome != Outcome::Proceed {
                continue;
            }
            if rule.hang || rule.hang_rate.is_some_and(|p| self.rng.random::<f64>() < p) {
                outcome = Outcome::Hang;
            } else if let Some(answer) = &rule.answer {
                outcome = Outcome::Answer(answer.clone());
            } else if rule.drop_rate.is_some_and(|p| self.rng.random::<f64>() < p) {
                outcome = Outcome::Drop;
            } else if rule
                .error_rate
                .is_some_and(|p| self.rng.random::<f64>() < p)
            {
                outcome = Outcome::Unavailable;
            }
        }
        (Duration::from_millis(delay_ms), outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(endpoint: Option<&str>) -> FaultRule {
        FaultRule {
            endpoint: endpoint.map(str::to_string),
            ..FaultRule::default()
        }
    }

    #[test]
    fn a_canned_answer_replaces_the_request() {
        let answer = FaultAnswer {
            status: 400,
            body: r#"{"message": "no"}"#.to_string(),
        };
        let mut r = rule(Some("POST /x"));
        r.answer = Some(answer.clone());
        let mut engine = FaultEngine::new(Faults { rules: vec![r] }, 1);
        assert_eq!(
            engine.decide("POST /x"),
            (Duration::ZERO, Outcome::Answer(answer))
        );
        assert_eq!(engine.decide("POST /y").1, Outcome::Proceed);
    }

    #[test]
    fn rules_apply_only_to_their_endpoint() {
        let mut r = rule(Some("GET /csrf_token"));
        r.latency_ms = Some(40);
        r.hang = true;
        let mut engine = FaultEngine::new(Faults { rules: vec![r] }, 1);
        assert_eq!(
            engine.decide("GET /csrf_token"),
            (Duration::from_millis(40), Outcome::Hang)
        );
        assert_eq!(engine.decide("GET /"), (Duration::ZERO, Outcome::Proceed));
    }

    #[test]
    fn error_rate_is_reproducible_for_a_seed_and_close_to_the_fraction() {
        let mut r = rule(None);
        r.error_rate = Some(0.3);
        let run = |seed| {
            let mut engine = FaultEngine::new(
                Faults {
                    rules: vec![r.clone()],
                },
                seed,
            );
            (0..1000)
                .map(|_| engine.decide("GET /").1 == Outcome::Unavailable)
                .collect::<Vec<_>>()
        };
        let a = run(7);
        assert_eq!(a, run(7));
        let errors = a.iter().filter(|x| **x).count();
        assert!((240..360).contains(&errors), "{errors} errors of 1000");
    }
}
