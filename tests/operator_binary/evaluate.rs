//! A small PromQL evaluator for the chart's alerts, over the `promql-parser` AST and a history of
//! scrapes the test takes itself, so a test can say which alerts' expressions fire.
//!
//! It covers exactly what the chart's four alerts use — vector selectors with label matchers,
//! `rate()` over a range selector, `time()`, `vector()`, `sum`/`min`/`max` with or without `by`,
//! arithmetic and filtering comparisons between scalars and vectors (one-to-one matching on all
//! labels), `or`, and `and` (matching on all labels, or on those `on(...)` names) — and refuses
//! everything else with an error naming the construct, so an alert that starts using something
//! new fails its test instead of being judged by a guess.
//!
//! Where it simplifies Prometheus, it says so: an instant selector reads the newest scrape no older
//! than the 5-minute lookback, and a series missing from that scrape is stale (as Prometheus marks
//! a series a scrape no longer returns); `rate()` is the counter's increase between the first and
//! last sample in its range divided by the time between them, with counter resets handled but
//! without Prometheus' extrapolation to the range's edges (the chart divides two rates over the
//! same scrapes, which that extrapolation would scale alike).

use std::collections::{BTreeMap, BTreeSet};

use promql_parser::parser::{
    self, AggregateExpr, BinaryExpr, Call, Expr, LabelModifier, MatrixSelector,
    VectorMatchCardinality, VectorSelector,
};

/// A series' labels, its metric name under `__name__`.
pub type Labels = BTreeMap<String, String>;

/// The label that holds a series' metric name.
const NAME: &str = "__name__";

/// How far back an instant selector looks for a sample (Prometheus' default lookback).
const LOOKBACK_SECONDS: f64 = 300.0;

/// One series' value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub value: f64,
}

/// What one scrape returned, and when (seconds since the epoch); no series when the target did
/// not answer.
struct Scrape {
    at: f64,
    samples: Vec<Sample>,
}

/// The scrapes of one target, oldest first: what Prometheus would have stored.
#[derive(Default)]
pub struct History {
    scrapes: Vec<Scrape>,
}

impl History {
    /// Records a scrape taken at `at`; `target` labels are added where the series lacks them,
    /// as a scrape with `honor_labels` does (the chart's ServiceMonitor sets it).
    pub fn record(&mut self, at: f64, mut samples: Vec<Sample>, target: &Labels) {
        for sample in &mut samples {
            for (label, value) in target {
                sample
                    .labels
                    .entry(label.clone())
                    .or_insert_with(|| value.clone());
            }
        }
        self.scrapes.push(Scrape { at, samples });
    }

    /// When the newest scrape was taken, if any.
    pub fn last_scrape(&self) -> Option<f64> {
        self.scrapes.last().map(|s| s.at)
    }

    /// Evaluates an alert's expression at `at`: the series it returns, each one a firing alert.
    pub fn alerts(&self, expr: &str, at: f64) -> Result<Vec<Sample>, String> {
        let parsed = parser::parse(expr).map_err(|e| format!("not valid PromQL: {e}"))?;
        match (Evaluation { history: self, at }).eval(&parsed)? {
            Value::Vector(samples) => Ok(samples),
            Value::Scalar(_) => Err(format!("`{expr}` is a scalar; an alert needs a vector")),
        }
    }
}

/// Parses the OpenMetrics (or Prometheus) text of a `/metrics` answer into samples.
pub fn parse_exposition(text: &str) -> Result<Vec<Sample>, String> {
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        let mut labels = Labels::from([(NAME.to_owned(), line[..name_end].to_owned())]);
        let mut rest = &line[name_end..];
        if let Some(inner) = rest.strip_prefix('{') {
            rest = parse_labels(inner, &mut labels).map_err(|e| format!("{e} in `{line}`"))?;
        }
        let value = rest
            .split_whitespace()
            .next()
            .ok_or_else(|| format!("no value in `{line}`"))?;
        let value = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => other
                .parse()
                .map_err(|e| format!("value `{other}` in `{line}`: {e}"))?,
        };
        samples.push(Sample { labels, value });
    }
    Ok(samples)
}

