//! Writes of result Secrets to the Kubernetes API, for either kind: a create when the Secret
//! was found absent, a server-side apply when it was proven ours, a dry run, a delete.

use super::secret::{Ownership, Target, ownership};
use super::{MANAGER, OwnedError, Owner};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt};

/// Writes the result Secret: created when it was found absent (so one that appears meanwhile
/// is never overwritten), applied when it was proven ours. `existing` is the Secret as read.
/// Returns the versions its writes left.
pub async fn write(
    client: &Client,
    desired: &Secret,
    existing: Option<&Secret>,
) -> Result<Vec<String>, OwnedError> {
    let versions = match existing {
        Some(existing) => apply(client, desired, existing).await?,
        None => vec![create(client, desired).await?],
    };
    Ok(versions.into_iter().flatten().collect())
}

/// Applies the desired Secret over `existing` (server-side apply, one field manager, forced):
/// only for a Secret proven ours (or the earlier operator's for this owner), since forcing
/// takes every field.
async fn apply(
    client: &Client,
    desired: &Secret,
    existing: &Secret,
) -> Result<Vec<Option<String>>, OwnedError> {
    let api = secrets(client, desired);
    let owned = own_as_applied(&api, existing).await;
    let applied = api
        .patch(
            &desired.name_any(),
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(desired),
        )
        .await
        .map_err(|source| OwnedError::Kube {
            action: "write the result Secret",
            source,
        })?;
    Ok(vec![owned, applied.resource_version()])
}

/// Creates the desired Secret that the caller found absent; one that appeared since is never
/// overwritten: that is [`OwnedError::SecretAppeared`], and the next reconcile judges it.
/// Returns the version it left.
pub async fn create(client: &Client, desired: &Secret) -> Result<Option<String>, OwnedError> {
    let params = PostParams {
        dry_run: false,
        field_manager: Some(MANAGER.into()),
    };
    match secrets(client, desired).create(&params, desired).await {
        Ok(created) => Ok(created.resource_version()),
        Err(kube::Error::Api(s)) if s.code == 409 => Err(OwnedError::SecretAppeared {
            secret: format!(
                "{}/{}",
                desired.namespace().unwrap_or_default(),
                desired.name_any()
            ),
        }),
        Err(e) => Err(missing_namespace(desired, e, "create the result Secret")),
    }
}

/// Records the fields a create gave us as our server-side apply, before the first apply over
/// it. A create files them under an `Update` entry of ours, which applies cannot take back:
/// apply removes a dropped key (a removed caCert, the token keys under forUser) only when no
/// other entry holds it. Done here, not at the create, so that a first write costs one write on
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

/// Checks, by a server-side dry run that persists nothing, that `probe` could be created: a
/// missing namespace is found before anything is made in Quay that could not be delivered.
pub async fn check_target(client: &Client, probe: &Secret) -> Result<(), OwnedError> {
    let params = PostParams {
        dry_run: true,
        field_manager: Some(MANAGER.into()),
    };
    match secrets(client, probe).create(&params, probe).await {
        Ok(_) => Ok(()),
        // It appeared since the caller looked, so its namespace exists; ownership decides later.
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(missing_namespace(
            probe,
            e,
            "check that the result Secret can be created",
        )),
    }
}

/// Deletes `owner`'s result Secret at `target` if it is ours (or, when `legacy_allowed`, the
/// earlier operator's for it); already gone is fine. `conn` is the connection Secret, if known.
pub async fn delete_if_ours<K: Owner>(
    client: &Client,
    owner: &K,
    target: &Target,
    conn: Option<&Target>,
    legacy_allowed: bool,
) -> Result<(), Unreachable> {
    let api = Api::<Secret>::namespaced(client.clone(), &target.namespace);
    let existing = api
        .get_opt(&target.name)
        .await
        .map_err(|source| Unreachable {
            step: Step::Read,
            source,
        })?;
    // No Secret is the connection Secret when that cannot be resolved.
    let never = Target {
        namespace: String::new(),
        name: String::new(),
    };
    match ownership(existing.as_ref(), owner, target, conn.unwrap_or(&never)) {
        Ownership::Legacy if !legacy_allowed => return Ok(()),
        Ownership::Ours | Ownership::Legacy => {}
        _ => return Ok(()),
    }
    match api.delete(&target.name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(source) => Err(Unreachable {
            step: Step::Delete,
            source,
        }),
    }
}

/// A result Secret that deletion could not read or delete.
#[derive(Debug)]
pub struct Unreachable {
    /// What deletion was doing.
    pub step: Step,
    /// The API server's refusal.
    pub source: kube::Error,
}

impl Unreachable {
    /// What an event says of the Secret at `target` that may be left behind.
    pub fn note(&self, target: &Target) -> String {
        // The API server's own sentence; kube's Display of the error adds a debug dump of it.
        let why = match &self.source {
            kube::Error::Api(status) => status.message.clone(),
            other => other.to_string(),
        };
        format!(
            "the result Secret {target} could not be {} and may be left behind ({why}); delete it by hand",
            self.step.done()
        )
    }
}

impl From<Unreachable> for OwnedError {
    fn from(failed: Unreachable) -> Self {
        OwnedError::Kube {
            action: failed.step.action(),
            source: failed.source,
        }
    }
}

