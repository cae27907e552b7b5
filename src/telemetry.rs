//! Logging set-up: human-readable text for workstations, one JSON object per line for clusters.
//!
//! Logs go to stderr so that stdout stays clean for output such as `crd`.
//!
//! In JSON, each enclosing span is an object holding its fields plus its own `name`; a span
//! field called `name` would therefore be written twice, so name the object field differently
//! (e.g. `apitoken`).

use std::io::IsTerminal;

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The filter string is not valid RUST_LOG syntax (permanent: fix the flag).
    #[error(
        "the log filter {filter:?} is invalid ({reason}); use RUST_LOG syntax such as `info` or `info,kube=warn`"
    )]
    InvalidFilter {
        /// The rejected filter.
        filter: String,
        /// What the parser objected to.
        reason: String,
    },
    /// A global subscriber was already installed (permanent: a programming error in start-up).
    #[error(
        "logging was already initialised in this process; call telemetry::init once, at start-up"
    )]
    AlreadyInitialised,
}

impl TelemetryError {
    /// Neither failure goes away by retrying.
    pub fn is_transient(&self) -> bool {
        false
    }
}

/// Checks a RUST_LOG-style filter and builds it.
pub fn parse_filter(filter: &str) -> Result<EnvFilter, TelemetryError> {
    EnvFilter::builder()
        .parse(filter)
        .map_err(|error| TelemetryError::InvalidFilter {
            filter: filter.to_owned(),
            reason: error.to_string(),
        })
}

/// Installs the process-wide subscriber writing to stderr.
pub fn init(format: LogFormat, filter: &str) -> Result<(), TelemetryError> {
    // Colours only for a person at a terminal; escape codes would litter collected logs.
    let ansi = std::io::stderr().is_terminal();
    let subscriber = subscriber(format, filter, std::io::stderr, ansi)?;
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|_| TelemetryError::AlreadyInitialised)
}

/// Builds a subscriber for `format` and `filter` writing to `writer`.
fn subscriber<W>(
    format: LogFormat,
    filter: &str,
    writer: W,
    ansi: bool,
) -> Result<Box<dyn Subscriber + Send + Sync>, TelemetryError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = parse_filter(filter)?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi)
        .with_target(true);
    Ok(match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(
            builder
                .json()
                // Event fields at the top level and the enclosing spans as a list, so log
                // queries can match `namespace`/`name` without digging into nested objects.
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(true)
                .finish(),
        ),
    })
}

#[cfg(test)]
#[allow(clippy::expect_used)] // a test failing loudly on a broken fixture is the point
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects everything written by the subscriber under test.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("buffer lock").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    impl Buffer {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().expect("buffer lock").clone()).expect("utf-8 logs")
        }
    }

    fn log_sample(format: LogFormat, filter: &str) -> String {
        let buffer = Buffer::default();
        let subscriber = subscriber(format, filter, buffer.clone(), false).expect("valid filter");
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("reconcile", namespace = "team-a", apitoken = "robot");
            let _entered = span.enter();
            tracing::info!(token_id = 42, "minted token");
            tracing::debug!("hidden at info");
        });
        buffer.text()
    }

    /// Log collectors need one parseable JSON object per line carrying the span fields.
    #[test]
    fn json_format_writes_one_object_per_event() {
        let output = log_sample(LogFormat::Json, "info");
        let lines: Vec<&str> = output.lines().collect();
        assert_eq!(lines.len(), 1, "{output}");
        let event: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON line");
        assert_eq!(event["level"], "INFO");
        assert_eq!(event["message"], "minted token");
        assert_eq!(event["token_id"], 42);
        assert_eq!(event["spans"][0]["namespace"], "team-a");
        assert_eq!(event["spans"][0]["apitoken"], "robot");
        assert_eq!(event["spans"][0]["name"], "reconcile");
    }

    /// Text output is for people: the message and fields on one line, not JSON.
    #[test]
    fn text_format_is_human_readable() {
        let output = log_sample(LogFormat::Text, "info");
        assert_eq!(output.lines().count(), 1, "{output}");
        assert!(output.contains("INFO"), "{output}");
        assert!(
            output.contains("reconcile{namespace=\"team-a\" apitoken=\"robot\"}"),
            "{output}"
        );
        assert!(output.contains("minted token token_id=42"), "{output}");
        assert!(serde_json::from_str::<serde_json::Value>(output.trim()).is_err());
    }

    /// The filter decides what is written, so `debug` reveals what `info` hides.
    #[test]
    fn filter_controls_verbosity() {
        assert!(!log_sample(LogFormat::Text, "info").contains("hidden at info"));
        assert!(log_sample(LogFormat::Text, "debug").contains("hidden at info"));
        assert!(!log_sample(LogFormat::Text, "warn").contains("minted token"));
    }

    /// A typo in RUST_LOG must stop start-up with a message naming the filter.
    #[test]
    fn invalid_filter_is_rejected() {
        let error = subscriber(LogFormat::Text, "info,[{", Buffer::default(), false)
            .err()
            .expect("invalid filter");
        assert!(matches!(error, TelemetryError::InvalidFilter { .. }));
        assert!(error.to_string().contains("\"info,[{\""), "{error}");
    }
}
