//! Every PromQL expression the chart ships — the PrometheusRule's alerts and the Grafana
//! dashboard's panels — parsed by a real PromQL parser and checked against what a running
//! operator exports on its `/metrics`, so that a renamed metric or label breaks the build
//! rather than the page.

use std::collections::{BTreeMap, BTreeSet};

use promql_parser::parser::{self, Expr, VectorSelector};
use promql_parser::util::{ExprVisitor, walk_expr};
use serde_json::Value;

use kube::Api;
use kube::api::PostParams;
use quay_apitoken_operator::application::crd::Application;
use serde_json::json;

use crate::chart::{documents, release_name, template};
use crate::process::OperatorProcess;
use crate::support::{ApiTokenFixture, try_wait_for};
use crate::world::{ADMIN, ADMIN_PASSWORD, CONN_SECRET, ORG, PATIENCE, World};

/// What a live scrape offers a query: each sample name, with the labels its series carry.
struct Exported {
    /// Sample names (`x_total`, `x_bucket`…) → the label names of their series (`None`: the
    /// family has no series yet).
    samples: BTreeMap<String, Option<BTreeSet<String>>>,
}

impl Exported {
    /// Reads an OpenMetrics text: the `# TYPE` lines give every family, even one with no
    /// series yet (an error counter before the first error); the samples give the labels.
    fn parse(text: &str) -> Exported {
        let mut samples: BTreeMap<String, Option<BTreeSet<String>>> = BTreeMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let mut words = rest.split_whitespace();
                let (Some(family), Some(kind)) = (words.next(), words.next()) else {
                    continue;
                };
                let suffixes: &[&str] = match kind {
                    "counter" => &["_total"],
                    "histogram" => &["_bucket", "_count", "_sum"],
                    _ => &[""],
                };
                for suffix in suffixes {
                    samples.entry(format!("{family}{suffix}")).or_default();
                }
            } else if !line.starts_with('#') && !line.is_empty() {
                let name_end = line.find(['{', ' ']).unwrap_or(line.len());
                let labels = samples
                    .entry(line[..name_end].to_owned())
                    .or_default()
                    .get_or_insert_default();
                if let Some(inner) = line[name_end..]
                    .strip_prefix('{')
                    .and_then(|l| l.split_once('}'))
                {
                    for pair in inner.0.split(',') {
                        if let Some((label, _)) = pair.split_once('=') {
                            labels.insert(label.trim().to_owned());
                        }
                    }
                }
            }
        }
        Exported { samples }
    }
}

/// The vector selectors of one expression.
#[derive(Default)]
struct Selectors(Vec<VectorSelector>);

impl ExprVisitor for Selectors {
    type Error = ();

    fn pre_visit(&mut self, expr: &Expr) -> Result<bool, ()> {
        match expr {
            Expr::VectorSelector(vs) => self.0.push(vs.clone()),
            Expr::MatrixSelector(ms) => self.0.push(ms.vs.clone()),
            _ => {}
        }
        Ok(true)
    }
}

/// Labels a query may match that the operator never sets: the scrape adds them.
const SCRAPE_LABELS: &[&str] = &["job", "instance", "namespace", "pod", "service"];

/// Parses `expr` and checks each selector against the scrape; the metric names it uses, or
/// what is wrong.
fn check(expr: &str, exported: &Exported) -> Result<Vec<String>, String> {
    let parsed = parser::parse(expr).map_err(|e| format!("not valid PromQL: {e}"))?;
    let mut selectors = Selectors::default();
    let _ = walk_expr(&mut selectors, &parsed);
    if selectors.0.is_empty() {
        return Err("it selects no series".to_owned());
    }
    let mut names = Vec::new();
    for vs in selectors.0 {
        let name = vs.name.ok_or("a selector without a metric name")?;
        let Some(labels) = exported.samples.get(&name) else {
            return Err(format!(
                "`{name}` is not exported by the operator's /metrics"
            ));
        };
        // A family with series shows its labels; one without any yet cannot be checked.
        for matcher in labels.iter().flat_map(|_| &vs.matchers.matchers) {
            let label = matcher.name.as_str();
            if !labels.iter().flatten().any(|l| l == label) && !SCRAPE_LABELS.contains(&label) {
                return Err(format!("`{name}` has no label `{label}` ({labels:?})"));
            }
        }
        names.push(name);
    }
    Ok(names)
}

