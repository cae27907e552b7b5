//! Maps a method and path to an endpoint and its key ("<METHOD> <route template>").

use axum::http::Method;

/// An endpoint of the emulated Quay, with its path parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    Root,
    CsrfToken,
    Signin,
    Signout,
    UserGet,
    UserCreate,
    UserUpdate,
    UserInitialize,
    Discovery,
    AppLookup {
        client_id: String,
    },
    OrgGet {
        org: String,
    },
    OrgCreate,
    OrgApps {
        org: String,
    },
    OrgAppCreate {
        org: String,
    },
    OrgAppGet {
        org: String,
        client_id: String,
    },
    OrgAppUpdate {
        org: String,
        client_id: String,
    },
    OrgAppDelete {
        org: String,
        client_id: String,
    },
    OrgAppResetSecret {
        org: String,
        client_id: String,
    },
    TokensList {
        org: String,
        client_id: String,
    },
    TokensCreate {
        org: String,
        client_id: String,
    },
    TokensDelete {
        org: String,
        client_id: String,
        uuid: String,
    },
    TokensSlash,
    OwnerAdd {
        org: String,
        user: String,
    },
    OwnerRemove {
        org: String,
        user: String,
    },
    SuperuserUser {
        user: String,
    },
    Authorizations,
    AuthorizationGet {
        uuid: String,
    },
    AuthorizationDelete {
        uuid: String,
    },
    Assigned,
    AssignedSlash,
    AssignedDelete {
        uuid: String,
    },
    AuthorizeApp,
    Authorize,
    AssignUser,
    LocalApp,
    NotFound,
}

