//! The ApiToken CRD on a real API server: it installs, applies defaults, rejects bad input with
//! messages that name the problem, and reads well in kubectl.

mod support;

use kube::Api;
use kube::api::{DynamicObject, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};
use support::{TestNs, kubectl};

fn apitoken_api(ns: &TestNs) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("quay.herve4m.github.io", "v1alpha1", "ApiToken");
    Api::namespaced_with(ns.client.clone(), &ns.name, &ApiResource::from_gvk(&gvk))
}

fn apitoken(name: &str, spec: Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "quay.herve4m.github.io/v1alpha1",
        "kind": "ApiToken",
        "metadata": {"name": name},
        "spec": spec,
    }))
    .unwrap()
}

/// The seed's own usage example must be accepted as written, and the server fills in the defaults.
#[tokio::test]
async fn seed_example_is_accepted_and_defaults_are_filled_in() {
    let ns = TestNs::new("crd-seed").await;
    let api = apitoken_api(&ns);
    let created = api
        .create(
            &PostParams::default(),
            &apitoken(
                "apitoken-sample",
                json!({
                    "connSecretRef": {"name": "quay-credentials"},
                    "clientIdFrom": {"name": "application-secret", "key": "clientId"},
                    "rights": ["all"],
                    "retSecretRef": {"name": "quay-credentials-secret"}
                }),
            ),
        )
        .await
        .unwrap();
    assert_eq!(created.data["spec"]["rights"], json!(["all"]));
    assert_eq!(
        created.data["spec"]["preserveInQuayOnDeletion"],
        json!(false)
    );

    let minimal = api
        .create(
            &PostParams::default(),
            &apitoken(
                "minimal",
                json!({"connSecretRef": {"name": "c"}, "clientIdFrom": {"name": "app"}}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(minimal.data["spec"]["rights"], json!(["repo:read"]));
    assert_eq!(
        minimal.data["spec"]["preserveInQuayOnDeletion"],
        json!(false)
    );
    assert_eq!(
        minimal.data["spec"]["clientIdFrom"]["key"],
        json!("clientId")
    );

    let inline = api
        .create(
            &PostParams::default(),
            &apitoken(
                "inline",
                json!({"connSecretRef": {"name": "c"}, "clientId": "PZ6F80R1LCVPGYNZGSZQ"}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        inline.data["spec"]["clientId"],
        json!("PZ6F80R1LCVPGYNZGSZQ")
    );
}

/// Each invalid spec the schema can express is refused by the API server with a message naming it.
#[tokio::test]
async fn invalid_apitokens_are_rejected_with_a_message_naming_the_problem() {
    let ns = TestNs::new("crd-invalid").await;
    let api = apitoken_api(&ns);
    let cases = [
        (
            "both",
            json!({"connSecretRef": {"name": "c"}, "clientId": "X", "clientIdFrom": {"name": "a"}}),
            "exactly one of clientId and clientIdFrom",
        ),
        (
            "neither",
            json!({"connSecretRef": {"name": "c"}}),
            "exactly one of clientId and clientIdFrom",
        ),
        (
            "unknown-right",
            json!({"connSecretRef": {"name": "c"}, "clientId": "X", "rights": ["repo:read", "repo:delete"]}),
            "spec.rights[1]",
        ),
        (
            "empty-rights",
            json!({"connSecretRef": {"name": "c"}, "clientId": "X", "rights": []}),
            "spec.rights",
        ),
        ("no-conn", json!({"clientId": "X"}), "spec.connSecretRef"),
        (
            "no-conn-name",
            json!({"connSecretRef": {"namespace": "x"}, "clientId": "X"}),
            "spec.connSecretRef.name",
        ),
        (
            "ret-without-name",
            json!({"connSecretRef": {"name": "c"}, "clientId": "X", "retSecretRef": {"namespace": "y"}}),
            "spec.retSecretRef.name",
        ),
        (
            "rights-not-list",
            json!({"connSecretRef": {"name": "c"}, "clientId": "X", "rights": "all"}),
            "spec.rights",
        ),
        (
            "empty-conn-name",
            json!({"connSecretRef": {"name": ""}, "clientId": "X"}),
            "name must not be empty",
        ),
        (
            "client-id-from-without-name",
            json!({"connSecretRef": {"name": "c"}, "clientIdFrom": {"key": "k"}}),
            "spec.clientIdFrom.name",
        ),
        (
            "empty-client-id",
            json!({"connSecretRef": {"name": "c"}, "clientId": ""}),
            "clientId must not be empty",
        ),
        (
            "preserve-not-bool",
            json!({"connSecretRef": {"name": "c"}, "clientId": "X", "preserveInQuayOnDeletion": "maybe"}),
            "spec.preserveInQuayOnDeletion",
        ),
    ];
    for (name, spec, expected) in cases {
        let err = api
            .create(&PostParams::default(), &apitoken(name, spec))
            .await
            .expect_err(&format!(
                "{name}: the API server accepted an invalid ApiToken"
            ));
        let message = match err {
            kube::Error::Api(status) => status.message,
            other => panic!("{name}: unexpected error {other}"),
        };
        assert!(
            message.contains(expected),
            "{name}: message {message:?} does not name {expected:?}"
        );
    }
}

/// `kubectl get` shows the printer columns and `kubectl explain` prints the seed's description.
#[tokio::test]
async fn kubectl_shows_columns_and_explains_fields() {
    let ns = TestNs::new("crd-kubectl").await;
    apitoken_api(&ns)
        .create(
            &PostParams::default(),
            &apitoken(
                "shown",
                json!({"connSecretRef": {"name": "c"}, "clientId": "X"}),
            ),
        )
        .await
        .unwrap();
    let (ok, out, err) = kubectl(&["get", "apitokens.quay.herve4m.github.io", "-n", &ns.name]);
    assert!(ok, "kubectl get failed: {err}");
    let header: Vec<&str> = out
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["NAME", "READY", "SECRET", "MESSAGE", "AGE"],
        "{out}"
    );
    assert!(out.contains("shown"), "{out}");

    let (ok, out, _) = kubectl(&["get", "quay", "-n", &ns.name, "-o", "wide"]);
    assert!(
        ok && out.contains("SUCCESS") && out.contains("shown"),
        "category quay lists ApiTokens: {out}"
    );

    // The API server publishes a new CRD's OpenAPI a moment after it is Established.
    let seed_text =
        "List of permissions to grant to the user account. all means all the permissions.";
    let mut last = String::new();
    for _ in 0..50 {
        let (ok, out, err) = kubectl(&["explain", "apitoken.spec.rights"]);
        last = format!("{out}{err}");
        let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
        if ok && flat.contains(seed_text) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("kubectl explain never printed the seed's description: {last}");
}
