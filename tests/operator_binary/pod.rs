//! What a pod of a rendered Deployment runs: its container's args, and its env as the kubelet
//! resolves it (downward API included), so the binary can be started the way the pod starts it.

use serde_json::Value;

/// The process a pod of the Deployment would run.
pub struct PodRun {
    /// The container's args (the image's entrypoint is the binary), with `--metrics-addr`
    /// moved to a loopback port: a pod binds its own network namespace, this test shares one.
    pub args: Vec<String>,
    /// The container's env, values and downward-API fields resolved.
    pub env: Vec<(String, String)>,
    /// The pod's ServiceAccount.
    pub service_account: String,
    /// The pod's namespace (the Deployment's).
    pub namespace: String,
    /// The pod's name, shaped as a ReplicaSet names its pods.
    pub pod_name: String,
}

/// Reads the pod of `deployment` (a rendered object), its admin server moved to `metrics_addr`.
pub fn from_deployment(deployment: &Value, metrics_addr: &str) -> PodRun {
    let text = |v: &Value, what: &str| -> String {
        v.as_str()
            .unwrap_or_else(|| panic!("the Deployment has no {what}: {deployment}"))
            .to_owned()
    };
    let namespace = text(&deployment["metadata"]["namespace"], "metadata.namespace");
    let name = text(&deployment["metadata"]["name"], "metadata.name");
    let pod_name = format!(
        "{name}-{:010x}-{:05x}",
        rand::random::<u64>() & 0xff_ffff_ffff,
        rand::random::<u32>() & 0xf_ffff
    );
    let spec = &deployment["spec"]["template"]["spec"];
    let service_account = text(&spec["serviceAccountName"], "serviceAccountName");
    let containers = spec["containers"]
        .as_array()
        .unwrap_or_else(|| panic!("no containers: {deployment}"));
    assert_eq!(containers.len(), 1, "one container");
    let container = &containers[0];
    assert!(
        container["command"].is_null(),
        "the image's entrypoint runs the binary"
    );
    let mut moved = false;
    let args: Vec<String> = container["args"]
        .as_array()
        .unwrap_or_else(|| panic!("no args: {container}"))
        .iter()
        .map(|a| {
            let arg = text(a, "string arg");
            if arg.starts_with("--metrics-addr=") {
                moved = true;
                format!("--metrics-addr={metrics_addr}")
            } else {
                arg
            }
        })
        .collect();
    assert!(moved, "the Deployment names --metrics-addr: {args:?}");
    let env = container["env"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|var| {
            let key = text(&var["name"], "env name");
            let value = if let Some(value) = var["value"].as_str() {
                value.to_owned()
            } else {
                match var["valueFrom"]["fieldRef"]["fieldPath"].as_str() {
                    Some("metadata.namespace") => namespace.clone(),
                    Some("metadata.name") => pod_name.clone(),
                    Some("spec.serviceAccountName") => service_account.clone(),
                    _ => panic!("env {key}: a source this test does not resolve: {var}"),
                }
            };
            (key, value)
        })
        .collect();
    PodRun {
        args,
        env,
        service_account,
        namespace,
        pod_name,
    }
}
