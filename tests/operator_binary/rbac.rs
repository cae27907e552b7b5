//! The binary runs with the chart's ServiceAccount and nothing else: the chart's RBAC is enough
//! for create → Ready → delete (leader election included), and no more than that is granted.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::Api;
use kube::api::PostParams;
use quay_apitoken_operator::crd::ApiToken;
use quay_apitoken_operator::reference_grants::ReferenceGrant;

use crate::chart::{apply_rbac, fullname, release_name};
use crate::identity::service_account_kubeconfig;
use crate::process::{OperatorProcess, sample};
use crate::support::ApiTokenFixture;
use crate::support::wait_for;
use crate::world::{PATIENCE, World, token_id};

const LEASE_TIMING: &[&str] = &[
    "--lease-duration-seconds",
    "4",
    "--renew-deadline-seconds",
    "3",
    "--retry-period-seconds",
    "1",
];

/// Installs the chart's RBAC for a release in the world's namespace (watching only it when
/// `namespaced`), then runs the binary as the chart's ServiceAccount with leader election on the
/// chart's Lease, and takes one ApiToken through its whole life.
async fn lifecycle_with_chart_rbac(prefix: &str, namespaced: bool) {
    let world = World::start(prefix).await;
    let ns = world.ns.name.clone();
    let release = release_name(prefix);
    let sa_name = fullname(&release);
    let mut sets = Vec::new();
    if namespaced {
        sets.push(format!("watchNamespaces={{{ns}}}"));
    }
    let rbac = apply_rbac(&release, &ns, &sets);
    let cluster_roles = rbac.iter().filter(|d| d["kind"] == "ClusterRole").count();
    assert_eq!(cluster_roles, usize::from(!namespaced), "{rbac:?}");
    let sa = service_account_kubeconfig(&world.ns.client, &ns, &sa_name).await;

    let mut args = vec![
        "--namespaces",
        &ns,
        "--leader-elect",
        "--lease-namespace",
        &ns,
        "--lease-name",
        &sa_name,
        "--identity",
        "chart-rbac-replica",
    ];
    args.extend_from_slice(LEASE_TIMING);
    let mut operator = OperatorProcess::start(prefix, &sa.path(), &args);
    operator.wait_serving().await;
    wait_for(
        PATIENCE,
        "the operator leads on the chart's Lease",
        || async { operator.is_leader().await.filter(|l| *l) },
    )
    .await;
    operator.wait_ready().await;

    world.create_token("tok").await;
    let ready = world.wait_ready("tok", PATIENCE).await;
    let value = world
        .access_token("tok")
        .await
        .unwrap_or_else(|| panic!("no result Secret for a Ready ApiToken"));
    assert!(world.is_live_in_quay(&value), "the minted token is live");
    let id = token_id(&ready).unwrap_or_else(|| panic!("Ready without a token id"));
    // The one the finalizer's write woke minted; its own result Secret write wakes nobody, so
    // a second (wrong) mint would have been in these two.
    wait_for(
        PATIENCE,
        "the reconcile the finalizer's write wakes",
        || async { (operator.reconciles().await >= 2.0).then_some(()) },
    )
    .await;
    let live: Vec<String> = world.quay.tokens().into_iter().map(|t| t.uuid).collect();
    assert_eq!(live, vec![id], "exactly the recorded token is live in Quay");
    assert_eq!(
        operator.sample("quay_apitoken_tokens_minted_total").await,
        Some(1.0),
        "one mint for one ApiToken"
    );

    world.delete_and_wait("tok").await;
    assert!(!world.is_live_in_quay(&value), "the token was revoked");
    assert!(world.quay.tokens().is_empty(), "nothing left in Quay");
    let secret = world.secrets_in(&ns).get_opt("tok").await.unwrap();
    assert!(secret.is_none(), "the result Secret is deleted");

    let metrics = operator.metrics().await;
    assert_eq!(
        sample(&metrics, "quay_apitoken_tokens_minted_total"),
        Some(1.0)
    );
    assert_eq!(
        sample(&metrics, "quay_apitoken_tokens_revoked_total"),
        Some(1.0)
    );
    assert!(operator.is_running(), "the operator is still up");
    let log = operator.log_text().to_lowercase();
    assert!(
        !log.contains("forbidden"),
        "the chart's RBAC left something forbidden:\n{log}"
    );
    let lease: Api<Lease> = Api::namespaced(world.ns.client.clone(), &ns);
    let holder = lease
        .get(&sa_name)
        .await
        .unwrap()
        .spec
        .and_then(|s| s.holder_identity);
    assert_eq!(holder.as_deref(), Some("chart-rbac-replica"));
}

