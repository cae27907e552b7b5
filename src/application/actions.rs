//! The steps that change what Quay holds: find the resource's application (by its recorded
//! client ID, after an interrupted create, or by name when nothing is recorded), create one
//! (intent recorded first), and bring its fields to the spec. Network: Quay and the
//! Kubernetes API (status writes).

use super::context::AppContext;
use super::crd::{AppRecord, Application, PendingCreate};
use super::error::ApplicationError;
use super::inputs::Inputs;
use super::plan::{self, Desired, Recovery};
use crate::owned::StatusWriter;
use crate::quay::AppView;
use kube::ResourceExt;
use tokio::sync::OwnedMutexGuard;

/// How the application became this resource's, as status records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Origin {
    Created,
    Adopted,
    Recovered,
}

impl Origin {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Origin::Created => "Created",
            Origin::Adopted => "Adopted",
            Origin::Recovered => "Recovered",
        }
    }

    /// How `record` became this resource's; `None` when its status does not say.
    pub(super) fn of(record: &AppRecord) -> Option<Origin> {
        match record.origin.as_deref()? {
            "Created" => Some(Origin::Created),
            "Adopted" => Some(Origin::Adopted),
            "Recovered" => Some(Origin::Recovered),
            _ => None,
        }
    }
}

/// Whether the operator made `record`'s application, and so may delete it with the resource.
/// A create whose answer was lost and that recovery found afterwards is the operator's own.
/// A record that does not say (written before origins were kept, or edited) counts as taken
/// over: deleting is final and takes every token minted for the application with it, while
/// keeping one the operator did make leaves an application a person can delete by hand, which
/// the event on deletion names.
pub(super) fn created_here(record: &AppRecord) -> bool {
    matches!(
        Origin::of(record),
        Some(Origin::Created | Origin::Recovered)
    )
}

/// The application of this resource in Quay, and its record.
pub(super) struct Located {
    pub(super) record: AppRecord,
    pub(super) view: AppView,
}

/// Finds (or creates) the resource's application. Every way it becomes this resource's is
/// recorded in status before anything else happens to it.
pub(super) async fn locate(
    app: &Application,
    ctx: &AppContext,
    inputs: &Inputs,
    status: &StatusWriter<'_, Application>,
) -> Result<Located, ApplicationError> {
    let host = inputs.conn.host_string();
    let org = app.spec.organization.as_str();
    let current = status.current();
    if let Some(pending) = &current.pending_create
        && let Some(found) = recover(app, ctx, inputs, status, pending).await?
    {
        return Ok(found);
    }
    let recorded = current
        .application
        .clone()
        .filter(|r| r.host == host && r.organization == org);
    if let Some(record) = recorded {
        if let Some(view) = ctx.apps.get(&inputs.conn, org, &record.client_id).await? {
            return Ok(Located { record, view }); // Quay
        }
        // Deleted in Quay behind our back: a new one takes its place (and its client ID
        // replaces the old one in the Secret, which ApiTokens follow).
        let guard = ctx.org_lock(&host, org).await;
        let apps = ctx.apps.list(&inputs.conn, org).await?; // Quay
        let gone = record.client_id.clone();
        let located = create(app, ctx, inputs, status, &apps, &guard).await?;
        ctx.events
            .publish(
                app,
                true,
                "Recreated",
                format!(
                    "application {gone} was deleted in Quay, and every token minted for it with \
                     it; created application `{}` again as client ID {}",
                    located.view.name, located.view.client_id
                ),
            )
            .await;
        return Ok(located);
    }
    if let Some(old) = &current.application {
        ctx.events.publish(app, true, "LeftInQuay", format!(
            "application {} of organization `{}` on {} is no longer this resource's: the spec or the connection Secret names another organization or host; it stays in Quay, delete it there if nothing uses it",
            old.client_id, old.organization, old.host)).await;
    }
    // Nothing recorded: look by name, and create only when none fits. Under the
    // organization's lock, so that two resources never take over or create the same one.
    let guard = ctx.org_lock(&host, org).await;
    let apps = ctx.apps.list(&inputs.conn, org).await?; // Quay
    let claims = ctx.claims(&app.uid().unwrap_or_default(), &host, org);
    match plan::find_by_name(&apps, &Desired::of(app), &claims, org)? {
        Some(view) => {
            let record = adopt(app, status, &host, &view, Origin::Adopted).await?;
            ctx.events
                .publish(
                    app,
                    false,
                    "Adopted",
                    format!(
                        "took over application `{}` of organization `{org}` (client ID {}), the only one of that name; {}",
                        view.name,
                        view.client_id,
                        on_deletion_of_adopted(app)
                    ),
                )
                .await;
            Ok(Located { record, view })
        }
        None => create(app, ctx, inputs, status, &apps, &guard).await,
    }
}

/// What deleting the resource will do to an application it took over, for the Adopted event.
fn on_deletion_of_adopted(app: &Application) -> &'static str {
    if app.spec.preserve_in_quay_on_deletion || !app.spec.delete_adopted_in_quay {
        "deleting this resource will keep it in Quay, as it was not created by the operator (set deleteAdoptedInQuay to true to delete it then)"
    } else {
        "deleteAdoptedInQuay is true: deleting this resource will delete it in Quay, and every token minted for it"
    }
}

