//! See tests/real_schemas.rs. Clocks as applications store them: MariaDB zero dates,
//! PostgreSQL infinities, SQLite text in every form its date functions read, epoch numbers.

use crate::common::{Backend, NOW, TestDb, at, expect_exit, field, json_ok, run_cli};

fn delete_policy(name: &str, table: &str, since: &str, retain: &str) -> String {
    format!(
        r#"
[[policies]]
name = "{name}"
table = "{table}"
since = {since}
retain = "{retain}"
action = "delete"
basis = "test"
"#
    )
}

/// `plan --json` then `run`, both at `now`: the plan's (eligible, undated) for `name`.
fn plan_then_run(cfg: &std::path::Path, now: &str, name: &str) -> (u64, u64) {
    let plan = json_ok(&run_cli(cfg, &["plan", "--json"], &at(now)));
    expect_exit(&run_cli(cfg, &["run"], &at(now)), 0);
    (
        field(&plan, name, "eligible"),
        field(&plan, name, "undated"),
    )
}

/// The ids left in `table`, by its `key` column.
async fn ids_of(db: &TestDb, table: &str, key: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = db
        .text_rows(&format!("SELECT {} FROM {table}", db.cast_text(key)))
        .await
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .map(|s| s.parse().expect("an integer id"))
        .collect();
    ids.sort();
    ids
}

