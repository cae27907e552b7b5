//! The checks of a token's name and expiration.

use super::*;

#[tokio::test]
async fn names_are_trimmed_and_at_most_255_characters() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let ok = "n".repeat(255);
    let (status, body) = create(
        &owner,
        &client_id,
        &json!({"name": ok, "scope": "repo:read"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["name"], json!(ok));

    let long = "n".repeat(256);
    let (status, body) = create(
        &owner,
        &client_id,
        &json!({"name": long, "scope": "repo:read"}),
    )
    .await;
    assert_eq!(status, 400);
    // A client reads the first line; the rest names the failing schema and instance.
    let detail = body["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.starts_with(&format!(
            "'{long}' is too long\n\nFailed validating 'maxLength' in schema['properties']['name']:\n"
        )),
        "{detail}"
    );
    assert_eq!(
        body,
        json!({"detail": detail, "error_message": detail, "error_type": "invalid_request",
               "title": "invalid_request",
               "type": format!("{}/api/v1/error/invalid_request", emu.url()), "status": 400})
    );

    let (status, body) = create(&owner, &client_id, &json!({"scope": "repo:read"})).await;
    assert_eq!(status, 400);
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(
            "'name' is a required property\n\nFailed validating 'required' in schema:\n"
        ),
        "{detail}"
    );
    assert!(
        detail.ends_with("\n\nOn instance:\n    {'scope': 'repo:read'}"),
        "{detail}"
    );

    let (status, body) = create(
        &owner,
        &client_id,
        &json!({"name": "  k8s:ns/name  ", "scope": "repo:read"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["name"], json!("k8s:ns/name"), "stored trimmed");
    let (status, body) = create(
        &owner,
        &client_id,
        &json!({"name": "   ", "scope": "repo:read"}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"message": "'name' must not be empty"})
        )
    );
    assert_eq!(emu.tokens().len(), 2);
}

#[tokio::test]
async fn expiration_is_clamped_to_ten_years_and_must_be_a_positive_number() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu, OWNER, OWNER_PW).await;
    let cases = [
        (json!(3600), 3600.0),
        (json!(1_000_000_000_000u64), TEN_YEARS_S),
        (json!(2.5), 2.0),
    ];
    for (expiration, want) in cases {
        let (status, body) = create(
            &owner,
            &client_id,
            &json!({"name": "e", "scope": "repo:read", "expiration": expiration}),
        )
        .await;
        assert_eq!(status, 200, "{expiration}");
        assert!(
            (lifetime(&body) - want).abs() < 0.01,
            "{expiration}: {body}"
        );
    }
    let (_, body) = create(
        &owner,
        &client_id,
        &json!({"name": "d", "scope": "repo:read"}),
    )
    .await;
    assert!(
        (lifetime(&body) - TEN_YEARS_S).abs() < 0.01,
        "default: {body}"
    );
    // The list carries the same expires_at.
    let list: Value = owner
        .get(&tokens_path(&client_id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["tokens"][0]["expires_at"], body["expires_at"]);

    let rejected = [
        (json!(-5), "-5 is less than the minimum of 1"),
        (json!(0), "0 is less than the minimum of 1"),
        (json!(0.5), "0.5 is less than the minimum of 1"),
        (json!("3600"), "'3600' is not of type 'number'"),
        (json!(null), "None is not of type 'number'"),
    ];
    for (expiration, first_line) in rejected {
        let (status, body) = create(
            &owner,
            &client_id,
            &json!({"name": "e", "scope": "repo:read", "expiration": expiration}),
        )
        .await;
        assert_eq!(status, 400, "{expiration}");
        assert_eq!(body["error_type"], json!("invalid_request"));
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(&format!("{first_line}\n\nFailed validating ")),
            "{detail}"
        );
        assert!(
            detail.contains("in schema['properties']['expiration']:\n"),
            "{detail}"
        );
        assert!(
            detail.ends_with(&format!(
                "On instance['expiration']:\n    {}",
                &first_line[..first_line.find(" is ").unwrap()]
            )),
            "{detail}"
        );
    }
    assert_eq!(emu.tokens().len(), 4);
}
