//! End-to-end flows through the HTTP API alone, TLS, and concurrent minting.

mod common;

use std::collections::HashSet;

use common::{Client, fragment_token, seeded, start};
use quay_emulator::{Config, Emulator};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The same setup must work against real Quay, so an empty emulator is driven only over HTTP.
#[tokio::test]
async fn unseeded_emulator_runs_the_whole_flow_over_http() {
    let emu = start().await;
    let base = emu.url();
    let mut admin = Client::new(&base);
    let resp = admin.signup("admin", "Sup3r53cr3L").await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-next-csrf-token"));
    let resp = admin
        .post_json(
            "/api/v1/organization/",
            &json!({"name": "production", "email": "p@example.com"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!("Created"));
    let app: Value = admin
        .post_json(
            "/api/v1/organization/production/applications",
            &json!({"name": "quay-operator", "redirect_uri": format!("{base}/oauth/localapp")}),
        )
        .await
        .json()
        .await
        .unwrap();
    let client_id = app["client_id"].as_str().unwrap().to_string();
    assert_eq!(client_id.len(), 20);
    assert_eq!(app["client_secret"].as_str().unwrap().len(), 40);

    let mut dwilde = Client::new(&base);
    assert_eq!(
        dwilde.signup("dwilde", "Dw1ld3Passw0rd").await.status(),
        200
    );

    // A fresh session signs in, as the operator does.
    let mut op = Client::new(&base);
    assert_eq!(op.signin("admin", "Sup3r53cr3L").await.status(), 200);
    let lookup: Value = op
        .get(&format!("/api/v1/app/{client_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(lookup["organization"]["is_admin"], json!(true));

    let (status, location) = op
        .authorizeapp(&client_id, "repo:read user:read", &[])
        .await;
    assert_eq!(status, StatusCode::FOUND);
    let web_token = fragment_token(&location).expect("token in fragment");
    assert_eq!(op.get_bearer("/api/v1/user/", &web_token).await, 200);

    let minted: Value = op
        .post_json(
            &format!("/api/v1/organization/production/applications/{client_id}/tokens"),
            &json!({"name": "operator-token", "scope": "repo:read,org:admin"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(minted["scope"], json!("repo:read org:admin"));
    let api_token = minted["token"].as_str().unwrap().to_string();
    let api_uuid = minted["uuid"].as_str().unwrap().to_string();

    let list: Value = op
        .get(&format!(
            "/api/v1/organization/production/applications/{client_id}/tokens"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["tokens"].as_array().unwrap().len(), 2);
    assert_eq!(list["tokens"][0]["uuid"], json!(api_uuid), "newest first");

    let auths: Value = op
        .get("/api/v1/user/authorizations")
        .await
        .json()
        .await
        .unwrap();
    let uuids: HashSet<String> = auths["authorizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["uuid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(uuids.len(), 2);
    let web_uuid = uuids.iter().find(|u| **u != api_uuid).unwrap().clone();

    assert_eq!(
        op.delete(&format!("/api/v1/user/authorizations/{web_uuid}"))
            .await
            .status(),
        204
    );
    assert_eq!(op.get_bearer("/api/v1/user/", &web_token).await, 401);
    assert_eq!(
        op.delete(&format!("/api/v1/user/authorizations/{web_uuid}"))
            .await
            .status(),
        404
    );
    let path =
        format!("/api/v1/organization/production/applications/{client_id}/tokens/{api_uuid}");
    assert_eq!(op.delete(&path).await.status(), 204);
    assert_eq!(
        op.get_bearer("/api/v1/organization/production/applications", &api_token)
            .await,
        401
    );
    assert!(emu.tokens().is_empty());

    // Token assignment to dwilde, redeemed with dwilde's own session.
    let resp = op
        .http
        .post(format!("{base}/oauth/authorize/assignuser"))
        .query(&[
            ("response_type", "token"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", &format!("{base}/oauth/localapp")),
            ("scope", "repo:read user:read"),
            ("username", "dwilde"),
            ("format", "json"),
        ])
        .header("X-CSRF-Token", &op.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let assigned: Value = dwilde
        .get("/api/v1/user/assignedauthorization")
        .await
        .json()
        .await
        .unwrap();
    let assignment = assigned["authorizations"][0]["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(emu.assignments().len(), 1);
    let (status, location) = dwilde
        .authorizeapp(
            &client_id,
            "repo:read user:read",
            &[("assignment_uuid", &assignment)],
        )
        .await;
    assert_eq!(status, StatusCode::FOUND);
    let dwilde_token = fragment_token(&location).expect("token for dwilde");
    let me: Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/user/"))
        .bearer_auth(&dwilde_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], json!("dwilde"));
    assert!(emu.assignments().is_empty());
    assert_eq!(emu.tokens()[0].user, "dwilde");
}

/// Other engineers' HTTPS tests trust the CA the emulator hands out.
#[tokio::test]
async fn tls_serves_a_certificate_signed_by_the_returned_ca() {
    let config = Config {
        tls: true,
        ..Config::default()
    };
    let emu = Emulator::start(common::loopback(), config).await.unwrap();
    assert!(emu.url().starts_with("https://127.0.0.1:"));
    let pem = emu.ca_cert_pem().expect("CA when TLS is on");
    let ca = reqwest::Certificate::from_pem(pem.as_bytes()).unwrap();
    let mut client = Client::with_builder(
        &emu.url(),
        reqwest::Client::builder().add_root_certificate(ca),
    );
    emu.add_user("admin", "pw");
    assert_eq!(client.signin("admin", "pw").await.status(), 200);
    let untrusted = reqwest::Client::new()
        .get(format!("{}/csrf_token", emu.url()))
        .send()
        .await;
    assert!(
        untrusted.is_err(),
        "a client without the CA must refuse the certificate"
    );
}

/// The operator mints in parallel for many resources; each must get its own token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_clients_get_fifty_distinct_valid_tokens() {
    let (emu, client_id) = seeded().await;
    let base = emu.url();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (base, client_id) = (base.clone(), client_id.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = Client::new(&base);
            assert_eq!(c.signin("admin", "Sup3r53cr3L").await.status(), 200);
            let (status, location) = c.authorizeapp(&client_id, "repo:read user:read", &[]).await;
            assert_eq!(status, StatusCode::FOUND);
            let token = fragment_token(&location).expect("token");
            assert_eq!(c.get_bearer("/api/v1/user/", &token).await, 200);
            token
        }));
    }
    let mut tokens = HashSet::new();
    for t in tasks {
        tokens.insert(t.await.unwrap());
    }
    assert_eq!(tokens.len(), 50);
    let live: HashSet<String> = emu.tokens().into_iter().map(|t| t.token).collect();
    assert_eq!(live, tokens);
    assert_eq!(emu.request_count("POST /oauth/authorizeapp"), 50);
}
