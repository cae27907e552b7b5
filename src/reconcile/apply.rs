//! The ApiToken's result Secret writes: the owned layer's, with each version they leave noted
//! as an echo of the ApiToken that wrote it, whose watch event then does not wake it.

use crate::context::Context;
use crate::crd::ApiToken;
use crate::error::ReconcileError;
use crate::owned::secret_writes;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;

/// Writes the result Secret (see [`secret_writes::write`]) for `writer`.
pub async fn write_secret(
    ctx: &Context,
    writer: &ApiToken,
    desired: &Secret,
    existing: Option<&Secret>,
) -> Result<(), ReconcileError> {
    let versions = secret_writes::write(&ctx.client, desired, existing).await?;
    let secret = (desired.namespace().unwrap_or_default(), desired.name_any());
    let (uid, ns, name) = (
        writer.uid().unwrap_or_default(),
        writer.namespace().unwrap_or_default(),
        writer.name_any(),
    );
    for version in &versions {
        ctx.own_writes
            .note((&secret.0, &secret.1), version, (&uid, &ns, &name));
    }
    Ok(())
}
