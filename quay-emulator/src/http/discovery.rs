//! `GET /api/v1/discovery`: a small Swagger 2.0 document listing the emulated paths.

use serde_json::{Map, Value, json};

use crate::model::State;
use crate::reply::Reply;
use crate::request::Req;
use crate::scopes;

/// A path entry: its methods, each with an operation id and the scope it needs.
fn path(ops: &[(&str, &str, &str)]) -> Value {
    let mut entry = Map::new();
    for (method, operation, scope) in ops {
        entry.insert(
            method.to_string(),
            json!({"operationId": operation, "responses": {"200": {"description": "Successful invocation"}},
                   "security": [{"oauth2_implicit": [scope]}]}),
        );
    }
    Value::Object(entry)
}

/// The document; internal endpoints only with `?internal=true`, the token API only when on.
pub fn get(state: &mut State, req: &mut Req) -> Reply {
    let mut paths = Map::new();
    let mut add = |p: &str, v: Value| {
        paths.insert(p.to_string(), v);
    };
    add("/api/v1/discovery", path(&[("get", "discovery", "")]));
    add(
        "/api/v1/user/",
        path(&[("get", "getLoggedInUser", "user:read")]),
    );
    add(
        "/api/v1/app/{client_id}",
        path(&[("get", "getApplicationInformation", "")]),
    );
    add(
        "/api/v1/organization/",
        path(&[("post", "createOrganization", "user:admin")]),
    );
    add(
        "/api/v1/organization/{orgname}/applications",
        path(&[
            ("get", "getOrganizationApplications", "org:admin"),
            ("post", "createOrganizationApplication", "org:admin"),
        ]),
    );
    add(
        "/api/v1/organization/{orgname}/applications/{client_id}",
        path(&[
            ("get", "getOrganizationApplication", "org:admin"),
            ("delete", "deleteOrganizationApplication", "org:admin"),
        ]),
    );
    if state.switches.token_api {
        add(
            "/api/v1/organization/{orgname}/applications/{client_id}/tokens",
            path(&[
                ("get", "listOrganizationApplicationTokens", "org:admin"),
                ("post", "createOrganizationApplicationToken", "org:admin"),
            ]),
        );
        add(
            "/api/v1/organization/{orgname}/applications/{client_id}/tokens/{token_uuid}",
            path(&[("delete", "deleteOrganizationApplicationToken", "org:admin")]),
        );
    }
    if req.query_param("internal") == Some("true") {
        add("/api/v1/signin", path(&[("post", "signinUser", "")]));
        add("/api/v1/signout", path(&[("post", "logout", "")]));
        add(
            "/api/v1/user/authorizations",
            path(&[("get", "listUserAuthorizations", "user:admin")]),
        );
        add(
            "/api/v1/user/authorizations/{access_token_uuid}",
            path(&[
                ("get", "getUserAuthorization", "user:admin"),
                ("delete", "deleteUserAuthorization", "user:admin"),
            ]),
        );
        add(
            "/api/v1/user/assignedauthorization",
            path(&[("get", "listAssignedAuthorizations", "user:admin")]),
        );
        add(
            "/api/v1/user/assignedauthorization/{assigned_authorization_uuid}",
            path(&[("delete", "deleteAssignedAuthorization", "user:admin")]),
        );
    }
    let host = state
        .base
        .split_once("://")
        .map(|(_, h)| h.to_string())
        .unwrap_or_default();
    let scheme = state.base.split("://").next().unwrap_or("http");
    let doc = json!({
        "swagger": "2.0", "host": host, "basePath": "/", "schemes": [scheme],
        "info": {"version": "v1", "title": "Quay Frontend",
                 "description": "This API allows you to perform many of the operations required to work with Quay repositories, users, and organizations.",
                 "termsOfService": "", "contact": {"email": "quay@localhost"}},
        "securityDefinitions": {"oauth2_implicit": {"type": "oauth2", "flow": "implicit",
            "authorizationUrl": format!("{}/oauth/authorize", state.base),
            "scopes": scopes::descriptions()}},
        "paths": paths,
        "definitions": {"ApiError": {"type": "object"}},
        "tags": [{"name": "organization", "description": "Manage organizations, members and OAuth applications."}],
    });
    Reply::json(200, &doc)
}
