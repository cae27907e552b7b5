//! The Application kind's wiring into the generic controller ([`crate::runner`]),
//! on the same namespaces, leadership and slots as the ApiToken controller.

use super::context::AppContext;
use super::crd::{Application, ApplicationStatus};
use super::error::ApplicationError;
use super::reconcile::{error_policy, reconcile};
use crate::context::Context;
use crate::controller::slots::Slots;
use crate::per_uid;
use crate::runner::{Kind, Parts};
use crate::stored::StoredKind;
use futures::Future;
use kube::core::ObjectMeta;
use kube::runtime::controller::Action;
use std::sync::Arc;
use std::time::Duration;

/// Runs the Application controllers over `scopes` (namespaces, or `None` for all) until
/// `shutdown`, in the process's `slots` (shared with the ApiToken controller).
pub async fn run(
    ctx: Arc<Context>,
    scopes: Vec<Option<String>>,
    slots: Slots,
    shutdown: impl Future<Output = ()> + Send + Sync + Clone + 'static,
) {
    let ctx = Arc::new(AppContext::new(ctx));
    crate::runner::run::<Application>(ctx, scopes, slots, shutdown, || {}).await;
}

impl StoredKind for Application {
    fn placeholder_spec() -> serde_json::Value {
        serde_json::json!({"connSecretRef": {"name": "-"}, "organization": "-", "name": "--"})
    }
}

impl Kind for Application {
    type Ctx = AppContext;
    type Error = ApplicationError;
    // Application Secret writes are not noted: their echoes wake the Application, which
    // finds nothing to do.
    const NOTES_ECHOES: bool = false;

    fn parts(ctx: &AppContext) -> Parts<'_, Application> {
        Parts::new(
            &ctx.base,
            &ctx.peers,
            &ctx.backoff,
            &ctx.written,
            &ctx.events,
        )
    }

    fn reconcile(
        app: Arc<Application>,
        ctx: Arc<AppContext>,
    ) -> impl Future<Output = Result<Action, ApplicationError>> + Send {
        reconcile(app, ctx)
    }

    fn error_policy(
        app: Arc<Application>,
        error: &ApplicationError,
        ctx: Arc<AppContext>,
    ) -> Action {
        error_policy(app, error, ctx)
    }

    fn set_ready_gauge(ctx: &AppContext, ready: i64, not_ready: i64) {
        ctx.base.metrics.set_applications_ready(ready, not_ready);
    }

    fn forget(ctx: &AppContext, meta: &ObjectMeta) {
        per_uid::forget(&ctx.per_uid(), meta.uid.as_deref().unwrap_or_default());
    }

    fn sweep(ctx: &AppContext) {
        let live = ctx.peers.live_uids();
        per_uid::sweep(&ctx.per_uid(), &|uid| live.contains(uid));
    }

    fn reconcile_finished(ctx: &AppContext, label: &str, elapsed: Duration) {
        ctx.base
            .metrics
            .application_reconcile_finished(label, elapsed);
    }

    fn left_in_quay(status: Option<&ApplicationStatus>) -> String {
        match status.and_then(|s| s.application.as_ref()) {
            Some(r) => format!(
                "application {} of organization `{}` on {} stays in Quay",
                r.client_id, r.organization, r.host
            ),
            None => "any application it managed stays in Quay".to_owned(),
        }
    }
}
