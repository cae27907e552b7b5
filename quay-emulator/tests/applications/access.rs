//! Who may call the endpoints, and the order of the checks that refuse everyone else.

use super::*;

/// Each endpoint as one caller sees it: (method, path, body, status for an admin).
async fn endpoints(emu: &Emulator) -> Vec<(Method, String, Option<Value>, StatusCode)> {
    let fresh = |name: &str| emu.add_app(ORG, name, None).client_id;
    let replace = json!({"name": "replaced", "redirect_uri": "", "application_uri": ""});
    vec![
        (Method::GET, APPS.to_string(), None, StatusCode::OK),
        (
            Method::POST,
            APPS.to_string(),
            Some(json!({"name": "m"})),
            StatusCode::OK,
        ),
        (Method::GET, app_path(&fresh("g")), None, StatusCode::OK),
        (
            Method::PUT,
            app_path(&fresh("p")),
            Some(replace),
            StatusCode::OK,
        ),
        (
            Method::POST,
            format!("{}/resetclientsecret", app_path(&fresh("r"))),
            None,
            StatusCode::OK,
        ),
        (
            Method::DELETE,
            app_path(&fresh("d")),
            None,
            StatusCode::NO_CONTENT,
        ),
    ]
}

#[tokio::test]
async fn only_admins_of_the_organization_by_session_or_org_admin_token_get_in() {
    let emu = world().await;
    let base = emu.url();
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let operator_app = emu.apps(ORG)[0].client_id.clone();
    let their_app = emu.apps(OTHER_ORG)[0].client_id.clone();
    let org_admin = web_token(&owner, &operator_app, "org:admin").await;
    let repo_read = web_token(&owner, &operator_app, "repo:read user:admin").await;
    let outsider = signed_in(&emu, OUTSIDER, OUTSIDER_PW).await;
    let outsider_token = web_token(&outsider, &their_app, "org:admin").await;
    let mut anonymous = Client::new(&base);
    anonymous.fetch_csrf().await;

    let allowed = [
        ("owner session", Caller::Session(owner)),
        ("owner org:admin token", Caller::Bearer(org_admin)),
    ];
    let refused = [
        ("outsider session", Caller::Session(outsider)),
        (
            "superuser session",
            Caller::Session(signed_in(&emu, ROOT, ROOT_PW).await),
        ),
        ("owner token without org:admin", Caller::Bearer(repo_read)),
        ("outsider org:admin token", Caller::Bearer(outsider_token)),
    ];
    for (who, caller) in &allowed {
        for (method, path, body, want) in endpoints(&emu).await {
            let (status, _) = caller
                .call(&base, method.clone(), &path, body.as_ref())
                .await;
            assert_eq!(status, want, "{who}: {method} {path}");
        }
    }
    for (who, caller) in &refused {
        for (method, path, body, _) in endpoints(&emu).await {
            let got = caller
                .call(&base, method.clone(), &path, body.as_ref())
                .await;
            assert_eq!(
                got,
                (StatusCode::FORBIDDEN, insufficient_scope(&emu)),
                "{who}: {method} {path}"
            );
        }
    }
    let anonymous = Caller::Session(anonymous);
    let requires_auth = problem(&emu, 401, "invalid_token", "Requires authentication");
    for (method, path, body, _) in endpoints(&emu).await {
        let got = anonymous
            .call(&base, method.clone(), &path, body.as_ref())
            .await;
        assert_eq!(
            got,
            (StatusCode::UNAUTHORIZED, requires_auth.clone()),
            "anonymous: {method} {path}"
        );
    }
    assert_eq!(
        (emu.app_count(ORG, "m"), emu.app_count(ORG, "replaced")),
        (2, 2),
        "only the two admins created and replaced apps"
    );
}

#[tokio::test]
async fn an_unknown_organization_is_refused_before_it_is_looked_up() {
    let emu = world().await;
    let base = emu.url();
    let owner = Caller::Session(signed_in(&emu, OWNER, OWNER_PW).await);
    for (method, path, body) in [
        (
            Method::GET,
            "/api/v1/organization/nosuchorg/applications",
            None,
        ),
        (
            Method::POST,
            "/api/v1/organization/nosuchorg/applications",
            Some(json!({"name": "x"})),
        ),
        (
            Method::DELETE,
            "/api/v1/organization/nosuchorg/applications/ABC",
            None,
        ),
    ] {
        let got = owner.call(&base, method.clone(), path, body.as_ref()).await;
        assert_eq!(
            got,
            (StatusCode::FORBIDDEN, insufficient_scope(&emu)),
            "{method} {path}"
        );
    }
    // Every user administers the namespace of its own name, which is no organization.
    let (status, _) = owner
        .call(
            &base,
            Method::GET,
            "/api/v1/organization/aowner/applications",
            None,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_body_is_checked_before_the_permission_and_csrf_before_both() {
    let emu = world().await;
    let base = emu.url();
    let outsider = signed_in(&emu, OUTSIDER, OUTSIDER_PW).await;
    let (status, body) = answer(outsider.post_json(APPS, &json!({})).await).await;
    assert_eq!(status, 400, "Quay validates the body first: {body}");
    let no_csrf = outsider
        .http
        .post(format!("{base}{APPS}"))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
    assert_eq!(
        no_csrf.text().await.unwrap(),
        format!(
            "{{\"error\": \"CSRF token was invalid or missing. (authorized: user {OUTSIDER})\"}}"
        )
    );
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let app = emu.apps(ORG)[0].clone();
    for (method, path) in [
        (Method::POST, APPS.to_string()),
        (Method::PUT, app_path(&app.client_id)),
        (Method::DELETE, app_path(&app.client_id)),
        (
            Method::POST,
            format!("{}/resetclientsecret", app_path(&app.client_id)),
        ),
    ] {
        let resp = owner
            .http
            .request(method.clone(), format!("{base}{path}"))
            .json(&json!({"name": "x", "redirect_uri": "", "application_uri": ""}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{method} {path} without CSRF");
    }
    let untouched = emu.app(&app.client_id).expect("not deleted");
    assert_eq!(
        (untouched.name, untouched.client_secret),
        (app.name, app.client_secret)
    );
    assert_eq!(emu.apps(ORG).len(), 1);
}
