//! Reading, replacing, resetting and deleting applications.

use super::*;

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