/// WordPress's comments and WooCommerce's customer lookup, written the way WordPress writes
/// them (its connections set `sql_mode = ''`): unset dates are `'0000-00-00 00:00:00'`, and
/// partly zero dates pass. `mode` is the session's sql_mode when the rows are written.
async fn wordpress(db: &TestDb, mode: &str) {
    db.exec(&format!(
        "SET SESSION sql_mode = '';
CREATE TABLE wp_comments (
  comment_ID bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  comment_post_ID bigint(20) unsigned NOT NULL DEFAULT 0,
  comment_author tinytext NOT NULL,
  comment_author_email varchar(100) NOT NULL DEFAULT '',
  comment_date datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  comment_date_gmt datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  comment_content text NOT NULL,
  comment_approved varchar(20) NOT NULL DEFAULT '1',
  PRIMARY KEY (comment_ID),
  KEY comment_date_gmt (comment_date_gmt)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
CREATE TABLE wp_wc_customer_lookup (
  customer_id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  user_id bigint(20) unsigned DEFAULT NULL,
  email varchar(100) NULL DEFAULT NULL,
  date_last_active timestamp NULL DEFAULT NULL,
  date_registered timestamp NULL DEFAULT NULL,
  PRIMARY KEY (customer_id),
  UNIQUE KEY user_id (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
SET SESSION sql_mode = '{mode}';
INSERT INTO wp_comments (comment_ID, comment_author, comment_date, comment_date_gmt, comment_content)
  VALUES (1, 'ann', '2026-08-01 12:00:00', '2026-08-01 10:00:00', 'old');
INSERT INTO wp_comments (comment_ID, comment_author, comment_date, comment_date_gmt, comment_content)
  VALUES (2, 'bob', '2026-12-01 12:00:00', '2026-12-01 10:00:00', 'recent')"
    ))
    .await;
    // Zero and partly zero values exist only where a permissive mode wrote them, as on every
    // WordPress site; under a strict mode they come from such a site's older rows.
    db.exec(
        "SET SESSION sql_mode = '';
INSERT INTO wp_comments (comment_ID, comment_author, comment_content) VALUES (3, 'cy', 'imported');
INSERT INTO wp_comments (comment_ID, comment_author, comment_date_gmt, comment_content)
  VALUES (4, 'di', '2020-00-00 00:00:00', 'year only');
INSERT INTO wp_comments (comment_ID, comment_author, comment_date_gmt, comment_content)
  VALUES (5, 'ed', '2020-05-00 00:00:00', 'month only');
INSERT INTO wp_comments (comment_ID, comment_author, comment_date_gmt, comment_content)
  VALUES (6, 'fay', '2020-05-10 08:00:00', 'old too');
INSERT INTO wp_comments (comment_ID, comment_author, comment_date_gmt, comment_content)
  VALUES (7, 'gus', '0000-05-10 08:00:00', 'no year');
INSERT INTO wp_wc_customer_lookup VALUES (1, 11, 'a@example.com', '2026-07-01 00:00:00', '2020-01-01 00:00:00');
INSERT INTO wp_wc_customer_lookup VALUES (2, 12, 'b@example.com', NULL, '2020-01-01 00:00:00');
INSERT INTO wp_wc_customer_lookup VALUES (3, 13, 'c@example.com', '0000-00-00 00:00:00', '2020-01-01 00:00:00');
INSERT INTO wp_wc_customer_lookup VALUES (4, 14, 'd@example.com', '2027-01-01 00:00:00', '2020-01-01 00:00:00')",
    )
    .await;
}

/// At 2027-03-01 with 6 months everything dated before 2026-09-01 goes: comments 1 and 6,
/// customer 1. Zero and partly zero dates are undated: kept, and counted once.
async fn zero_dates_are_undated(mode: &str) {
    let db = TestDb::new(Backend::MariaDb).await;
    wordpress(&db, mode).await;
    let cfg = db.write_config(
        &(delete_policy(
            "comments",
            "wp_comments",
            "\"comment_date_gmt\"",
            "6 months",
        ) + &delete_policy(
            "customers",
            "wp_wc_customer_lookup",
            "\"date_last_active\"",
            "6 months",
        )),
        "",
    );
    let plan = json_ok(&run_cli(&cfg, &["plan", "--json"], &at(NOW)));
    assert_eq!(
        (
            field(&plan, "comments", "eligible"),
            field(&plan, "comments", "undated")
        ),
        (2, 4),
        "{plan:#}"
    );
    assert_eq!(
        (
            field(&plan, "customers", "eligible"),
            field(&plan, "customers", "undated")
        ),
        (1, 2),
        "{plan:#}"
    );
    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);
    assert_eq!(
        ids_of(&db, "wp_comments", "comment_ID").await,
        vec![2, 3, 4, 5, 7]
    );
    assert_eq!(
        ids_of(&db, "wp_wc_customer_lookup", "customer_id").await,
        vec![2, 3, 4]
    );
}

mod wordpress_zero_dates_are_undated {
    #[tokio::test]
    async fn mariadb_permissive() {
        super::zero_dates_are_undated("").await
    }
    #[tokio::test]
    async fn mariadb_strict() {
        super::zero_dates_are_undated(
            "STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO",
        )
        .await
    }
}

/// WordPress drafts have `post_date_gmt = '0000-00-00 00:00:00'`: as the related clock of
/// their comments that is a clock that has not started, like NULL, not a date long past; and
/// a zero `otherwise` date is undated.
#[tokio::test]
async fn wordpress_draft_post_dates_keep_their_comments() {
    let db = TestDb::new(Backend::MariaDb).await;
    wordpress(&db, "").await;
    db.exec(
        "SET SESSION sql_mode = '';
CREATE TABLE wp_posts (
  ID bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  post_author bigint(20) unsigned NOT NULL DEFAULT 0,
  post_date datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  post_date_gmt datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  post_status varchar(20) NOT NULL DEFAULT 'publish',
  post_type varchar(20) NOT NULL DEFAULT 'post',
  PRIMARY KEY (ID),
  KEY type_status_date (post_type, post_status, post_date, ID)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO wp_posts (ID, post_date, post_date_gmt, post_status) VALUES (10, '2026-01-01 12:00:00', '2026-01-01 11:00:00', 'publish');
INSERT INTO wp_posts (ID, post_date, post_status) VALUES (11, '2026-01-01 12:00:00', 'draft');
INSERT INTO wp_posts (ID, post_date, post_date_gmt, post_status) VALUES (12, '2026-12-01 12:00:00', '2026-12-01 11:00:00', 'publish');
DELETE FROM wp_comments;
INSERT INTO wp_comments (comment_ID, comment_post_ID, comment_author, comment_date_gmt, comment_content) VALUES (1, 10, 'a', '2026-01-02 00:00:00', 'on the old post');
INSERT INTO wp_comments (comment_ID, comment_post_ID, comment_author, comment_date_gmt, comment_content) VALUES (2, 11, 'b', '2026-01-02 00:00:00', 'on the draft');
INSERT INTO wp_comments (comment_ID, comment_post_ID, comment_author, comment_date_gmt, comment_content) VALUES (3, 12, 'c', '2026-12-02 00:00:00', 'on the new post');
INSERT INTO wp_comments (comment_ID, comment_post_ID, comment_author, comment_content) VALUES (4, 99, 'd', 'imported, on a deleted post');
INSERT INTO wp_comments (comment_ID, comment_post_ID, comment_author, comment_date_gmt, comment_content) VALUES (5, 98, 'e', '2026-01-02 00:00:00', 'on a deleted post')",
    )
    .await;
    let cfg = db.write_config(
        &delete_policy(
            "comments",
            "wp_comments",
            "{ table = \"wp_posts\", column = \"post_date_gmt\", match = { comment_post_ID = \"ID\" }, otherwise = \"comment_date_gmt\" }",
            "6 months",
        ),
        "",
    );
    // Comment 5 has no post and goes by its own old date; comment 4 has neither a post nor a
    // date of its own: undated.
    assert_eq!(plan_then_run(&cfg, NOW, "comments"), (2, 1));
    assert_eq!(
        ids_of(&db, "wp_comments", "comment_ID").await,
        vec![2, 3, 4]
    );
}

/// PostgreSQL has no zero dates, but `'-infinity'` and `'infinity'`: neither is an instant a
/// period can run out from, so both are undated (Rails: bigint ids, timestamp(6) columns).
#[tokio::test]
async fn rails_infinite_timestamps_are_undated() {
    let db = TestDb::new(Backend::Postgres).await;
    db.exec(
        "CREATE TABLE public.ahoy_events (
  id bigserial PRIMARY KEY,
  visit_id bigint,
  name character varying,
  time timestamp(6) without time zone,
  starts_on date,
  created_at timestamp(6) NOT NULL,
  updated_at timestamp(6) NOT NULL);
INSERT INTO ahoy_events (id, name, time, starts_on, created_at, updated_at) VALUES
  (1, 'old', '2026-08-01 10:00:00', '2026-08-01', now(), now()),
  (2, 'recent', '2026-12-01 10:00:00', '2026-12-01', now(), now()),
  (3, 'since ever', '-infinity', '-infinity', now(), now()),
  (4, 'for ever', 'infinity', 'infinity', now(), now()),
  (5, 'unset', NULL, NULL, now(), now())",
    )
    .await;
    let cfg = db.write_config(
        &delete_policy("events", "ahoy_events", "\"time\"", "6 months"),
        "",
    );
    assert_eq!(plan_then_run(&cfg, NOW, "events"), (1, 3));
    assert_eq!(ids_of(&db, "ahoy_events", "id").await, vec![2, 3, 4, 5]);
    let cfg = db.write_config(
        &delete_policy("events", "ahoy_events", "\"starts_on\"", "6 months"),
        "",
    );
    assert_eq!(plan_then_run(&cfg, NOW, "events"), (0, 3));
    assert_eq!(ids_of(&db, "ahoy_events", "id").await, vec![2, 3, 4, 5]);
}

/// The ids left in `table`, by a text key.
async fn keys_of(db: &TestDb, table: &str, key: &str) -> Vec<String> {
    let mut keys: Vec<String> = db
        .text_rows(&format!("SELECT {key} FROM {table}"))
        .await
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .collect();
    keys.sort();
    keys
}

/// The cutoff of the SQLite scenarios: with 4 months, clocks before 2026-11-01 08:00 UTC
/// have run out.
const EIGHT_AM: &str = "2027-03-01T08:00:00Z";

/// A plain Python `sqlite3` application: `DATE` columns that hold timestamps, `TEXT` written
/// by `isoformat()` with and without a zone, REAL Julian days (`julianday('now')`) and an
/// untyped column. Every value compares by the instant it denotes; text that is no date is
/// undated and named by `check`.
#[tokio::test]
async fn python_sqlite3_clocks_compare_as_instants() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.exec(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, created_at TEXT NOT NULL);
INSERT INTO events VALUES (1, 'a', '2026-11-01 03:13:50-05:00');
INSERT INTO events VALUES (2, 'b', '2026-11-01T07:59:59Z');
INSERT INTO events VALUES (3, 'c', '2026-11-01 07:30:00.123456');
INSERT INTO events VALUES (4, 'd', '2026-11-01 09:00:00+02:00');
INSERT INTO events VALUES (5, 'e', '2026-11-01junk');
INSERT INTO events VALUES (6, 'f', '0000-00-00');
INSERT INTO events VALUES (7, 'g', '2026-11-01T08:00:00.000+00:00');
INSERT INTO events VALUES (8, 'h', '2026-02-31 00:00:00');
CREATE TABLE readings (id INTEGER PRIMARY KEY, sensor TEXT NOT NULL, taken REAL NOT NULL);
INSERT INTO readings VALUES (1, 't1', julianday('2026-11-01 07:00:00'));
INSERT INTO readings VALUES (2, 't1', julianday('2026-11-01 09:00:00'));
CREATE TABLE log (id INTEGER PRIMARY KEY, msg, at);
INSERT INTO log VALUES (1, 'old', '2026-11-01 07:00:00');
INSERT INTO log VALUES (2, 'new', '2026-11-01 09:00:00')",
    )
    .await;
    let cfg = db.write_config(
        &(delete_policy("events", "events", "\"created_at\"", "4 months")
            + &delete_policy("readings", "readings", "\"taken\"", "4 months")
            + &delete_policy("log", "log", "\"at\"", "4 months")),
        "",
    );
    let check = expect_exit(&run_cli(&cfg, &["check"], &at(EIGHT_AM)), 0);
    assert!(
        check.contains("3 value(s) of events.created_at are not dates SQLite can read"),
        "{check}"
    );
    assert!(
        check.contains("events.created_at holds dates whose text does not sort like their instants (4 with a UTC offset, 1 ISO-8601 text without offset)")
            && check.contains("readings.taken holds dates whose text does not sort like their instants (2 Julian day numbers)")
            && check.contains("no index serves"),
        "{check}"
    );
    let plan = json_ok(&run_cli(&cfg, &["plan", "--json"], &at(EIGHT_AM)));
    let counts = |name: &str| {
        (
            field(&plan, name, "eligible"),
            field(&plan, name, "undated"),
        )
    };
    assert_eq!(counts("events"), (3, 3), "{plan:#}");
    assert_eq!(counts("readings"), (1, 0), "{plan:#}");
    assert_eq!(counts("log"), (1, 0), "{plan:#}");
    expect_exit(&run_cli(&cfg, &["run"], &at(EIGHT_AM)), 0);
    // 03:13:50-05:00 is 08:13:50 UTC: not yet.
    assert_eq!(ids_of(&db, "events", "id").await, vec![1, 5, 6, 7, 8]);
    assert_eq!(ids_of(&db, "readings", "id").await, vec![2]);
    assert_eq!(ids_of(&db, "log", "id").await, vec![2]);
}

