//! Production defaults: a PodDisruptionBudget with two replicas, an optional NetworkPolicy, the
//! image pinned by digest, and a pod OpenShift's restricted-v2 SCC admits.

use serde_json::{Value, json};

use crate::render::{IMAGE_REPOSITORY, container, objects, one, render, template};

/// The defaults keep one pod through a drain: two replicas, leader election, and a
/// PodDisruptionBudget of minAvailable 1 selecting exactly the Deployment's pods.
#[test]
fn a_disruption_budget_keeps_a_replica_by_default() {
    let docs = render(&[]);
    let deployment = one(&docs, "Deployment");
    assert_eq!(deployment["spec"]["replicas"], 2);
    let pdb = one(&docs, "PodDisruptionBudget");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    assert_eq!(
        pdb["spec"]["selector"]["matchLabels"],
        deployment["spec"]["selector"]["matchLabels"]
    );
    // One replica with a budget of one would block every node drain: no budget then.
    let docs = render(&["replicaCount=1"]);
    assert!(objects(&docs, "PodDisruptionBudget").is_empty());
    let docs = render(&["podDisruptionBudget.enabled=false"]);
    assert!(objects(&docs, "PodDisruptionBudget").is_empty());
}

/// `image.digest` pins what runs, whatever the tag says; a malformed digest is refused.
#[test]
fn the_image_can_be_pinned_by_digest() {
    let digest = format!("sha256:{}", "0123456789abcdef".repeat(4));
    let docs = render(&[&format!("image.digest={digest}"), "image.tag=moving"]);
    assert_eq!(
        container(&docs)["image"],
        format!("{IMAGE_REPOSITORY}@{digest}")
    );
    for bad in ["sha256:abc", "0123", "sha512:00"] {
        let output = template(&[&format!("image.digest={bad}")]);
        assert!(!output.status.success(), "{bad} accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("/image/digest"), "{bad}: {stderr}");
    }
}

/// What OpenShift's restricted-v2 SCC refuses in a pod: a fixed uid, gid or fsGroup (it
/// assigns them from the namespace's range), privilege, host namespaces, added capabilities
/// other than NET_BIND_SERVICE, a missing drop of ALL, privilege escalation, a seccomp profile
/// other than the runtime's, and volume types outside its list.
fn restricted_v2_violations(pod: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let mut check = |bad: bool, what: String| {
        if bad {
            found.push(what);
        }
    };
    let spec = &pod["spec"]["template"]["spec"];
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        check(spec[key] == true, format!("pod {key}"));
    }
    for key in ["runAsUser", "runAsGroup", "fsGroup"] {
        check(
            !spec["securityContext"][key].is_null(),
            format!("pod securityContext.{key} is fixed"),
        );
    }
    let seccomp = |ctx: &Value| ctx["seccompProfile"]["type"].as_str().map(str::to_owned);
    check(
        seccomp(&spec["securityContext"]).is_some_and(|t| t != "RuntimeDefault"),
        "pod seccomp".into(),
    );
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        let allowed = [
            "configMap",
            "csi",
            "downwardAPI",
            "emptyDir",
            "ephemeral",
            "persistentVolumeClaim",
            "projected",
            "secret",
        ];
        let kind_ok = volume.as_object().is_some_and(|v| {
            v.keys()
                .all(|k| k == "name" || allowed.contains(&k.as_str()))
        });
        check(!kind_ok, format!("volume {volume}"));
    }
    for c in spec["containers"].as_array().into_iter().flatten() {
        let ctx = &c["securityContext"];
        for key in ["runAsUser", "runAsGroup"] {
            check(
                !ctx[key].is_null(),
                format!("container securityContext.{key} is fixed"),
            );
        }
        check(ctx["privileged"] == true, "privileged".into());
        check(
            ctx["allowPrivilegeEscalation"] != false,
            "allowPrivilegeEscalation not false".into(),
        );
        check(
            ctx["capabilities"]["drop"] != json!(["ALL"]),
            "capabilities not all dropped".into(),
        );
        let added = ctx["capabilities"]["add"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        check(
            added.iter().any(|a| a != "NET_BIND_SERVICE"),
            format!("capabilities added: {added:?}"),
        );
        check(
            seccomp(ctx).is_some_and(|t| t != "RuntimeDefault"),
            "container seccomp".into(),
        );
        check(ctx["runAsNonRoot"] != true, "runAsNonRoot not set".into());
    }
    found
}

/// `openshift=true` (or a null runAsUser/runAsGroup) leaves the uid to the platform, and the
/// pod then meets every constraint of restricted-v2; the default pins 65532 and so does not.
#[test]
fn openshift_mode_passes_restricted_v2() {
    let docs = render(&["openshift=true"]);
    let deployment = one(&docs, "Deployment");
    assert_eq!(
        restricted_v2_violations(deployment),
        Vec::<String>::new(),
        "{deployment}"
    );
    let docs = render(&[
        "podSecurityContext.runAsUser=null",
        "podSecurityContext.runAsGroup=null",
    ]);
    assert_eq!(
        restricted_v2_violations(one(&docs, "Deployment")),
        Vec::<String>::new()
    );
    // The check has teeth: the default (Kubernetes' restricted PSS) pins the uid.
    let docs = render(&[]);
    let found = restricted_v2_violations(one(&docs, "Deployment"));
    assert!(
        found.iter().any(|f| f.contains("runAsUser is fixed")),
        "{found:?}"
    );
}

/// Off by default; when on, it needs the API server's and Quay's addresses, and lets the pods
/// reach only them and DNS, and be reached only on the metrics port from the monitoring namespace.
#[test]
fn the_network_policy_fences_the_pods() {
    assert!(objects(&render(&[]), "NetworkPolicy").is_empty());
    let output = template(&["networkPolicy.enabled=true"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("networkPolicy.apiServer.cidrs"));
    let output = template(&[
        "networkPolicy.enabled=true",
        "networkPolicy.apiServer.cidrs={10.0.0.1/32}",
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("networkPolicy.quay.cidrs"));

    let docs = render(&[
        "networkPolicy.enabled=true",
        "networkPolicy.apiServer.cidrs={10.0.0.1/32}",
        "networkPolicy.quay.cidrs={192.0.2.0/24}",
    ]);
    let policy = one(&docs, "NetworkPolicy");
    let spec = &policy["spec"];
    assert_eq!(
        spec["podSelector"]["matchLabels"],
        one(&docs, "Deployment")["spec"]["selector"]["matchLabels"]
    );
    assert_eq!(spec["policyTypes"], json!(["Ingress", "Egress"]));
    assert_eq!(
        spec["ingress"],
        json!([{
            "from": [{
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                "podSelector": {},
            }],
            "ports": [{"protocol": "TCP", "port": 8080}],
        }])
    );
    let egress = spec["egress"].as_array().expect("egress");
    let tcp = |ports: &[u16]| -> Value {
        ports
            .iter()
            .map(|p| json!({"protocol": "TCP", "port": p}))
            .collect()
    };
    assert!(egress.contains(&json!({
        "to": [{"ipBlock": {"cidr": "10.0.0.1/32"}}],
        "ports": tcp(&[443, 6443]),
    })));
    assert!(egress.contains(&json!({
        "to": [{"ipBlock": {"cidr": "192.0.2.0/24"}}],
        "ports": tcp(&[443]),
    })));
    assert!(egress.contains(&json!({
        "to": [{
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    })));
    assert_eq!(egress.len(), 3, "nothing else: {egress:?}");
}