/// The alerts' and the dashboard panels' expressions, from the chart as rendered.
fn chart_expressions() -> Vec<(String, String)> {
    let sets = [
        "metrics.prometheusRule.enabled=true".to_owned(),
        "metrics.grafanaDashboard.enabled=true".to_owned(),
    ];
    let docs = documents(&template(
        &release_name("promql"),
        "operators",
        &sets,
        false,
    ));
    let mut exprs = Vec::new();
    for doc in &docs {
        match doc["kind"].as_str() {
            Some("PrometheusRule") => {
                for group in doc["spec"]["groups"].as_array().into_iter().flatten() {
                    for rule in group["rules"].as_array().into_iter().flatten() {
                        let alert = rule["alert"].as_str().unwrap_or("a rule");
                        let expr = rule["expr"].as_str().unwrap_or_default();
                        exprs.push((format!("alert {alert}"), expr.to_owned()));
                    }
                }
            }
            Some("ConfigMap")
                if doc["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.ends_with("-dashboard")) =>
            {
                for (file, json) in doc["data"].as_object().into_iter().flatten() {
                    let dashboard: Value = serde_json::from_str(json.as_str().unwrap_or_default())
                        .unwrap_or_else(|e| panic!("{file} is not JSON: {e}"));
                    for panel in dashboard["panels"].as_array().into_iter().flatten() {
                        let title = panel["title"].as_str().unwrap_or("a panel");
                        for target in panel["targets"].as_array().into_iter().flatten() {
                            // Grafana fills the $job variable before Prometheus sees the query.
                            let expr = target["expr"].as_str().unwrap_or_default();
                            exprs.push((format!("panel {title}"), expr.replace("$job", ".+")));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    exprs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_and_dashboard_query_only_what_the_operator_exports() {
    let exprs = chart_expressions();
    let alerts = exprs
        .iter()
        .filter(|(o, _)| o.starts_with("alert "))
        .count();
    let panels = exprs.len() - alerts;
    assert_eq!(alerts, 4, "the four alerts of docs/operations.md");
    assert!(panels >= 10, "the dashboard's panels: {panels} queries");

    // A live operator exports a family once it has a series: a Ready ApiToken with an
    // expiration, one whose Quay never answers (the error counter), and an Application.
    let world = World::start("promql").await;
    let mut operator = OperatorProcess::start(
        "promql",
        world.admin_kubeconfig(),
        &["--namespaces", &world.ns.name],
    );
    operator.wait_serving().await;
    operator.wait_ready().await;
    let tokens = world.tokens();
    let expiring = ApiTokenFixture::new("expiring")
        .connection(CONN_SECRET)
        .client_id(&world.app.client_id)
        .with("expiration", json!("720h"));
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap_or_else(|e| panic!("no free port: {e}"));
    let dead = BTreeMap::from([
        ("host".to_owned(), format!("http://{closed}")),
        ("username".to_owned(), ADMIN.to_owned()),
        ("password".to_owned(), ADMIN_PASSWORD.to_owned()),
    ]);
    world.put_secret(&world.ns.name, "dead-host", dead).await;
    let unanswered = ApiTokenFixture::new("unanswered")
        .connection("dead-host")
        .client_id(&world.app.client_id);
    for token in [expiring, unanswered] {
        tokens
            .create(&PostParams::default(), &token.build())
            .await
            .unwrap_or_else(|e| panic!("cannot create ApiToken {}: {e}", token.name()));
    }
    let application: Application = serde_json::from_value(json!({
        "apiVersion": "quay.herve4m.github.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "dashboard"},
        "spec": {"connSecretRef": {"name": CONN_SECRET}, "organization": ORG, "name": "dashboard"},
    }))
    .unwrap_or_else(|e| panic!("Application: {e}"));
    Api::<Application>::namespaced(world.ns.client.clone(), &world.ns.name)
        .create(&PostParams::default(), &application)
        .await
        .unwrap_or_else(|e| panic!("cannot create the Application: {e}"));
    world.wait_ready("expiring", PATIENCE).await;

    // Every family the queries name must show up; a renamed one never does.
    let wanted: BTreeSet<String> = exprs
        .iter()
        .filter_map(|(_, expr)| parser::parse(expr).ok())
        .flat_map(|parsed| {
            let mut selectors = Selectors::default();
            let _ = walk_expr(&mut selectors, &parsed);
            selectors.0.into_iter().filter_map(|vs| vs.name)
        })
        .collect();
    let exported = try_wait_for(PATIENCE, || async {
        let exported = Exported::parse(&operator.metrics().await);
        wanted
            .iter()
            .all(|name| exported.samples.get(name).is_some_and(Option::is_some))
            .then_some(exported)
    })
    .await
    .unwrap_or_else(|| panic!("the scrape never offered all of {wanted:?}"));

    let mut used = BTreeSet::new();
    for (origin, expr) in &exprs {
        let names = check(expr, &exported).unwrap_or_else(|e| panic!("{origin}: {e}\n{expr}"));
        used.extend(names);
    }
    // The dashboard shows the families a team looks at first.
    for family in [
        "quay_apitoken_apitokens",
        "quay_apitoken_expiration_timestamp_seconds",
        "quay_apitoken_quay_request_duration_seconds_bucket",
        "quay_apitoken_reconciles_total",
        "quay_apitoken_quay_request_errors_total",
        "quay_apitoken_leader",
    ] {
        assert!(used.contains(family), "no alert or panel shows {family}");
    }
}

/// The check itself: a renamed metric, a label the series lack, and broken PromQL all fail.
#[test]
fn the_check_refuses_unknown_names_labels_and_syntax() {
    let exported = Exported::parse(
        "# TYPE quay_apitoken_leader gauge\nquay_apitoken_leader 1\n\
         # TYPE quay_apitoken_reconciles counter\nquay_apitoken_reconciles_total{result=\"ok\"} 3\n\
         # TYPE quay_apitoken_quay_request_errors counter\n# EOF\n",
    );
    let used = check(
        "sum by (result) (rate(quay_apitoken_reconciles_total{job=\"x\", result!=\"ok\"}[5m])) + \
         on() group_left sum(quay_apitoken_quay_request_errors_total{endpoint=\"e\"})",
        &exported,
    );
    assert_eq!(
        used.as_deref(),
        Ok(&[
            "quay_apitoken_reconciles_total".to_owned(),
            "quay_apitoken_quay_request_errors_total".to_owned()
        ][..])
    );
    let fails = |expr: &str| check(expr, &exported).is_err();
    assert!(
        fails("quay_apitoken_reconciles"),
        "a family name without _total"
    );
    assert!(
        fails("quay_apitoken_leader{ready=\"true\"}"),
        "a label the series lack"
    );
    assert!(
        fails("sum(rate(quay_apitoken_leader[5m])"),
        "unbalanced parentheses"
    );
    assert!(fails("vector(1)"), "a query that selects nothing");
}
