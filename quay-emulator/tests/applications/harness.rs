//! What the harness sees and does beside the API: request counters, faults, and edits
//! behind the operator's back.

use super::*;

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