/// Records `view` as this resource's application, before anything is done to it.
async fn adopt(
    app: &Application,
    status: &StatusWriter<'_, Application>,
    host: &str,
    view: &AppView,
    origin: Origin,
) -> Result<AppRecord, ApplicationError> {
    let record = AppRecord {
        client_id: view.client_id.clone(),
        host: host.to_owned(),
        organization: app.spec.organization.clone(),
        origin: Some(origin.as_str().to_owned()),
    };
    let mut next = status.current();
    next.application = Some(record.clone());
    next.pending_create = None;
    next.exist_in_quay = true;
    status.write_guarded(next).await?; // Kubernetes API
    Ok(record)
}

/// Creates the application: the intent first (so that a crash between Quay's answer and the
/// record is recovered, never repeated), then Quay, then the record. `apps` is the
/// organization's list, read under `_held`, the organization's lock.
async fn create(
    app: &Application,
    ctx: &AppContext,
    inputs: &Inputs,
    status: &StatusWriter<'_, Application>,
    apps: &[AppView],
    _held: &OwnedMutexGuard<()>,
) -> Result<Located, ApplicationError> {
    let host = inputs.conn.host_string();
    let org = app.spec.organization.as_str();
    let fields = plan::create_fields(&Desired::of(app));
    let mut intent = status.current();
    intent.pending_create = Some(PendingCreate {
        host: host.clone(),
        organization: org.to_owned(),
        name: fields.name.clone(),
        known_client_ids: apps
            .iter()
            .filter(|a| a.name == fields.name)
            .map(|a| a.client_id.clone())
            .collect(),
        started_at: super::now(),
    });
    status.write_guarded(intent).await?; // Kubernetes API
    let view = match ctx.apps.create(&inputs.conn, org, &fields).await {
        Ok(view) => view,
        Err(e) => {
            if !e.is_transient() {
                // Quay said no: nothing was created, so the intent is void. A timeout may
                // have created it: then the intent stays, and recovery finds it.
                let mut void = status.current();
                void.pending_create = None;
                status.write(void).await?;
            }
            return Err(e.into());
        }
    };
    let record = adopt(app, status, &host, &view, Origin::Created).await?;
    ctx.base.metrics.application_created();
    ctx.events
        .publish(
            app,
            false,
            "Created",
            format!(
                "created application `{}` in organization `{org}` as client ID {}",
                view.name, view.client_id
            ),
        )
        .await;
    Ok(Located { record, view })
}

/// A create was started and never recorded (a crash, or a timeout while Quay answered): the
/// application it made, if any, is this resource's. `None` when it made none.
async fn recover(
    app: &Application,
    ctx: &AppContext,
    inputs: &Inputs,
    status: &StatusWriter<'_, Application>,
    pending: &PendingCreate,
) -> Result<Option<Located>, ApplicationError> {
    let host = inputs.conn.host_string();
    if pending.host != host || pending.organization != app.spec.organization {
        ctx.events.publish(app, true, "CreateInterrupted", format!(
            "a create of application `{}` in organization `{}` on {} started at {} did not complete, and the spec or the connection Secret now names another organization or host; if Quay holds an extra application of that name there, delete it",
            pending.name, pending.organization, pending.host, pending.started_at)).await;
        forget_pending(status).await?;
        return Ok(None);
    }
    let _held = ctx.org_lock(&host, &pending.organization).await;
    let apps = ctx.apps.list(&inputs.conn, &pending.organization).await?; // Quay
    let claims = ctx.claims(&app.uid().unwrap_or_default(), &host, &pending.organization);
    match plan::recover(&apps, pending, &claims) {
        Recovery::Made(view) => {
            let record = adopt(app, status, &host, &view, Origin::Recovered).await?;
            ctx.events
                .publish(
                    app,
                    false,
                    "CreateRecovered",
                    format!(
                        "a create interrupted at {} had made application `{}` (client ID {}); it is recorded now, and no second one is created",
                        pending.started_at, view.name, view.client_id
                    ),
                )
                .await;
            Ok(Some(Located { record, view }))
        }
        Recovery::Nothing => {
            forget_pending(status).await?;
            Ok(None)
        }
        Recovery::Ambiguous(client_ids) => Err(ApplicationError::Ambiguous {
            field: "spec.name",
            org: pending.organization.clone(),
            names: format!("`{}`", pending.name),
            client_ids,
        }),
    }
}

async fn forget_pending(status: &StatusWriter<'_, Application>) -> Result<(), ApplicationError> {
    let mut next = status.current();
    next.pending_create = None;
    Ok(status.write(next).await?)
}

/// Brings the application's fields to the spec with one replacing `PUT`, only when one differs.
pub(super) async fn update(
    app: &Application,
    ctx: &AppContext,
    inputs: &Inputs,
    view: AppView,
) -> Result<AppView, ApplicationError> {
    let Some(fields) = plan::changes(&view, &Desired::of(app)) else {
        return Ok(view);
    };
    let changed = plan::changed_fields(&view, &fields);
    let org = app.spec.organization.as_str();
    let Some(updated) = ctx
        .apps
        .update(&inputs.conn, org, &view.client_id, &fields)
        .await?
    // Quay
    else {
        return Err(ApplicationError::Vanished {
            client_id: view.client_id,
        });
    };
    ctx.base.metrics.application_updated();
    ctx.events
        .publish(
            app,
            false,
            "Updated",
            format!(
                "set {} of application {} in Quay to the spec",
                changed.join(", "),
                updated.client_id
            ),
        )
        .await;
    Ok(updated)
}
