//! Current Quay as teams use it (protocol §15): an organization owner who is not a Quay
//! superuser, long names, more tokens than one page, and Quay's own words for a refusal.
//! Every scenario runs on both flavours: the token API (Quay ≥ 3.18) and the web flow.

use crate::env::*;
use kube::ResourceExt;
use kube::api::{Patch, PatchParams};
use quay_apitoken_operator::reconcile::naming::token_name;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The seven scopes of `all` that an account without superuser status can hold.
const SEVEN: [&str; 7] = [
    "org:admin",
    "repo:admin",
    "repo:create",
    "repo:read",
    "repo:write",
    "user:admin",
    "user:read",
];

fn options(token_api: bool) -> Options {
    Options {
        token_api,
        ..Options::default()
    }
}

fn flavour_name(token_api: bool) -> &'static str {
    if token_api { "tokenapi" } else { "webflow" }
}

/// The documented usage example (`rights: [all]`) with an ordinary org owner: Ready, seven
/// scopes in Quay and in status, and one event saying `super:user` was left out.
async fn documented_example_with_an_ordinary_owner(token_api: bool) {
    crate::capture::install();
    let env = Env::start_with(
        &format!("e2e-all-{}", flavour_name(token_api)),
        options(token_api),
    )
    .await;
    env.create_seed_example("apitoken-sample", "quay-credentials-secret")
        .await;
    let token = env.wait_ready("apitoken-sample").await;
    let record = token.status.clone().unwrap().token.unwrap();
    let recorded: BTreeSet<&str> = record.scopes.iter().map(String::as_str).collect();
    assert_eq!(
        recorded,
        BTreeSet::from(SEVEN),
        "status records the granted scopes"
    );
    let value = env
        .secret_data(&env.ns.name, "quay-credentials-secret")
        .await
        .unwrap()["accessToken"]
        .clone();
    let live = env
        .quay
        .tokens()
        .into_iter()
        .find(|t| t.token == value)
        .expect("the Secret's token is live");
    let minted: BTreeSet<&str> = live.scopes.iter().map(String::as_str).collect();
    assert_eq!(minted, BTreeSet::from(SEVEN), "Quay holds the seven scopes");
    let events = env.events("apitoken-sample").await;
    let left_out: Vec<_> = events
        .iter()
        .filter(|(_, reason, _)| reason == "ScopesLeftOut")
        .collect();
    assert_eq!(left_out.len(), 1, "said once: {events:?}");
    assert!(
        left_out[0].2.contains("super:user") && left_out[0].2.contains(ADMIN),
        "{left_out:?}"
    );
}

#[tokio::test]
async fn documented_example_is_ready_for_an_ordinary_owner_token_api() {
    documented_example_with_an_ordinary_owner(true).await;
}

#[tokio::test]
async fn documented_example_is_ready_for_an_ordinary_owner_web_flow() {
    documented_example_with_an_ordinary_owner(false).await;
}

/// A superuser's `all` is still all eight scopes.
#[tokio::test]
async fn all_for_a_superuser_is_eight_scopes() {
    crate::capture::install();
    let env = Env::start("e2e-all-super").await;
    env.quay.set_superuser(ADMIN, true);
    env.create_seed_example("super", "super-secret").await;
    let token = env.wait_ready("super").await;
    let record = token.status.unwrap().token.unwrap();
    assert_eq!(record.scopes.len(), 8, "{:?}", record.scopes);
    assert!(record.scopes.iter().any(|s| s == "super:user"));
    let events = env.events("super").await;
    assert!(
        events
            .iter()
            .all(|(_, reason, _)| reason != "ScopesLeftOut"),
        "{events:?}"
    );
}

