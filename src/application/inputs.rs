//! Reads what an Application depends on: its spec (checked), the connection Secret and the
//! result Secret. Network: Kubernetes API only.

use super::crd::Application;
use super::error::ApplicationError;
use crate::context::Context;
use crate::owned::{secret, secret_writes};
use crate::quay::AppConnection;
use crate::reconcile::secret::Target;
use crate::references::result_target;
use k8s_openapi::api::core::v1::Secret;

/// The resolved inputs of one Application.
pub struct Inputs {
    /// Checked connection settings.
    pub conn: AppConnection,
    /// Where the connection Secret is.
    pub conn_target: Target,
    /// Where the result Secret goes.
    pub target: Target,
    /// The result Secret as it is now.
    pub existing: Option<Secret>,
}

/// Checks what the CRD schema checks, for objects stored before it did (no I/O).
pub fn check_spec(app: &Application) -> Result<(), ApplicationError> {
    let invalid = |field, problem: String| Err(ApplicationError::InvalidSpec { field, problem });
    if app.spec.organization.trim().is_empty() {
        return invalid(
            "spec.organization",
            "it is empty; name the Quay organization that owns the application".into(),
        );
    }
    for (field, value) in [
        ("spec.name", Some(&app.spec.name)),
        ("spec.newName", app.spec.new_name.as_ref()),
    ] {
        if let Some(name) = value
            && name.chars().count() < 2
        {
            return invalid(
                field,
                format!("`{name}` is too short; application names need at least 2 characters"),
            );
        }
    }
    Ok(())
}

crate::references::secret_refs!(Application);

/// Reads and checks the connection settings alone (also used at deletion).
pub async fn connection(
    ctx: &Context,
    app: &Application,
) -> Result<(Target, AppConnection), ApplicationError> {
    crate::connection::read(ctx, app).await
}

/// Resolves every input; each failure names the field and key.
pub async fn resolve(ctx: &Context, app: &Application) -> Result<Inputs, ApplicationError> {
    check_spec(app)?;
    let (conn_target, conn) = connection(ctx, app).await?;
    let target = result_target(app, ctx.settings.cross_namespace)?;
    let target = ctx.consent().object(app, "retSecretRef", target)?;
    let existing = ctx.read_secret(&target).await?;
    if existing.is_none() {
        // Before anything is created in Quay: an application whose Secret cannot be written
        // would be created and then fail to be delivered, on every retry.
        secret_writes::check_target(&ctx.client, &secret::bare(&target)).await?;
    }
    Ok(Inputs {
        conn,
        conn_target,
        target,
        existing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::references::{CrossNamespacePolicy, conn_target};
    use serde_json::json;

    fn app(spec: serde_json::Value) -> Application {
        let mut a = Application::new("app", serde_json::from_value(spec).unwrap());
        a.metadata.namespace = Some("ns".into());
        a
    }

    #[test]
    fn a_one_character_name_is_named() {
        let a = app(json!({"connSecretRef": {"name": "c"}, "organization": "o", "name": "x"}));
        let e = check_spec(&a).unwrap_err();
        assert_eq!(e.reason(), "InvalidSpec");
        assert!(
            e.to_string().starts_with("spec.name: `x` is too short"),
            "{e}"
        );
        let refused = |spec| check_spec(&app(spec)).unwrap_err().to_string();
        let blank = json!({"connSecretRef": {"name": "c"}, "organization": " ", "name": "xy"});
        assert!(refused(blank).starts_with("spec.organization:"));
        let short = json!({"connSecretRef": {"name": "c"}, "organization": "o", "name": "xy",
                           "newName": "y"});
        assert!(refused(short).starts_with("spec.newName:"));
    }

    #[test]
    fn the_result_secret_defaults_to_the_resources_name() {
        let a = app(json!({"connSecretRef": {"name": "c"}, "organization": "o", "name": "xy"}));
        let t = result_target(&a, CrossNamespacePolicy::Deny).unwrap();
        assert_eq!(t.to_string(), "ns/app");
        let a = app(json!({"connSecretRef": {"name": "c", "namespace": "other"},
                           "organization": "o", "name": "xy",
                           "retSecretRef": {"name": "out", "namespace": "there"}}));
        assert_eq!(
            result_target(&a, CrossNamespacePolicy::Allow)
                .unwrap()
                .to_string(),
            "there/out"
        );
        let denied =
            ApplicationError::from(conn_target(&a, CrossNamespacePolicy::Deny).unwrap_err());
        assert_eq!(denied.reason(), "CrossNamespaceDenied");
        assert_eq!(crate::references::secret_uses(&a).len(), 2);
    }
}
