//! Monitoring: the opt-in ServiceMonitor, PodDisruptionBudget and PrometheusRule, whose alerts
//! use only metrics the operator exports.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::render::{FULLNAME, NAMESPACE, RELEASE, objects, one, render};

/// The ServiceMonitor is opt-in (the PodDisruptionBudget on by default), both pointing at the
/// operator's pods.
#[test]
fn optional_monitoring_and_disruption_budget() {
    let docs = render(&[]);
    assert!(objects(&docs, "ServiceMonitor").is_empty());
    assert_eq!(
        objects(&docs, "PodDisruptionBudget").len(),
        1,
        "on by default"
    );
    let service = one(&docs, "Service");
    assert_eq!(service["spec"]["ports"][0]["targetPort"], "http-metrics");

    let docs = render(&[
        "metrics.serviceMonitor.enabled=true",
        "podDisruptionBudget.enabled=true",
    ]);
    let selector = json!({"app.kubernetes.io/name": "quay-apitoken-operator", "app.kubernetes.io/instance": RELEASE});
    let monitor = one(&docs, "ServiceMonitor");
    assert_eq!(monitor["spec"]["selector"]["matchLabels"], selector);
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "http-metrics");
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");
    let budget = one(&docs, "PodDisruptionBudget");
    assert_eq!(budget["spec"]["minAvailable"], 1);
    assert_eq!(budget["spec"]["selector"]["matchLabels"], selector);
    assert_eq!(
        one(&docs, "Service")["metadata"]["labels"]["app.kubernetes.io/instance"],
        RELEASE
    );
}

/// Metric names in a PromQL expression (identifiers starting with `quay_apitoken_`).
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("quay_apitoken_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        names.push(name);
    }
    names
}

/// The PrometheusRule is opt-in; its four alerts select this release's series by the job the
/// ServiceMonitor gives them, take their thresholds from the values, and use only metrics the
/// operator exports (with their OpenMetrics suffixes).
#[test]
fn prometheus_rule_is_opt_in_and_uses_exported_metrics() {
    assert!(objects(&render(&[]), "PrometheusRule").is_empty());
    let docs = render(&["metrics.prometheusRule.enabled=true"]);
    let rule = one(&docs, "PrometheusRule");
    assert_eq!(rule["metadata"]["namespace"], NAMESPACE);
    let rules = rule["spec"]["groups"][0]["rules"]
        .as_array()
        .expect("rules");
    let alerts: Vec<&str> = rules.iter().filter_map(|r| r["alert"].as_str()).collect();
    assert_eq!(
        alerts,
        [
            "QuayApiTokenNotReady",
            "QuayApiTokenExpiringSoon",
            "QuayApiTokenQuayErrors",
            "QuayApiTokenNoLeader"
        ]
    );
    // One series of each family the alerts use, so that the exposition names every sample.
    let metrics = quay_apitoken_operator::metrics::Metrics::new();
    metrics.reconcile_finished("ok", Duration::from_millis(5));
    metrics.quay_request("GET /api/v1/discovery", Some(503), Duration::from_millis(5));
    metrics.set_apitokens_ready(1, 1);
    metrics.set_schedule("team-a", "robot", Some((2.0e9, 1.9e9)));
    metrics.set_leader(true);
    let exported = metrics.encode();
    let samples: BTreeSet<&str> = exported
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let job = format!("job=\"{FULLNAME}-metrics\"");
    for rule in rules {
        let expr = rule["expr"].as_str().expect("expr");
        assert!(expr.contains(&job), "{expr} does not select {job}");
        assert_eq!(rule["labels"]["severity"], "warning");
        assert!(rule["annotations"]["summary"].is_string());
        assert!(rule["annotations"]["description"].is_string());
        let names = metric_names(expr);
        assert!(!names.is_empty(), "{expr}");
        for name in names {
            assert!(
                samples.contains(name.as_str()),
                "{name} is not a series the operator exports: {samples:?}"
            );
        }
    }
    let by_name = |docs: &[Value], alert: &str| -> Value {
        one(docs, "PrometheusRule")["spec"]["groups"][0]["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .find(|r| r["alert"] == alert)
            .cloned()
            .unwrap_or_else(|| panic!("no {alert}"))
    };
    assert_eq!(by_name(&docs, "QuayApiTokenNotReady")["for"], "10m");
    assert!(
        by_name(&docs, "QuayApiTokenExpiringSoon")["expr"]
            .as_str()
            .is_some_and(|e| e.contains("< 7 * 86400)") && e.ends_with("< time())"))
    );
    assert!(
        by_name(&docs, "QuayApiTokenQuayErrors")["expr"]
            .as_str()
            .is_some_and(|e| e.trim_end().ends_with("> 0.1"))
    );

    let docs = render(&[
        "metrics.prometheusRule.enabled=true",
        "metrics.prometheusRule.notReadyFor=30m",
        "metrics.prometheusRule.expiresWithinDays=14",
        "metrics.prometheusRule.selector=service=\"my-operator\"",
        "metrics.prometheusRule.alertLabels.severity=critical",
        "metrics.prometheusRule.labels.release=prom",
    ]);
    let not_ready = by_name(&docs, "QuayApiTokenNotReady");
    assert_eq!(not_ready["for"], "30m");
    assert_eq!(not_ready["labels"]["severity"], "critical");
    assert!(
        not_ready["expr"]
            .as_str()
            .is_some_and(|e| e.contains("service=\"my-operator\"") && !e.contains("job="))
    );
    assert!(
        by_name(&docs, "QuayApiTokenExpiringSoon")["expr"]
            .as_str()
            .is_some_and(|e| e.contains("< 14 * 86400)") && e.ends_with("< time())"))
    );
    assert_eq!(
        one(&docs, "PrometheusRule")["metadata"]["labels"]["release"],
        "prom"
    );
}

/// The ServiceMonitor keeps the series' own labels, so a per-ApiToken series keeps the
/// ApiToken's namespace rather than the operator's.
#[test]
fn service_monitor_keeps_the_series_labels() {
    let docs = render(&["metrics.serviceMonitor.enabled=true"]);
    assert_eq!(
        one(&docs, "ServiceMonitor")["spec"]["endpoints"][0]["honorLabels"],
        true
    );
}
