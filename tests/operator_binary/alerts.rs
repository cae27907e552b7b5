//! Which of the chart's alerts fire, and when: each scenario runs the real operator binary,
//! scrapes its `/metrics` as the chart's ServiceMonitor would (its job label, `honor_labels`),
//! evaluates the PrometheusRule's four expressions over those scrapes (evaluate.rs) and asserts
//! the exact set of alerts whose expression fires, printing it as `alerts fired in <scenario>`.
//!
//! The rules' `for:` durations are ignored on purpose: a scenario says which alerts' expressions
//! are firing, not how long they must hold before Alertmanager is told.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::PostParams;
use quay_apitoken_operator::crd::ApiToken;
use quay_emulator::{FaultRule, Faults};
use serde_json::json;

use crate::chart::{documents, release_name, template};
use crate::evaluate::{History, Labels, Sample, parse_exposition};
use crate::process::OperatorProcess;
use crate::support::ApiTokenFixture;
use crate::world::{ADMIN, CONN_SECRET, PATIENCE, World, is_ready_now};

const NOT_READY: &str = "QuayApiTokenNotReady";
const EXPIRING_SOON: &str = "QuayApiTokenExpiringSoon";
const QUAY_ERRORS: &str = "QuayApiTokenQuayErrors";
const NO_LEADER: &str = "QuayApiTokenNoLeader";

/// The namespace the chart is rendered into: the scrape's own `namespace` label.
const RELEASE_NS: &str = "operators";

/// The chart's alerts as rendered with default values, and the labels its scrape adds.
struct Rules {
    alerts: Vec<(String, String)>,
    target: Labels,
}

