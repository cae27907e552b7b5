//! The applications API against the Quay emulator, on a session and with OAuth tokens.

use std::collections::BTreeMap;

use quay_emulator::{Config, Emulator};

use super::{AppApiError, AppConnection, AppFields, Applications};
use crate::quay::{ConnectionSettings, MintRequest, QuayClient};

const ORG: &str = "production";

fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect()
}

async fn quay() -> Emulator {
    let quay = Emulator::start("127.0.0.1:0".parse().unwrap(), Config::default())
        .await
        .unwrap();
    quay.add_user("admin", "Sup3r53cr3L");
    quay.add_user("dwilde", "Dw1ld3Passw0rd");
    quay.add_org(ORG, "admin");
    quay
}

fn session(quay: &Emulator, user: &str, password: &str) -> AppConnection {
    AppConnection::from_secret_data(&data(&[
        ("host", &quay.url()),
        ("username", user),
        ("password", password),
    ]))
    .unwrap()
}

fn bearer(quay: &Emulator, token: &str) -> AppConnection {
    AppConnection::from_secret_data(&data(&[("host", &quay.url()), ("token", token)])).unwrap()
}

/// A token of `admin` with `scope`, minted directly through the emulator's own app.
async fn token_with(quay: &Emulator, scope: &str) -> String {
    let app = quay.add_app(ORG, "minter", None);
    let settings = ConnectionSettings::from_secret_data(&data(&[
        ("host", &quay.url()),
        ("username", "admin"),
        ("password", "Sup3r53cr3L"),
    ]))
    .unwrap();
    let minted = QuayClient::new(None)
        .mint(
            &settings,
            MintRequest {
                client_id: app.client_id,
                scopes: vec![scope.to_owned()],
                name: format!("test-{scope}"),
                expiration: None,
            },
        )
        .await
        .unwrap();
    minted.token.expose().to_owned()
}

fn fields(name: &str) -> AppFields {
    AppFields {
        name: name.into(),
        description: "External application".into(),
        application_uri: "http://applicationuri.example.com".into(),
        redirect_uri: "http://redirecturi.example.com".into(),
        avatar_email: Some("avatar@example.com".into()),
    }
}

/// 67, 67b, 67e, 67f, 67i, 67p, 67q on a session: the whole life of two same-named apps.
#[tokio::test]
async fn the_session_manages_applications_by_client_id() {
    let quay = quay().await;
    let api = Applications::new(QuayClient::new(None), None);
    let conn = session(&quay, "admin", "Sup3r53cr3L");
    let first = api.create(&conn, ORG, &fields("extapp")).await.unwrap();
    let second = api.create(&conn, ORG, &fields("extapp")).await.unwrap();
    assert_ne!(first.client_id, second.client_id, "names repeat (67b)");
    assert_eq!(first.avatar_email.as_deref(), Some("avatar@example.com"));
    assert!(!first.client_secret.is_empty());
    let listed = api.list(&conn, ORG).await.unwrap();
    assert_eq!(listed.len(), 2);
    let mut changed = fields("extapp2");
    changed.avatar_email = None;
    let updated = api
        .update(&conn, ORG, &first.client_id, &changed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.name, "extapp2");
    assert_eq!(updated.avatar_email, None, "PUT replaces (67i)");
    assert_eq!(updated.client_secret, first.client_secret);
    let got = api.get(&conn, ORG, &first.client_id).await.unwrap();
    assert_eq!(got, Some(updated));
    assert!(api.delete(&conn, ORG, &first.client_id).await.unwrap());
    assert!(!api.delete(&conn, ORG, &first.client_id).await.unwrap());
    assert_eq!(api.get(&conn, ORG, &first.client_id).await.unwrap(), None);
    assert_eq!(
        api.update(&conn, ORG, &first.client_id, &changed)
            .await
            .unwrap(),
        None,
        "67k"
    );
    assert_eq!(quay.request_count("POST /api/v1/signin"), 1);
}

/// 67g, 67h, 67r: not an admin and an unknown organization are told apart.
#[tokio::test]
async fn refusals_name_the_organization_problem() {
    let quay = quay().await;
    let api = Applications::new(QuayClient::new(None), None);
    let outsider = session(&quay, "dwilde", "Dw1ld3Passw0rd");
    let err = api.list(&outsider, ORG).await.unwrap_err();
    assert_eq!(err.reason(), "NotOrganizationAdmin");
    assert!(err.to_string().contains("spec.organization"), "{err}");
    assert!(err.to_string().contains("`dwilde`"), "{err}");
    let err = api
        .create(&outsider, "nosuchorg", &fields("x1"))
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "UnknownOrganization");
    assert!(err.to_string().contains("nosuchorg"), "{err}");
    assert!(!err.is_transient());
    let admin = session(&quay, "admin", "Sup3r53cr3L");
    let err = api
        .create(&admin, ORG, &fields("__quay_bootstrap_app"))
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "QuayRejected", "67d");
    assert!(err.to_string().contains("reserved"), "{err}");
    let wrong = session(&quay, "admin", "wrong");
    assert!(
        api.list(&wrong, ORG)
            .await
            .unwrap_err()
            .is_rejected_credential()
    );
}

/// 67m, 67n, 67o, 67p: a token works with org:admin; without it the scope is named.
#[tokio::test]
async fn a_token_needs_org_admin() {
    let quay = quay().await;
    let api = Applications::new(QuayClient::new(None), None);
    let admin_token = token_with(&quay, "org:admin").await;
    let conn = bearer(&quay, &admin_token);
    let created = api.create(&conn, ORG, &fields("byToken")).await.unwrap();
    assert!(
        api.list(&conn, ORG)
            .await
            .unwrap()
            .iter()
            .any(|a| a.client_id == created.client_id)
    );
    assert!(api.delete(&conn, ORG, &created.client_id).await.unwrap());
    let read_token = token_with(&quay, "repo:read").await;
    let err = api
        .create(&bearer(&quay, &read_token), ORG, &fields("nope"))
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "TokenScopeMissing");
    assert!(err.to_string().contains("org:admin"), "{err}");
    assert!(!err.to_string().contains(&read_token));
    let err = api
        .list(&bearer(&quay, "NOTATOKEN0123456789"), ORG)
        .await
        .unwrap_err();
    assert_eq!(err, AppApiError::TokenRejected);
    assert!(err.is_rejected_credential());
    assert_eq!(
        quay.request_count("POST /api/v1/signin"),
        2,
        "only the two mints signed in; token calls never do"
    );
}