/// Python's `sqlite3` adapters write a `datetime` into a `DATE` column as
/// `'2026-11-01 14:20:00'`: that is 14:20, not the whole day (compared with the next
/// midnight it went up to a day early). One form throughout, so compared as text, and the
/// index on the column serves it.
#[tokio::test]
async fn sqlite_date_column_holding_timestamps() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.exec(
        "CREATE TABLE visits (id INTEGER PRIMARY KEY, page TEXT NOT NULL, seen DATE NOT NULL);
INSERT INTO visits VALUES (1, '/a', '2026-11-01 07:59:59');
INSERT INTO visits VALUES (2, '/b', '2026-11-01 08:00:00');
INSERT INTO visits VALUES (3, '/c', '2026-11-01 14:20:00');
INSERT INTO visits VALUES (4, '/d', '2026-10-31 23:00:00');
CREATE INDEX visits_seen ON visits (seen)",
    )
    .await;
    let cfg = db.write_config(
        &delete_policy("visits", "visits", "\"seen\"", "4 months"),
        "",
    );
    let check = expect_exit(&run_cli(&cfg, &["check"], &at(EIGHT_AM)), 0);
    assert!(!check.contains("visits.seen"), "{check}");
    assert_eq!(plan_then_run(&cfg, EIGHT_AM, "visits"), (2, 0));
    assert_eq!(ids_of(&db, "visits", "id").await, vec![2, 3]);
}

