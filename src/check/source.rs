//! Where the preflight's connection settings come from: a Secret read through the kubeconfig,
//! or flags with the password on standard input. Either way they pass the operator's own
//! checks of a connection Secret, so what passes here passes there.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::Secret;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};

use crate::cli::CheckArgs;
use crate::quay::{ConnectionSettings, SettingsError};

/// Connection settings given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagSettings {
    /// `--host`.
    pub host: String,
    /// `--username`.
    pub username: String,
    /// `--validate-certs`.
    pub validate_certs: bool,
    /// `--ca-cert-file`.
    pub ca_cert_file: Option<PathBuf>,
    /// `--timeout`, seconds.
    pub timeout: Option<u64>,
}

impl FlagSettings {
    /// The connection settings given as flags, when `--host` was used.
    pub fn from_args(args: &CheckArgs) -> Option<Self> {
        Some(FlagSettings {
            host: args.host.clone()?,
            username: args.username.clone().unwrap_or_default(),
            validate_certs: args.validate_certs.unwrap_or(true),
            ca_cert_file: args.ca_cert_file.clone(),
            timeout: args.timeout,
        })
    }
}

/// How to reach the cluster that holds the Secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterAccess {
    /// `--kubeconfig`; else KUBECONFIG, `~/.kube/config`, or the pod's service account.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`; else the kubeconfig's current context.
    pub context: Option<String>,
}

/// Why no settings could be read; each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Neither `--secret` nor `--host` was given.
    #[error("give --secret NAMESPACE/NAME, or --host, --username and --password-stdin")]
    NoSource,
    /// `--secret` is not `name` or `namespace/name`.
    #[error("--secret {0:?} is not NAME or NAMESPACE/NAME")]
    BadReference(String),
    /// No usable kubeconfig.
    #[error("cannot load the kubeconfig ({0}); set --kubeconfig or KUBECONFIG, or use --host")]
    Kubeconfig(String),
    /// The Secret does not exist.
    #[error(
        "Secret {reference} not found; create it with host, username and password, or check \
         the namespace (as connSecretRef, an ApiToken would report ConnectionSecretMissing)"
    )]
    SecretMissing {
        /// namespace/name.
        reference: String,
    },
    /// The kubeconfig's user may not read it.
    #[error(
        "the kubeconfig's user may not read Secret {reference} (HTTP 403); use an account \
         that can get Secrets in that namespace"
    )]
    Forbidden {
        /// namespace/name.
        reference: String,
    },
    /// Any other failure of the Kubernetes API.
    #[error("cannot read Secret {reference}: {detail}")]
    Kube {
        /// namespace/name.
        reference: String,
        /// The API's error.
        detail: String,
    },
    /// The Secret's data is not a valid connection Secret.
    #[error("Secret {reference}: {source}")]
    InvalidSecret {
        /// namespace/name.
        reference: String,
        /// What is wrong, naming the key.
        source: SettingsError,
    },
    /// A flag's value is not a valid setting.
    #[error("{flag}: {source}")]
    InvalidFlag {
        /// The flag that carries the bad value.
        flag: &'static str,
        /// What is wrong.
        source: SettingsError,
    },
    /// `--password-stdin` met a terminal or an empty input.
    #[error(
        "--password-stdin: {0}; pipe the password in, e.g. \
         printf '%s' \"$QUAY_PASSWORD\" | quay-apitoken-operator check ... --password-stdin"
    )]
    Password(&'static str),
    /// The `--ca-cert-file` cannot be read.
    #[error("--ca-cert-file {path}: {detail}")]
    CaCertFile {
        /// The path given.
        path: String,
        /// The operating system's reason.
        detail: String,
    },
}

impl SourceError {
    /// The status reason an ApiToken would show for the same problem; `None` for a problem
    /// of this command line alone.
    pub fn status_reason(&self) -> Option<&'static str> {
        match self {
            SourceError::SecretMissing { .. } => Some("ConnectionSecretMissing"),
            SourceError::Forbidden { .. } | SourceError::Kube { .. } => Some("KubernetesApiError"),
            SourceError::NoSource | SourceError::BadReference(_) | SourceError::Kubeconfig(_) => {
                None
            }
            _ => Some("InvalidConnectionSecret"),
        }
    }
}

