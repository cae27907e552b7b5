//! Writes to the Kubernetes API: the result Secret by server-side apply (or a create when it was
//! absent), status by merge patch.

use super::status;
use crate::context::{Context, MANAGER};
use crate::crd::{ApiToken, ApiTokenStatus};
use crate::error::ReconcileError;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};

/// Writes the result Secret: created when it was found absent (so one that appears meanwhile
/// is never overwritten), applied when it was proven ours. `existing` is the Secret as read;
/// `writer` is the ApiToken it is written for, which its watch event then does not wake.
pub async fn write_secret(
    ctx: &Context,
    writer: &ApiToken,
    desired: &Secret,
    existing: Option<&Secret>,
) -> Result<(), ReconcileError> {
    let versions = match existing {
        Some(existing) => secret(ctx, desired, existing).await?,
        None => vec![create_secret(ctx, desired).await?],
    };
    let secret = (desired.namespace().unwrap_or_default(), desired.name_any());
    let (uid, ns, name) = (
        writer.uid().unwrap_or_default(),
        writer.namespace().unwrap_or_default(),
        writer.name_any(),
    );
    for version in versions.iter().flatten() {
        ctx.own_writes
            .note((&secret.0, &secret.1), version, (&uid, &ns, &name));
    }
    Ok(())
}

/// Applies the desired Secret over `existing` (server-side apply, one field manager, forced):
/// only for a Secret proven ours (or the earlier operator's for this ApiToken), since forcing
/// takes every field. Returns the versions its writes left.
async fn secret(
    ctx: &Context,
    desired: &Secret,
    existing: &Secret,
) -> Result<Vec<Option<String>>, ReconcileError> {
    let ns = desired.namespace().unwrap_or_default();
    let api = Api::<Secret>::namespaced(ctx.client.clone(), &ns);
    let owned = own_as_applied(&api, existing).await;
    let applied = api
        .patch(
            &desired.name_any(),
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(desired),
        )
        .await
        .map_err(ReconcileError::kube("write the result Secret"))?;
    Ok(vec![owned, applied.resource_version()])
}

/// Creates the desired Secret that the caller found absent; one that appeared since is never
/// overwritten: that is [`ReconcileError::SecretAppeared`], and the next reconcile judges it.
/// Returns the version it left.
pub async fn create_secret(
    ctx: &Context,
    desired: &Secret,
) -> Result<Option<String>, ReconcileError> {
    let ns = desired.namespace().unwrap_or_default();
    let api = Api::<Secret>::namespaced(ctx.client.clone(), &ns);
    let params = PostParams {
        dry_run: false,
        field_manager: Some(MANAGER.into()),
    };
    match api.create(&params, desired).await {
        Ok(created) => Ok(created.resource_version()),
        Err(kube::Error::Api(s)) if s.code == 409 => Err(ReconcileError::SecretAppeared {
            secret: format!("{ns}/{}", desired.name_any()),
        }),
        // A create can only miss its namespace.
        Err(kube::Error::Api(s)) if s.code == 404 => {
            Err(ReconcileError::ResultNamespaceMissing { namespace: ns })
        }
        Err(e) => Err(ReconcileError::Kube {
            action: "create the result Secret",
            source: e,
        }),
    }
}

/// Records the fields a create gave us as our server-side apply, before the first apply over
/// it. A create files them under an `Update` entry of ours, which applies cannot take back:
/// apply removes a dropped key (a removed caCert, the token keys under forUser) only when no
/// other entry holds it. Done here, not at the create, so that a first mint costs one write on
/// the Secret. Best effort: the resourceVersion makes it lose any race, and a key the apply
/// could not drop differs from the desired data, so a later reconcile writes (and converts) again.
async fn own_as_applied(api: &Api<Secret>, existing: &Secret) -> Option<String> {
    let ours = |m: &ManagedFieldsEntry| {
        m.manager.as_deref() == Some(MANAGER) && m.operation.as_deref() == Some("Update")
    };
    if !existing.managed_fields().iter().any(ours) {
        return None;
    }
    let entries: Vec<_> = existing
        .managed_fields()
        .iter()
        .cloned()
        .map(|mut m| {
            if ours(&m) {
                m.operation = Some("Apply".into());
            }
            m
        })
        .collect();
    let patch = serde_json::json!({"metadata": {
        "resourceVersion": existing.resource_version(),
        "managedFields": entries,
    }});
    match api
        .patch(
            &existing.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(owned) => owned.resource_version(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot record the result Secret as applied");
            None
        }
    }
}