/// The route and its endpoint key for a request.
pub fn resolve(method: &Method, path: &str) -> (String, Route) {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let m = method.as_str();
    let s = |i: usize| segs.get(i).map(|x| x.to_string()).unwrap_or_default();
    let (template, route) = match (m, segs.as_slice()) {
        ("GET", [""]) => ("/", Route::Root),
        ("GET", ["csrf_token"]) => ("/csrf_token", Route::CsrfToken),
        ("POST", ["api", "v1", "signin"]) => ("/api/v1/signin", Route::Signin),
        ("POST", ["api", "v1", "signout"]) => ("/api/v1/signout", Route::Signout),
        ("GET", ["api", "v1", "user", ""]) => ("/api/v1/user/", Route::UserGet),
        ("POST", ["api", "v1", "user", ""]) => ("/api/v1/user/", Route::UserCreate),
        ("PUT", ["api", "v1", "user", ""]) => ("/api/v1/user/", Route::UserUpdate),
        ("POST", ["api", "v1", "user", "initialize"]) => {
            ("/api/v1/user/initialize", Route::UserInitialize)
        }
        ("GET", ["api", "v1", "discovery"]) => ("/api/v1/discovery", Route::Discovery),
        ("GET", ["api", "v1", "app", _]) => (
            "/api/v1/app/{client_id}",
            Route::AppLookup { client_id: s(3) },
        ),
        ("POST", ["api", "v1", "organization", ""]) => ("/api/v1/organization/", Route::OrgCreate),
        ("GET", ["api", "v1", "organization", o]) if !o.is_empty() => {
            ("/api/v1/organization/{org}", Route::OrgGet { org: s(3) })
        }
        (_, ["api", "v1", "organization", _, "applications"]) => match m {
            "GET" => (
                "/api/v1/organization/{org}/applications",
                Route::OrgApps { org: s(3) },
            ),
            "POST" => (
                "/api/v1/organization/{org}/applications",
                Route::OrgAppCreate { org: s(3) },
            ),
            _ => ("(unmatched)", Route::NotFound),
        },
        (_, ["api", "v1", "organization", _, "applications", _]) => {
            let (org, client_id) = (s(3), s(5));
            let t = "/api/v1/organization/{org}/applications/{client_id}";
            match m {
                "GET" => (t, Route::OrgAppGet { org, client_id }),
                "PUT" => (t, Route::OrgAppUpdate { org, client_id }),
                "DELETE" => (t, Route::OrgAppDelete { org, client_id }),
                _ => ("(unmatched)", Route::NotFound),
            }
        }
        (
            "POST",
            [
                "api",
                "v1",
                "organization",
                _,
                "applications",
                _,
                "resetclientsecret",
            ],
        ) => (
            "/api/v1/organization/{org}/applications/{client_id}/resetclientsecret",
            Route::OrgAppResetSecret {
                org: s(3),
                client_id: s(5),
            },
        ),
        (_, ["api", "v1", "organization", _, "applications", _, "tokens"]) => {
            let (org, client_id) = (s(3), s(5));
            let t = "/api/v1/organization/{org}/applications/{client_id}/tokens";
            match m {
                "GET" => (t, Route::TokensList { org, client_id }),
                "POST" => (t, Route::TokensCreate { org, client_id }),
                _ => ("(unmatched)", Route::NotFound),
            }
        }
        (
            "GET",
            [
                "api",
                "v1",
                "organization",
                _,
                "applications",
                _,
                "tokens",
                "",
            ],
        ) => (
            "/api/v1/organization/{org}/applications/{client_id}/tokens/",
            Route::TokensSlash,
        ),
        (
            "DELETE",
            [
                "api",
                "v1",
                "organization",
                _,
                "applications",
                _,
                "tokens",
                u,
            ],
        ) if !u.is_empty() => (
            "/api/v1/organization/{org}/applications/{client_id}/tokens/{uuid}",
            Route::TokensDelete {
                org: s(3),
                client_id: s(5),
                uuid: s(7),
            },
        ),
        (
            _,
            [
                "api",
                "v1",
                "organization",
                _,
                "team",
                "owners",
                "members",
                _,
            ],
        ) => {
            let (org, user) = (s(3), s(7));
            let t = "/api/v1/organization/{org}/team/owners/members/{user}";
            match m {
                "PUT" => (t, Route::OwnerAdd { org, user }),
                "DELETE" => (t, Route::OwnerRemove { org, user }),
                _ => ("(unmatched)", Route::NotFound),
            }
        }
        ("PUT", ["api", "v1", "superuser", "users", _]) => (
            "/api/v1/superuser/users/{user}",
            Route::SuperuserUser { user: s(4) },
        ),
        ("GET", ["api", "v1", "user", "authorizations"]) => {
            ("/api/v1/user/authorizations", Route::Authorizations)
        }
        (_, ["api", "v1", "user", "authorizations", u]) if !u.is_empty() => {
            let t = "/api/v1/user/authorizations/{uuid}";
            match m {
                "GET" => (t, Route::AuthorizationGet { uuid: s(4) }),
                "DELETE" => (t, Route::AuthorizationDelete { uuid: s(4) }),
                _ => ("(unmatched)", Route::NotFound),
            }
        }
        ("GET", ["api", "v1", "user", "assignedauthorization"]) => {
            ("/api/v1/user/assignedauthorization", Route::Assigned)
        }
        ("GET", ["api", "v1", "user", "assignedauthorization", ""]) => {
            ("/api/v1/user/assignedauthorization/", Route::AssignedSlash)
        }
        ("DELETE", ["api", "v1", "user", "assignedauthorization", _]) => (
            "/api/v1/user/assignedauthorization/{uuid}",
            Route::AssignedDelete { uuid: s(4) },
        ),
        ("POST", ["oauth", "authorizeapp"]) => ("/oauth/authorizeapp", Route::AuthorizeApp),
        ("GET", ["oauth", "authorize"]) => ("/oauth/authorize", Route::Authorize),
        ("POST", ["oauth", "authorize", "assignuser"]) => {
            ("/oauth/authorize/assignuser", Route::AssignUser)
        }
        ("GET", ["oauth", "localapp", ..]) => ("/oauth/localapp", Route::LocalApp),
        _ => ("(unmatched)", Route::NotFound),
    };
    (format!("{m} {template}"), route)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_use_route_templates() {
        let (key, route) = resolve(
            &Method::DELETE,
            "/api/v1/organization/production/applications/ABC/tokens/u-1",
        );
        assert_eq!(
            key,
            "DELETE /api/v1/organization/{org}/applications/{client_id}/tokens/{uuid}"
        );
        assert_eq!(
            route,
            Route::TokensDelete {
                org: "production".into(),
                client_id: "ABC".into(),
                uuid: "u-1".into()
            }
        );
        assert_eq!(
            resolve(&Method::GET, "/api/v1/user/").0,
            "GET /api/v1/user/"
        );
        assert_eq!(resolve(&Method::GET, "/").0, "GET /");
        assert_eq!(
            resolve(&Method::PUT, "/api/v1/organization/o/applications/C"),
            (
                "PUT /api/v1/organization/{org}/applications/{client_id}".to_string(),
                Route::OrgAppUpdate {
                    org: "o".into(),
                    client_id: "C".into()
                }
            )
        );
        assert_eq!(
            resolve(
                &Method::POST,
                "/api/v1/organization/o/applications/C/resetclientsecret"
            )
            .0,
            "POST /api/v1/organization/{org}/applications/{client_id}/resetclientsecret"
        );
        assert_eq!(resolve(&Method::PATCH, "/x").1, Route::NotFound);
    }
}
