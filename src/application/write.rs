//! Writes to the Kubernetes API for Applications: the result Secret (created when absent,
//! applied when ours) and status (merge patch through the status subresource).

use super::context::AppContext;
use super::crd::{Application, ApplicationStatus};
use super::error::ApplicationError;
use super::status;
use crate::context::{Context, MANAGER};
use crate::reconcile::secret::Target;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};

/// Writes the result Secret: created when it was found absent (so one that appears meanwhile
/// is never overwritten), applied (server-side, forced) when it was proven ours.
pub async fn secret(
    ctx: &Context,
    desired: &Secret,
    existed: bool,
) -> Result<(), ApplicationError> {
    let ns = desired.namespace().unwrap_or_default();
    let api = Api::<Secret>::namespaced(ctx.client.clone(), &ns);
    if existed {
        api.patch(
            &desired.name_any(),
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(desired),
        )
        .await
        .map_err(ApplicationError::kube("write the result Secret"))?;
        return Ok(());
    }
    let params = PostParams {
        dry_run: false,
        field_manager: Some(MANAGER.into()),
    };
    match api.create(&params, desired).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Err(ApplicationError::SecretAppeared {
            secret: format!("{ns}/{}", desired.name_any()),
        }),
        Err(kube::Error::Api(s)) if s.code == 404 => {
            Err(ApplicationError::ResultNamespaceMissing { namespace: ns })
        }
        Err(source) => Err(ApplicationError::Kube {
            action: "create the result Secret",
            source,
        }),
    }
}

/// Checks, by a server-side dry run that persists nothing, that a Secret could be created at
/// `target`: a missing namespace is found before an application is created in Quay.
pub async fn check_result_target(ctx: &Context, target: &Target) -> Result<(), ApplicationError> {
    let probe = Secret {
        metadata: kube::api::ObjectMeta {
            name: Some(target.name.clone()),
            namespace: Some(target.namespace.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    let params = PostParams {
        dry_run: true,
        field_manager: Some(MANAGER.into()),
    };
    match Api::<Secret>::namespaced(ctx.client.clone(), &target.namespace)
        .create(&params, &probe)
        .await
    {
        // 409: it appeared since the caller looked, so its namespace exists.
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => {
            Err(ApplicationError::ResultNamespaceMissing {
                namespace: target.namespace.clone(),
            })
        }
        Err(source) => Err(ApplicationError::Kube {
            action: "check that the result Secret can be created",
            source,
        }),
    }
}

/// Deletes a Secret; already gone is fine.
pub async fn delete_secret(ctx: &Context, target: &Target) -> Result<(), kube::Error> {
    match Api::<Secret>::namespaced(ctx.client.clone(), &target.namespace)
        .delete(&target.name, &DeleteParams::default())
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes `next` as the status unless it equals what the object shows now (`shown`, kept up
/// to date). `fresh` makes it a compare-and-swap against the cached copy when this process
/// has no memory of the object (after a restart or a failover): a write that decides a create
/// is made only if the copy it was decided on is still current.
pub async fn status(
    ctx: &AppContext,
    app: &Application,
    shown: &mut Option<ApplicationStatus>,
    next: ApplicationStatus,
    fresh: bool,
) -> Result<(), ApplicationError> {
    if shown.as_ref() == Some(&next) {
        return Ok(());
    }
    let uid = app.uid().unwrap_or_default();
    let mut patch = status::merge_patch(shown.as_ref(), &next);
    let guard = app
        .resource_version()
        .filter(|_| fresh && !ctx.written.knows(&uid));
    if let (Some(version), Some(map)) = (guard, patch.as_object_mut()) {
        map.insert(
            "metadata".into(),
            serde_json::json!({ "resourceVersion": version }),
        );
    }
    let ns = app.namespace().unwrap_or_default();
    match Api::<Application>::namespaced(ctx.base.client.clone(), &ns)
        .patch_status(
            &app.name_any(),
            &PatchParams::default(),
            &Patch::Merge(patch),
        )
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => return Err(ApplicationError::StaleRead),
        Err(source) => {
            return Err(ApplicationError::Kube {
                action: "write the Application status",
                source,
            });
        }
    }
    ctx.written.remember(&uid, &next);
    *shown = Some(next);
    Ok(())
}
