//! Creating applications: the answer's view and the checks of the body.

use super::*;

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