/// Reads `a="x",b="y"}` into `labels`; what follows the closing brace.
fn parse_labels<'a>(mut text: &'a str, labels: &mut Labels) -> Result<&'a str, String> {
    loop {
        if let Some(rest) = text.strip_prefix('}') {
            return Ok(rest);
        }
        let (name, rest) = text.split_once("=\"").ok_or("a label without `=\"`")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => return Err("an unfinished escape".to_owned()),
                },
                Some((_, c)) => value.push(c),
                None => return Err("an unterminated label value".to_owned()),
            }
        };
        labels.insert(name.trim().to_owned(), value);
        text = &rest[end + 1..];
        text = text.strip_prefix(',').unwrap_or(text);
    }
}

/// An expression's value: PromQL's scalar or instant vector (range vectors only feed `rate`).
enum Value {
    Scalar(f64),
    Vector(Vec<Sample>),
}

/// One evaluation: the history read and the evaluation time.
struct Evaluation<'a> {
    history: &'a History,
    at: f64,
}

/// The error for a construct the evaluator does not cover.
fn unsupported(what: &str, expr: &dyn std::fmt::Display) -> String {
    format!(
        "the alert evaluator does not support {what} (in `{expr}`); extend tests/operator_binary/evaluate.rs"
    )
}

impl Evaluation<'_> {
    fn eval(&self, expr: &Expr) -> Result<Value, String> {
        match expr {
            Expr::Paren(inner) => self.eval(&inner.expr),
            Expr::NumberLiteral(n) => Ok(Value::Scalar(n.val)),
            Expr::VectorSelector(vs) => Ok(Value::Vector(self.select(vs)?)),
            Expr::Aggregate(aggregate) => self.aggregate(aggregate),
            Expr::Binary(binary) => self.binary(binary),
            Expr::Call(call) => self.call(call),
            Expr::MatrixSelector(ms) => Err(unsupported("a range selector outside rate()", ms)),
            Expr::Unary(u) => Err(unsupported("unary minus", u)),
            Expr::Subquery(s) => Err(unsupported("subqueries", s)),
            Expr::StringLiteral(s) => Err(unsupported("string literals", s)),
            Expr::Extension(_) => Err("the alert evaluator does not support extensions".to_owned()),
        }
    }

    /// Refuses what a selector may carry besides a name and matchers.
    fn plain(vs: &VectorSelector) -> Result<&VectorSelector, String> {
        if vs.offset.is_some() {
            return Err(unsupported("offset", vs));
        }
        if vs.at.is_some() {
            return Err(unsupported("the @ modifier", vs));
        }
        if !vs.matchers.or_matchers.is_empty() {
            return Err(unsupported("`or` inside a selector", vs));
        }
        Ok(vs)
    }

    fn matches(vs: &VectorSelector, labels: &Labels) -> bool {
        let name = labels.get(NAME).map(String::as_str);
        vs.name.as_deref().is_none_or(|wanted| name == Some(wanted))
            && vs
                .matchers
                .matchers
                .iter()
                .all(|m| m.is_match(labels.get(&m.name).map(String::as_str).unwrap_or_default()))
    }

    /// The newest scrape within the lookback, if any.
    fn latest(&self) -> Option<&Scrape> {
        self.history
            .scrapes
            .iter()
            .rev()
            .find(|s| s.at <= self.at && s.at > self.at - LOOKBACK_SECONDS)
    }

    fn select(&self, vs: &VectorSelector) -> Result<Vec<Sample>, String> {
        let vs = Self::plain(vs)?;
        Ok(self
            .latest()
            .into_iter()
            .flat_map(|scrape| &scrape.samples)
            .filter(|s| Self::matches(vs, &s.labels))
            .cloned()
            .collect())
    }

    fn aggregate(&self, aggregate: &AggregateExpr) -> Result<Value, String> {
        let op = aggregate.op.to_string();
        if !matches!(op.as_str(), "sum" | "min" | "max") || aggregate.param.is_some() {
            return Err(unsupported(&format!("the aggregation `{op}`"), aggregate));
        }
        let by: BTreeSet<&str> = match &aggregate.modifier {
            None => BTreeSet::new(),
            Some(LabelModifier::Include(labels)) => {
                labels.labels.iter().map(String::as_str).collect()
            }
            Some(LabelModifier::Exclude(_)) => return Err(unsupported("`without`", aggregate)),
        };
        let Value::Vector(samples) = self.eval(&aggregate.expr)? else {
            return Err(unsupported("aggregating a scalar", aggregate));
        };
        let mut groups: BTreeMap<Labels, f64> = BTreeMap::new();
        for sample in samples {
            let key: Labels = sample
                .labels
                .into_iter()
                .filter(|(label, _)| by.contains(label.as_str()))
                .collect();
            groups
                .entry(key)
                .and_modify(|acc| {
                    *acc = match op.as_str() {
                        "sum" => *acc + sample.value,
                        "min" => acc.min(sample.value),
                        _ => acc.max(sample.value),
                    }
                })
                .or_insert(sample.value);
        }
        Ok(Value::Vector(
            groups
                .into_iter()
                .map(|(labels, value)| Sample { labels, value })
                .collect(),
        ))
    }

    fn binary(&self, binary: &BinaryExpr) -> Result<Value, String> {
        let op = binary.op.to_string();
        // `on(...)` is taken where the alerts use it, on `and`; nowhere else.
        let mut on = None;
        if let Some(modifier) = &binary.modifier {
            let plain_matching = match &modifier.matching {
                None => true,
                Some(LabelModifier::Exclude(labels)) => labels.labels.is_empty(),
                Some(LabelModifier::Include(labels)) if op == "and" => {
                    on = Some(labels.labels.iter().cloned().collect::<BTreeSet<String>>());
                    true
                }
                Some(LabelModifier::Include(_)) => false,
            };
            let plain_card = matches!(
                modifier.card,
                VectorMatchCardinality::OneToOne | VectorMatchCardinality::ManyToMany
            );
            let no_fill = modifier.fill_values.lhs.is_none() && modifier.fill_values.rhs.is_none();
            if modifier.return_bool || !plain_matching || !plain_card || !no_fill {
                return Err(unsupported(
                    "bool, on/ignoring (except `and on`), group_left/group_right or fill modifiers",
                    binary,
                ));
            }
        }
        let lhs = self.eval(&binary.lhs)?;
        let rhs = self.eval(&binary.rhs)?;
        if op == "or" {
            let (Value::Vector(lhs), Value::Vector(rhs)) = (lhs, rhs) else {
                return Err(unsupported("`or` on scalars", binary));
            };
            let taken: BTreeSet<Labels> = lhs.iter().map(|s| signature(&s.labels)).collect();
            let mut out = lhs;
            out.extend(
                rhs.into_iter()
                    .filter(|s| !taken.contains(&signature(&s.labels))),
            );
            return Ok(Value::Vector(out));
        }
        if op == "and" {
            let (Value::Vector(lhs), Value::Vector(rhs)) = (lhs, rhs) else {
                return Err(unsupported("`and` on scalars", binary));
            };
            // The key both sides are matched on: the `on` labels, or all but the name.
            let key = |labels: &Labels| match &on {
                Some(on) => labels
                    .iter()
                    .filter(|(label, _)| on.contains(*label))
                    .map(|(label, value)| (label.clone(), value.clone()))
                    .collect(),
                None => signature(labels),
            };
            let present: BTreeSet<Labels> = rhs.iter().map(|s| key(&s.labels)).collect();
            return Ok(Value::Vector(
                lhs.into_iter()
                    .filter(|s| present.contains(&key(&s.labels)))
                    .collect(),
            ));
        }
        let kind = Operator::parse(&op).ok_or_else(|| unsupported(&format!("`{op}`"), binary))?;
        match (lhs, rhs) {
            (Value::Scalar(a), Value::Scalar(b)) => match kind {
                Operator::Arithmetic(f) => Ok(Value::Scalar(f(a, b))),
                Operator::Comparison(_) => Err(unsupported("comparing two scalars", binary)),
            },
            (Value::Vector(v), Value::Scalar(b)) => Ok(Value::Vector(
                v.into_iter()
                    .filter_map(|s| kind.apply(s, |a| (a, b)))
                    .collect(),
            )),
            (Value::Scalar(a), Value::Vector(v)) => Ok(Value::Vector(
                v.into_iter()
                    .filter_map(|s| kind.apply(s, |b| (a, b)))
                    .collect(),
            )),
            (Value::Vector(lhs), Value::Vector(rhs)) => {
                let mut right: BTreeMap<Labels, f64> = BTreeMap::new();
                for s in rhs {
                    if right.insert(signature(&s.labels), s.value).is_some() {
                        return Err(format!("many-to-many matching on the right of `{binary}`"));
                    }
                }
                let mut seen = BTreeSet::new();
                let mut out = Vec::new();
                for s in lhs {
                    let key = signature(&s.labels);
                    if !seen.insert(key.clone()) {
                        return Err(format!("many-to-many matching on the left of `{binary}`"));
                    }
                    if let Some(&b) = right.get(&key) {
                        out.extend(kind.apply(s, |a| (a, b)));
                    }
                }
                Ok(Value::Vector(out))
            }
        }
    }

    fn call(&self, call: &Call) -> Result<Value, String> {
        let args = &call.args.args;
        match (call.func.name, args.as_slice()) {
            ("time", []) => Ok(Value::Scalar(self.at)),
            ("vector", [arg]) => match self.eval(arg)? {
                Value::Scalar(value) => Ok(Value::Vector(vec![Sample {
                    labels: Labels::new(),
                    value,
                }])),
                Value::Vector(_) => Err(unsupported("vector() of a vector", call)),
            },
            ("rate", [arg]) => match arg.as_ref() {
                Expr::MatrixSelector(ms) => self.rate(ms),
                _ => Err(unsupported("rate() of anything but a range selector", call)),
            },
            (name, _) => Err(unsupported(&format!("the function {name}()"), call)),
        }
    }

    /// Per-second increase of each counter over the range, from the samples inside it.
    fn rate(&self, ms: &MatrixSelector) -> Result<Value, String> {
        let vs = Self::plain(&ms.vs)?;
        let from = self.at - ms.range.as_secs_f64();
        let mut points: BTreeMap<&Labels, Vec<(f64, f64)>> = BTreeMap::new();
        for scrape in &self.history.scrapes {
            if scrape.at <= from || scrape.at > self.at {
                continue;
            }
            for s in scrape
                .samples
                .iter()
                .filter(|s| Self::matches(vs, &s.labels))
            {
                points
                    .entry(&s.labels)
                    .or_default()
                    .push((scrape.at, s.value));
            }
        }
        let mut out = Vec::new();
        for (labels, points) in points {
            let (Some(first), Some(last)) = (points.first(), points.last()) else {
                continue;
            };
            if points.len() < 2 || last.0 <= first.0 {
                continue;
            }
            let increase: f64 = points
                .windows(2)
                .map(|w| {
                    if w[1].1 < w[0].1 {
                        w[1].1
                    } else {
                        w[1].1 - w[0].1
                    }
                })
                .sum();
            out.push(Sample {
                labels: signature(labels),
                value: increase / (last.0 - first.0),
            });
        }
        Ok(Value::Vector(out))
    }
}

