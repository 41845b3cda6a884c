//! Delivers summaries over SMTP (STARTTLS or implicit TLS through lettre with rustls) or as
//! .eml files into a directory. TLS trusts the system's CA store (`/etc/ssl/certs`, or
//! `SSL_CERT_FILE` / `SSL_CERT_DIR` when set), so a relay with a company CA works; only a
//! system without any CA certificates falls back to the bundled Mozilla roots.

use crate::config::{MailTransport, ReportConfig};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{CertificateStore, Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("report.smtp_url is not usable: {0}")]
    Config(String),
    #[error("building the message: {0}")]
    Build(String),
    #[error("sending the summary failed: {0}")]
    Send(String),
}

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

impl Mailer {
    pub fn new(cfg: &ReportConfig) -> Result<Mailer, MailError> {
        match &cfg.transport {
            MailTransport::File(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    MailError::Config(format!("cannot create {}: {e}", dir.display()))
                })?;
                Ok(Mailer::File(AsyncFileTransport::new(dir)))
            }
            MailTransport::Smtp(url) => {
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| MailError::Config(e.to_string()))?
                    .timeout(Some(std::time::Duration::from_secs(20)));
                if let Some(tls) = tls(url.expose())? {
                    builder = builder.tls(tls);
                }
                if let (Some(user), Some(password)) = (&cfg.user, &cfg.password) {
                    builder = builder.credentials(Credentials::new(
                        user.clone(),
                        password.expose().to_string(),
                    ));
                }
                Ok(Mailer::Smtp(builder.build()))
            }
        }
    }

    pub async fn send(
        &self,
        cfg: &ReportConfig,
        subject: &str,
        text: &str,
        html: &str,
    ) -> Result<(), MailError> {
        let from: Mailbox = cfg
            .from
            .parse()
            .map_err(|e| MailError::Build(format!("report.from: {e}")))?;
        let mut builder = Message::builder().from(from).subject(subject);
        for to in &cfg.to {
            builder = builder.to(to
                .parse()
                .map_err(|e| MailError::Build(format!("report.to: {e}")))?);
        }
        let message = builder
            .multipart(MultiPart::alternative_plain_html(
                text.to_string(),
                html.to_string(),
            ))
            .map_err(|e| MailError::Build(e.to_string()))?;
        match self {
            Mailer::Smtp(t) => t
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError::Send(explain_tls(e.to_string()))),
            Mailer::File(t) => t
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError::Send(e.to_string())),
        }
    }
}

/// The TLS mode `smtp_url` asks for (as lettre reads it), trusting the system's CA store.
fn tls(smtp_url: &str) -> Result<Option<Tls>, MailError> {
    let url = url::Url::parse(smtp_url).map_err(|e| MailError::Config(e.to_string()))?;
    let mode = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let wrap: fn(TlsParameters) -> Tls = match (url.scheme(), mode.as_deref()) {
        ("smtps", _) => Tls::Wrapper,
        ("smtp", Some("required")) => Tls::Required,
        ("smtp", Some("opportunistic")) => Tls::Opportunistic,
        _ => return Ok(None),
    };
    let host = url
        .host_str()
        .ok_or_else(|| MailError::Config("no host".into()))?;
    let params = TlsParameters::builder(host.to_string())
        .certificate_store(certificate_store())
        .build_rustls()
        .map_err(|e| MailError::Config(format!("TLS: {e}")))?;
    Ok(Some(wrap(params)))
}

/// A certificate the system does not trust gets the way to trust it.
fn explain_tls(error: String) -> String {
    if !error.contains("certificate") {
        return error;
    }
    format!(
        "{error}: the SMTP server's certificate is not signed by a CA this system trusts; add \
         its CA to the system's store (update-ca-certificates) or point SSL_CERT_FILE at it"
    )
}

/// The system's store when it has any certificate, else the bundled roots.
fn certificate_store() -> CertificateStore {
    let found = rustls_native_certs::load_native_certs();
    if found.certs.is_empty() {
        tracing::warn!(
            errors = ?found.errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "no CA certificates found on this system (install ca-certificates, or set SSL_CERT_FILE); \
             SMTP over TLS trusts only the bundled Mozilla roots"
        );
        return CertificateStore::WebpkiRoots;
    }
    CertificateStore::Default
}
