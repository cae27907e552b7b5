//! Writes to the Kubernetes API: the result Secret by server-side apply, status by merge patch.

use super::status;
use crate::context::{Context, MANAGER};
use crate::crd::{ApiToken, ApiTokenStatus};
use crate::error::ReconcileError;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::{Api, ResourceExt};

/// Applies the desired Secret (server-side apply, one field manager, forced: ownership was checked).
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
            &Patch::Merge(status::merge_patch(&next)),
        )
        .await
        .map_err(ReconcileError::kube("write the ApiToken status"))?;
    ctx.written
        .remember(&token.uid().unwrap_or_default(), &next);
    *shown = Some(next);
    Ok(())
}