/// Reads the connection Secret `reference` (`name` or `namespace/name`); returns the settings
/// and the Secret's `namespace/name`.
pub async fn from_cluster(
    reference: &str,
    access: &ClusterAccess,
) -> Result<(ConnectionSettings, String), SourceError> {
    let (namespace, name) = match reference.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
            (Some(ns), name)
        }
        None if !reference.is_empty() => (None, reference),
        _ => return Err(SourceError::BadReference(reference.to_owned())),
    };
    let config = kube_config(access).await?;
    let namespace = namespace
        .map(str::to_owned)
        .unwrap_or_else(|| config.default_namespace.clone());
    let full = format!("{namespace}/{name}");
    let client = Client::try_from(config).map_err(|e| SourceError::Kubeconfig(e.to_string()))?;
    let secrets: Api<Secret> = Api::namespaced(client, &namespace);
    let secret = secrets.get(name).await.map_err(|e| match e {
        kube::Error::Api(status) if status.code == 404 => SourceError::SecretMissing {
            reference: full.clone(),
        },
        kube::Error::Api(status) if status.code == 403 => SourceError::Forbidden {
            reference: full.clone(),
        },
        other => SourceError::Kube {
            reference: full.clone(),
            detail: other.to_string(),
        },
    })?;
    let data: BTreeMap<String, Vec<u8>> = secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(key, value)| (key, value.0))
        .collect();
    let settings = ConnectionSettings::from_secret_data(&data).map_err(|source| {
        SourceError::InvalidSecret {
            reference: full.clone(),
            source,
        }
    })?;
    Ok((settings, full))
}

async fn kube_config(access: &ClusterAccess) -> Result<Config, SourceError> {
    let options = KubeConfigOptions {
        context: access.context.clone(),
        ..KubeConfigOptions::default()
    };
    let loaded = match (&access.kubeconfig, &access.context) {
        (Some(path), _) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .map_err(|e| SourceError::Kubeconfig(format!("{}: {e}", path.display())))?;
            Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| e.to_string())
        }
        (None, Some(_)) => Config::from_kubeconfig(&options)
            .await
            .map_err(|e| e.to_string()),
        (None, None) => Config::infer().await.map_err(|e| e.to_string()),
    };
    loaded.map_err(SourceError::Kubeconfig)
}

/// Builds the settings from flags, with the password read from `stdin` (its first line).
pub fn from_flags(
    flags: &FlagSettings,
    stdin: &mut dyn Read,
    stdin_is_terminal: bool,
) -> Result<ConnectionSettings, SourceError> {
    if stdin_is_terminal {
        return Err(SourceError::Password(
            "standard input is a terminal, where the password would show as it is typed",
        ));
    }
    let mut input = String::new();
    stdin
        .read_to_string(&mut input)
        .map_err(|_| SourceError::Password("standard input is not UTF-8 text"))?;
    let password = input.lines().next().unwrap_or_default();
    if password.is_empty() {
        return Err(SourceError::Password("standard input holds no password"));
    }
    let mut data: BTreeMap<String, Vec<u8>> = BTreeMap::from([
        ("host".to_owned(), flags.host.clone().into_bytes()),
        ("username".to_owned(), flags.username.clone().into_bytes()),
        ("password".to_owned(), password.as_bytes().to_vec()),
        (
            "validateCerts".to_owned(),
            flags.validate_certs.to_string().into_bytes(),
        ),
    ]);
    if let Some(timeout) = flags.timeout {
        data.insert("timeout".to_owned(), timeout.to_string().into_bytes());
    }
    if let Some(path) = &flags.ca_cert_file {
        data.insert("caCert".to_owned(), read_ca(path)?);
    }
    ConnectionSettings::from_secret_data(&data).map_err(|source| SourceError::InvalidFlag {
        flag: flag_of(source.key()),
        source,
    })
}

