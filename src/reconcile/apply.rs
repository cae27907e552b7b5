//! The ApiToken's result Secret writes: the owned layer's, with each version they leave noted
//! as an echo of the ApiToken that wrote it, whose watch event then does not wake it.

use super::subject::Subject;
use crate::context::Context;
use crate::error::ReconcileError;
use crate::owned::secret_writes;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;

/// Writes the result Secret (see [`secret_writes::write`]) for `writer`.
pub async fn write_secret(
    ctx: &Context,
    writer: &Subject<'_>,
    desired: &Secret,
    existing: Option<&Secret>,
) -> Result<(), ReconcileError> {
    let versions = secret_writes::write(&ctx.client, desired, existing).await?;
    let secret = (desired.namespace().unwrap_or_default(), desired.name_any());
    let by = (&*writer.uid, &*writer.namespace, &*writer.name);
    for version in &versions {
        ctx.own_writes.note((&secret.0, &secret.1), version, by);
    }
    Ok(())
}
