//! Deletion: delete the application in Quay (unless preserved), then the result Secret, then
//! release the finalizer. Never blocks on what can never succeed, so a namespace deletion
//! cannot hang on us.

use super::actions::{Origin, created_here};
use super::context::AppContext;
use super::crd::{AppRecord, Application};
use super::error::ApplicationError;
use super::inputs;
use super::plan::{self, Recovery};
use crate::quay::AppConnection;
use kube::ResourceExt;
use kube::runtime::controller::Action;

/// Cleans up after a deleted Application; `Err` keeps the finalizer (transient failures only).
pub async fn cleanup(app: &Application, ctx: &AppContext) -> Result<Action, ApplicationError> {
    let uid = app.uid().unwrap_or_default();
    delete_in_quay(app, ctx).await?;
    delete_result_secret(app, ctx).await?;
    ctx.written.cleaned(&uid);
    // Another resource refused for this name may have it now.
    ctx.peers.nudge_where(|other| {
        other.uid().as_deref() != Some(uid.as_str())
            && other.spec.organization == app.spec.organization
            && other.metadata.deletion_timestamp.is_none()
            && !super::status::is_ready(other.status.as_ref())
    });
    Ok(Action::await_change())
}

/// Deletes the recorded application, and the one an interrupted create made, in Quay.
async fn delete_in_quay(app: &Application, ctx: &AppContext) -> Result<(), ApplicationError> {
    let uid = app.uid().unwrap_or_default();
    let Some(status) = ctx.written.current(&uid, app.status.as_ref()) else {
        return Ok(());
    };
    let mut records: Vec<AppRecord> = status.application.iter().cloned().collect();
    if records.is_empty() && status.pending_create.is_none() {
        return Ok(());
    }
    let what = describe(
        &records,
        status.pending_create.as_ref().map(|p| p.name.as_str()),
    );
    if crate::release::requested(app) {
        crate::release::announce(&ctx.events, app, &what).await;
        return Ok(());
    }
    if app.spec.preserve_in_quay_on_deletion {
        crate::release::preserved(&ctx.events, app, &what).await;
        return Ok(());
    }
    let conn = match inputs::connection(&ctx.base, app).await {
        Ok((_, conn)) => conn,
        Err(e) if e.is_transient() => return Err(e),
        Err(e) => {
            left_in_quay(app, ctx, &what, &e.to_string()).await;
            return Ok(());
        }
    };
    if let Some(pending) = &status.pending_create
        && pending.host == conn.host_string()
    {
        let _held = ctx.org_lock(&pending.host, &pending.organization).await;
        let apps = match ctx.apps.list(&conn, &pending.organization).await {
            Ok(apps) => apps,
            Err(e) if e.is_transient() => return Err(e.into()),
            Err(e) => {
                left_in_quay(app, ctx, &what, &e.to_string()).await;
                return Ok(());
            }
        };
        let claims = ctx.claims(&uid, &pending.host, &pending.organization);
        match plan::recover(&apps, pending, &claims) {
            Recovery::Made(view) => records.push(AppRecord {
                client_id: view.client_id,
                host: pending.host.clone(),
                organization: pending.organization.clone(),
                origin: Some(Origin::Recovered.as_str().to_owned()),
            }),
            Recovery::Nothing => {}
            Recovery::Ambiguous(ids) => {
                let why = format!(
                    "an interrupted create left several applications named `{}` ({}) and the operator cannot tell which one it made",
                    pending.name,
                    ids.join(", ")
                );
                left_in_quay(app, ctx, "one of them", &why).await;
            }
        }
    }
    for record in records {
        if created_here(&record) || app.spec.delete_adopted_in_quay {
            delete_one(app, ctx, &conn, &record).await?;
        } else {
            kept_adopted(app, ctx, &record).await;
        }
    }
    Ok(())
}

/// An application this resource took over rather than made stays in Quay: someone else made
/// it, and deleting it would delete every token minted for it, theirs included.
async fn kept_adopted(app: &Application, ctx: &AppContext, record: &AppRecord) {
    let what = describe(std::slice::from_ref(record), None);
    let how = match Origin::of(record) {
        Some(_) => "this resource took it over",
        None => {
            "an earlier version of the operator recorded it without saying whether it created it"
        }
    };
    ctx.events
        .publish(
            app,
            false,
            "KeptInQuay",
            format!(
                "{what} stays in Quay: {how}, and only applications it created are deleted (set deleteAdoptedInQuay to true to delete it too)"
            ),
        )
        .await;
}

/// Deletes one application; a refusal that retrying cannot change becomes a Warning event.
async fn delete_one(
    app: &Application,
    ctx: &AppContext,
    conn: &AppConnection,
    record: &AppRecord,
) -> Result<(), ApplicationError> {
    let what = describe(std::slice::from_ref(record), None);
    if record.host != conn.host_string() {
        let why = "the connection Secret no longer names its Quay".to_owned();
        left_in_quay(app, ctx, &what, &why).await;
        return Ok(());
    }
    match ctx
        .apps
        .delete(conn, &record.organization, &record.client_id)
        .await
    {
        Ok(existed) => {
            if existed {
                ctx.base.metrics.application_deleted();
                ctx.events
                    .publish(
                        app,
                        false,
                        "Deleted",
                        format!("deleted {what} in Quay, and with it every token minted for it"),
                    )
                    .await;
            }
            Ok(())
        }
        Err(e) if e.is_transient() => Err(e.into()),
        Err(e) => {
            left_in_quay(app, ctx, &what, &e.to_string()).await;
            Ok(())
        }
    }
}

/// "application 4J7E1FWF… of organization `production` on https://quay.example.com".
fn describe(records: &[AppRecord], pending: Option<&str>) -> String {
    let mut parts: Vec<String> = records
        .iter()
        .map(|r| {
            format!(
                "application {} of organization `{}` on {}",
                r.client_id, r.organization, r.host
            )
        })
        .collect();
    if let Some(name) = pending {
        parts.push(format!(
            "any application `{name}` an interrupted create made"
        ));
    }
    parts.join(" and ")
}

async fn left_in_quay(app: &Application, ctx: &AppContext, what: &str, why: &str) {
    let note = format!(
        "{what} could not be deleted and stays in Quay ({why}); delete it there by hand if nothing uses it"
    );
    ctx.events.publish(app, true, "LeftInQuay", note).await;
}

/// Deletes the result Secret if it is ours; one the operator may not read or delete is named
/// in a Warning event instead.
async fn delete_result_secret(app: &Application, ctx: &AppContext) -> Result<(), ApplicationError> {
    let client = &ctx.base.client;
    if let Some(note) = crate::result_secret::delete(client, ctx.base.consent(), app).await? {
        ctx.events
            .publish(app, true, "ResultSecretLeft", note)
            .await;
    }
    Ok(())
}
