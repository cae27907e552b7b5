//! The markdown table the bench prints, and how its cells are spelled.

use std::collections::BTreeMap;

/// One line of the table.
pub struct Row {
    scenario: String,
    measure: String,
    value: String,
    target: String,
}

/// The table, filled as scenarios finish.
#[derive(Default)]
pub struct Table {
    rows: Vec<Row>,
}

impl Table {
    /// Adds one row.
    pub fn add(&mut self, scenario: &str, measure: &str, value: String, target: String) {
        self.rows.push(Row {
            scenario: scenario.to_owned(),
            measure: measure.to_owned(),
            value,
            target,
        });
    }

    /// Prints the table as markdown.
    pub fn print(&self) {
        println!("| Scenario | Measure | Value | Target |");
        println!("|---|---|---|---|");
        let mut last = "";
        for row in &self.rows {
            // The scenario once per group keeps the table readable.
            let scenario = if row.scenario == last {
                ""
            } else {
                &row.scenario
            };
            last = &row.scenario;
            println!(
                "| {scenario} | {} | {} | {} |",
                row.measure, row.value, row.target
            );
        }
    }
}

/// A target cell: the goal and whether it was met.
pub fn verdict(goal: String, met: bool) -> String {
    format!("{goal}: {}", if met { "met" } else { "MISSED" })
}

/// "key 1.00; key 0.01" per ApiToken.
pub fn by_key(counts: &BTreeMap<String, u64>, n: usize) -> String {
    counts
        .iter()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| format!("`{k}` {:.3}", *v as f64 / n as f64))
        .collect::<Vec<_>>()
        .join("; ")
}

/// "key 3; key 1".
pub fn counts(counts: &BTreeMap<String, u64>) -> String {
    counts
        .iter()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| format!("`{k}` {v}"))
        .collect::<Vec<_>>()
        .join("; ")
}