/// An `events` table whose TEXT clock holds `values` (ids from 1), purged 4 months after it in
/// `zone` at 08:00 UTC: the plan's (eligible, undated) and the ids the run leaves.
async fn sqlite_text_clock_in(zone: &str, values: &[&str]) -> ((u64, u64), Vec<i64>) {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut sql =
        "CREATE TABLE events (id INTEGER PRIMARY KEY, created_at TEXT NOT NULL)".to_string();
    for (i, v) in values.iter().enumerate() {
        sql.push_str(&format!(";\nINSERT INTO events VALUES ({}, '{v}')", i + 1));
    }
    db.exec(&sql).await;
    let cfg = db.write_config(
        &delete_policy("events", "events", "\"created_at\"", "4 months"),
        "",
    );
    let env = [
        ("RETENTIOND_TEST_NOW", EIGHT_AM),
        ("RETENTIOND_DATABASE__TIMEZONE", zone),
    ];
    let plan = json_ok(&run_cli(&cfg, &["plan", "--json"], &env));
    let counts = (
        field(&plan, "events", "eligible"),
        field(&plan, "events", "undated"),
    );
    expect_exit(&run_cli(&cfg, &["run"], &env), 0);
    (counts, ids_of(&db, "events", "id").await)
}

/// SQLite naive text is wall time in `database.timezone`, text with an offset is an instant:
/// in New York, 2026-11-01 03:30 (EST, 08:30 UTC) has not run out at 08:00 UTC + 4 months,
/// 2026-11-01 02:59:59 (EST, 07:59:59 UTC) has; `...Z` values are UTC whatever the zone.
#[tokio::test]
async fn sqlite_naive_text_is_wall_time_offsets_are_instants() {
    let (counts, left) = sqlite_text_clock_in(
        "America/New_York",
        &[
            "2026-11-01 02:59:59",
            "2026-11-01 03:30:00",
            "2026-11-01T07:59:59Z",
            "2026-11-01T08:00:00Z",
        ],
    )
    .await;
    assert_eq!(counts.0, 2);
    assert_eq!(left, vec![2, 4]);
}

