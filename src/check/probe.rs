//! The checks against Quay, in the order the operator meets them: the host answers, TLS holds,
//! the token flavour, one sign-in, the application and its organization, the rights.
//!
//! Built only from the operator's own Quay client, so it sends what the operator would send:
//! one sign-in (and none after a refusal or inside Quay's login back-off), never a sign-out,
//! never a mint. The password is sent only once the host has answered as a Quay over the TLS
//! the settings ask for.

use crate::crd::Right;
use crate::quay::{ConnectionSettings, Flavour, QuayClient, QuayError};
use crate::reconcile::grant;

use super::report::Report;

/// What the ApiTokens to come will ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The OAuth application's client ID, when known.
    pub client_id: Option<String>,
    /// `spec.rights`.
    pub rights: Vec<Right>,
}

/// Runs every check that the previous ones allow, recording each in `report`.
pub async fn run(
    client: &QuayClient,
    settings: &ConnectionSettings,
    request: &Request,
    report: &mut Report,
) {
    report.facts.host = Some(settings.host_string());
    report.facts.username = Some(settings.username().to_owned());
    if !host_is_quay(client, settings, report).await {
        return;
    }
    let Some(superuser) = sign_in(client, settings, report).await else {
        return;
    };
    application(client, settings, request, report).await;
    rights(settings, &request.rights, superuser, report);
}

/// reachable, tls and flavour: one anonymous request (the discovery document), no password.
async fn host_is_quay(
    client: &QuayClient,
    settings: &ConnectionSettings,
    report: &mut Report,
) -> bool {
    let host = settings.host_string();
    match client.flavour(settings).await {
        Ok(flavour) => {
            report.pass(
                "reachable",
                format!("{host} answered GET /api/v1/discovery"),
            );
            tls(settings, report);
            let (hint, message) = match flavour {
                Flavour::TokenApi => (
                    "Quay 3.18 or later",
                    "token API (Quay 3.18 or later): tokens are minted with a name and revoked by id",
                ),
                Flavour::WebFlow => (
                    "Quay 3.17 or earlier",
                    "OAuth web flow (no token API in the discovery document: Quay 3.17 or \
                     earlier): tokens are found by listing the account's authorizations",
                ),
            };
            report.facts.flavour = Some(flavour.as_str());
            report.facts.version_hint = Some(hint);
            report.pass("flavour", message);
            true
        }
        Err(e @ QuayError::Tls { .. }) => {
            report.pass(
                "reachable",
                format!("{host} answered (its TLS handshake began)"),
            );
            report.fail("tls", e.to_string(), e.reason());
            false
        }
        Err(
            e @ (QuayError::Unreachable { .. }
            | QuayError::Timeout { .. }
            | QuayError::ClientSetup { .. }),
        ) => {
            report.fail("reachable", e.to_string(), e.reason());
            false
        }
        Err(e) => {
            // Something answered, but not as Quay's API does: no password goes to it.
            report.pass("reachable", format!("{host} answered"));
            tls(settings, report);
            report.fail(
                "flavour",
                format!("{e}; the password was not sent to it"),
                e.reason(),
            );
            false
        }
    }
}

fn tls(settings: &ConnectionSettings, report: &mut Report) {
    if !settings.host_string().starts_with("https://") {
        report.warn(
            "tls",
            "plain HTTP: the password and the tokens cross the network unencrypted",
        );
    } else if !settings.validate_certs() {
        report.warn(
            "tls",
            "certificate not verified (validateCerts false): anyone on the network path can \
             pose as Quay and read the password",
        );
    } else if settings.ca_cert_pem().is_some() {
        report.pass(
            "tls",
            "certificate verified against caCert and the system roots",
        );
    } else {
        report.pass("tls", "certificate verified against the system roots");
    }
}