/// A series' labels without its metric name: what vector matching and `or` compare.
fn signature(labels: &Labels) -> Labels {
    let mut labels = labels.clone();
    labels.remove(NAME);
    labels
}

/// The binary operators between numbers.
enum Operator {
    Arithmetic(fn(f64, f64) -> f64),
    Comparison(fn(f64, f64) -> bool),
}

impl Operator {
    fn parse(op: &str) -> Option<Operator> {
        Some(match op {
            "+" => Operator::Arithmetic(|a, b| a + b),
            "-" => Operator::Arithmetic(|a, b| a - b),
            "*" => Operator::Arithmetic(|a, b| a * b),
            "/" => Operator::Arithmetic(|a, b| a / b),
            ">" => Operator::Comparison(|a, b| a > b),
            "<" => Operator::Comparison(|a, b| a < b),
            ">=" => Operator::Comparison(|a, b| a >= b),
            "<=" => Operator::Comparison(|a, b| a <= b),
            "==" => Operator::Comparison(|a, b| a == b),
            "!=" => Operator::Comparison(|a, b| a != b),
            _ => return None,
        })
    }

    /// Applies the operator to one vector element paired with its other operand: arithmetic
    /// drops the metric name; a comparison keeps the vector's own sample or filters it out.
    fn apply(&self, sample: Sample, operands: impl Fn(f64) -> (f64, f64)) -> Option<Sample> {
        let (a, b) = operands(sample.value);
        match self {
            Operator::Arithmetic(f) => Some(Sample {
                labels: signature(&sample.labels),
                value: f(a, b),
            }),
            Operator::Comparison(f) => f(a, b).then_some(sample),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history() -> History {
        let mut history = History::default();
        let target = Labels::from([("job".to_owned(), "op-metrics".to_owned())]);
        let first = "# TYPE c counter\nc_total{endpoint=\"a\"} 10\nc_total{endpoint=\"b\"} 4\n\
                     g{namespace=\"n\",name=\"x\"} 5\ng{namespace=\"n\",name=\"y\"} 7\n# EOF\n";
        let second = "c_total{endpoint=\"a\"} 2\nc_total{endpoint=\"b\"} 10\nup 1\n\
                      g{namespace=\"n\",name=\"x\"} 3\n";
        history.record(1000.0, parse_exposition(first).unwrap(), &target);
        history.record(1010.0, parse_exposition(second).unwrap(), &target);
        history
    }

    fn values(expr: &str) -> Vec<(Labels, f64)> {
        history()
            .alerts(expr, 1010.0)
            .unwrap_or_else(|e| panic!("{expr}: {e}"))
            .into_iter()
            .map(|s| (s.labels, s.value))
            .collect()
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn selectors_read_the_newest_scrape_and_honour_scraped_labels() {
        // The stale series (`y`, gone from the second scrape) is not selected.
        assert_eq!(
            values("g{job=\"op-metrics\", name=~\"x|y\"}"),
            vec![(
                labels(&[
                    ("__name__", "g"),
                    ("job", "op-metrics"),
                    ("name", "x"),
                    ("namespace", "n")
                ]),
                3.0
            )]
        );
        assert!(values("g{job=\"other\"}").is_empty());
    }

    #[test]
    fn rate_counts_resets_and_drops_the_name() {
        // a: reset from 10 to 2 counts as an increase of 2; b: 4 → 10.
        assert_eq!(
            values("rate(c_total[1m])"),
            vec![
                (labels(&[("endpoint", "a"), ("job", "op-metrics")]), 0.2),
                (labels(&[("endpoint", "b"), ("job", "op-metrics")]), 0.6),
            ]
        );
        // Outside the range only one sample is left: no rate.
        assert!(values("rate(c_total[5s])").is_empty());
    }

    #[test]
    fn the_chart_s_shapes_evaluate_as_prometheus_does() {
        assert_eq!(
            values("max(g) > 2"),
            vec![(Labels::new(), 3.0)],
            "max keeps no label; the comparison filters"
        );
        assert!(values("max(g) > 3").is_empty());
        assert_eq!(
            values("min by (namespace, name) (g) - time() < -1000"),
            vec![(labels(&[("name", "x"), ("namespace", "n")]), 3.0 - 1010.0)]
        );
        assert_eq!(
            values("sum(rate(c_total[1m])) / sum(rate(c_total{endpoint=\"b\"}[1m])) > 1"),
            vec![(Labels::new(), 0.8 / 0.6)]
        );
        assert!(values("sum(rate(missing_total[1m])) / sum(rate(c_total[1m])) > 0").is_empty());
        assert_eq!(
            values("(max(missing) or vector(0)) < 1"),
            vec![(Labels::new(), 0.0)]
        );
        assert!(values("(max(up) or vector(0)) < 1").is_empty());
        assert_eq!(values("2 * 3 < max(g) + 4"), vec![(Labels::new(), 7.0)]);
    }

    #[test]
    fn and_keeps_the_left_samples_the_right_matches() {
        let mut history = History::default();
        let target = Labels::from([("job".to_owned(), "op-metrics".to_owned())]);
        let text = "exp{namespace=\"n\",name=\"x\",pod=\"a\"} 100\n\
                    exp{namespace=\"n\",name=\"y\",pod=\"a\"} 100\n\
                    ren{namespace=\"n\",name=\"x\",pod=\"b\"} 50\n\
                    ren{namespace=\"n\",name=\"y\",pod=\"b\"} 90\n";
        history.record(60.0, parse_exposition(text).unwrap(), &target);
        let names = |expr: &str| -> Vec<(String, f64)> {
            history
                .alerts(expr, 60.0)
                .unwrap_or_else(|e| panic!("{expr}: {e}"))
                .into_iter()
                .map(|s| (format!("{}/{}", s.labels[NAME], s.labels["name"]), s.value))
                .collect()
        };
        // The left side's samples, name and value, where the right has their `on` labels.
        assert_eq!(
            names("exp and on (namespace, name) (ren < 60)"),
            vec![("exp/x".to_owned(), 100.0)]
        );
        assert_eq!(
            names("exp and on (name) ren"),
            vec![("exp/x".to_owned(), 100.0), ("exp/y".to_owned(), 100.0)]
        );
        // Without `on`, every label but the name must match: `pod` differs.
        assert!(names("exp and ren").is_empty());
        assert_eq!(names("exp and exp").len(), 2);
        assert!(names("exp and on (namespace, name) missing").is_empty());
        // The shape of QuayApiTokenExpiringSoon: close to expiry and past its renewal time.
        let shape = "(min by (namespace, name) (exp) - time() < 50) \
                     and on (namespace, name) (max by (namespace, name) (ren) < time())";
        let fired = history.alerts(shape, 60.0).unwrap();
        assert_eq!(
            fired,
            vec![Sample {
                labels: labels(&[("name", "x"), ("namespace", "n")]),
                value: 40.0
            }]
        );
    }

    #[test]
    fn an_empty_scrape_leaves_nothing_to_select() {
        let mut history = history();
        history.record(1020.0, Vec::new(), &Labels::new());
        assert!(history.alerts("up", 1020.0).unwrap().is_empty());
        assert_eq!(
            history
                .alerts("(max(up) or vector(0)) < 1", 1020.0)
                .unwrap(),
            vec![Sample {
                labels: Labels::new(),
                value: 0.0
            }]
        );
    }

    #[test]
    fn constructs_beyond_the_alerts_are_refused() {
        for expr in [
            "increase(c_total[1m]) > 0",
            "absent(up)",
            "avg(g)",
            "sum without (name) (g)",
            "g > bool 1",
            "g / on(name) g",
            "g * ignoring(name) group_left g",
            "g unless g",
            "g and ignoring(name) g",
            "g or on(name) g",
            "g > on(name) g",
            "g offset 5m",
            "-g",
            "max_over_time(g[5m:1m])",
            "g % 2",
            "topk(1, g)",
            "1 + 1",
        ] {
            let refused = history().alerts(expr, 1010.0);
            assert!(
                refused
                    .as_ref()
                    .is_err_and(|e| e.contains("does not support") || e.contains("scalar")),
                "{expr} gave {refused:?}"
            );
        }
        // The one many-to-many case a one-to-one evaluator must not guess at.
        assert!(history().alerts("c_total / c_total", 1010.0).is_ok());
        assert!(history().alerts("g / sum(g)", 1010.0).unwrap().is_empty());
    }
}
