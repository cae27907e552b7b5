//! What the preflight found, and how it is shown: one line per check, or one JSON document.
//! Pure: no I/O, so the wording and the exit code are tested without a Quay.

use serde::Serialize;
use serde_json::{Value, json};

/// Every check, in the order they run; a check not reached is reported as skipped.
pub const CHECKS: [&str; 8] = [
    "settings",
    "reachable",
    "tls",
    "flavour",
    "sign-in",
    "application",
    "org-admin",
    "rights",
];

/// The result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Fine.
    Pass,
    /// Fine for the operator, with something the user should know; does not fail the run.
    Warn,
    /// The operator would fail on this; the run exits 1.
    Fail,
    /// Not checked: not asked for, or an earlier check failed.
    Skip,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Warn => "WARN",
            Outcome::Fail => "FAIL",
            Outcome::Skip => "SKIP",
        }
    }
}

/// One check's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// One of [`CHECKS`].
    pub check: &'static str,
    /// Its outcome.
    pub result: Outcome,
    /// One sentence; never a secret value.
    pub message: String,
    /// The status reason an ApiToken would show for the same failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// What was learnt about the Quay account along the way.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Facts {
    /// The Quay URL, normalized as the operator writes it.
    pub host: Option<String>,
    /// The Quay account.
    pub username: Option<String>,
    /// `tokenApi` or `webFlow`.
    pub flavour: Option<&'static str>,
    /// What the flavour says about the Quay version.
    pub version_hint: Option<&'static str>,
    /// Whether the account is a Quay superuser.
    pub superuser: Option<bool>,
    /// The organization that owns the OAuth application.
    pub organization: Option<String>,
    /// The scopes an ApiToken with the given rights would be minted with.
    pub scopes: Option<Vec<&'static str>>,
    /// Scopes of `all` that would be left out.
    pub left_out: Vec<&'static str>,
}

/// The whole preflight: where the settings came from, what was found, one finding per check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// "Secret ns/name" or "flags".
    pub source: String,
    /// What was learnt.
    pub facts: Facts,
    findings: Vec<Finding>,
}

impl Report {
    /// An empty report for settings read from `source`.
    pub fn new(source: impl Into<String>) -> Report {
        Report {
            source: source.into(),
            facts: Facts::default(),
            findings: Vec::new(),
        }
    }

    /// Records one check's outcome.
    pub fn record(
        &mut self,
        check: &'static str,
        result: Outcome,
        message: impl Into<String>,
        reason: Option<&'static str>,
    ) {
        self.findings.push(Finding {
            check,
            result,
            message: message.into(),
            reason,
        });
    }

    /// Records a passed check.
    pub fn pass(&mut self, check: &'static str, message: impl Into<String>) {
        self.record(check, Outcome::Pass, message, None);
    }

    /// Records a warning.
    pub fn warn(&mut self, check: &'static str, message: impl Into<String>) {
        self.record(check, Outcome::Warn, message, None);
    }

    /// Records a failed check with the reason an ApiToken would show.
    pub fn fail(&mut self, check: &'static str, message: impl Into<String>, reason: &'static str) {
        self.record(check, Outcome::Fail, message, Some(reason));
    }

    /// Records a check that was not run, and why.
    pub fn skip(&mut self, check: &'static str, message: impl Into<String>) {
        self.record(check, Outcome::Skip, message, None);
    }

    /// Every check, in [`CHECKS`] order; those never recorded are skipped because of the first
    /// failure (or, without one, because they were not reached).
    pub fn findings(&self) -> Vec<Finding> {
        let blocker = self
            .findings
            .iter()
            .find(|f| f.result == Outcome::Fail)
            .map(|f| f.check);
        CHECKS
            .iter()
            .map(|check| {
                self.findings
                    .iter()
                    .find(|f| f.check == *check)
                    .cloned()
                    .unwrap_or_else(|| Finding {
                        check,
                        result: Outcome::Skip,
                        message: match blocker {
                            Some(failed) => format!("not checked: {failed} failed"),
                            None => "not checked".to_owned(),
                        },
                        reason: None,
                    })
            })
            .collect()
    }

    /// Whether no check failed (warnings and skips pass).
    pub fn passed(&self) -> bool {
        self.findings.iter().all(|f| f.result != Outcome::Fail)
    }