/// An explicit `super:user` that the account cannot hold: its own reason, naming the right and
/// the account, nothing minted, and not the misleading "not an administrator".
async fn explicit_super_user_is_refused(token_api: bool) {
    crate::capture::install();
    let env = Env::start_with(
        &format!("e2e-su-{}", flavour_name(token_api)),
        options(token_api),
    )
    .await;
    env.create_token(env.apitoken("su").rights(["super:user", "repo:read"]))
        .await;
    let token = env.wait_reason("su", "RightNotHeld").await;
    let text = message(&token);
    assert!(
        text.contains("super:user") && text.contains(&format!("`{ADMIN}`")),
        "{text}"
    );
    assert!(!text.contains("not an administrator"), "{text}");
    assert!(env.quay.tokens().is_empty(), "nothing was minted");
    let status = token.status.unwrap();
    assert!(
        status.pending_mint.is_none(),
        "a refused right leaves no intent"
    );
}

#[tokio::test]
async fn explicit_super_user_is_refused_token_api() {
    explicit_super_user_is_refused(true).await;
}

#[tokio::test]
async fn explicit_super_user_is_refused_web_flow() {
    explicit_super_user_is_refused(false).await;
}

/// A namespace of 63 characters and a name of 253: Ready, and a token name within Quay's 255.
/// On the token API a crash between mint and record is still recovered by that name.
async fn longest_names(token_api: bool) {
    crate::capture::install();
    // create_namespace appends "-xxxxxx": 56 + 7 = 63 characters.
    let prefix = format!("e2e-long-{}-", flavour_name(token_api));
    let prefix = format!("{prefix}{}", "n".repeat(56 - prefix.len()));
    let mut env = Env::start_with(&prefix, options(token_api)).await;
    assert_eq!(env.ns.name.len(), 63);
    let name = format!("long-{}", "x".repeat(248));
    assert_eq!(name.len(), 253);
    env.create_token(env.apitoken(&name).secret("long-result"))
        .await;
    let minted = env.wait_ready(&name).await;
    let first = token_id(&minted).unwrap();
    let events = env.events(&name).await;
    assert!(
        events.iter().any(|(_, reason, _)| reason == "Minted"),
        "events are published for the longest names too: {events:?}"
    );
    if token_api {
        let live = env.quay.tokens();
        let named = live[0].name.clone().expect("the token API names tokens");
        assert!(named.chars().count() <= 255, "{} characters", named.len());
        assert!(
            named.starts_with(&format!("k8s:{}/long-xxx", env.ns.name)),
            "{named}"
        );
    }
    if !token_api {
        return;
    }

    // A crash after Quay minted, before status recorded it: the intent names the token.
    env.stop_operator().await;
    let uid = minted.uid().unwrap();
    let intended = token_name(&env.ns.name, &name, &uid, "0000dead");
    let settings = env.admin_settings();
    let orphan = env.mint_directly(&intended).await;
    let pending = json!({"status": {"pendingMint": {
        "name": intended, "host": settings.host_string(), "username": ADMIN,
        "clientId": env.app.client_id, "startedAt": "2026-11-29T00:00:00Z"}}});
    env.tokens()
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(&pending))
        .await
        .unwrap();
    env.start_operator().await;
    let healed = env
        .wait_token(&name, "the pending intent resolved", |t| {
            ready(t) == Some(true) && t.status.as_ref().is_some_and(|s| s.pending_mint.is_none())
        })
        .await;
    assert_eq!(token_id(&healed).as_deref(), Some(first.as_str()));
    env.wait_only_live(&first).await;
    let events = env.events(&name).await;
    assert!(
        events
            .iter()
            .any(|(_, r, n)| r == "MintInterrupted" && n.contains(&orphan.id)),
        "{events:?}"
    );
}

#[tokio::test]
async fn longest_namespace_and_name_token_api() {
    longest_names(true).await;
}

#[tokio::test]
async fn longest_namespace_and_name_web_flow() {
    longest_names(false).await;
}