/// Checks, by a server-side dry run that persists nothing, that the desired Secret could be
/// created: a missing namespace is found before a token is minted that could not be written.
pub async fn check_result_target(ctx: &Context, desired: &Secret) -> Result<(), ReconcileError> {
    let ns = desired.namespace().unwrap_or_default();
    let params = PostParams {
        dry_run: true,
        field_manager: Some(MANAGER.into()),
    };
    match Api::<Secret>::namespaced(ctx.client.clone(), &ns)
        .create(&params, desired)
        .await
    {
        Ok(_) => Ok(()),
        // It appeared since the caller looked, so its namespace exists; ownership decides later.
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => {
            Err(ReconcileError::ResultNamespaceMissing { namespace: ns })
        }
        Err(e) => Err(ReconcileError::Kube {
            action: "check that the result Secret can be created",
            source: e,
        }),
    }
}

/// Deletes a Secret; already gone is fine.
pub async fn delete_secret(
    ctx: &Context,
    namespace: &str,
    name: &str,
) -> Result<(), ReconcileError> {
    match Api::<Secret>::namespaced(ctx.client.clone(), namespace)
        .delete(name, &DeleteParams::default())
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(ReconcileError::Kube {
            action: "delete the result Secret",
            source: e,
        }),
    }
}

/// Like [`status`], for a write that decides a mint (the intent): when this process has no
/// memory of the object (after a restart or a failover) the write is made only if the cached
/// copy it was decided on is still current, so a stale cache never leads to a second mint.
pub async fn status_fresh(
    ctx: &Context,
    token: &ApiToken,
    shown: &mut Option<ApiTokenStatus>,
    next: ApiTokenStatus,
) -> Result<(), ReconcileError> {
    let uid = token.uid().unwrap_or_default();
    let Some(version) = token
        .resource_version()
        .filter(|_| !ctx.written.knows(&uid))
    else {
        return status(ctx, token, shown, next).await;
    };
    let mut patch = status::merge_patch(shown.as_ref(), &next);
    if let Some(map) = patch.as_object_mut() {
        map.insert(
            "metadata".into(),
            serde_json::json!({ "resourceVersion": version }),
        );
    }
    let ns = token.namespace().unwrap_or_default();
    match Api::<ApiToken>::namespaced(ctx.client.clone(), &ns)
        .patch_status(
            &token.name_any(),
            &PatchParams::default(),
            &Patch::Merge(patch),
        )
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => return Err(ReconcileError::StaleRead),
        Err(source) => {
            return Err(ReconcileError::Kube {
                action: "write the ApiToken status",
                source,
            });
        }
    }
    ctx.written.remember(&uid, &next);
    *shown = Some(next);
    Ok(())
}

/// Writes `next` as the status unless it equals what the object shows now (`shown`, kept up to date).
pub async fn status(
    ctx: &Context,
    token: &ApiToken,
    shown: &mut Option<ApiTokenStatus>,
    next: ApiTokenStatus,
) -> Result<(), ReconcileError> {
    if shown
        .as_ref()
        .is_some_and(|current| status::same(current, &next))
    {
        return Ok(());
    }
    let ns = token.namespace().unwrap_or_default();
    Api::<ApiToken>::namespaced(ctx.client.clone(), &ns)
        .patch_status(
            &token.name_any(),
            &PatchParams::default(),
            &Patch::Merge(status::merge_patch(shown.as_ref(), &next)),
        )
        .await
        .map_err(ReconcileError::kube("write the ApiToken status"))?;
    ctx.written
        .remember(&token.uid().unwrap_or_default(), &next);
    *shown = Some(next);
    Ok(())
}