    /// The process exit code: 0 when no check failed, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        if self.passed() { 0 } else { 1 }
    }

    /// The report for a person: a heading, one line per check, a verdict.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let target = match (&self.facts.host, &self.facts.username) {
            (Some(host), Some(user)) => format!(" for {user} at {host}"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "quay-apitoken-operator check{target} (settings from {})\n\n",
            self.source
        ));
        let findings = self.findings();
        for finding in &findings {
            let reason = finding
                .reason
                .map(|r| format!(" [{r}]"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {}  {:<12}{}{reason}\n",
                finding.result.label(),
                finding.check,
                finding.message
            ));
        }
        let count = |outcome| findings.iter().filter(|f| f.result == outcome).count();
        let (failed, warned) = (count(Outcome::Fail), count(Outcome::Warn));
        out.push('\n');
        if failed == 0 {
            let warnings = match warned {
                0 => String::new(),
                1 => " (1 warning)".to_owned(),
                n => format!(" ({n} warnings)"),
            };
            out.push_str(&format!(
                "Result: no check failed{warnings}; ApiTokens with these settings can mint.\n"
            ));
        } else {
            let checks = if failed == 1 { "check" } else { "checks" };
            out.push_str(&format!(
                "Result: {failed} {checks} failed; fix the first one and run check again. \
                 Each [reason] has a section in docs/troubleshooting.md.\n"
            ));
        }
        out.push_str(
            "check signs in at most once and never signs out, so the account's other sessions \
             (browsers, the operator) are left as they were.\n",
        );
        out
    }

    /// The report for a program: `passed`, the facts, and the checks.
    pub fn to_json(&self) -> Value {
        let mut value = json!({
            "passed": self.passed(),
            "source": self.source,
        });
        if let (Some(map), Ok(Value::Object(facts))) =
            (value.as_object_mut(), serde_json::to_value(&self.facts))
        {
            map.extend(facts);
            map.insert(
                "checks".to_owned(),
                serde_json::to_value(self.findings()).unwrap_or_default(),
            );
        }
        value
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, check: &str) -> &'a str {
        text.lines()
            .find(|l| l.get(8..).is_some_and(|rest| rest.starts_with(check)))
            .unwrap_or_else(|| panic!("no line for {check} in\n{text}"))
    }

    /// A failure fails the run and names the reason; what follows it says it was not checked.
    #[test]
    fn a_failure_exits_one_and_skips_what_depends_on_it() {
        let mut report = Report::new("flags");
        report.pass("settings", "read");
        report.fail("reachable", "cannot reach Quay", "QuayUnreachable");
        assert!(!report.passed());
        assert_eq!(report.exit_code(), 1);
        let text = report.to_text();
        assert!(line(&text, "reachable").starts_with("  FAIL  reachable"));
        assert!(line(&text, "reachable").ends_with("[QuayUnreachable]"));
        assert_eq!(
            line(&text, "sign-in"),
            "  SKIP  sign-in     not checked: reachable failed"
        );
        assert_eq!(text.lines().filter(|l| l.starts_with("  ")).count(), 8);
        assert!(text.contains("1 check failed"), "{text}");
    }

    /// Warnings are things to know, not failures.
    #[test]
    fn warnings_and_skips_still_pass() {
        let mut report = Report::new("flags");
        report.pass("settings", "read");
        report.warn("tls", "plain HTTP");
        report.skip("application", "no --client-id given");
        assert!(report.passed());
        assert_eq!(report.exit_code(), 0);
        let text = report.to_text();
        assert!(text.contains("no check failed (1 warning)"), "{text}");
        assert!(line(&text, "application").ends_with("no --client-id given"));
    }

    /// The JSON form carries the verdict, the facts and every check in order.
    #[test]
    fn json_lists_every_check_with_its_result() {
        let mut report = Report::new("Secret ns/conn");
        report.facts.superuser = Some(false);
        report.facts.left_out = vec!["super:user"];
        report.fail("sign-in", "rejected", "InvalidCredentials");
        let value = report.to_json();
        assert_eq!(value["passed"], false);
        assert_eq!(value["superuser"], false);
        assert_eq!(value["leftOut"], json!(["super:user"]));
        let checks = value["checks"].as_array().expect("checks");
        let names: Vec<&str> = checks.iter().filter_map(|c| c["check"].as_str()).collect();
        assert_eq!(names, CHECKS.to_vec());
        assert_eq!(checks[4]["result"], "fail");
        assert_eq!(checks[4]["reason"], "InvalidCredentials");
        assert!(checks[0].get("reason").is_none());
    }
}