/// Quay's explanation of a 400 reaches the status message, short, instead of a bare status.
async fn quay_400_is_explained(token_api: bool) {
    crate::capture::install();
    let env = Env::start_with(
        &format!("e2e-400-{}", flavour_name(token_api)),
        options(token_api),
    )
    .await;
    let endpoint = if token_api {
        "POST /api/v1/organization/{org}/applications/{client_id}/tokens"
    } else {
        "GET /api/v1/user/authorizations"
    };
    let long = "q".repeat(300);
    env.quay.set_faults(quay_emulator::Faults {
        rules: vec![quay_emulator::FaultRule {
            endpoint: Some(endpoint.to_owned()),
            answer: Some(quay_emulator::FaultAnswer {
                status: 400,
                body: json!({
                    "error_message": format!("'{long}' is not accepted here\n\nFailed validating"),
                    "error_type": "invalid_request",
                    "status": 400,
                })
                .to_string(),
            }),
            ..Default::default()
        }],
    });
    env.create_token(env.apitoken("refused")).await;
    let token = env.wait_reason("refused", "QuayRejected").await;
    let text = message(&token);
    assert!(text.contains("is not accepted here"), "{text}");
    assert!(text.contains("HTTP 400"), "{text}");
    assert!(
        !text.contains(&long),
        "the long input is not echoed: {text}"
    );
    assert!(text.chars().count() < 400, "{text}");
    assert!(!text.contains("Failed validating"), "one sentence: {text}");
}

#[tokio::test]
async fn quay_400_is_explained_token_api() {
    quay_400_is_explained(true).await;
}

#[tokio::test]
async fn quay_400_is_explained_web_flow() {
    quay_400_is_explained(false).await;
}

/// 120 ApiTokens on one application, more than a page of Quay's token list (50): after three
/// verification passes nothing was minted again and no Secret changed.
async fn more_tokens_than_a_page(token_api: bool) {
    crate::capture::install();
    let verify = Duration::from_secs(3);
    let env = Env::start_with(
        &format!("e2e-page-{}", flavour_name(token_api)),
        Options {
            token_api,
            verify_interval: verify,
            ..Options::default()
        },
    )
    .await;
    const COUNT: usize = 120;
    for i in 0..COUNT {
        env.create(
            &format!("t{i:03}"),
            json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": env.app.client_id}),
        )
        .await;
    }
    let list_endpoint = if token_api {
        "GET /api/v1/organization/{org}/applications/{client_id}/tokens"
    } else {
        "GET /api/v1/user/authorizations"
    };
    let minted = || env.operator().counter("quay_apitoken_tokens_minted_total");
    crate::support::wait_for(Duration::from_secs(120), "120 tokens minted", || async {
        (minted() as usize == COUNT).then_some(())
    })
    .await;
    for i in 0..COUNT {
        env.wait_ready(&format!("t{i:03}")).await;
    }
    assert_eq!(env.quay.tokens().len(), COUNT);
    let versions = |env: &Env| {
        let api = env.secrets_in(&env.ns.name);
        async move {
            api.list(&Default::default())
                .await
                .unwrap()
                .items
                .into_iter()
                .filter(|s| s.name_any().starts_with('t'))
                .map(|s| (s.name_any(), s.resource_version().unwrap_or_default()))
                .collect::<BTreeMap<_, _>>()
        }
    };
    let before = versions(&env).await;
    assert_eq!(before.len(), COUNT);
    // A pass reads the whole list: three pages on the token API, one on the web flow.
    let pages_per_pass = if token_api { COUNT.div_ceil(50) } else { 1 } as u64;
    let lists_before = env.quay.request_count(list_endpoint);
    crate::support::wait_for(verify * 20, "three verification passes", || async {
        (env.quay.request_count(list_endpoint) >= lists_before + 3 * pages_per_pass).then_some(())
    })
    .await;
    assert_eq!(minted() as usize, COUNT, "no token was minted again");
    assert_eq!(env.quay.tokens().len(), COUNT, "every token is still live");
    assert_eq!(versions(&env).await, before, "every Secret unchanged");
}

#[tokio::test]
async fn more_tokens_than_a_page_are_kept_token_api() {
    more_tokens_than_a_page(true).await;
}

#[tokio::test]
async fn more_tokens_than_a_page_are_kept_web_flow() {
    more_tokens_than_a_page(false).await;
}