/// What deletion was doing to the result Secret when the API server refused.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// Reading it, to tell whose it is.
    Read,
    /// Deleting it.
    Delete,
}

impl Step {
    /// The action, as a Kubernetes error names it.
    pub fn action(self) -> &'static str {
        match self {
            Step::Read => "read the result Secret",
            Step::Delete => "delete the result Secret",
        }
    }

    /// What could not be done to it, as an event says.
    pub fn done(self) -> &'static str {
        match self {
            Step::Read => "read",
            Step::Delete => "deleted",
        }
    }
}

fn secrets(client: &Client, secret: &Secret) -> Api<Secret> {
    Api::namespaced(client.clone(), &secret.namespace().unwrap_or_default())
}

/// A create can only miss its namespace with a 404; anything else is the API server's failure.
fn missing_namespace(secret: &Secret, error: kube::Error, action: &'static str) -> OwnedError {
    match error {
        kube::Error::Api(s) if s.code == 404 => OwnedError::ResultNamespaceMissing {
            namespace: secret.namespace().unwrap_or_default(),
        },
        source => OwnedError::Kube { action, source },
    }
}

/// Against the real API server of this test binary (`quay_testenv`), since what matters here
/// is how it answers: a taken name, a missing namespace, a dry run, field ownership.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ReconcileError;
    use crate::object_error::ObjectError;
    use k8s_openapi::ByteString;
    use k8s_openapi::api::core::v1::Namespace;
    use kube::api::ObjectMeta;
    use std::collections::BTreeMap;

    async fn context() -> Client {
        quay_testenv::shared(quay_testenv::Options::default())
            .client()
            .await
    }

    async fn namespace(client: &Client, prefix: &str) -> String {
        quay_testenv::create_namespace(client, prefix)
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

    fn secrets(ctx: &Client, ns: &str) -> Api<Secret> {
        Api::namespaced(ctx.clone(), ns)
    }

    #[tokio::test]
    async fn create_leaves_a_secret_that_appeared_untouched() {
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
        let error = ReconcileError::from(create(&ctx, &ours).await.unwrap_err());

        assert!(
            matches!(&error, ReconcileError::Object(ObjectError::SecretAppeared { secret, .. }) if *secret == format!("{ns}/out")),
            "{error:?}"
        );
        assert!(error.is_transient(), "the next reconcile checks ownership");
        assert!(error.to_string().contains(&format!("{ns}/out")), "{error}");
        assert!(!error.to_string().contains("NEW-TOKEN"), "{error}");
        let after = secrets(&ctx, &ns).get("out").await.unwrap();
        assert_eq!(after, before, "the other Secret is not touched at all");
    }

    #[tokio::test]
    async fn create_creates_what_later_applies_fully_own() {
        let ctx = context().await;
        let ns = namespace(&ctx, "unit-create").await;
        let first = opaque(&ns, "out", &[("accessToken", "A"), ("caCert", "PEM")]);
        create(&ctx, &first).await.unwrap();
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
        write(
            &ctx,
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
        create(
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
        write(&ctx, &desired, Some(&stale)).await.unwrap();
        let kept = secrets(&ctx, &ns).get("out").await.unwrap();
        assert!(crate::owned::secret::needs_write(Some(&kept), &desired));
        write(&ctx, &desired, Some(&kept)).await.unwrap();
        let fixed = secrets(&ctx, &ns).get("out").await.unwrap();
        let keys: Vec<_> = fixed.data.clone().unwrap().into_keys().collect();
        assert_eq!(keys, vec!["accessToken".to_string()]);
        assert!(!crate::owned::secret::needs_write(Some(&fixed), &desired));
    }

    #[tokio::test]
    async fn create_names_a_missing_namespace() {
        let ctx = context().await;
        let ns = format!("{}-absent", namespace(&ctx, "unit-nons").await);
        let error = create(&ctx, &opaque(&ns, "out", &[("accessToken", "A")]))
            .await
            .unwrap_err();
        let error = ReconcileError::from(error);
        assert!(
            matches!(&error, ReconcileError::Object(ObjectError::ResultNamespaceMissing { namespace }) if *namespace == ns),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn check_target_finds_a_missing_namespace_and_persists_nothing() {
        let ctx = context().await;
        let ns = namespace(&ctx, "unit-check").await;
        let missing = format!("{ns}-absent");

        let error = check_target(&ctx, &opaque(&missing, "out", &[("host", "h")]))
            .await
            .unwrap_err();
        let error = ReconcileError::from(error);
        assert!(
            matches!(&error, ReconcileError::Object(ObjectError::ResultNamespaceMissing { namespace }) if *namespace == missing),
            "{error:?}"
        );
        assert_eq!(error.reason(), "ResultNamespaceMissing");
        assert!(error.is_transient(), "creating the namespace heals it");
        let message = error.to_string();
        assert!(
            message.contains("retSecretRef.namespace") && message.contains(&missing),
            "{message}"
        );
        let namespaces: Api<Namespace> = Api::all(ctx.clone());
        assert!(namespaces.get_opt(&missing).await.unwrap().is_none());

        check_target(&ctx, &opaque(&ns, "out", &[("host", "h")]))
            .await
            .unwrap();
        assert!(
            secrets(&ctx, &ns).get_opt("out").await.unwrap().is_none(),
            "a dry run persists nothing"
        );
    }
}