/// Namespaced mode: one Role and RoleBinding in the watched namespace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaced_chart_rbac_runs_the_whole_lifecycle() {
    lifecycle_with_chart_rbac("bin-rbac-ns", true).await;
}

/// Cluster mode: the ClusterRole and ClusterRoleBinding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_chart_rbac_runs_the_whole_lifecycle() {
    lifecycle_with_chart_rbac("bin-rbac-cl", false).await;
}

/// The status code of a refused request, or a panic naming what was unexpectedly allowed.
fn refused<T: std::fmt::Debug>(what: &str, result: Result<T, kube::Error>) -> u16 {
    match result {
        Err(kube::Error::Api(status)) => status.code,
        Err(other) => panic!("{what}: not an API refusal: {other}"),
        Ok(value) => panic!("{what} was allowed: {value:?}"),
    }
}

/// In namespaced mode the ServiceAccount reads Secrets of its namespace only, never creates
/// ApiTokens, and touches no Lease but its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaced_chart_rbac_denies_what_it_does_not_grant() {
    let world = World::start("bin-deny").await;
    let ns = world.ns.name.clone();
    let outside = quay_testenv::create_namespace(&world.ns.client, "bin-deny-out")
        .await
        .unwrap();
    world
        .put_secret(
            &outside,
            "elsewhere",
            BTreeMap::from([("k".into(), "v".into())]),
        )
        .await;
    let release = release_name("deny");
    apply_rbac(&release, &ns, &[format!("watchNamespaces={{{ns}}}")]);
    let sa = service_account_kubeconfig(&world.ns.client, &ns, &fullname(&release)).await;
    let client = sa.client().await;

    // The token works: what the chart grants is allowed (RBAC may take a moment to settle).
    let own: Api<Secret> = Api::namespaced(client.clone(), &ns);
    wait_for(
        Duration::from_secs(10),
        "reading a watched Secret",
        || async { own.get(crate::world::CONN_SECRET).await.ok() },
    )
    .await;

    let other: Api<Secret> = Api::namespaced(client.clone(), &outside);
    assert_eq!(
        refused("get a Secret outside", other.get("elsewhere").await),
        403
    );
    let all: Api<Secret> = Api::all(client.clone());
    assert_eq!(
        refused(
            "list Secrets cluster-wide",
            all.list(&Default::default()).await
        ),
        403
    );
    let tokens: Api<ApiToken> = Api::namespaced(client.clone(), &ns);
    let token = ApiTokenFixture::new("not-mine")
        .connection("x")
        .client_id("y")
        .build();
    assert_eq!(
        refused(
            "create an ApiToken",
            tokens.create(&PostParams::default(), &token).await
        ),
        403
    );
    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns);
    assert_eq!(
        refused("get another Lease", leases.get("someone-else").await),
        403
    );
    // It reads the namespace's consent, and can never give itself one.
    let grants: Api<ReferenceGrant> = Api::namespaced(client.clone(), &ns);
    grants
        .list(&Default::default())
        .await
        .expect("list ReferenceGrants");
    let grant: ReferenceGrant = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "self-granted", "namespace": ns},
        "spec": {"from": [{"group": "quay.herve4m.github.io", "kind": "ApiToken", "namespace": outside}],
                 "to": [{"group": "", "kind": "Secret"}]},
    }))
    .unwrap();
    assert_eq!(
        refused(
            "create a ReferenceGrant",
            grants.create(&PostParams::default(), &grant).await
        ),
        403
    );
    let namespaces: Api<Namespace> = Api::all(client);
    assert_eq!(
        refused(
            "list Namespaces",
            namespaces.list(&Default::default()).await
        ),
        403
    );
}
