//! What the operator records in an ApiToken's status: conditions, the Quay token it owns,
//! the mint in flight and the tokens it replaced.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Declares a kind's status struct: first the fields every kind's status has (the observed
/// generation, the Ready and Successful conditions, the message, whether Quay holds the object,
/// the result Secret's name, the rejected connection settings), the conditions, Quay flag and
/// rejected settings described per kind (`shared:`, three doc blocks each ended by `;`); then its
/// own optional fields, left out when `None`, and its lists, left out when empty.
macro_rules! kind_status {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            shared:
                $(#[$conditions:meta])*;
                $(#[$exists:meta])*;
                $(#[$rejected:meta])*;
            $($(#[$doc:meta])* pub $field:ident: Option<$type:ty>,)*
            $(lists: $($(#[$list_doc:meta])* pub $list:ident: Vec<$item:ty>,)*)?
        }
    ) => {
        $(#[$meta])*
        #[::serde_with::skip_serializing_none]
        #[derive(
            ::schemars::JsonSchema,
            ::serde::Serialize,
            ::serde::Deserialize,
            Clone,
            Debug,
            Default,
            PartialEq,
        )]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// The generation of the spec that this status describes.
            pub observed_generation: Option<i64>,
            $(#[$conditions])*
            #[serde(default)]
            pub conditions: Vec<$crate::crd::Condition>,
            /// Empty when all is well, else the error in one sentence.
            #[serde(default)]
            pub message: String,
            $(#[$exists])*
            #[serde(default)]
            pub exist_in_quay: bool,
            /// Namespace and name of the result Secret ("namespace/name").
            pub secret_name: Option<String>,
            $(#[$rejected])*
            pub rejected_credentials: Option<String>,
            $(
                $(#[$doc])*
                pub $field: Option<$type>,
            )*
            $($(
                $(#[$list_doc])*
                #[serde(default, skip_serializing_if = "Vec::is_empty")]
                pub $list: Vec<$item>,
            )*)?
        }
    };
}
pub(crate) use kind_status;

kind_status! {
/// What the operator observed and recorded for one ApiToken.
pub struct ApiTokenStatus {
    shared:
        /// Ready (the Secret holds a live token for the current spec) and Successful (same status,
        /// kept for users of the earlier operator).
        ;
        /// True once a token exists in Quay for this resource.
        ;
        /// A salted hash of connection settings that Quay rejected (wrong password, disabled
        /// user). The operator does not sign in with them again, after restarts too, until the
        /// connection Secret changes: every rejected sign-in lengthens Quay's login back-off.
        ;
    /// The token that Quay holds for this resource, as far as needed to keep it and revoke it.
    pub token: Option<TokenRecord>,
    /// A mint that was started and not yet recorded; kept so that a crash in between leaves no
    /// token that nothing tracks.
    pub pending_mint: Option<PendingMint>,
    /// The value of the rotate annotation that the current token answers.
    pub rotation: Option<String>,
    /// When the current token expires (RFC 3339): Quay's expiry, or the end of spec.expiration
    /// where Quay cannot be told (before 3.18).
    pub expires_at: Option<String>,
    /// When the operator mints the current token's replacement (RFC 3339).
    pub renew_at: Option<String>,
    lists:
    /// Tokens replaced by the current one and not yet revoked. Recorded together with their
    /// successor, before the result Secret holds it, so that a crash in between leaves no
    /// token that nothing tracks; revoked once the Secret holds the successor.
    pub replaced: Vec<TokenRecord>,
}
}

/// One condition, in the shape of metav1.Condition, tolerant of the earlier operator's entries
/// (empty reasons, `ansibleResult`) so that taking over its objects never fails validation.
#[serde_with::skip_serializing_none]
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Type of condition, e.g. Ready.
    #[serde(rename = "type")]
    pub type_: String,
    /// True, False or Unknown.
    pub status: String,
    /// CamelCase reason for the last transition.
    #[serde(default)]
    pub reason: String,
    /// Human-readable details.
    #[serde(default)]
    pub message: String,
    /// When the status last changed.
    pub last_transition_time: Option<String>,
    /// The generation this condition was computed for.
    pub observed_generation: Option<i64>,
    /// Left by the earlier Ansible-based operator; accepted and dropped on the first update.
    // Its schema is written by hand: only `default` tells schemars that it is optional.
    #[serde(default)]
    #[schemars(schema_with = "free_form")]
    pub ansible_result: Option<serde_json::Value>,
}

/// The Quay token this resource owns.
#[serde_with::skip_serializing_none]
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TokenRecord {
    /// Quay's id (uuid) of the token; absent for a token adopted from the earlier operator.
    pub id: Option<String>,
    /// How the token was minted: TokenApi or WebFlow; decides how it is verified and revoked.
    pub flavour: Option<String>,
    /// The Quay URL the token belongs to.
    pub host: String,
    /// The Quay account that owns (or, with forUser, assigned) the token.
    pub username: String,
    /// The OAuth application's client ID.
    pub client_id: String,
    /// The organization of the OAuth application.
    pub organization: Option<String>,
    /// Hash of the inputs the token depends on (host, username, client ID, rights, forUser).
    pub input_hash: String,
    /// SHA-256 of the token value, to tell when the result Secret was edited.
    pub token_hash: Option<String>,
    /// When the token was minted (RFC 3339).
    pub minted_at: Option<String>,
    /// When Quay expires the token (RFC 3339), when known.
    pub expires_at: Option<String>,
    /// The user the token was assigned to, with forUser.
    pub assigned_to: Option<String>,
    /// The scopes the token was minted with: those of `rights` that the account can hold
    /// (`all` leaves out `super:user` for an account that is not a Quay superuser).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// A replaced token in its grace period: when it is revoked (RFC 3339).
    pub revoke_at: Option<String>,
}

/// A mint in flight, recorded before Quay is asked.
#[serde_with::skip_serializing_none]
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PendingMint {
    /// The name given to the token in Quay (token API), by which it can be found again.
    pub name: String,
    /// The Quay URL.
    pub host: String,
    /// The Quay account.
    pub username: String,
    /// The OAuth application's client ID.
    pub client_id: String,
    /// When the mint started (RFC 3339).
    pub started_at: String,
    /// How the token is minted (tokenApi or webFlow).
    pub flavour: Option<String>,
    /// The scopes asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Web flow, where tokens have no names: the application's tokens of the account before
    /// this mint. A token of the application that is neither here nor tracked by an ApiToken
    /// afterwards is the one this mint made.
    pub known_ids: Option<Vec<String>>,
}

fn free_form(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_ansible_conditions_deserialize() {
        let status: ApiTokenStatus = serde_json::from_value(serde_json::json!({
            "conditions": [
                {"type": "Running", "status": "False", "reason": "", "message": "",
                 "ansibleResult": {"changed": 1, "failures": 0, "ok": 3}},
                {"type": "Failure", "status": "True", "reason": "", "message": "boom"}
            ]
        }))
        .unwrap();
        assert_eq!(status.conditions.len(), 2);
        assert!(status.conditions[0].ansible_result.is_some());
    }
}