/// One sign-in, through the account's user view (which also says whether it is a superuser).
async fn sign_in(
    client: &QuayClient,
    settings: &ConnectionSettings,
    report: &mut Report,
) -> Option<bool> {
    let user = settings.username();
    match client.is_superuser(settings).await {
        Ok(superuser) => {
            report.facts.superuser = Some(superuser);
            let what = if superuser {
                "a Quay superuser"
            } else {
                "not a Quay superuser"
            };
            report.pass("sign-in", format!("signed in as `{user}`, {what}"));
            Some(superuser)
        }
        Err(e @ QuayError::LoginBackoff { .. }) => {
            let wait = e.retry_after().map(|d| d.as_secs()).unwrap_or(1);
            report.fail(
                "sign-in",
                format!(
                    "Quay refuses sign-ins of `{user}` for {wait} s more after earlier failed \
                     attempts (its login back-off); check did not try again: run it after \
                     that, with the right password"
                ),
                e.reason(),
            );
            None
        }
        Err(e) => {
            report.fail("sign-in", e.to_string(), e.reason());
            None
        }
    }
}

/// application and org-admin: the OAuth application exists, and the account administers the
/// organization that owns it.
async fn application(
    client: &QuayClient,
    settings: &ConnectionSettings,
    request: &Request,
    report: &mut Report,
) {
    let Some(client_id) = &request.client_id else {
        report.skip("application", "not checked: no --client-id given");
        report.skip("org-admin", "not checked: no --client-id given");
        return;
    };
    if !crate::reconcile::looks_like_client_id(client_id) {
        // As the operator does: nothing that cannot be a client ID goes into a request.
        report.fail(
            "application",
            format!(
                "--client-id `{client_id}` is not a Quay client ID (1 to 64 letters and digits)"
            ),
            "ClientIdInvalid",
        );
        report.skip("org-admin", "not checked: the client ID is not one");
        return;
    }
    let user = settings.username();
    let exists = |org: &str| {
        format!("client ID `{client_id}` is an OAuth application of organization `{org}`")
    };
    match client.app_info(settings, client_id).await {
        Ok(org) => {
            report.pass("application", exists(&org));
            report.pass(
                "org-admin",
                format!("`{user}` administers organization `{org}`"),
            );
            report.facts.organization = Some(org);
        }
        Err(e @ QuayError::NotOrganizationAdmin { .. }) => {
            if let QuayError::NotOrganizationAdmin { org, .. } = &e {
                report.pass("application", exists(org));
                report.facts.organization = Some(org.clone());
            }
            report.fail("org-admin", e.to_string(), e.reason());
        }
        Err(e) => {
            report.fail("application", e.to_string(), e.reason());
            report.skip("org-admin", "not checked: the application was not found");
        }
    }
}

/// rights: the scopes an ApiToken with these rights gets from this account.
fn rights(settings: &ConnectionSettings, rights: &[Right], superuser: bool, report: &mut Report) {
    let user = settings.username();
    let asked = rights
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let holds = if superuser {
        "the account can hold all eight scopes"
    } else {
        "the account can hold every scope but super:user"
    };
    match grant::decide(rights, superuser) {
        Ok(granted) => {
            let scopes = granted.scopes.join(",");
            if granted.left_out.is_empty() {
                report.pass("rights", format!("{asked} → {scopes}; {holds}"));
            } else {
                report.warn(
                    "rights",
                    format!(
                        "{asked} → {scopes}; {} will be left out: `{user}` is not a Quay \
                         superuser (the ApiToken gets a ScopesLeftOut event)",
                        granted.left_out.join(",")
                    ),
                );
            }
            report.facts.scopes = Some(granted.scopes);
            report.facts.left_out = granted.left_out;
        }
        Err(refused) => {
            let refused = refused.join(",");
            let e = QuayError::RightNotHeld {
                rights: refused,
                username: user.to_owned(),
                why: "the account is not a Quay superuser".to_owned(),
            };
            report.fail("rights", e.to_string(), e.reason());
        }
    }
}