/// SQLite reads `'2026-11-01 09:30:00+01:00 '` (a trailing space) as the instant 08:30 UTC, but
/// an offset that is not the value's last characters cannot be told from wall time: such a
/// value is undated, never compared as the wall time 09:30 (in Amsterdam that would purge it
/// an hour early: the threshold is 09:00 wall time, 08:00 UTC).
#[tokio::test]
async fn sqlite_text_with_trailing_space_is_undated() {
    let (counts, left) = sqlite_text_clock_in(
        "Europe/Amsterdam",
        &[
            "2026-01-01 00:00:00+01:00",
            "2026-11-01 09:30:00+01:00 ",
            "2026-11-01 09:30:00+01:00",
        ],
    )
    .await;
    assert_eq!(counts, (1, 1));
    assert_eq!(left, vec![2, 3]);
}

/// Laravel's `sessions` table keeps `last_activity` as an INT epoch in seconds, on every
/// database Laravel supports; its lifetime is `120 minutes`. The unit is the policy's to say:
/// without it, and with the wrong one, `check` refuses.
async fn laravel_sessions_epoch_seconds(b: Backend) {
    let db = TestDb::new(b).await;
    let table = match b {
        Backend::MariaDb => {
            "CREATE TABLE sessions (id varchar(255) NOT NULL, user_id bigint(20) unsigned DEFAULT NULL,
  ip_address varchar(45) DEFAULT NULL, user_agent text DEFAULT NULL, payload longtext NOT NULL,
  last_activity int(11) NOT NULL, PRIMARY KEY (id), KEY sessions_user_id_index (user_id),
  KEY sessions_last_activity_index (last_activity)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
        }
        Backend::Postgres => {
            "CREATE TABLE sessions (id varchar(255) NOT NULL PRIMARY KEY, user_id bigint NULL,
  ip_address varchar(45) NULL, user_agent text NULL, payload text NOT NULL,
  last_activity integer NOT NULL);
CREATE INDEX sessions_last_activity_index ON sessions (last_activity)"
        }
        Backend::Sqlite => {
            "CREATE TABLE \"sessions\" (\"id\" varchar not null, \"user_id\" integer, \"ip_address\" varchar,
  \"user_agent\" text, \"payload\" text not null, \"last_activity\" integer not null, primary key (\"id\"));
CREATE INDEX \"sessions_last_activity_index\" on \"sessions\" (\"last_activity\")"
        }
    };
    // 2027-03-01 00:00 UTC is 1803859200; 120 minutes before it, 1803852000.
    db.exec(&format!(
        "{table};
INSERT INTO sessions (id, payload, last_activity) VALUES ('a', 'x', 1803851999);
INSERT INTO sessions (id, payload, last_activity) VALUES ('b', 'x', 1803852000);
INSERT INTO sessions (id, payload, last_activity) VALUES ('c', 'x', 1803859140);
INSERT INTO sessions (id, payload, last_activity) VALUES ('d', 'x', 0)"
    ))
    .await;
    let no_unit = db.write_config(
        &delete_policy("sessions", "sessions", "\"last_activity\"", "120 minutes"),
        "",
    );
    let out = run_cli(&no_unit, &["check"], &at(NOW));
    expect_exit(&out, 2);
    let err = crate::common::stderr(&out);
    assert!(
        err.contains("policies[0].since")
            && err.contains("unix_seconds")
            && err.contains("unix_milliseconds"),
        "{err}"
    );
    let wrong_unit = db.write_config(
        &delete_policy(
            "sessions",
            "sessions",
            "{ column = \"last_activity\", unit = \"unix_milliseconds\" }",
            "120 minutes",
        ),
        "",
    );
    let out = run_cli(&wrong_unit, &["check"], &at(NOW));
    expect_exit(&out, 2);
    let err = crate::common::stderr(&out);
    assert!(
        err.contains("sessions.last_activity holds 1803851999, which as unix_milliseconds is before 1973-03-03"),
        "{err}"
    );
    let cfg = db.write_config(
        &delete_policy(
            "sessions",
            "sessions",
            "{ column = \"last_activity\", unit = \"unix_seconds\" }",
            "120 minutes",
        ),
        "",
    );
    assert_eq!(plan_then_run(&cfg, NOW, "sessions"), (1, 1));
    // At exactly 120 minutes the session has not yet run out; 0 is no instant: undated.
    assert_eq!(keys_of(&db, "sessions", "id").await, vec!["b", "c", "d"]);
}

