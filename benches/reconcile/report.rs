//! The bench's report: one table per scenario, goals printed met or MISSED.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::apiserver::{is_operators, is_write};
use crate::plan::{BURST, CONCURRENCY, GOAL_BURST, GOAL_LATENCY, LATENCY_SAMPLES};

/// What one scenario measured.
pub struct Measured {
    pub flavour: &'static str,
    /// The first ApiToken after the controller started: includes the first sign-in and watches.
    pub first: Duration,
    pub latencies: Vec<Duration>,
    pub burst: Duration,
    pub minted: usize,
    pub single_quay: BTreeMap<String, u64>,
    pub burst_quay: BTreeMap<String, u64>,
    pub burst_api: BTreeMap<String, u64>,
}

/// Prints one scenario's table: measures, values and goals.
pub fn report(m: &Measured) {
    let mut sorted = m.latencies.clone();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    let per = |n: u64| n as f64 / m.minted.max(1) as f64;
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    let goal = |ok: bool, goal: String| format!("{goal} {}", if ok { "met" } else { "MISSED" });
    let row = |what: String, value: String, goal: String| {
        println!("{what:<46} {value:>15}   {goal}");
    };
    let total = |counts: &BTreeMap<String, u64>, keep: &dyn Fn(&str) -> bool| -> u64 {
        counts.iter().filter(|(k, _)| keep(k)).map(|(_, v)| v).sum()
    };

    println!();
    println!(
        "reconcile bench, {}: real kube-apiserver, in-process Quay emulator, controller concurrency {CONCURRENCY}",
        m.flavour
    );
    println!("{:-<80}", "");
    row("measure".into(), "value".into(), "goal".into());
    println!("{:-<80}", "");
    row(
        "first ApiToken after the controller starts".into(),
        ms(m.first),
        String::new(),
    );
    row(
        format!("apply -> Ready, median of {LATENCY_SAMPLES}"),
        ms(median),
        goal(median < GOAL_LATENCY, format!("< {}", ms(GOAL_LATENCY))),
    );
    row(
        format!("apply -> Ready, min / max of {LATENCY_SAMPLES}"),
        format!("{} / {}", ms(sorted[0]), ms(sorted[sorted.len() - 1])),
        String::new(),
    );
    row(
        format!("{BURST} ApiTokens applied at once -> all Ready"),
        format!("{:.2} s", m.burst.as_secs_f64()),
        goal(
            m.burst < GOAL_BURST,
            format!("< {} s", GOAL_BURST.as_secs()),
        ),
    );
    row(
        "tokens minted in the burst".into(),
        m.minted.to_string(),
        format!("= {BURST}"),
    );
    row(
        "Quay requests per minted token (burst)".into(),
        format!("{:.2}", per(total(&m.burst_quay, &|_| true))),
        String::new(),
    );
    row(
        format!("Quay requests per token ({LATENCY_SAMPLES} one by one)"),
        format!(
            "{:.2}",
            total(&m.single_quay, &|_| true) as f64 / LATENCY_SAMPLES as f64
        ),
        String::new(),
    );
    row(
        "Kubernetes API writes per minted token".into(),
        format!(
            "{:.2}",
            per(total(&m.burst_api, &|k| is_write(k) && is_operators(k)))
        ),
        String::new(),
    );
    row(
        "Kubernetes API reads per minted token".into(),
        format!(
            "{:.2}",
            per(total(&m.burst_api, &|k| !is_write(k) && is_operators(k)))
        ),
        String::new(),
    );
    println!("{:-<80}", "");
    println!("Quay requests in the burst, per minted token:");
    for (endpoint, n) in &m.burst_quay {
        println!("  {endpoint:<66} {:>8.2}", per(*n));
    }
    println!("Kubernetes API requests in the burst (apiserver_request_total), per minted token:");
    for (request, n) in m.burst_api.iter().filter(|(k, _)| is_operators(k)) {
        let kind = if is_write(request) { "write" } else { "read" };
        println!("  {request:<60} {kind:>5} {:>8.2}", per(*n));
    }
    let other: Vec<String> = m
        .burst_api
        .iter()
        .filter(|(k, _)| !is_operators(k))
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if !other.is_empty() {
        println!(
            "  (the control plane's own, left out: {})",
            other.join(", ")
        );
    }
}
