//! A throw-away CA and a server certificate for 127.0.0.1 and localhost, made at start.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// The acceptor for the emulator's HTTPS listener and the CA that signed its certificate.
pub struct Tls {
    pub acceptor: TlsAcceptor,
    pub ca_pem: String,
}

fn io_err(what: &str, e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("could not {what}: {e}"))
}

/// Generates the CA and server certificate and builds a rustls server configuration.
pub fn generate() -> std::io::Result<Tls> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())
        .map_err(|e| io_err("build CA parameters", e))?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "quay-emulator test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().map_err(|e| io_err("generate the CA key", e))?;
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(|e| io_err("self-sign the CA", e))?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut params = CertificateParams::new(vec!["localhost".to_string()])
        .map_err(|e| io_err("build server certificate parameters", e))?;
    params
        .subject_alt_names
        .push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
    params
        .distinguished_name
        .push(DnType::CommonName, "quay-emulator");
    let key = KeyPair::generate().map_err(|e| io_err("generate the server key", e))?;
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(|e| io_err("sign the server certificate", e))?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| io_err("select TLS versions", e))?
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .map_err(|e| io_err("load the server certificate", e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        ca_pem: ca_cert.pem(),
    })
}
