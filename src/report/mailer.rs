//! Delivers summaries over SMTP (STARTTLS or implicit TLS through lettre with rustls) or as
//! .eml files into a directory.

use crate::config::{MailTransport, ReportConfig};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
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
                .map_err(|e| MailError::Send(e.to_string())),
            Mailer::File(t) => t
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError::Send(e.to_string())),
        }
    }
}