/// Against the real API server of this test binary (`quay_testenv`), since what matters here
/// is how it answers: a taken name, a missing namespace, a dry run, field ownership.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{CrossNamespacePolicy, Settings};
    use crate::metrics::Metrics;
    use k8s_openapi::ByteString;
    use k8s_openapi::api::core::v1::Namespace;
    use kube::api::ObjectMeta;
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::time::Duration;

    async fn context() -> Context {
        let client = quay_testenv::shared(quay_testenv::Options::default())
            .client()
            .await;
        let settings = Settings {
            cross_namespace: CrossNamespacePolicy::Allow,
            verify_interval: Duration::from_secs(300),
            quay_hosts: Default::default(),
        };
        Context::new(client, Arc::new(Metrics::new()), settings)
    }

    async fn namespace(ctx: &Context, prefix: &str) -> String {
        quay_testenv::create_namespace(&ctx.client, prefix)
            .await
            .unwrap()
    }

    fn opaque(ns: &str, name: &str, data: &[(&str, &str)]) -> Secret {
        Secret {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some(ns.into()),
                labels: Some(BTreeMap::from([(
                    "app.kubernetes.io/managed-by".to_string(),
                    MANAGER.to_string(),
                )])),
                ..Default::default()
            },
            data: Some(
                data.iter()
                    .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
                    .collect(),
            ),
            type_: Some("Opaque".into()),
            ..Default::default()
        }
    }

    fn writer() -> ApiToken {
        let spec = serde_json::from_value(serde_json::json!({
            "connSecretRef": {"name": "conn"}, "clientId": "CID"
        }))
        .unwrap();
        let mut token = ApiToken::new("tok", spec);
        token.metadata.namespace = Some("ns".into());
        token.metadata.uid = Some("uid-1".into());
        token
    }

    fn secrets(ctx: &Context, ns: &str) -> Api<Secret> {
        Api::namespaced(ctx.client.clone(), ns)
    }

    #[tokio::test]
    async fn create_secret_leaves_a_secret_that_appeared_untouched() {
        let ctx = context().await;
        let ns = namespace(&ctx, "unit-appeared").await;
        let theirs = PostParams {
            dry_run: false,
            field_manager: Some("someone-else".into()),
        };
        secrets(&ctx, &ns)
            .create(&theirs, &opaque(&ns, "out", &[("theirs", "keep me")]))
            .await
            .unwrap();
        let before = secrets(&ctx, &ns).get("out").await.unwrap();

        let ours = opaque(&ns, "out", &[("accessToken", "NEW-TOKEN")]);
        let error = create_secret(&ctx, &ours).await.unwrap_err();

        assert!(
            matches!(&error, ReconcileError::SecretAppeared { secret } if *secret == format!("{ns}/out")),
            "{error:?}"
        );
        assert!(error.is_transient(), "the next reconcile checks ownership");
        assert!(error.to_string().contains(&format!("{ns}/out")), "{error}");
        assert!(!error.to_string().contains("NEW-TOKEN"), "{error}");
        let after = secrets(&ctx, &ns).get("out").await.unwrap();
        assert_eq!(after, before, "the other Secret is not touched at all");
    }

    #[tokio::test]
    async fn create_secret_creates_what_later_applies_fully_own() {
        let ctx = context().await;
        let ns = namespace(&ctx, "unit-create").await;
        let first = opaque(&ns, "out", &[("accessToken", "A"), ("caCert", "PEM")]);
        create_secret(&ctx, &first).await.unwrap();
        let created = secrets(&ctx, &ns).get("out").await.unwrap();
        assert_eq!(
            created.data.as_ref().unwrap()["accessToken"].0,
            b"A".to_vec()
        );
        let operations = |secret: &Secret| -> Vec<String> {
            secret
                .managed_fields()
                .iter()
                .filter(|m| m.manager.as_deref() == Some(MANAGER))
                .map(|m| m.operation.clone().unwrap_or_default())
                .collect()
        };
        assert_eq!(
            operations(&created),
            vec!["Update".to_string()],
            "one write"
        );

        // A key dropped from the desired Secret goes, as with a Secret first written by apply.
        write_secret(
            &ctx,
            &writer(),
            &opaque(&ns, "out", &[("accessToken", "B")]),
            Some(&created),
        )
        .await
        .unwrap();
        let applied = secrets(&ctx, &ns).get("out").await.unwrap();
        assert_eq!(
            operations(&applied),
            vec!["Apply".to_string()],
            "{applied:?}"
        );
        let keys: Vec<_> = applied.data.unwrap().into_keys().collect();
        assert_eq!(keys, vec!["accessToken".to_string()]);
    }

    /// A stale copy loses the ownership patch; the key stays, and the data differs from the
    /// desired Secret, so a later write with a fresh copy drops it.
    #[tokio::test]
    async fn a_stale_copy_leaves_the_dropped_key_for_the_next_write() {
        let ctx = context().await;
        let ns = namespace(&ctx, "unit-stale").await;
        create_secret(
            &ctx,
            &opaque(&ns, "out", &[("accessToken", "A"), ("caCert", "PEM")]),
        )
        .await
        .unwrap();
        let stale = secrets(&ctx, &ns).get("out").await.unwrap();
        let theirs = serde_json::json!({"metadata": {"annotations": {"touched": "yes"}}});
        secrets(&ctx, &ns)
            .patch("out", &PatchParams::default(), &Patch::Merge(&theirs))
            .await
            .unwrap();
        let desired = opaque(&ns, "out", &[("accessToken", "B")]);
        write_secret(&ctx, &writer(), &desired, Some(&stale))
            .await
            .unwrap();
        let kept = secrets(&ctx, &ns).get("out").await.unwrap();
        assert!(crate::reconcile::secret::needs_write(Some(&kept), &desired));
        write_secret(&ctx, &writer(), &desired, Some(&kept))
            .await
            .unwrap();
        let fixed = secrets(&ctx, &ns).get("out").await.unwrap();
        let keys: Vec<_> = fixed.data.clone().unwrap().into_keys().collect();
        assert_eq!(keys, vec!["accessToken".to_string()]);
        assert!(!crate::reconcile::secret::needs_write(
            Some(&fixed),
            &desired
        ));
    }

    #[tokio::test]
    async fn create_secret_names_a_missing_namespace() {
        let ctx = context().await;
        let ns = format!("{}-absent", namespace(&ctx, "unit-nons").await);
        let error = create_secret(&ctx, &opaque(&ns, "out", &[("accessToken", "A")]))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, ReconcileError::ResultNamespaceMissing { namespace } if *namespace == ns),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn check_result_target_finds_a_missing_namespace_and_persists_nothing() {
        let ctx = context().await;
        let ns = namespace(&ctx, "unit-check").await;
        let missing = format!("{ns}-absent");

        let error = check_result_target(&ctx, &opaque(&missing, "out", &[("host", "h")]))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, ReconcileError::ResultNamespaceMissing { namespace } if *namespace == missing),
            "{error:?}"
        );
        assert_eq!(error.reason(), "ResultNamespaceMissing");
        assert!(error.is_transient(), "creating the namespace heals it");
        let message = error.to_string();
        assert!(
            message.contains("retSecretRef.namespace") && message.contains(&missing),
            "{message}"
        );
        let namespaces: Api<Namespace> = Api::all(ctx.client.clone());
        assert!(namespaces.get_opt(&missing).await.unwrap().is_none());

        check_result_target(&ctx, &opaque(&ns, "out", &[("host", "h")]))
            .await
            .unwrap();
        assert!(
            secrets(&ctx, &ns).get_opt("out").await.unwrap().is_none(),
            "a dry run persists nothing"
        );
    }
}