/// Prisma writes `DateTime` into SQLite as epoch milliseconds in a column declared
/// `DATETIME`: the declared type says timestamp, the values say number.
#[tokio::test]
async fn prisma_sqlite_datetime_holds_epoch_milliseconds() {
    let db = TestDb::new(Backend::Sqlite).await;
    // 30 days before 2027-03-01 00:00 UTC is 2027-01-30 00:00 UTC = 1801267200000 ms.
    db.exec(
        "CREATE TABLE \"Session\" (\"id\" TEXT NOT NULL PRIMARY KEY, \"sessionToken\" TEXT NOT NULL,
  \"userId\" TEXT NOT NULL, \"expires\" DATETIME NOT NULL,
  \"createdAt\" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE UNIQUE INDEX \"Session_sessionToken_key\" ON \"Session\"(\"sessionToken\");
INSERT INTO \"Session\" VALUES ('clx1', 't1', 'u1', 1803859200000, 1801267199999);
INSERT INTO \"Session\" VALUES ('clx2', 't2', 'u1', 1803859200000, 1801267200000);
INSERT INTO \"Session\" VALUES ('clx3', 't3', 'u2', 1803859200000, 1803858200000)",
    )
    .await;
    let no_unit = db.write_config(
        &delete_policy("sessions", "Session", "\"createdAt\"", "30 days"),
        "",
    );
    let out = run_cli(&no_unit, &["check"], &at(NOW));
    expect_exit(&out, 2);
    let err = crate::common::stderr(&out);
    assert!(
        err.contains("3 value(s) of Session.createdAt are integers")
            && err.contains("looks like milliseconds"),
        "{err}"
    );
    let seconds = db.write_config(
        &delete_policy(
            "sessions",
            "Session",
            "{ column = \"createdAt\", unit = \"unix_seconds\" }",
            "30 days",
        ),
        "",
    );
    let out = run_cli(&seconds, &["check"], &at(NOW));
    expect_exit(&out, 2);
    assert!(
        crate::common::stderr(&out).contains("as unix_seconds is after the year 5000"),
        "{}",
        crate::common::stderr(&out)
    );
    let cfg = db.write_config(
        &delete_policy(
            "sessions",
            "Session",
            "{ column = \"createdAt\", unit = \"unix_milliseconds\" }",
            "30 days",
        ),
        "",
    );
    assert_eq!(plan_then_run(&cfg, NOW, "sessions"), (1, 0));
    assert_eq!(
        keys_of(&db, "\"Session\"", "id").await,
        vec!["clx2", "clx3"]
    );
}

