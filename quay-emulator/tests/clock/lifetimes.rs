//! Token lifetimes and the timestamps the instance's clock stamps on tokens.

use super::*;

#[tokio::test]
async fn a_600_second_token_answers_until_the_clock_passes_601_seconds() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu).await;
    let short = api_token(
        &owner,
        &client_id,
        json!({"name": "short", "scope": "org:admin", "expiration": 600}),
    )
    .await;
    let long = api_token(
        &owner,
        &client_id,
        json!({"name": "long", "scope": "org:admin"}),
    )
    .await;
    let secret = short["token"].as_str().unwrap();
    assert_eq!(owner.get_bearer(APPS, secret).await, 200);
    assert_eq!(emu.tokens().len(), 2);

    emu.advance_clock(Duration::from_secs(601));
    assert_eq!(owner.get_bearer(APPS, secret).await, 401);
    assert_eq!(owner.get_bearer("/api/v1/user/", secret).await, 401);
    // An anonymous-allowed endpoint treats the expired token as no token (64c).
    let org: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/organization/{ORG}", emu.url()))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(org["is_admin"], json!(false));
    assert_eq!(
        owner
            .get_bearer(APPS, long["token"].as_str().unwrap())
            .await,
        200
    );

    let live: Vec<String> = emu.tokens().into_iter().map(|t| t.uuid).collect();
    assert_eq!(live, [long["uuid"].as_str().unwrap()]);
    let list: Value = owner
        .get(&tokens_path(&client_id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        uuids(&list, "tokens"),
        [long["uuid"].as_str().unwrap()],
        "the token API lists unexpired tokens only"
    );
    // Quay's authorizations have no expiry filter: the expired token is still there, and
    // can still be read and revoked.
    let auths: Value = owner
        .get("/api/v1/user/authorizations")
        .await
        .json()
        .await
        .unwrap();
    let mut listed = uuids(&auths, "authorizations");
    listed.sort();
    let mut both = vec![
        short["uuid"].as_str().unwrap().to_string(),
        long["uuid"].as_str().unwrap().to_string(),
    ];
    both.sort();
    assert_eq!(listed, both);
    let one = format!(
        "/api/v1/user/authorizations/{}",
        short["uuid"].as_str().unwrap()
    );
    assert_eq!(owner.get(&one).await.status(), 200);
    assert_eq!(owner.delete(&one).await.status(), 204);
    assert_eq!(owner.get(&one).await.status(), 404);
}

#[tokio::test]
async fn an_expired_token_no_longer_counts_against_the_token_limit() {
    let (emu, client_id) = world().await;
    emu.set_max_tokens_per_app(Some(1));
    let owner = signed_in(&emu).await;
    api_token(
        &owner,
        &client_id,
        json!({"name": "a", "scope": "repo:read", "expiration": 60}),
    )
    .await;
    let body = json!({"name": "b", "scope": "repo:read"});
    let refused = owner.post_json(&tokens_path(&client_id), &body).await;
    assert_eq!(refused.status(), 400);
    emu.advance_clock(Duration::from_secs(61));
    api_token(&owner, &client_id, body).await;
}

#[tokio::test]
async fn web_flow_tokens_live_ten_years_by_the_clock() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu).await;
    let (status, location) = owner.authorizeapp(&client_id, "org:admin", &[]).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location.ends_with("&expires_in=315576000"), "{location}");
    let token = fragment_token(&location).unwrap();
    let info = emu.tokens().remove(0);
    let lifetime = parse_time(info.expires_at.as_deref().unwrap()) - emu.now();
    assert!(
        lifetime <= TEN_YEARS.as_secs_f64() && lifetime > (TEN_YEARS - DAY).as_secs_f64(),
        "{lifetime}"
    );

    emu.advance_clock(TEN_YEARS - DAY);
    assert_eq!(owner.get_bearer(APPS, &token).await, 200);
    emu.advance_clock(DAY + Duration::from_secs(1));
    assert_eq!(owner.get_bearer(APPS, &token).await, 401);
    assert!(emu.tokens().is_empty());
}

#[tokio::test]
async fn created_and_expires_at_are_stamped_by_the_instances_clock() {
    let (emu, client_id) = world().await;
    let year = Duration::from_secs(365 * 86_400);
    let wall = wall_now();
    emu.advance_clock(year);
    // Signed in after the jump: a session would not outlive a year without requests.
    let owner = signed_in(&emu).await;
    let before = emu.now();
    let token = api_token(
        &owner,
        &client_id,
        json!({"name": "t", "scope": "repo:read", "expiration": 3600}),
    )
    .await;
    let after = emu.now();
    let created = parse_time(token["created"].as_str().unwrap());
    let expires = parse_time(token["expires_at"].as_str().unwrap());
    // Microsecond formatting: allow its rounding.
    assert!(
        created >= before - 1e-5 && created <= after + 1e-5,
        "{before} {created} {after}"
    );
    assert!((expires - created - 3600.0).abs() < 1e-3);
    assert!(created >= wall + year.as_secs_f64());

    owner
        .get_bearer(APPS, token["token"].as_str().unwrap())
        .await;
    let list: Value = owner
        .get(&tokens_path(&client_id))
        .await
        .json()
        .await
        .unwrap();
    let accessed = parse_time(list["tokens"][0]["last_accessed"].as_str().unwrap());
    assert!(accessed >= created && accessed <= emu.now() + 1e-5);
}
