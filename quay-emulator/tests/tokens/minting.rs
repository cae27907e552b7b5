//! Who may mint which scopes.

use super::*;

#[tokio::test]
async fn super_user_scope_needs_a_superuser() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    for scope in ["super:user", &format!("{SEVEN} super:user")] {
        let (status, body) =
            create(&owner, &client_id, &json!({"name": "su", "scope": scope})).await;
        assert_eq!(status, 403, "{scope}");
        assert_eq!(body, insufficient_scope(&emu));
    }
    // The same answer as for a user who administers nothing.
    emu.add_user("dwilde", "Dw1ld3Passw0rd");
    let outsider = signed_in(&emu, "dwilde", "Dw1ld3Passw0rd").await;
    let (status, body) = create(
        &outsider,
        &client_id,
        &json!({"name": "x", "scope": "repo:read"}),
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::FORBIDDEN, insufficient_scope(&emu))
    );

    let root = signed_in(&emu, ROOT, ROOT_PW).await;
    let (status, body) = create(
        &root,
        &client_id,
        &json!({"name": "su", "scope": "super:user"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], json!("super:user"));
    assert_eq!(body["created_by"], json!(ROOT));
    assert_eq!(emu.tokens().len(), 1, "only the superuser's token exists");
}

#[tokio::test]
async fn an_owner_mints_every_scope_but_super_user() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let (status, body) = create(
        &owner,
        &client_id,
        &json!({"name": "seven", "scope": SEVEN}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], json!(SEVEN));
    assert_eq!(body["name"], json!("seven"));
    assert_eq!(body["last_accessed"], Value::Null);
    assert_eq!(body["token"].as_str().map(str::len), Some(40));
    // The session view of a non-superuser has no super_user key; a superuser's has it.
    let me: Value = owner.get("/api/v1/user/").await.json().await.unwrap();
    assert!(me.get("super_user").is_none(), "{me}");
    let root = signed_in(&emu, ROOT, ROOT_PW).await;
    let me: Value = root.get("/api/v1/user/").await.json().await.unwrap();
    assert_eq!(me["super_user"], json!(true));
}

#[tokio::test]
async fn a_bearer_caller_mints_only_within_its_scopes() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let (_, held) = create(
        &owner,
        &client_id,
        &json!({"name": "held", "scope": "org:admin,repo:admin"}),
    )
    .await;
    let bearer = held["token"].as_str().unwrap().to_string();
    let mint = |scope: &'static str| {
        let url = format!("{}{}", emu.url(), tokens_path(&client_id));
        let bearer = bearer.clone();
        async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(bearer)
                .json(&json!({"name": "child", "scope": scope}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // repo:admin implies repo:write and repo:read (Quay's IMPLIED_SCOPES).
    assert_eq!(mint("repo:read repo:write org:admin").await, 200);
    assert_eq!(mint("user:read").await, 403);
    assert_eq!(mint("repo:create").await, 403);
}
