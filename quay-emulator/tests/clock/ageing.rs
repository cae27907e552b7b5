//! Sessions, the sign-in back-off and page cursors age with the clock.

use super::*;

#[tokio::test]
async fn a_session_ends_after_31_days_without_a_request() {
    let (emu, _) = world().await;
    let owner = signed_in(&emu).await;
    // Each answer re-sends the permanent session's cookie and renews its lifetime.
    for _ in 0..3 {
        emu.advance_clock(30 * DAY);
        assert_eq!(owner.get("/api/v1/user/").await.status(), 200);
    }
    emu.advance_clock(31 * DAY + Duration::from_secs(1));
    assert_eq!(owner.get("/api/v1/user/").await.status(), 401);
    // Its CSRF token went with it, so a write is refused too.
    let resp = owner.post_json(APPS, &json!({"name": "x"})).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.text().await.unwrap(),
        "{\"error\": \"CSRF token was invalid or missing.\"}"
    );
    // Signing in again works.
    let again = signed_in(&emu).await;
    assert_eq!(again.get("/api/v1/user/").await.status(), 200);
}

#[tokio::test]
async fn the_sign_in_back_off_window_passes_with_the_clock() {
    let (emu, _) = world().await;
    let mut c = Client::new(&emu.url());
    // Each failure outside the window doubles it: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s.
    for window_s in [1, 2, 4, 8, 16] {
        assert_eq!(c.signin(OWNER, "wrong").await.status(), 403);
        emu.advance_clock(Duration::from_secs(window_s));
    }
    assert_eq!(c.signin(OWNER, "wrong").await.status(), 403);
    let resp = c.signin(OWNER, OWNER_PW).await;
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry <= 31 && retry > 0, "{retry}");
    emu.advance_clock(Duration::from_secs(32));
    assert_eq!(c.signin(OWNER, OWNER_PW).await.status(), 200);
}

#[tokio::test]
async fn a_page_cursor_expires_after_two_days() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu).await;
    for i in 0..51 {
        api_token(
            &owner,
            &client_id,
            json!({"name": format!("t{i}"), "scope": "repo:read"}),
        )
        .await;
    }
    let first: Value = owner
        .get(&tokens_path(&client_id))
        .await
        .json()
        .await
        .unwrap();
    let cursor: String =
        url::form_urlencoded::byte_serialize(first["next_page"].as_str().unwrap().as_bytes())
            .collect();
    let next = format!("{}?next_page={cursor}", tokens_path(&client_id));
    let last: Value = owner.get(&next).await.json().await.unwrap();
    assert_eq!(last["tokens"].as_array().unwrap().len(), 1);
    emu.advance_clock(2 * DAY + Duration::from_secs(60));
    // A cursor that does not open reads as none: the first page again.
    let stale: Value = owner.get(&next).await.json().await.unwrap();
    assert_eq!(stale["tokens"].as_array().unwrap().len(), 50);
    assert!(stale.get("next_page").is_some());
}
