//! The emulator's own endpoints under `/_emulator/`, outside Quay's namespace.

use std::time::Duration;

use axum::http::Method;
use serde_json::{Value, json};

use crate::faults::Faults;
use crate::reply::Reply;
use crate::server::{Shared, lock};
use crate::time::Clock;
use crate::{app_info, assignment_info, token_info};

/// The clock as `/_emulator/clock` shows it.
fn clock_view(clock: &Clock) -> Value {
    json!({"now": clock.now(), "offset_s": clock.offset().as_secs_f64()})
}

/// The `seconds` of a clock advance: a finite, non-negative JSON number.
fn advance_by(body: &[u8]) -> Result<Duration, String> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| format!("the body is not JSON ({e}); send {{\"seconds\": 601}}"))?;
    let seconds = v
        .get("seconds")
        .and_then(Value::as_f64)
        .ok_or("the body needs \"seconds\": a number of seconds to move the clock forward")?;
    Duration::try_from_secs_f64(seconds)
        .map_err(|_| format!("seconds must be a finite number of at least 0, not {seconds}"))
}

/// Answers `/_emulator/state`, `/_emulator/requests`, `/_emulator/faults`,
/// `/_emulator/reset-counters` and `/_emulator/clock[/advance]`.
pub fn handle(shared: &Shared, method: &Method, path: &str, body: &[u8]) -> Reply {
    match (method.as_str(), path) {
        ("GET", "/_emulator/state") => {
            let state = lock(&shared.state);
            let tokens: Vec<_> = state.live_tokens().into_iter().map(token_info).collect();
            let assignments: Vec<_> = state.assignments.values().map(assignment_info).collect();
            let users: Vec<_> = state
                .users
                .iter()
                .map(|(n, u)| json!({"name": n, "enabled": u.enabled, "superuser": u.superuser}))
                .collect();
            let orgs: Vec<_> = state
                .orgs
                .iter()
                .map(|(n, o)| json!({"name": n, "admins": o.admins}))
                .collect();
            let apps: Vec<_> = state
                .apps
                .values()
                .map(app_info)
                .map(|a| {
                    json!({"client_id": a.client_id, "client_secret": a.client_secret,
                           "org": a.org, "name": a.name, "redirect_uri": a.redirect_uri,
                           "description": a.description, "application_uri": a.application_uri,
                           "avatar_email": a.avatar_email})
                })
                .collect();
            Reply::json(
                200,
                &json!({"tokens": tokens, "assignments": assignments, "users": users,
                        "orgs": orgs, "apps": apps, "clock": clock_view(&state.clock)}),
            )
        }
        ("GET", "/_emulator/clock") => Reply::json(200, &clock_view(&lock(&shared.state).clock)),
        ("POST", "/_emulator/clock/advance") => match advance_by(body) {
            Ok(by) => {
                let mut state = lock(&shared.state);
                state.clock.advance(by);
                Reply::json(200, &clock_view(&state.clock))
            }
            Err(e) => Reply::json(400, &json!({"error": e})),
        },
        ("GET", "/_emulator/requests") => Reply::json(200, &json!(*lock(&shared.counts))),
        ("GET", "/_emulator/faults") => Reply::json(200, &json!(lock(&shared.faults).get())),
        ("PUT", "/_emulator/faults") => match serde_json::from_slice::<Faults>(body) {
            Ok(faults) => {
                lock(&shared.faults).set(faults.clone());
                Reply::json(200, &json!(faults))
            }
            Err(e) => Reply::json(400, &json!({"error": format!("invalid faults: {e}")})),
        },
        ("POST", "/_emulator/reset-counters") => {
            lock(&shared.counts).clear();
            Reply::new(204, "application/json", Vec::new())
        }
        _ => Reply::json(404, &json!({"error": "unknown emulator endpoint"})),
    }
}
