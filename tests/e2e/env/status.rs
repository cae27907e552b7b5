//! What an ApiToken's status says, read the way the tests compare it.

use quay_apitoken_operator::crd::ApiToken;

/// Whether the Ready condition is True; None before the first status.
pub fn ready(t: &ApiToken) -> Option<bool> {
    let c = t
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")?;
    Some(c.status == "True")
}

/// The Ready condition's reason.
pub fn ready_reason(t: &ApiToken) -> Option<String> {
    Some(
        t.status
            .as_ref()?
            .conditions
            .iter()
            .find(|c| c.type_ == "Ready")?
            .reason
            .clone(),
    )
}

/// The generation the status was written for.
pub fn observed(t: &ApiToken) -> Option<i64> {
    t.status.as_ref()?.observed_generation
}

/// The status message, empty before the first status.
pub fn message(t: &ApiToken) -> String {
    t.status
        .as_ref()
        .map(|s| s.message.clone())
        .unwrap_or_default()
}

/// The Quay id of the token the status records.
pub fn token_id(t: &ApiToken) -> Option<String> {
    t.status.as_ref()?.token.as_ref()?.id.clone()
}
