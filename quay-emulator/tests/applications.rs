//! The organization applications API (protocol.md §16) over HTTP: each endpoint's answers, who
//! may call it, PUT's replace semantics, the secret reset, and deletion killing tokens.

mod common;

use common::{Client, fragment_token, start};
use quay_emulator::{AppUpdate, Emulator, FaultAnswer, FaultRule, Faults};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const OWNER: &str = "aowner";
const OWNER_PW: &str = "0wn3rPassw0rd";
const OUTSIDER: &str = "outsider";
const OUTSIDER_PW: &str = "0uts1d3rPassw0rd";
const ROOT: &str = "root";
const ROOT_PW: &str = "R00tPassw0rd";
const ORG: &str = "acme";
const OTHER_ORG: &str = "elsewhere";
const APPS: &str = "/api/v1/organization/acme/applications";

/// `aowner` owns `acme`; `outsider` owns `elsewhere`; `root` is a superuser in neither.
async fn world() -> Emulator {
    let emu = start().await;
    emu.add_user(OWNER, OWNER_PW);
    emu.add_user(OUTSIDER, OUTSIDER_PW);
    emu.add_user(ROOT, ROOT_PW);
    emu.set_superuser(ROOT, true);
    emu.add_org(ORG, OWNER);
    emu.add_org(OTHER_ORG, OUTSIDER);
    emu.add_app(ORG, "quay-operator", None);
    emu.add_app(OTHER_ORG, "their-app", None);
    emu
}

async fn signed_in(emu: &Emulator, user: &str, password: &str) -> Client {
    let mut c = Client::new(&emu.url());
    assert_eq!(c.signin(user, password).await.status(), 200);
    c
}

/// A token minted by `c` through the web flow for `client_id`.
async fn web_token(c: &Client, client_id: &str, scope: &str) -> String {
    let (status, location) = c.authorizeapp(client_id, scope, &[]).await;
    assert_eq!(status, StatusCode::FOUND, "{location}");
    fragment_token(&location).expect("a token in the fragment")
}

fn app_path(client_id: &str) -> String {
    format!("{APPS}/{client_id}")
}

/// Status and parsed body (`null` when empty or not JSON).
async fn answer(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A request as one caller makes it: a session sends its CSRF token, a bearer none.
enum Caller {
    Session(Client),
    Bearer(String),
}

impl Caller {
    async fn call(
        &self,
        base: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let url = format!("{base}{path}");
        let mut req = match self {
            Caller::Session(c) => c.http.request(method, url).header("X-CSRF-Token", &c.csrf),
            Caller::Bearer(t) => reqwest::Client::new().request(method, url).bearer_auth(t),
        };
        if let Some(b) = body {
            req = req.json(b);
        }
        answer(req.send().await.expect("request answers")).await
    }
}

fn problem(emu: &Emulator, status: u16, error_type: &str, detail: &str) -> Value {
    json!({"detail": detail, "error_message": detail, "error_type": error_type,
           "title": error_type, "type": format!("{}/api/v1/error/{error_type}", emu.url()),
           "status": status})
}

fn insufficient_scope(emu: &Emulator) -> Value {
    problem(emu, 403, "insufficient_scope", "Unauthorized")
}

fn not_found(emu: &Emulator) -> Value {
    problem(emu, 404, "not_found", "Not Found")
}

#[tokio::test]
async fn create_answers_the_app_view_in_quays_key_order_and_names_may_repeat() {
    let emu = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let full = json!({"name": "extapp", "description": "External application",
                      "application_uri": "http://applicationuri.example.com",
                      "redirect_uri": "http://redirecturi.example.com",
                      "avatar_email": "avatar@example.com"});
    let resp = owner.post_json(APPS, &full).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    let keys = [
        "name",
        "description",
        "application_uri",
        "client_id",
        "client_secret",
        "redirect_uri",
        "avatar_email",
    ];
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| text.find(&format!("\"{k}\": ")).expect(k))
        .collect();
    assert!(positions.is_sorted(), "Quay's key order: {text}");
    let first: Value = serde_json::from_str(&text).unwrap();
    for k in [
        "name",
        "description",
        "application_uri",
        "redirect_uri",
        "avatar_email",
    ] {
        assert_eq!(first[k], full[k], "{k}");
    }
    let client_id = first["client_id"].as_str().unwrap();
    let secret = first["client_secret"].as_str().unwrap();
    let upper = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    };
    assert!(client_id.len() == 20 && upper(client_id), "{client_id}");
    assert!(secret.len() == 40 && upper(secret), "{secret}");

    let (status, second) = answer(owner.post_json(APPS, &json!({"name": "extapp"})).await).await;
    assert_eq!(status, 200);
    assert_ne!(second["client_id"], first["client_id"]);
    assert_eq!(
        second,
        json!({"name": "extapp", "description": "", "application_uri": "",
               "client_id": second["client_id"], "client_secret": second["client_secret"],
               "redirect_uri": "", "avatar_email": null}),
        "fields not given are empty, the avatar e-mail null"
    );
    assert_eq!(emu.app_count(ORG, "extapp"), 2);
    assert_eq!(emu.app_count(OTHER_ORG, "extapp"), 0);
    let stored = emu.app(client_id).expect("stored");
    assert_eq!(stored.org, ORG);
    assert_eq!(stored.client_secret, secret);
    assert_eq!(stored.avatar_email.as_deref(), Some("avatar@example.com"));
}

