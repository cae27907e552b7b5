//! Acting on Quay behind the operator's back: minting as a crashed mint leaves a token,
//! reading its live tokens, taking it down.

use super::{ADMIN, ADMIN_PASSWORD, Env};
use quay_apitoken_operator::quay::{ConnectionSettings, MintRequest, MintedToken, QuayClient};
use std::collections::BTreeMap;

impl Env {
    /// The default account's connection settings, as the operator reads them.
    pub fn admin_settings(&self) -> ConnectionSettings {
        let data: BTreeMap<String, Vec<u8>> = self
            .conn_data(ADMIN, ADMIN_PASSWORD)
            .into_iter()
            .map(|(k, v)| (k, v.into_bytes()))
            .collect();
        ConnectionSettings::from_secret_data(&data).unwrap()
    }

    /// Mints a `repo:read` token for the app behind the operator's back, as a crashed mint
    /// leaves one (`name` on the token API; the web flow has none).
    pub async fn mint_directly(&self, name: &str) -> MintedToken {
        QuayClient::new(None)
            .mint(
                &self.admin_settings(),
                MintRequest {
                    client_id: self.app.client_id.clone(),
                    scopes: vec!["repo:read".into()],
                    name: name.to_owned(),
                    expiration: None,
                },
            )
            .await
            .unwrap()
    }

    /// Live tokens at the emulator, by secret value.
    pub fn live_token_values(&self) -> Vec<String> {
        self.quay.tokens().into_iter().map(|t| t.token).collect()
    }

    /// Makes Quay answer 503 to everything (`true`), or heals it.
    pub fn set_quay_down(&self, down: bool) {
        let rules = if down {
            vec![quay_emulator::FaultRule {
                endpoint: None,
                latency_ms: None,
                random_latency_ms: None,
                error_rate: Some(1.0),
                drop_rate: None,
                hang: false,
                hang_rate: None,
                answer: None,
            }]
        } else {
            Vec::new()
        };
        self.quay.set_faults(quay_emulator::Faults { rules });
    }
}
