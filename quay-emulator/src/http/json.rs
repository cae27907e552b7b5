//! Quay's `validate_json_request`: Flask's `request.get_json()`, then the endpoint's schema.

use serde_json::{Value, json};

use crate::model::State;
use crate::reply::{self, Reply};
use crate::request::Req;
use crate::schema::ObjectSchema;

/// Flask's `request.get_json()` as `validate_json_request` uses it (from source): a non-JSON
/// content type is a 415, undecodable JSON a 400, a `null` body "Missing JSON body".
pub fn body(state: &State, req: &Req) -> Result<Value, Reply> {
    let mimetype = req
        .header("content-type")
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let is_json = mimetype == "application/json"
        || (mimetype.starts_with("application/") && mimetype.ends_with("+json"));
    if !is_json {
        return Err(Reply::json(
            415,
            &json!({"message": "Did not attempt to load JSON data because the request Content-Type was not 'application/json'."}),
        ));
    }
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Null) => Err(reply::invalid_request(&state.base, "Missing JSON body")),
        Ok(v) => Ok(v),
        Err(_) => Err(Reply::json(
            400,
            &json!({"message": "The browser (or proxy) sent a request that this server could not understand."}),
        )),
    }
}

/// The JSON body, validated against `schema`; a schema error is Quay's `invalid_request`
/// whose detail is jsonschema's message.
pub fn validated(state: &State, req: &Req, schema: &ObjectSchema) -> Result<Value, Reply> {
    let value = body(state, req)?;
    schema
        .validate(&value)
        .map_err(|detail| reply::invalid_request(&state.base, &detail))?;
    Ok(value)
}
