//! Each instance has its own clock: set ahead by the config, moved over HTTP.

use super::*;

#[tokio::test]
async fn each_instance_has_its_own_clock() {
    let (a, a_app) = world().await;
    let (b, b_app) = world().await;
    let (a_owner, b_owner) = (signed_in(&a).await, signed_in(&b).await);
    let body = json!({"name": "t", "scope": "org:admin", "expiration": 600});
    let a_token = api_token(&a_owner, &a_app, body.clone()).await;
    let b_token = api_token(&b_owner, &b_app, body).await;
    a.advance_clock(Duration::from_secs(3600));
    assert!(a.now() > b.now() + 3599.0);
    let (a_secret, b_secret) = (
        a_token["token"].as_str().unwrap(),
        b_token["token"].as_str().unwrap(),
    );
    assert_eq!(a_owner.get_bearer(APPS, a_secret).await, 401);
    assert_eq!(b_owner.get_bearer(APPS, b_secret).await, 200);
}

#[tokio::test]
async fn config_starts_the_clock_ahead() {
    let config = Config {
        clock_offset: TEN_YEARS,
        ..Config::default()
    };
    let wall = wall_now();
    let emu = Emulator::start(loopback(), config).await.unwrap();
    assert!(emu.now() >= wall + TEN_YEARS.as_secs_f64());
    let state: Value = reqwest::get(format!("{}/_emulator/clock", emu.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["offset_s"], json!(TEN_YEARS.as_secs_f64()));
}

#[tokio::test]
async fn another_process_moves_the_clock_over_http() {
    let (emu, client_id) = world().await;
    let owner = signed_in(&emu).await;
    let token = api_token(
        &owner,
        &client_id,
        json!({"name": "t", "scope": "org:admin", "expiration": 600}),
    )
    .await;
    let secret = token["token"].as_str().unwrap();
    let http = reqwest::Client::new();
    let advance = |body: &'static str| {
        http.post(format!("{}/_emulator/clock/advance", emu.url()))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let before = emu.now();
    let resp = advance(r#"{"seconds": 601}"#).await.unwrap();
    assert_eq!(resp.status(), 200);
    let clock: Value = resp.json().await.unwrap();
    assert_eq!(clock["offset_s"], json!(601.0));
    assert!(clock["now"].as_f64().unwrap() >= before + 601.0);
    assert_eq!(owner.get_bearer(APPS, secret).await, 401);

    for bad in [
        r#"{"seconds": -1}"#,
        r#"{"secs": 1}"#,
        "nonsense",
        r#"{"seconds": "1"}"#,
    ] {
        let resp = advance(bad).await.unwrap();
        assert_eq!(resp.status(), 400, "{bad}");
        let err: Value = resp.json().await.unwrap();
        assert!(err["error"].as_str().unwrap().contains("seconds"), "{err}");
    }
    let read: Value = http
        .get(format!("{}/_emulator/clock", emu.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["offset_s"], json!(601.0), "bad requests moved nothing");
    let state: Value = http
        .get(format!("{}/_emulator/state", emu.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["clock"]["offset_s"], json!(601.0));
    assert!(
        emu.request_counts()
            .keys()
            .all(|k| !k.contains("_emulator")),
        "the emulator's own routes are not Quay's and are not counted"
    );
}