/// Whether the process's standard input is a terminal.
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

fn read_ca(path: &Path) -> Result<Vec<u8>, SourceError> {
    std::fs::read(path).map_err(|e| SourceError::CaCertFile {
        path: path.display().to_string(),
        detail: e.to_string(),
    })
}

/// The flag that stands for a connection Secret key.
fn flag_of(key: &str) -> &'static str {
    match key {
        "host" => "--host",
        "username" => "--username",
        "password" => "--password-stdin",
        "validateCerts" => "--validate-certs",
        "timeout" => "--timeout",
        "caCert" => "--ca-cert-file",
        _ => "a flag",
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    /// Flags are the settings only with `--host`; certificates are checked unless told not to.
    #[test]
    fn flags_are_settings_only_with_a_host() {
        let parse = |args: &[&str]| match crate::cli::Cli::try_parse_command(args.iter().copied()) {
            Ok(crate::cli::Command::Check(check)) => check,
            other => panic!("expected check, got {other:?}"),
        };
        let from_secret = parse(&["bin", "check", "--secret", "ns/conn"]);
        assert_eq!(FlagSettings::from_args(&from_secret), None);
        let from_flags = parse(&[
            "bin",
            "check",
            "--host",
            "https://q",
            "--username",
            "u",
            "--password-stdin",
        ]);
        let settings = FlagSettings::from_args(&from_flags).expect("settings from flags");
        assert_eq!(settings.host, "https://q");
        assert_eq!(settings.username, "u");
        assert!(settings.validate_certs);
    }

    fn flags(host: &str) -> FlagSettings {
        FlagSettings {
            host: host.to_owned(),
            username: "admin".to_owned(),
            validate_certs: true,
            ca_cert_file: None,
            timeout: None,
        }
    }

    /// The password is the first line of standard input, without its line end.
    #[test]
    fn password_is_the_first_line_of_stdin() {
        let settings = from_flags(
            &flags("quay.example.com"),
            &mut "s3cret\r\nignored\n".as_bytes(),
            false,
        )
        .expect("valid");
        assert_eq!(settings.password().expose(), "s3cret");
        assert_eq!(settings.host_string(), "https://quay.example.com");
        assert!(settings.validate_certs());
    }

    /// A terminal or an empty pipe is refused, and the error never holds what was read.
    #[test]
    fn a_terminal_or_empty_input_is_refused() {
        let error = from_flags(&flags("quay.example.com"), &mut "pw".as_bytes(), true)
            .expect_err("terminal");
        assert!(error.to_string().contains("terminal"), "{error}");
        let error =
            from_flags(&flags("quay.example.com"), &mut "".as_bytes(), false).expect_err("empty");
        assert!(error.to_string().contains("no password"), "{error}");
    }

    /// A bad value is reported against the flag that carried it.
    #[test]
    fn bad_settings_name_the_flag() {
        let error =
            from_flags(&flags("ftp://quay"), &mut "pw".as_bytes(), false).expect_err("bad host");
        assert!(error.to_string().starts_with("--host: "), "{error}");
        assert_eq!(error.status_reason(), Some("InvalidConnectionSecret"));
        let mut too_long = flags("quay.example.com");
        too_long.timeout = Some(100_000);
        let error = from_flags(&too_long, &mut "pw".as_bytes(), false).expect_err("timeout");
        assert!(error.to_string().starts_with("--timeout: "), "{error}");
        assert!(error.to_string().contains("at most 300"), "{error}");
        let mut with_ca = flags("quay.example.com");
        with_ca.ca_cert_file = Some(PathBuf::from("/nonexistent/ca.pem"));
        let error = from_flags(&with_ca, &mut "pw".as_bytes(), false).expect_err("no file");
        assert!(
            error
                .to_string()
                .starts_with("--ca-cert-file /nonexistent/ca.pem")
        );
    }
}