/// Django's sessions with a lifetime of 2 hours, in Amsterdam, at 2026-03-29 03:30 CEST
/// (01:30 UTC), an hour and a half after the clocks went forward: two real hours back is
/// 23:30 UTC = 00:30 CET. Two hours of wall time (01:30 CET) would purge a session of
/// 01:10 CET (00:10 UTC) after 80 minutes. PostgreSQL stores `timestamptz`; MariaDB and
/// SQLite wall time (`USE_TZ = False`, `TIME_ZONE = "Europe/Amsterdam"`).
async fn django_sessions_hours_across_dst(b: Backend) {
    let db = TestDb::new(b).await;
    let (table, values) = match b {
        Backend::Postgres => (
            "CREATE TABLE django_session (session_key varchar(40) NOT NULL PRIMARY KEY,
  session_data text NOT NULL, expire_date timestamp with time zone NOT NULL);
CREATE INDEX django_session_expire_date_a5c62663 ON django_session (expire_date)",
            [
                "2026-03-28 23:29:59+00",
                "2026-03-28 23:30:00+00",
                "2026-03-29 00:10:00+00",
            ],
        ),
        Backend::MariaDb => (
            "CREATE TABLE django_session (session_key varchar(40) NOT NULL PRIMARY KEY,
  session_data longtext NOT NULL, expire_date datetime(6) NOT NULL,
  KEY django_session_expire_date_a5c62663 (expire_date)) ENGINE=InnoDB",
            [
                "2026-03-29 00:29:59",
                "2026-03-29 00:30:00",
                "2026-03-29 01:10:00",
            ],
        ),
        Backend::Sqlite => (
            "CREATE TABLE \"django_session\" (\"session_key\" varchar(40) NOT NULL PRIMARY KEY,
  \"session_data\" text NOT NULL, \"expire_date\" datetime NOT NULL);
CREATE INDEX \"django_session_expire_date_a5c62663\" ON \"django_session\" (\"expire_date\")",
            [
                "2026-03-29 00:29:59",
                "2026-03-29 00:30:00",
                "2026-03-29 01:10:00",
            ],
        ),
    };
    db.exec(&format!(
        "{table};
INSERT INTO django_session VALUES ('k1', 'x', '{}');
INSERT INTO django_session VALUES ('k2', 'x', '{}');
INSERT INTO django_session VALUES ('k3', 'x', '{}')",
        values[0], values[1], values[2]
    ))
    .await;
    let cfg = db.write_config(
        &delete_policy("sessions", "django_session", "\"expire_date\"", "2 hours"),
        "",
    );
    let env = [
        ("RETENTIOND_TEST_NOW", "2026-03-29T01:30:00Z"),
        ("RETENTIOND_DATABASE__TIMEZONE", "Europe/Amsterdam"),
    ];
    let plan = json_ok(&run_cli(&cfg, &["plan", "--json"], &env));
    assert_eq!(field(&plan, "sessions", "eligible"), 1, "{plan:#}");
    expect_exit(&run_cli(&cfg, &["run"], &env), 0);
    assert_eq!(
        keys_of(&db, "django_session", "session_key").await,
        vec!["k2", "k3"]
    );
}

