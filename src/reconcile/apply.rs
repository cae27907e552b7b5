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
/// is never overwritten), applied when it was proven ours.
pub async fn write_secret(
    ctx: &Context,
    desired: &Secret,
    existed: bool,
) -> Result<(), ReconcileError> {
    if existed {
        secret(ctx, desired).await
    } else {
        create_secret(ctx, desired).await
    }
}

/// Applies the desired Secret (server-side apply, one field manager, forced): only for a Secret
/// proven ours (or the earlier operator's for this ApiToken), since forcing takes every field.
pub async fn secret(ctx: &Context, desired: &Secret) -> Result<(), ReconcileError> {
    let ns = desired.namespace().unwrap_or_default();
    Api::<Secret>::namespaced(ctx.client.clone(), &ns)
        .patch(
            &desired.name_any(),
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(desired),
        )
        .await
        .map_err(ReconcileError::kube("write the result Secret"))?;
    Ok(())
}

/// Creates the desired Secret that the caller found absent; one that appeared since is never
/// overwritten: that is [`ReconcileError::SecretAppeared`], and the next reconcile judges it.
pub async fn create_secret(ctx: &Context, desired: &Secret) -> Result<(), ReconcileError> {
    let ns = desired.namespace().unwrap_or_default();
    let api = Api::<Secret>::namespaced(ctx.client.clone(), &ns);
    let params = PostParams {
        dry_run: false,
        field_manager: Some(MANAGER.into()),
    };
    match api.create(&params, desired).await {
        Ok(created) => {
            own_as_applied(&api, &created).await;
            Ok(())
        }
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

/// Records the fields a create gave us as our server-side apply. A create files them under an
/// `Update` entry of ours, which later applies cannot take back: apply removes a dropped key
/// (a removed caCert, the token keys under forUser) only when no other entry holds it. Best
/// effort: the Secret is right either way, and the resourceVersion makes the patch lose any race.
async fn own_as_applied(api: &Api<Secret>, created: &Secret) {
    let ours = |m: &ManagedFieldsEntry| {
        m.manager.as_deref() == Some(MANAGER) && m.operation.as_deref() == Some("Update")
    };
    if !created.managed_fields().iter().any(ours) {
        return;
    }
    let entries: Vec<_> = created
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
        "resourceVersion": created.resource_version(),
        "managedFields": entries,
    }});
    if let Err(e) = api
        .patch(
            &created.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        tracing::warn!(error = %e, "cannot record the created result Secret as applied");
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
        let entries: Vec<_> = created
            .managed_fields()
            .iter()
            .filter(|m| m.manager.as_deref() == Some(MANAGER))
            .map(|m| m.operation.clone().unwrap_or_default())
            .collect();
        assert_eq!(entries, vec!["Apply".to_string()], "{created:?}");

        // A key dropped from the desired Secret goes, as with a Secret first written by apply.
        secret(&ctx, &opaque(&ns, "out", &[("accessToken", "B")]))
            .await
            .unwrap();
        let applied = secrets(&ctx, &ns).get("out").await.unwrap();
        let keys: Vec<_> = applied.data.unwrap().into_keys().collect();
        assert_eq!(keys, vec!["accessToken".to_string()]);
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
