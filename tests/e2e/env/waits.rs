//! Waiting for the operator: on an ApiToken's status (a timeout shows the ApiToken and the
//! namespace's events), on the result Secret, on Quay's live tokens.

use super::{Env, PATIENCE, observed, ready, ready_reason};
use crate::support::wait_for;
use kube::api::DeleteParams;
use quay_apitoken_operator::crd::ApiToken;

impl Env {
    /// Waits until `check` accepts the ApiToken.
    pub async fn wait_token(
        &self,
        name: &str,
        what: &str,
        check: impl Fn(&ApiToken) -> bool,
    ) -> ApiToken {
        self.ns
            .wait_for(name, PATIENCE, what, |t: Option<ApiToken>| {
                t.filter(|t| check(t))
            })
            .await
    }

    /// Waits until the ApiToken is Ready for its current generation.
    pub async fn wait_ready(&self, name: &str) -> ApiToken {
        self.wait_token(name, "Ready", |t| {
            ready(t) == Some(true) && observed(t) == t.metadata.generation
        })
        .await
    }

    /// Waits until the ApiToken is not Ready with `reason`.
    pub async fn wait_reason(&self, name: &str, reason: &str) -> ApiToken {
        self.wait_token(name, &format!("not Ready with reason {reason}"), |t| {
            ready(t) == Some(false) && ready_reason(t).as_deref() == Some(reason)
        })
        .await
    }

    /// Deletes an ApiToken and waits until it is gone.
    pub async fn delete_and_wait(&self, name: &str) {
        self.tokens()
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
        self.wait_gone(name).await;
    }

    /// Waits until the ApiToken is gone (its finalizer released).
    pub async fn wait_gone(&self, name: &str) {
        self.ns
            .wait_for(name, PATIENCE, "gone", |t: Option<ApiToken>| {
                t.is_none().then_some(())
            })
            .await;
    }

    /// Waits until the result Secret `secret` holds the live token `id`, and returns its value.
    /// A new token is recorded a moment before the Secret holds it (crash safety), so a test
    /// that saw a new id in status waits for this before reading the Secret.
    pub async fn wait_delivered(&self, secret: &str, id: &str) -> String {
        wait_for(
            PATIENCE,
            &format!("Secret {secret} holds token {id}"),
            || async {
                let live = self.quay.tokens().into_iter().find(|t| t.uuid == id)?;
                let data = self.secret_data(&self.ns.name, secret).await?;
                (data.get("accessToken") == Some(&live.token)).then_some(live.token)
            },
        )
        .await
    }

    /// Waits until Quay holds exactly one live token, `id` (a replaced token is revoked just
    /// after its successor is recorded), and returns it.
    pub async fn wait_only_live(&self, id: &str) -> quay_emulator::TokenInfo {
        wait_for(PATIENCE, &format!("only token {id} live"), || async {
            let live = self.quay.tokens();
            (live.len() == 1 && live[0].uuid == id).then(|| live[0].clone())
        })
        .await
    }
}
