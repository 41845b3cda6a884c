//! The summary over SMTP with implicit TLS (smtps://) to a relay whose certificate a company
//! CA signed: trusted once the system's store holds that CA (here through SSL_CERT_FILE, the
//! usual way to point at another store), refused with a certificate error when it does not.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::{PgDb, SmtpSink, bin, free_port, subject, write};

/// A CA made for this test, and a certificate for 127.0.0.1 that it signed.
fn company_ca(dir: &Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("the openssl command");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Shop Example Internal CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=mail.shop.internal",
        "-keyout",
        "relay.key",
        "-out",
        "relay.csr",
    ]);
    std::fs::write(
        dir.join("relay.ext"),
        "subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n",
    )
    .expect("extensions");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "relay.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "relay.ext",
        "-out",
        "relay.pem",
    ]);
}

#[tokio::test]
async fn smtps_trusts_the_system_ca_store_and_names_a_certificate_it_cannot_trust() {
    let db = PgDb::new().await;
    db.exec("CREATE TABLE messages (id BIGSERIAL PRIMARY KEY, sent_at TIMESTAMPTZ NOT NULL)")
        .await;
    db.exec("INSERT INTO messages (sent_at) SELECT now() - interval '400 days' FROM generate_series(1, 4)")
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    company_ca(dir.path());
    let relay = SmtpSink::start_smtps(
        free_port(),
        &dir.path().join("mail"),
        &dir.path().join("relay.pem"),
        &dir.path().join("relay.key"),
    );
    let cfg = write(
        dir.path(),
        "r.toml",
        &format!(
            "[database]\nurl = \"{}\"\n[run]\nmax_fraction = 1.0\n\n\
             [[policies]]\nname = \"old-messages\"\ntable = \"messages\"\nsince = \"sent_at\"\n\
             retain = \"6 months\"\naction = \"delete\"\nbasis = \"test\"\n\n\
             [report]\nto = [\"controller@shop.example\"]\nfrom = \"retentiond@shop.example\"\n\
             smtp_url = \"smtps://127.0.0.1:{}\"\n",
            db.url, relay.port
        ),
    );
    let once = |ca: Option<&Path>| {
        let mut command = bin();
        command.arg("--config").arg(&cfg).args(["daemon", "--once"]);
        // Without the CA: a store that surely lacks it (the system's own).
        command
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR");
        if let Some(ca) = ca {
            command.env("SSL_CERT_FILE", ca);
        }
        let out = command.output().expect("run");
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "the run succeeds whatever the mail does:\n{log}"
        );
        log
    };

    // The company CA is not in the store: not delivered, and the log says why.
    let log = once(None);
    assert!(log.contains("summary not delivered"), "{log}");
    assert!(
        log.contains("UnknownIssuer") && log.contains("not signed by a CA this system trusts"),
        "the reason is the relay's certificate:\n{log}"
    );
    assert!(relay.messages().is_empty());

    // The CA in the store: the queued summary and the new one arrive.
    let log = once(Some(&dir.path().join("ca.pem")));
    let mails = relay.wait_for(2, Duration::from_secs(10));
    assert_eq!(mails.len(), 2, "{log}");
    assert_eq!(subject(&mails[0]), "Done: 4 records deleted (retentiond)");
    db.drop().await;
}