#[tokio::test]
async fn create_checks_its_body() {
    let emu = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let (status, body) = answer(owner.post_json(APPS, &json!({"description": "x"})).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error_type"], "invalid_request");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("'name' is a required property\n\nFailed validating 'required' in schema:\n    {'description': 'Description of a new organization application.',"),
        "{detail}"
    );
    assert!(
        detail.ends_with("On instance:\n    {'description': 'x'}"),
        "{detail}"
    );

    let reserved = owner
        .post_json(APPS, &json!({"name": "__quay_bootstrap_app"}))
        .await;
    assert_eq!(
        answer(reserved).await,
        (
            StatusCode::BAD_REQUEST,
            problem(
                &emu,
                400,
                "invalid_request",
                "Application name is reserved for bootstrap token provisioning"
            )
        )
    );
    let (status, body) = answer(owner.post_json(APPS, &json!({"name": 7})).await).await;
    assert_eq!(status, 400);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("7 is not of type 'string'\n"),
        "{body}"
    );
    let form = owner
        .http
        .post(format!("{}{APPS}", emu.url()))
        .header("X-CSRF-Token", &owner.csrf)
        .form(&[("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    assert_eq!(emu.apps(ORG).len(), 1, "nothing was created");
    // Quay's schema sets no minimum length.
    let (status, body) = answer(owner.post_json(APPS, &json!({"name": ""})).await).await;
    assert_eq!((status, &body["name"]), (StatusCode::OK, &json!("")));
}

#[tokio::test]
async fn list_and_get_show_every_field_oldest_first() {
    let emu = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let b = emu.add_app(ORG, "b-app", Some("https://b.example.com/cb"));
    let a = emu.add_app(ORG, "a-app", None);
    assert!(emu.update_app(
        &a.client_id,
        AppUpdate {
            description: Some("edited in the UI".into()),
            avatar_email: Some(Some("a@example.com".into())),
            ..AppUpdate::default()
        }
    ));
    let (status, list) = answer(owner.get(APPS).await).await;
    assert_eq!(status, 200);
    let names: Vec<&Value> = list["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| &x["name"])
        .collect();
    assert_eq!(names, ["quay-operator", "b-app", "a-app"], "creation order");
    let helper: Vec<String> = emu.apps(ORG).into_iter().map(|x| x.name).collect();
    assert_eq!(helper, ["quay-operator", "b-app", "a-app"]);

    let (status, got) = answer(owner.get(&app_path(&a.client_id)).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        got,
        json!({"name": "a-app", "description": "edited in the UI", "application_uri": "",
               "client_id": a.client_id, "client_secret": a.client_secret,
               "redirect_uri": a.redirect_uri, "avatar_email": "a@example.com"})
    );
    assert_eq!(list["applications"][2], got);
    assert_eq!(list["applications"][1]["redirect_uri"], b.redirect_uri);

    assert_eq!(
        answer(owner.get(&app_path("NOSUCHCLIENT00000000")).await).await,
        (StatusCode::NOT_FOUND, not_found(&emu))
    );
    let theirs = emu.apps(OTHER_ORG).remove(0);
    assert_eq!(
        owner.get(&app_path(&theirs.client_id)).await.status(),
        404,
        "an app of another organization is not found under this one"
    );
}

#[tokio::test]
async fn put_replaces_every_field_but_the_secret() {
    let emu = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let (_, created) = answer(
        owner
            .post_json(
                APPS,
                &json!({"name": "extapp", "description": "External application",
                        "application_uri": "http://a.example.com",
                        "redirect_uri": "http://r.example.com", "avatar_email": "x@example.com"}),
            )
            .await,
    )
    .await;
    let client_id = created["client_id"].as_str().unwrap().to_string();
    let replacement = json!({"name": "extapp2", "application_uri": "http://a2.example.com",
                             "redirect_uri": "http://r2.example.com"});
    let (status, body) = answer(
        owner
            .send_json(Method::PUT, &app_path(&client_id), &replacement)
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"name": "extapp2", "description": "", "application_uri": "http://a2.example.com",
               "client_id": client_id, "client_secret": created["client_secret"],
               "redirect_uri": "http://r2.example.com", "avatar_email": null})
    );
    let stored = emu.app(&client_id).unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.description.as_str()),
        ("extapp2", "")
    );
    assert_eq!(stored.avatar_email, None);

    let (status, body) = answer(
        owner
            .send_json(Method::PUT, &app_path(&client_id), &json!({"name": "x"}))
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("'redirect_uri' is a required property\n"),
        "{body}"
    );
    let (status, body) = answer(
        owner
            .send_json(
                Method::PUT,
                &app_path(&client_id),
                &json!({"name": "x", "redirect_uri": ""}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("'application_uri' is a required property\n"),
        "{body}"
    );
    let minimal = json!({"name": "x", "redirect_uri": "", "application_uri": ""});
    assert_eq!(
        answer(
            owner
                .send_json(Method::PUT, &app_path("NOSUCHCLIENT00000000"), &minimal)
                .await
        )
        .await,
        (StatusCode::NOT_FOUND, not_found(&emu))
    );
    let reserved =
        json!({"name": "__quay_bootstrap_app", "redirect_uri": "", "application_uri": ""});
    let resp = owner
        .send_json(Method::PUT, &app_path(&client_id), &reserved)
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(emu.app(&client_id).unwrap().name, "extapp2", "unchanged");
}

#[tokio::test]
async fn reset_gives_a_new_secret_and_keeps_the_rest() {
    let emu = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let app = emu.add_app(ORG, "resettable", None);
    let path = format!("{}/resetclientsecret", app_path(&app.client_id));
    let (status, body) = answer(owner.post_empty(&path).await).await;
    assert_eq!(status, 200);
    let secret = body["client_secret"].as_str().unwrap();
    assert_ne!(secret, app.client_secret);
    assert_eq!(secret.len(), 40);
    assert_eq!(emu.app(&app.client_id).unwrap().client_secret, secret);
    assert_eq!(
        (&body["name"], &body["client_id"], &body["redirect_uri"]),
        (
            &json!("resettable"),
            &json!(app.client_id),
            &json!(app.redirect_uri)
        )
    );
    let (_, again) = answer(owner.post_empty(&path).await).await;
    assert_ne!(again["client_secret"], body["client_secret"]);
    let unknown = format!("{}/resetclientsecret", app_path("NOSUCHCLIENT00000000"));
    assert_eq!(
        answer(owner.post_empty(&unknown).await).await,
        (StatusCode::NOT_FOUND, not_found(&emu))
    );
}

#[tokio::test]
async fn delete_answers_204_then_404_and_kills_every_token_of_the_app() {
    let emu = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let doomed = emu.add_app(ORG, "doomed", None);
    let kept = emu.add_app(ORG, "kept", None);
    let web = web_token(&owner, &doomed.client_id, "org:admin").await;
    let (status, minted) = answer(
        owner
            .post_json(
                &format!("{}/tokens", app_path(&doomed.client_id)),
                &json!({"name": "api", "scope": "org:admin"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let api = minted["token"].as_str().unwrap().to_string();
    let survivor = web_token(&owner, &kept.client_id, "org:admin").await;
    for t in [&web, &api, &survivor] {
        assert_eq!(owner.get_bearer(APPS, t).await, 200);
    }

    // Deleted by a token of the application itself, as 67p did with a token of another.
    let by_token = Caller::Bearer(web.clone());
    let (status, body) = by_token
        .call(
            &emu.url(),
            Method::DELETE,
            &app_path(&doomed.client_id),
            None,
        )
        .await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_eq!(owner.get_bearer(APPS, &web).await, 401);
    assert_eq!(owner.get_bearer(APPS, &api).await, 401);
    assert_eq!(owner.get_bearer(APPS, &survivor).await, 200);
    assert!(emu.tokens().iter().all(|t| t.client_id != doomed.client_id));
    assert!(emu.app(&doomed.client_id).is_none());
    assert_eq!(
        answer(owner.delete(&app_path(&doomed.client_id)).await).await,
        (StatusCode::NOT_FOUND, not_found(&emu))
    );
    assert_eq!(owner.get(&app_path(&doomed.client_id)).await.status(), 404);
    let lookup = owner
        .get(&format!("/api/v1/app/{}", doomed.client_id))
        .await;
    assert_eq!(lookup.status(), 404, "unknown to the web flow too (81c)");
}

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

#[tokio::test]
async fn the_new_endpoints_are_counted_and_take_faults_by_their_keys() {
    let emu = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let app = emu.add_app(ORG, "counted", None);
    emu.reset_counters();
    let replace = json!({"name": "n", "redirect_uri": "", "application_uri": ""});
    owner.get(APPS).await;
    owner.post_json(APPS, &json!({"name": "n"})).await;
    owner.get(&app_path(&app.client_id)).await;
    owner
        .send_json(Method::PUT, &app_path(&app.client_id), &replace)
        .await;
    owner
        .post_empty(&format!("{}/resetclientsecret", app_path(&app.client_id)))
        .await;
    owner.delete(&app_path(&app.client_id)).await;
    let key = |m: &str, t: &str| format!("{m} /api/v1/organization/{{org}}/applications{t}");
    let counts = emu.request_counts();
    for (k, n) in [
        (key("GET", ""), 1),
        (key("POST", ""), 1),
        (key("GET", "/{client_id}"), 1),
        (key("PUT", "/{client_id}"), 1),
        (key("POST", "/{client_id}/resetclientsecret"), 1),
        (key("DELETE", "/{client_id}"), 1),
    ] {
        assert_eq!(counts.get(&k).copied(), Some(n), "{k} in {counts:?}");
    }

    let other = emu.add_app(ORG, "faulted", None);
    for (k, method, path) in [
        (
            key("PUT", "/{client_id}"),
            Method::PUT,
            app_path(&other.client_id),
        ),
        (
            key("POST", "/{client_id}/resetclientsecret"),
            Method::POST,
            format!("{}/resetclientsecret", app_path(&other.client_id)),
        ),
    ] {
        emu.set_faults(Faults {
            rules: vec![FaultRule {
                endpoint: Some(k.clone()),
                answer: Some(FaultAnswer {
                    status: 502,
                    body: "{\"canned\": true}".into(),
                }),
                ..FaultRule::default()
            }],
        });
        let resp = owner.send_json(method, &path, &replace).await;
        assert_eq!(resp.status(), 502, "{k}");
        assert_eq!(owner.get(APPS).await.status(), 200, "others unaffected");
    }
    emu.set_faults(Faults::default());
    let untouched = emu.app(&other.client_id).unwrap();
    assert_eq!(
        (untouched.name, untouched.client_secret),
        (other.name, other.client_secret),
        "faulted requests never reached the handler"
    );
}

#[tokio::test]
async fn edits_behind_the_operators_back_show_in_the_api() {
    let emu = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let app = emu.add_app(ORG, "quay-operator", None);
    assert_eq!(emu.app_count(ORG, "quay-operator"), 2);
    assert!(emu.update_app(
        &app.client_id,
        AppUpdate {
            name: Some("renamed".into()),
            redirect_uri: Some("https://elsewhere.example.com/cb".into()),
            application_uri: Some("https://elsewhere.example.com".into()),
            client_secret: Some("S".repeat(40)),
            ..AppUpdate::default()
        }
    ));
    assert!(!emu.update_app("NOSUCHCLIENT00000000", AppUpdate::default()));
    let (_, got) = answer(owner.get(&app_path(&app.client_id)).await).await;
    assert_eq!(
        got,
        json!({"name": "renamed", "description": "",
               "application_uri": "https://elsewhere.example.com",
               "client_id": app.client_id, "client_secret": "S".repeat(40),
               "redirect_uri": "https://elsewhere.example.com/cb", "avatar_email": null})
    );
    assert_eq!(emu.app_count(ORG, "quay-operator"), 1);
    assert_eq!(emu.app_count(ORG, "renamed"), 1);
    assert!(emu.delete_app(&app.client_id));
    assert!(!emu.delete_app(&app.client_id));
    assert_eq!(owner.get(&app_path(&app.client_id)).await.status(), 404);
}
