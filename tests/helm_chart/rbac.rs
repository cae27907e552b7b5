//! RBAC: exactly the verbs the controller needs, cluster-wide or per watched namespace, and
//! leases only for our own Lease.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::render::{FULLNAME, NAMESPACE, args, objects, one, render};

/// (apiGroup, resource, sorted verbs, resourceNames) per rule, so comparisons ignore order.
fn rules(role: &Value) -> BTreeSet<(String, String, Vec<String>, Vec<String>)> {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = BTreeSet::new();
    for rule in role["rules"].as_array().expect("rules") {
        let mut verbs = strings(&rule["verbs"]);
        verbs.sort();
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                out.insert((
                    group.clone(),
                    resource,
                    verbs.clone(),
                    strings(&rule["resourceNames"]),
                ));
            }
        }
    }
    out
}

/// One rule in the shape [`rules`] returns, without resourceNames.
fn rule(group: &str, resource: &str, verbs: &[&str]) -> (String, String, Vec<String>, Vec<String>) {
    let mut verbs: Vec<String> = verbs.iter().map(|v| (*v).to_owned()).collect();
    verbs.sort();
    (group.to_owned(), resource.to_owned(), verbs, Vec::new())
}

/// The rules of the ClusterRole the default values render. Which ones the code needs is not
/// kept here: tests/operator_binary/pod_rights.rs runs the operator with them and fails on a
/// rule it never uses as on a request refused.
fn cluster_rules() -> BTreeSet<(String, String, Vec<String>, Vec<String>)> {
    rules(one(&render(&[]), "ClusterRole"))
}

/// Under allow or deny the operator reads no ReferenceGrant, and the chart grants it none;
/// under grant (the default) it may watch them and nothing more.
#[test]
fn reference_grants_are_readable_only_under_the_grant_policy() {
    let granted = cluster_rules();
    let grants = rule(
        "gateway.networking.k8s.io",
        "referencegrants",
        &["list", "watch"],
    );
    assert!(granted.contains(&grants), "{granted:?}");
    for policy in ["allow", "deny"] {
        let docs = render(&[&format!("crossNamespaceRefs={policy}")]);
        let mut expected = granted.clone();
        expected.remove(&grants);
        assert_eq!(rules(one(&docs, "ClusterRole")), expected, "{policy}");
        assert!(args(&docs).contains(&format!("--cross-namespace-refs={policy}")));
    }
    assert!(args(&render(&[])).contains(&"--cross-namespace-refs=grant".to_owned()));
}

/// Cluster-wide mode: one ClusterRole, bound to the chart's ServiceAccount alone, naming every
/// verb and resource (no wildcard) and writing nothing through `update` but finalizers.
#[test]
fn cluster_role_grants_named_verbs_to_our_service_account() {
    let docs = render(&[]);
    let role = one(&docs, "ClusterRole");
    let granted = rules(role);
    assert!(!granted.is_empty());
    for (group, resource, verbs, _) in &granted {
        assert!(group != "*" && resource != "*" && !verbs.contains(&"*".to_owned()));
        assert!(
            !verbs.contains(&"update".to_owned()) || resource.ends_with("/finalizers"),
            "{resource}: objects are written by patch, not update"
        );
    }
    let binding = one(&docs, "ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}])
    );
    assert_eq!(one(&docs, "ServiceAccount")["metadata"]["name"], FULLNAME);
}

/// Leases are reachable only in the release namespace, and only our own Lease can be updated.
#[test]
fn leader_election_role_is_limited_to_our_lease() {
    let docs = render(&[]);
    let roles = objects(&docs, "Role");
    assert_eq!(
        roles.len(),
        1,
        "only the leader-election Role in cluster-wide mode"
    );
    let role = roles[0];
    assert_eq!(role["metadata"]["namespace"], NAMESPACE);
    let expected: BTreeSet<_> = [
        rule("coordination.k8s.io", "leases", &["create"]),
        (
            "coordination.k8s.io".to_owned(),
            "leases".to_owned(),
            vec!["get".to_owned(), "update".to_owned()],
            vec![FULLNAME.to_owned()],
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(rules(role), expected);
    let binding = one(&docs, "RoleBinding");
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    assert_eq!(binding["metadata"]["namespace"], NAMESPACE);
    // No other object may touch leases.
    let cluster_rules = rules(one(&docs, "ClusterRole"));
    assert!(
        cluster_rules
            .iter()
            .all(|(_, resource, _, _)| resource != "leases")
    );
}

/// Namespaced mode: a Role per watched namespace and no cluster-wide grant at all.
#[test]
fn namespaced_mode_grants_per_namespace_only() {
    let docs = render(&["watchNamespaces={team-a,team-b}"]);
    assert!(
        objects(&docs, "ClusterRole").is_empty(),
        "no ClusterRole in namespaced mode"
    );
    assert!(
        objects(&docs, "ClusterRoleBinding").is_empty(),
        "no ClusterRoleBinding in namespaced mode"
    );
    let operator_roles: Vec<&Value> = objects(&docs, "Role")
        .into_iter()
        .filter(|r| r["metadata"]["name"] == FULLNAME)
        .collect();
    let namespaces: BTreeSet<&str> = operator_roles
        .iter()
        .map(|r| r["metadata"]["namespace"].as_str().expect("namespace"))
        .collect();
    assert_eq!(namespaces, BTreeSet::from(["team-a", "team-b"]));
    for role in &operator_roles {
        assert_eq!(
            rules(role),
            cluster_rules(),
            "the same rules as the ClusterRole"
        );
    }
    for namespace in ["team-a", "team-b"] {
        let binding = objects(&docs, "RoleBinding")
            .into_iter()
            .find(|b| b["metadata"]["namespace"] == namespace)
            .unwrap_or_else(|| panic!("no RoleBinding in {namespace}"));
        assert_eq!(
            binding["roleRef"],
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": FULLNAME})
        );
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}])
        );
    }
    // Secrets are granted only inside the watched namespaces.
    for doc in &docs {
        let kind = doc["kind"].as_str().unwrap_or_default();
        if kind == "Role" || kind == "ClusterRole" {
            let grants_secrets = rules(doc)
                .iter()
                .any(|(_, resource, _, _)| resource == "secrets");
            let namespace = doc["metadata"]["namespace"].as_str();
            assert!(
                !grants_secrets || matches!(namespace, Some("team-a" | "team-b")),
                "{kind} {:?} grants secrets outside the watched namespaces",
                doc["metadata"]["name"]
            );
        }
    }
    assert!(args(&docs).contains(&"--namespaces=team-a,team-b".to_owned()));
}
