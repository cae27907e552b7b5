//! The emulator's own endpoints under `/_emulator/`, outside Quay's namespace.

use axum::http::Method;
use serde_json::json;

use crate::faults::Faults;
use crate::reply::Reply;
use crate::server::{Shared, lock};
use crate::{assignment_info, token_info};

/// Answers `/_emulator/state`, `/_emulator/requests`, `/_emulator/faults` and
/// `/_emulator/reset-counters`.
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
                .map(|a| {
                    json!({"client_id": a.client_id, "client_secret": a.client_secret,
                           "org": a.org, "name": a.name, "redirect_uri": a.redirect_uri})
                })
                .collect();
            Reply::json(
                200,
                &json!({"tokens": tokens, "assignments": assignments, "users": users,
                        "orgs": orgs, "apps": apps}),
            )
        }
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