fn rules() -> Rules {
    let sets = ["metrics.prometheusRule.enabled=true".to_owned()];
    let docs = documents(&template(&release_name("alerts"), RELEASE_NS, &sets, false));
    let mut alerts = Vec::new();
    let mut job = None;
    for doc in &docs {
        match doc["kind"].as_str() {
            Some("PrometheusRule") => {
                for group in doc["spec"]["groups"].as_array().into_iter().flatten() {
                    for rule in group["rules"].as_array().into_iter().flatten() {
                        let (Some(alert), Some(expr)) =
                            (rule["alert"].as_str(), rule["expr"].as_str())
                        else {
                            panic!("a rule without alert or expr: {rule}");
                        };
                        alerts.push((alert.to_owned(), expr.to_owned()));
                    }
                }
            }
            // prometheus-operator names a ServiceMonitor's job after the Service it scrapes.
            Some("Service") => job = doc["metadata"]["name"].as_str().map(str::to_owned),
            _ => {}
        }
    }
    let names: BTreeSet<&str> = alerts.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from([NOT_READY, EXPIRING_SOON, QUAY_ERRORS, NO_LEADER]),
        "the four alerts of docs/operations.md"
    );
    let job = job.unwrap_or_else(|| panic!("the chart renders no metrics Service"));
    let target = [
        ("job", job.as_str()),
        ("namespace", RELEASE_NS),
        ("service", job.as_str()),
        ("endpoint", "http-metrics"),
        ("pod", "quay-apitoken-operator-0"),
        ("instance", "10.0.0.1:8080"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    Rules { alerts, target }
}

/// Prometheus and the rule evaluator, for one scenario's operator.
struct Monitor {
    rules: Rules,
    history: History,
}

impl Monitor {
    fn new() -> Monitor {
        Monitor {
            rules: rules(),
            history: History::default(),
        }
    }

    /// Scrapes the operator now; a target that does not answer gives an empty scrape.
    async fn scrape(&mut self, operator: &OperatorProcess) -> Vec<Sample> {
        let samples = match operator.get("/metrics").await {
            Some((200, body)) => parse_exposition(&body).unwrap_or_else(|e| panic!("{e}")),
            _ => Vec::new(),
        };
        self.history
            .record(now(), samples.clone(), &self.rules.target);
        samples
    }

    /// Scrapes until one scrape satisfies `ready`, at most [`PATIENCE`].
    async fn scrape_until(
        &mut self,
        operator: &OperatorProcess,
        what: &str,
        ready: impl Fn(&[Sample]) -> bool,
    ) {
        let started = Instant::now();
        loop {
            if ready(&self.scrape(operator).await) {
                return;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "the scrape never showed {what}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Scrapes until one series of `name` has grown since the scrape before, in a scrape that
    /// also satisfies `ready`: what `rate()` needs to see. Comparing consecutive scrapes, not
    /// one fixed earlier scrape, counts a series first seen after that scrape once it grows.
    async fn scrape_until_grown(
        &mut self,
        operator: &OperatorProcess,
        name: &str,
        ready: impl Fn(&[Sample]) -> bool,
    ) {
        let of_name = |samples: Vec<Sample>| -> Vec<Sample> {
            samples
                .into_iter()
                .filter(|s| s.labels.get("__name__").is_some_and(|n| n == name))
                .collect()
        };
        let started = Instant::now();
        let mut previous = of_name(self.scrape(operator).await);
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let samples = self.scrape(operator).await;
            let satisfied = ready(&samples);
            let current = of_name(samples);
            let grown = current.iter().any(|later| {
                previous
                    .iter()
                    .any(|earlier| earlier.labels == later.labels && later.value > earlier.value)
            });
            if satisfied && grown {
                return;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "the scrape never showed a series of {name} grown between two scrapes"
            );
            // An empty scrape (the target did not answer) keeps the last one that had samples.
            if !current.is_empty() {
                previous = current;
            }
        }
    }

    /// The alerts firing at the newest scrape, each with its instances (labels and value).
    fn firing(&self) -> BTreeMap<String, Vec<Sample>> {
        let at = self
            .history
            .last_scrape()
            .unwrap_or_else(|| panic!("nothing scraped yet"));
        let mut firing = BTreeMap::new();
        for (alert, expr) in &self.rules.alerts {
            let instances = self
                .history
                .alerts(expr, at)
                .unwrap_or_else(|e| panic!("alert {alert}: {e}"));
            if !instances.is_empty() {
                firing.insert(alert.clone(), instances);
            }
        }
        firing
    }

    /// Prints which alerts fire in `scenario` and asserts they are exactly `expected`.
    fn expect(&self, scenario: &str, expected: &[&str]) -> BTreeMap<String, Vec<Sample>> {
        let firing = self.firing();
        let shown: Vec<String> = firing
            .iter()
            .flat_map(|(alert, instances)| {
                instances
                    .iter()
                    .map(move |s| format!("{alert}{:?} = {}", s.labels, s.value))
            })
            .collect();
        println!("alerts fired in {scenario}: [{}]", shown.join(", "));
        let names: BTreeSet<&str> = firing.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            expected.iter().copied().collect::<BTreeSet<_>>(),
            "alerts fired in {scenario}: {shown:?}"
        );
        firing
    }
}

/// The sum of the samples of `name` whose labels include `with`.
fn total(samples: &[Sample], name: &str, with: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.labels.get("__name__").is_some_and(|n| n == name))
        .filter(|s| {
            with.iter()
                .all(|(k, v)| s.labels.get(*k).is_some_and(|l| l == v))
        })
        .map(|s| s.value)
        .sum()
}

/// The expiration and renewal timestamps the operator exports for ApiToken `name`.
fn scheduled(samples: &[Sample], name: &str) -> Option<(f64, f64)> {
    let of = |metric: &str| {
        samples
            .iter()
            .find(|s| {
                s.labels.get("__name__").is_some_and(|n| n == metric)
                    && s.labels.get("name").is_some_and(|n| n == name)
            })
            .map(|s| s.value)
    };
    Some((
        of("quay_apitoken_expiration_timestamp_seconds")?,
        of("quay_apitoken_renewal_timestamp_seconds")?,
    ))
}

/// Now, in seconds since the epoch, as `time()` reads it.
fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// Whether the ready gauge counts `ready` Ready and `not_ready` not-Ready ApiTokens.
fn counted(samples: &[Sample], ready: f64, not_ready: f64) -> bool {
    let gauge = "quay_apitoken_apitokens";
    total(samples, gauge, &[("ready", "true")]) == ready
        && total(samples, gauge, &[("ready", "false")]) == not_ready
}

async fn operator_for(world: &World, name: &str) -> OperatorProcess {
    let mut operator = OperatorProcess::start(
        name,
        world.admin_kubeconfig(),
        &["--namespaces", &world.ns.name],
    );
    operator.wait_serving().await;
    operator.wait_ready().await;
    operator
}

async fn create(world: &World, token: ApiTokenFixture) {
    world
        .tokens()
        .create(&PostParams::default(), &token.build())
        .await
        .unwrap_or_else(|e| panic!("cannot create ApiToken {}: {e}", token.name()));
}

fn token(name: &str, world: &World, expiration: &str) -> ApiTokenFixture {
    ApiTokenFixture::new(name)
        .connection(CONN_SECRET)
        .client_id(&world.app.client_id)
        .with("expiration", json!(expiration))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ready_token_far_from_its_expiry_fires_no_alert() {
    let world = World::start("alerts-calm").await;
    let operator = operator_for(&world, "alerts-calm").await;
    let mut monitor = Monitor::new();
    create(&world, token("far", &world, "720h")).await;
    world.wait_ready("far", PATIENCE).await;
    monitor
        .scrape_until(&operator, "one Ready ApiToken with its expiry", |s| {
            counted(s, 1.0, 0.0)
                && total(s, "quay_apitoken_expiration_timestamp_seconds", &[]) > 0.0
                && total(s, "quay_apitoken_quay_request_duration_seconds_count", &[]) > 0.0
        })
        .await;
    monitor.scrape(&operator).await;
    monitor.expect("a Ready ApiToken expiring in 30 days", &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_lived_token_renewed_on_schedule_fires_no_alert() {
    let world = World::start("alerts-soon").await;
    let operator = operator_for(&world, "alerts-soon").await;
    let mut monitor = Monitor::new();
    create(&world, token("far", &world, "720h")).await;
    create(&world, token("short", &world, "48h")).await;
    world.wait_ready("far", PATIENCE).await;
    world.wait_ready("short", PATIENCE).await;
    monitor
        .scrape_until(&operator, "two Ready ApiTokens with their schedules", |s| {
            counted(s, 2.0, 0.0) && scheduled(s, "far").is_some() && scheduled(s, "short").is_some()
        })
        .await;
    monitor.scrape(&operator).await;
    // The 48 h token expires within 7 days, but its renewal is 32 h ahead: nothing is wrong.
    monitor.expect("a Ready ApiToken of 48 h beside one of 30 days", &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_renewal_fires_expiring_soon_for_that_token_alone() {
    let world = World::start("alerts-overdue").await;
    let operator = operator_for(&world, "alerts-overdue").await;
    let mut monitor = Monitor::new();
    create(&world, token("short", &world, "48h")).await;
    // Renewed 20 s after its mint: Quay fails before then.
    create(
        &world,
        token("overdue", &world, "48h").with("renewBefore", json!("47h59m40s")),
    )
    .await;
    world.wait_ready("short", PATIENCE).await;
    world.wait_ready("overdue", PATIENCE).await;
    world.quay.set_faults(Faults {
        rules: vec![FaultRule {
            error_rate: Some(1.0),
            ..FaultRule::default()
        }],
    });
    world
        .ns
        .wait_for("overdue", PATIENCE, "not Ready", |t: Option<ApiToken>| {
            t.filter(|t| !is_ready_now(t))
        })
        .await;
    let errors = "quay_apitoken_quay_request_errors_total";
    // Both tokens expire within the 7 days; only one is past its renewal.
    let overdue = |s: &[Sample]| {
        scheduled(s, "overdue").is_some_and(|(_, renews)| renews < now())
            && scheduled(s, "short")
                .is_some_and(|(expires, renews)| expires - now() < 7.0 * 86400.0 && renews > now())
            && total(s, "quay_apitoken_apitokens", &[("ready", "false")]) >= 1.0
            && total(s, errors, &[]) > 0.0
    };
    monitor
        .scrape_until(&operator, "a renewal failed and past its time", overdue)
        .await;
    // rate() needs one error series grown between two scrapes (a series new since then has no
    // rate yet): the failed renewal's retries, 2 s, 4 s… apart, repeat its requests.
    monitor.scrape_until_grown(&operator, errors, overdue).await;
    // NotReady: the failed renewal is the overdue ApiToken's Ready=False. QuayErrors: every
    // request since the faults got a 503. ExpiringSoon: for the overdue token only; the other
    // 48 h token is as close to its expiry but its renewal is still ahead.
    let firing = monitor.expect(
        "a 48 h ApiToken whose renewal fails, beside one renewed on schedule",
        &[NOT_READY, EXPIRING_SOON, QUAY_ERRORS],
    );
    let instances: Vec<(Option<&str>, Option<&str>)> = firing[EXPIRING_SOON]
        .iter()
        .map(|s| {
            let label = |l: &str| s.labels.get(l).map(String::as_str);
            (label("namespace"), label("name"))
        })
        .collect();
    assert_eq!(
        instances,
        vec![(Some(world.ns.name.as_str()), Some("overdue"))],
        "the alert names the ApiToken whose renewal is overdue, in its own namespace"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_credentials_fire_not_ready_but_not_quay_errors() {
    let world = World::start("alerts-denied").await;
    let conn = BTreeMap::from([
        ("host".to_owned(), world.quay.url()),
        ("username".to_owned(), ADMIN.to_owned()),
        ("password".to_owned(), "not-the-password".to_owned()),
    ]);
    world
        .put_secret(&world.ns.name, "wrong-password", conn)
        .await;
    let operator = operator_for(&world, "alerts-denied").await;
    let mut monitor = Monitor::new();
    create(
        &world,
        token("denied", &world, "720h").connection("wrong-password"),
    )
    .await;
    monitor
        .scrape_until(
            &operator,
            "one not-Ready ApiToken after Quay answered",
            |s| {
                counted(s, 0.0, 1.0)
                    && total(s, "quay_apitoken_quay_request_duration_seconds_count", &[]) > 0.0
            },
        )
        .await;
    monitor.scrape(&operator).await;
    // Quay answered 4xx: the ApiToken reports it; it is not a failing Quay.
    monitor.expect(
        "an ApiToken whose Quay credentials are rejected",
        &[NOT_READY],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quay_answering_503_fires_not_ready_and_quay_errors() {
    let world = World::start("alerts-down").await;
    world.quay.set_faults(Faults {
        rules: vec![FaultRule {
            error_rate: Some(1.0),
            ..FaultRule::default()
        }],
    });
    let operator = operator_for(&world, "alerts-down").await;
    let mut monitor = Monitor::new();
    let errors = "quay_apitoken_quay_request_errors_total";
    create(&world, token("first", &world, "720h")).await;
    monitor
        .scrape_until(&operator, "a not-Ready ApiToken and a Quay error", |s| {
            counted(s, 0.0, 1.0) && total(s, errors, &[]) > 0.0
        })
        .await;
    // rate() needs the error counter in two scrapes, grown in between: a second ApiToken makes
    // it grow without waiting for the first one's retry.
    create(&world, token("second", &world, "720h")).await;
    monitor
        .scrape_until_grown(&operator, errors, |_| true)
        .await;
    monitor.expect(
        "ApiTokens whose Quay answers every request 503",
        &[NOT_READY, QUAY_ERRORS],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_replica_leading_fires_no_leader() {
    let world = World::start("alerts-lead").await;
    let ns = world.ns.name.as_str();
    // Another replica holds the Lease for an hour: this one stays a standby.
    let lease_name = release_name("alerts");
    let now = MicroTime(jiff::Timestamp::now());
    let lease = Lease {
        metadata: ObjectMeta {
            name: Some(lease_name.clone()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some("another-replica".to_owned()),
            lease_duration_seconds: Some(3600),
            acquire_time: Some(now.clone()),
            renew_time: Some(now),
            ..LeaseSpec::default()
        }),
    };
    let leases: Api<Lease> = world.ns.api();
    leases
        .create(&PostParams::default(), &lease)
        .await
        .unwrap_or_else(|e| panic!("cannot create the Lease: {e}"));
    let mut operator = OperatorProcess::start(
        "alerts-standby",
        world.admin_kubeconfig(),
        &[
            "--namespaces",
            ns,
            "--leader-elect",
            "--lease-namespace",
            ns,
            "--lease-name",
            &lease_name,
            "--identity",
            "alerts-standby",
        ],
    );
    operator.wait_serving().await;
    operator.wait_ready().await;
    let mut monitor = Monitor::new();
    monitor
        .scrape_until(&operator, "quay_apitoken_leader 0", |s| {
            s.iter().any(|s| {
                s.labels
                    .get("__name__")
                    .is_some_and(|n| n == "quay_apitoken_leader")
                    && s.value == 0.0
            })
        })
        .await;
    monitor.scrape(&operator).await;
    monitor.expect(
        "a standby replica while another holds the Lease",
        &[NO_LEADER],
    );

    // Stopped: the scrape finds nothing, and `or vector(0)` still fires.
    operator.kill();
    monitor.scrape(&operator).await;
    monitor.expect("the operator stopped (nothing to scrape)", &[NO_LEADER]);
}