crate::on_every_backend!(
    laravel_sessions_epoch_seconds,
    django_sessions_hours_across_dst
);

/// A Node application keeps `Date.now()` (epoch milliseconds) in a BIGINT: a related clock
/// with a unit. A member goes 90 days after their latest event; one without events is
/// undated.
async fn node_members_by_latest_event_in_milliseconds(b: Backend) {
    let db = TestDb::new(b).await;
    let text = db.text_type();
    db.exec(&format!(
        "CREATE TABLE members (id BIGINT PRIMARY KEY, email {text} NOT NULL);
CREATE TABLE member_events (id BIGINT PRIMARY KEY, member_id BIGINT NOT NULL, kind {text} NOT NULL,
  at_ms BIGINT NOT NULL);
CREATE INDEX member_events_member_id ON member_events (member_id);
INSERT INTO members VALUES (1, 'a@example.com');
INSERT INTO members VALUES (2, 'b@example.com');
INSERT INTO members VALUES (3, 'c@example.com');
INSERT INTO members VALUES (4, 'd@example.com');
INSERT INTO member_events VALUES (1, 1, 'login', 1790000000000);
INSERT INTO member_events VALUES (2, 1, 'login', 1796083199999);
INSERT INTO member_events VALUES (3, 2, 'login', 1796083200000);
INSERT INTO member_events VALUES (4, 3, 'login', 1790000000000);
INSERT INTO member_events VALUES (5, 3, 'login', 1803859000000)"
    ))
    .await;
    // 90 days before 2027-03-01 00:00 UTC is 2026-12-01 00:00 UTC = 1796083200000 ms.
    let cfg = db.write_config(
        &delete_policy(
            "members",
            "members",
            "{ table = \"member_events\", column = \"at_ms\", unit = \"unix_milliseconds\", match = { id = \"member_id\" } }",
            "90 days",
        ),
        "",
    );
    let plan = json_ok(&run_cli(&cfg, &["plan", "--json"], &at(NOW)));
    assert_eq!(
        crate::common::policy(&plan, "members")["expires_before"],
        "1796083200000 (2026-12-01 00:00:00 UTC)",
        "{plan:#}"
    );
    assert_eq!(plan_then_run(&cfg, NOW, "members"), (1, 1));
    assert_eq!(ids_of(&db, "members", "id").await, vec![2, 3, 4]);
}

crate::on_every_backend!(node_members_by_latest_event_in_milliseconds);
