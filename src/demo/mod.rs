//! `retentiond demo`: a generated subscription shop on SQLite, planned and purged with
//! `config/demo.toml`, so that a newcomer sees the whole product without a server.

pub mod dataset;

use crate::config::Config;
use crate::db::Access;
use crate::engine::{Engine, RunOptions, RunReport};
use anyhow::Context as _;
use sqlx::Row;
use std::path::Path;

/// The demo's config, shipped inside the binary so that the demo runs from anywhere.
pub const CONFIG: &str = include_str!("../../config/demo.toml");

const TABLES: [&str; 6] = [
    "customers",
    "subscriptions",
    "messages",
    "invoices",
    "payments",
    "marketing_consents",
];

/// The demo config with its database and key pointing into `dir`.
fn config_text(db_url: &str, key_file: &str) -> String {
    let mut out = String::new();
    let mut hash_section = false;
    for line in CONFIG.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("url =") {
            out.push_str(&format!("url = \"{db_url}\"\n"));
        } else if trimmed.starts_with("key_file =") || trimmed.starts_with("# key_file =") {
            out.push_str(&format!("key_file = \"{key_file}\"\n"));
            hash_section = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !hash_section {
        if out.contains("[hash]") {
            out = out.replacen("[hash]", &format!("[hash]\nkey_file = \"{key_file}\""), 1);
        } else {
            out.push_str(&format!("\n[hash]\nkey_file = \"{key_file}\"\n"));
        }
    }
    out
}

fn random_key() -> anyhow::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom for the demo's HMAC key")?;
    Ok(hex::encode(bytes))
}

async fn counts(pool: &sqlx::SqlitePool) -> anyhow::Result<Vec<i64>> {
    let mut out = Vec::new();
    for t in TABLES {
        // Fixed demo table names, not input.
        let sql = format!("SELECT COUNT(*) FROM {t}");
        out.push(
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_one(pool)
                .await?
                .try_get(0)?,
        );
    }
    Ok(out)
}

/// Builds the demo and runs it; returns the run's report.
pub async fn run(dir: &Path, customers: u32) -> anyhow::Result<RunReport> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let db_path = dir.join("shop.db");
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = db_path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(&p);
    }
    let db_url = format!("sqlite://{}", db_path.display());
    let key_path = dir.join("hmac-key");
    std::fs::write(&key_path, random_key()?)
        .with_context(|| format!("writing {}", key_path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600))?;
    }
    let config_path = dir.join("retentiond.toml");
    std::fs::write(
        &config_path,
        config_text(&db_url, &key_path.display().to_string()),
    )
    .with_context(|| format!("writing {}", config_path.display()))?;

    crate::out!(
        "Creating a demo shop database with {customers} customers in {} ...",
        db_path.display()
    );
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&db_path)
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = sqlx::SqlitePool::connect_with(opts).await?;
    let summary = dataset::create(&pool, customers, 42, chrono::Utc::now().naive_utc()).await?;
    crate::out!(
        "  {} customers, {} subscriptions, {} messages, {} invoices, {} payments, {} marketing consents\n",
        summary.customers,
        summary.subscriptions,
        summary.messages,
        summary.invoices,
        summary.payments,
        summary.marketing_consents
    );
    let before = counts(&pool).await?;

    let config = Config::load(&config_path)?;
    crate::out!("1. The plan: what each policy would do now (read-only, nothing changes)\n");
    let engine = Engine::prepare(config, Access::ReadWrite).await?;
    let plan = engine.plan(&RunOptions::default()).await?;
    crate::cli::output_plan(&plan);

    crate::out!("\n2. The run: batches of deletes and anonymizations, each with its audit entry\n");
    let report = engine.run(&RunOptions::default()).await?;
    crate::cli::output_run(&report);
    engine.db.close().await;

    crate::out!("\n3. What changed\n");
    let after = counts(&pool).await?;
    let rows: Vec<Vec<String>> = TABLES
        .iter()
        .zip(before.iter().zip(&after))
        .map(|(t, (b, a))| {
            vec![
                t.to_string(),
                b.to_string(),
                a.to_string(),
                (b - a).to_string(),
            ]
        })
        .collect();
    crate::cli::output_table(&["TABLE", "BEFORE", "AFTER", "DELETED"], &rows, &[1, 2, 3]);
    let sample = sqlx::query(
        "SELECT id, name, email, ip_address FROM customers WHERE name = 'redacted' ORDER BY id LIMIT 1",
    )
    .fetch_optional(&pool)
    .await?;
    if let Some(row) = sample {
        let id: i64 = row.try_get(0)?;
        let name: String = row.try_get(1)?;
        let email: String = row.try_get(2)?;
        let ip: Option<String> = row.try_get(3)?;
        crate::out!(
            "\nAn anonymized customer, #{id}: name \"{name}\", email \"{email}\" (keyed hash), ip_address {:?} (truncated)",
            ip.unwrap_or_default()
        );
    }
    pool.close().await;

    let cfg = config_path.display();
    crate::out!(
        "\nThe audit trail is the table retentiond_audit in {}.\nTry next:\n  retentiond --config {cfg} audit verify\n  retentiond --config {cfg} plan     # a second run finds nothing left to do\n  sqlite3 {} 'SELECT policy, batch, rows_affected, key_first, key_last FROM retentiond_audit LIMIT 5'",
        db_path.display(),
        db_path.display()
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_config_points_into_the_demo_dir() {
        let text = super::config_text("sqlite://x/shop.db", "x/hmac-key");
        assert!(text.contains("url = \"sqlite://x/shop.db\""));
        assert!(text.contains("key_file = \"x/hmac-key\""));
        assert_eq!(text.matches("[hash]").count(), 1);
    }
}
