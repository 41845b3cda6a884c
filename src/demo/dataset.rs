//! The demo shop: a small subscription business with customers, subscriptions, support mail,
//! yearly invoices with their payments and marketing consents, spread over the twelve years before
//! "now". Deterministic for a seed, so a demo or a test gives the same rows every time.
//!
//! Everything is generated in memory first and then written in one transaction with prepared,
//! parameter-bound INSERTs. Timestamps are TEXT `YYYY-MM-DD HH:MM:SS`, dates `YYYY-MM-DD`.

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveDateTime, Timelike};
use sqlx::SqlitePool;

/// How many rows [`create`] wrote to each table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DatasetSummary {
    pub customers: u64,
    pub subscriptions: u64,
    pub messages: u64,
    pub invoices: u64,
    pub payments: u64,
    pub marketing_consents: u64,
}

impl DatasetSummary {
    pub fn total(&self) -> u64 {
        self.customers
            + self.subscriptions
            + self.messages
            + self.invoices
            + self.payments
            + self.marketing_consents
    }
}

/// Creates the tables and fills them. `now` is the current UTC time; all dates lie within 12 years before it.
pub async fn create(
    pool: &SqlitePool,
    customers: u32,
    seed: u64,
    now: chrono::NaiveDateTime,
) -> Result<DatasetSummary, sqlx::Error> {
    let data = generate(customers, seed, now);
    let mut tx = pool.begin().await?;
    for statement in SCHEMA {
        sqlx::query(*statement).execute(&mut *tx).await?;
    }
    use Value::{Int, Null, Text};
    let text = |s: &str| Text(s.to_string());
    let opt = |s: Option<String>| s.map_or(Null, Text);
    insert(
        &mut tx,
        "customers",
        &[
            "id",
            "name",
            "email",
            "ip_address",
            "billing_country",
            "terms_accepted_at",
            "created_at",
        ],
        data.customers.iter().map(|c| {
            vec![
                Int(c.id),
                text(&c.name),
                text(&c.email),
                opt(c.ip_address.clone()),
                text(c.billing_country),
                Text(ts(c.terms_accepted_at)),
                Text(ts(c.created_at)),
            ]
        }),
    )
    .await?;
    insert(
        &mut tx,
        "subscriptions",
        &["id", "customer_id", "plan", "started_at", "ended_at"],
        data.subscriptions.iter().map(|s| {
            vec![
                Int(s.id),
                Int(s.customer_id),
                text(s.plan),
                Text(ts(s.started_at)),
                opt(s.ended_at.map(ts)),
            ]
        }),
    )
    .await?;
    insert(
        &mut tx,
        "messages",
        &[
            "id",
            "customer_id",
            "sent_at",
            "direction",
            "subject",
            "body",
            "fiscal",
        ],
        data.messages.iter().map(|m| {
            vec![
                Int(m.id),
                Int(m.customer_id),
                Text(ts(m.sent_at)),
                text(m.direction),
                text(&m.subject),
                text(&m.body),
                Int(i64::from(m.fiscal)),
            ]
        }),
    )
    .await?;
    insert(
        &mut tx,
        "invoices",
        &[
            "id",
            "customer_id",
            "number",
            "issued_at",
            "period_start",
            "period_end",
            "amount_cents",
            "vat_cents",
            "billing_name",
            "billing_address",
            "customer_country",
            "customer_ip",
            "oss_supply",
        ],
        data.invoices.iter().map(|i| {
            vec![
                Int(i.id),
                Int(i.customer_id),
                text(&i.number),
                Text(i.issued_at.format("%Y-%m-%d").to_string()),
                Text(i.period_start.format("%Y-%m-%d").to_string()),
                Text(i.period_end.format("%Y-%m-%d").to_string()),
                Int(i.amount_cents),
                Int(i.vat_cents),
                text(&i.billing_name),
                text(&i.billing_address),
                text(i.customer_country),
                opt(i.customer_ip.clone()),
                Int(i64::from(i.oss_supply)),
            ]
        }),
    )
    .await?;
    insert(
        &mut tx,
        "payments",
        &[
            "id",
            "invoice_id",
            "paid_at",
            "amount_cents",
            "method",
            "psp_reference",
        ],
        data.payments.iter().map(|p| {
            vec![
                Int(p.id),
                Int(p.invoice_id),
                Text(ts(p.paid_at)),
                Int(p.amount_cents),
                text(p.method),
                opt(p.psp_reference.clone()),
            ]
        }),
    )
    .await?;
    insert(
        &mut tx,
        "marketing_consents",
        &[
            "id",
            "customer_id",
            "email",
            "consented_at",
            "withdrawn_at",
            "source",
        ],
        data.consents.iter().map(|c| {
            vec![
                Int(c.id),
                Int(c.customer_id),
                text(&c.email),
                Text(ts(c.consented_at)),
                opt(c.withdrawn_at.map(ts)),
                text(c.source),
            ]
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(data.summary())
}

/// A value to bind.
enum Value {
    Int(i64),
    Text(String),
    Null,
}

/// Bound parameters per statement: 999 is the lowest limit any SQLite build has.
const MAX_PARAMS: usize = 999;

/// Writes `rows` with multi-row INSERTs (one row per statement costs seconds in a debug build).
/// Only the constant table and column names and `?` placeholders go into the SQL text; every
/// value is bound, and the statement for a full chunk is prepared once and reused.
async fn insert(
    conn: &mut sqlx::SqliteConnection,
    table: &'static str,
    columns: &'static [&'static str],
    rows: impl Iterator<Item = Vec<Value>>,
) -> Result<(), sqlx::Error> {
    let per_statement = MAX_PARAMS / columns.len();
    let placeholders = format!("({})", vec!["?"; columns.len()].join(", "));
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Value>> = rows.by_ref().take(per_statement).collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {}",
            columns.join(", "),
            vec![placeholders.as_str(); chunk.len()].join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for value in chunk.into_iter().flatten() {
            query = match value {
                Value::Int(v) => query.bind(v),
                Value::Text(v) => query.bind(v),
                Value::Null => query.bind(None::<String>),
            };
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

const SCHEMA: &[&str] = &[
    "CREATE TABLE customers (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        ip_address TEXT,
        billing_country TEXT,
        terms_accepted_at TIMESTAMP NOT NULL,
        created_at TIMESTAMP NOT NULL
    )",
    "CREATE TABLE subscriptions (
        id INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        plan TEXT NOT NULL,
        started_at TIMESTAMP NOT NULL,
        ended_at TIMESTAMP
    )",
    "CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        sent_at TIMESTAMP NOT NULL,
        direction TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        fiscal INTEGER NOT NULL DEFAULT 0
    )",
    "CREATE TABLE invoices (
        id INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        number TEXT NOT NULL UNIQUE,
        issued_at DATE NOT NULL,
        period_start DATE NOT NULL,
        period_end DATE NOT NULL,
        amount_cents INTEGER NOT NULL,
        vat_cents INTEGER NOT NULL,
        billing_name TEXT NOT NULL,
        billing_address TEXT NOT NULL,
        customer_country TEXT NOT NULL,
        customer_ip TEXT,
        oss_supply INTEGER NOT NULL DEFAULT 0
    )",
    "CREATE TABLE payments (
        id INTEGER PRIMARY KEY,
        invoice_id INTEGER NOT NULL REFERENCES invoices(id),
        paid_at TIMESTAMP NOT NULL,
        amount_cents INTEGER NOT NULL,
        method TEXT NOT NULL,
        psp_reference TEXT
    )",
    "CREATE TABLE marketing_consents (
        id INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        email TEXT NOT NULL,
        consented_at TIMESTAMP NOT NULL,
        withdrawn_at TIMESTAMP,
        source TEXT NOT NULL
    )",
    "CREATE INDEX subscriptions_customer_id ON subscriptions (customer_id)",
    "CREATE INDEX subscriptions_ended_at ON subscriptions (ended_at)",
    "CREATE INDEX messages_customer_id ON messages (customer_id)",
    "CREATE INDEX messages_sent_at ON messages (sent_at)",
    "CREATE INDEX invoices_customer_id ON invoices (customer_id)",
    "CREATE INDEX invoices_issued_at ON invoices (issued_at)",
    "CREATE INDEX payments_invoice_id ON payments (invoice_id)",
    "CREATE INDEX payments_paid_at ON payments (paid_at)",
    "CREATE INDEX marketing_consents_customer_id ON marketing_consents (customer_id)",
    "CREATE INDEX marketing_consents_withdrawn_at ON marketing_consents (withdrawn_at)",
];

fn ts(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

// ---------------------------------------------------------------------------------------------
// A tiny deterministic PRNG (splitmix64): good enough for demo data, no dependency.

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5245_5445_4e54_494f) // "RETENTIO"
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..hi`; `lo` when the range is empty.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below((hi - lo) as u64) as i64
        }
    }

    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Picks by weight: `items` are (weight, value).
    fn weighted<'a, T>(&mut self, items: &'a [(u32, T)]) -> &'a T {
        let total: u32 = items.iter().map(|(w, _)| w).sum();
        let mut x = self.below(u64::from(total)) as u32;
        for (w, v) in items {
            if x < *w {
                return v;
            }
            x -= w;
        }
        &items[items.len() - 1].1
    }

    /// A moment uniformly in `[from, to)`, to the second; `from` when the range is empty.
    fn between(&mut self, from: NaiveDateTime, to: NaiveDateTime) -> NaiveDateTime {
        from + Duration::seconds(self.range(0, (to - from).num_seconds()))
    }

    fn days(&mut self, lo: i64, hi: i64) -> Duration {
        Duration::seconds(self.range(lo * 86_400, hi * 86_400))
    }
}

// ---------------------------------------------------------------------------------------------
// The rows, in memory.

#[derive(Debug, Clone, PartialEq)]
struct Customer {
    id: i64,
    name: String,
    email: String,
    ip_address: Option<String>,
    /// The country of the billing address, as used to decide where the customer lives.
    billing_country: &'static str,
    terms_accepted_at: NaiveDateTime,
    created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq)]
struct Subscription {
    id: i64,
    customer_id: i64,
    plan: &'static str,
    started_at: NaiveDateTime,
    ended_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq)]
struct Message {
    id: i64,
    customer_id: i64,
    sent_at: NaiveDateTime,
    direction: &'static str,
    subject: String,
    body: String,
    /// Marked by the helpdesk as backing the administration (an invoice question, a billing
    /// address, a price or plan change, a cancellation).
    fiscal: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct Invoice {
    id: i64,
    customer_id: i64,
    number: String,
    issued_at: NaiveDate,
    /// The supplied period the invoice bills (a subscription year, billed in advance).
    period_start: NaiveDate,
    period_end: NaiveDate,
    amount_cents: i64,
    vat_cents: i64,
    billing_name: String,
    billing_address: String,
    /// Where the customer was taken to live for this invoice's VAT, and for an OSS supply the
    /// IP address that confirmed it: the location evidence of the supply, as used.
    customer_country: &'static str,
    customer_ip: Option<String>,
    oss_supply: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct Payment {
    id: i64,
    invoice_id: i64,
    paid_at: NaiveDateTime,
    amount_cents: i64,
    method: &'static str,
    psp_reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Consent {
    id: i64,
    customer_id: i64,
    email: String,
    consented_at: NaiveDateTime,
    withdrawn_at: Option<NaiveDateTime>,
    source: &'static str,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Dataset {
    customers: Vec<Customer>,
    subscriptions: Vec<Subscription>,
    messages: Vec<Message>,
    invoices: Vec<Invoice>,
    payments: Vec<Payment>,
    consents: Vec<Consent>,
}

impl Dataset {
    fn summary(&self) -> DatasetSummary {
        DatasetSummary {
            customers: self.customers.len() as u64,
            subscriptions: self.subscriptions.len() as u64,
            messages: self.messages.len() as u64,
            invoices: self.invoices.len() as u64,
            payments: self.payments.len() as u64,
            marketing_consents: self.consents.len() as u64,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Ingredients.

/// (as written, as in an e-mail address)
const GIVEN: &[(&str, &str)] = &[
    ("Zoë", "zoe"),
    ("José", "jose"),
    ("Łukasz", "lukasz"),
    ("Anaïs", "anais"),
    ("Søren", "soren"),
    ("Åsa", "asa"),
    ("Björn", "bjorn"),
    ("Chloé", "chloe"),
    ("Jürgen", "jurgen"),
    ("Ðorđe", "dorde"),
    ("Kateřina", "katerina"),
    ("Ayşe", "ayse"),
    ("François", "francois"),
    ("Maëlle", "maelle"),
    ("Siobhán", "siobhan"),
    ("Joaquín", "joaquin"),
    ("Małgorzata", "malgorzata"),
    ("Oğuz", "oguz"),
    ("Daan", "daan"),
    ("Sanne", "sanne"),
    ("Thijs", "thijs"),
    ("Lotte", "lotte"),
    ("Emma", "emma"),
    ("Noah", "noah"),
    ("Fatima", "fatima"),
    ("Youssef", "youssef"),
    ("Mehmet", "mehmet"),
    ("Priya", "priya"),
    ("Ewa", "ewa"),
    ("Inês", "ines"),
];

const FAMILY: &[(&str, &str)] = &[
    ("Ðorđević", "dordevic"),
    ("Müller", "muller"),
    ("Żółć", "zolc"),
    ("Dubois", "dubois"),
    ("de Vries", "devries"),
    ("van den Berg", "vandenberg"),
    ("Jansen", "jansen"),
    ("Bakker", "bakker"),
    ("Nowak", "nowak"),
    ("Yılmaz", "yilmaz"),
    ("Østergaard", "ostergaard"),
    ("García", "garcia"),
    ("Núñez", "nunez"),
    ("O'Brien", "obrien"),
    ("Dvořák", "dvorak"),
    ("Lefèvre", "lefevre"),
    ("El Amrani", "elamrani"),
    ("Nguyễn", "nguyen"),
    ("Šimić", "simic"),
    ("Ünal", "unal"),
    ("Smit", "smit"),
    ("Visser", "visser"),
    ("Håkansson", "hakansson"),
    ("Gonçalves", "goncalves"),
];

/// Whole names in scripts without a given/family split in the address.
const WHOLE: &[(&str, &str)] = &[
    ("张伟", "zhang.wei"),
    ("王芳", "wang.fang"),
    ("李娜", "li.na"),
    ("陈静", "chen.jing"),
    ("佐藤 花子", "sato.hanako"),
    ("鈴木 一郎", "suzuki.ichiro"),
    ("田中 美咲", "tanaka.misaki"),
    ("山本 健", "yamamoto.ken"),
    ("김민준", "kim.minjun"),
    ("Ελένη Παπαδοπούλου", "eleni.papadopoulou"),
    ("Дмитрий Иванов", "dmitry.ivanov"),
];

struct Country {
    code: &'static str,
    /// VAT in per mille on the net amount; 0 outside the EU.
    vat_permille: i64,
    /// A B2C supply to another EU member state, declared through the One-Stop-Shop.
    oss: bool,
    /// (street, postcode and city)
    places: &'static [(&'static str, &'static str)],
}

const NL: Country = Country {
    code: "NL",
    vat_permille: 210,
    oss: false,
    places: &[
        ("Keizersgracht", "1015 CJ Amsterdam"),
        ("Oudegracht", "3511 AP Utrecht"),
        ("Coolsingel", "3012 AD Rotterdam"),
        ("Laan van Meerdervoort", "2517 AB Den Haag"),
        ("Stationsweg", "9726 AC Groningen"),
        ("Kerkstraat", "5611 GH Eindhoven"),
        ("Dorpsstraat", "1191 BK Ouderkerk aan de Amstel"),
        ("Grote Markt", "6511 KB Nijmegen"),
    ],
};

const ABROAD: &[(u32, Country)] = &[
    (
        3,
        Country {
            code: "DE",
            vat_permille: 190,
            oss: true,
            places: &[
                ("Hauptstraße", "10115 Berlin"),
                ("Königsallee", "40212 Düsseldorf"),
            ],
        },
    ),
    (
        2,
        Country {
            code: "BE",
            vat_permille: 210,
            oss: true,
            places: &[("Rue Neuve", "1000 Bruxelles"), ("Meir", "2000 Antwerpen")],
        },
    ),
    (
        1,
        Country {
            code: "FR",
            vat_permille: 200,
            oss: true,
            places: &[
                ("Rue de la Paix", "75002 Paris"),
                ("Quai Saint-Étienne", "67000 Strasbourg"),
            ],
        },
    ),
    (
        1,
        Country {
            code: "PL",
            vat_permille: 230,
            oss: true,
            places: &[
                ("ul. Żelazna", "00-001 Warszawa"),
                ("ul. Floriańska", "31-019 Kraków"),
            ],
        },
    ),
    (
        1,
        Country {
            code: "ES",
            vat_permille: 210,
            oss: true,
            places: &[
                ("Calle Mayor", "28013 Madrid"),
                ("Carrer de Sants", "08014 Barcelona"),
            ],
        },
    ),
    (
        1,
        Country {
            code: "CH",
            vat_permille: 0,
            oss: false,
            places: &[("Bahnhofstrasse", "8001 Zürich")],
        },
    ),
    (
        1,
        Country {
            code: "GB",
            vat_permille: 0,
            oss: false,
            places: &[("High Street", "EH1 1SR Edinburgh")],
        },
    ),
];

/// (plan, net price per year in cents)
const PLANS: &[(&str, i64)] = &[
    ("basic", 9_900),
    ("plus", 19_900),
    ("pro", 49_900),
    ("team", 99_000),
];

const IPV4_NETS: &[&str] = &["192.0.2", "198.51.100", "203.0.113"];

const PAYMENT_METHODS: &[(u32, &str)] = &[
    (45, "ideal"),
    (25, "card"),
    (18, "sepa_debit"),
    (8, "bank_transfer"),
    (4, "paypal"),
];

const CONSENT_SOURCES: &[(u32, &str)] = &[
    (60, "signup_form"),
    (20, "checkout"),
    (15, "newsletter_widget"),
    (5, "trade_fair"),
];

/// (direction, subject, body) — `{n}` is the customer's name, `{p}` the plan.
const CHATTER: &[(&str, &str, &str)] = &[
    (
        "in",
        "Question about my invoice",
        "Hello, I do not understand the VAT on my last invoice. Could you explain it? Kind regards, {n}",
    ),
    (
        "in",
        "Cannot log in",
        "Hi, since this morning I cannot log in; the reset link says it has expired. Thanks, {n}",
    ),
    (
        "in",
        "Change of address",
        "Please put my new address on the next invoice. I moved last month. Merci beaucoup, {n}",
    ),
    (
        "in",
        "Card expires soon",
        "My card expires next month. Where do I change it before the next payment? Groetjes, {n}",
    ),
    (
        "in",
        "Export of my data",
        "Hi! Can I export everything as CSV before the end of the month? Danke schön, {n}",
    ),
    (
        "in",
        "Price of the {p} plan",
        "Hello, will the price of the {p} plan change next year? I need it for my budget. — {n}",
    ),
    (
        "out",
        "Re: your question",
        "Hi {n}, thanks for your message. We found the cause and fixed it on our side. Best, Shop support",
    ),
    (
        "out",
        "Your {p} plan renews soon",
        "Dear {n}, your {p} plan renews next month. Nothing to do if your details are still right.",
    ),
    (
        "out",
        "Maintenance on Sunday",
        "Hi {n}, on Sunday between 02:00 and 04:00 the service may be slow because of maintenance.",
    ),
];

fn fill(template: &str, name: &str, plan: &str) -> String {
    template.replace("{n}", name).replace("{p}", plan)
}

// ---------------------------------------------------------------------------------------------
// The generator.

enum Kind {
    /// Never subscribed (an abandoned sign-up, a pre-sales question).
    Prospect,
    /// Had subscriptions, all ended.
    Former,
    /// At least one subscription still open.
    Active,
}

/// The support mail that backs the administration.
const FISCAL_SUBJECTS: [&str; 4] = [
    "Question about my invoice",
    "Change of address",
    "Your plan has changed",
    "Cancellation confirmed",
];

fn generate(customers: u32, seed: u64, now: NaiveDateTime) -> Dataset {
    let now = now.with_nanosecond(0).unwrap_or(now);
    let origin = now.checked_sub_months(Months::new(144)).unwrap_or(now);
    let span = (now - origin).num_seconds();
    let mut rng = Rng::new(seed);
    let mut data = Dataset::default();

    // Sign-ups uniformly over the twelve years; ids in sign-up order like a real table.
    let mut signups: Vec<i64> = (0..customers)
        .map(|_| rng.range(3_600, span - 60))
        .collect();
    signups.sort_unstable();

    // Invoices are numbered per year in date order once all are known: (invoice, subscription plan).
    let mut invoices: Vec<Invoice> = Vec::new();

    for (i, offset) in signups.into_iter().enumerate() {
        let id = i as i64 + 1;
        let created_at = origin + Duration::seconds(offset);

        // Who.
        let (name, greeting, local) = if rng.chance(0.08) {
            let (name, local) = *rng.pick(WHOLE);
            (name.to_string(), name.to_string(), local.to_string())
        } else {
            let (g, gl) = *rng.pick(GIVEN);
            let (f, fl) = *rng.pick(FAMILY);
            (format!("{g} {f}"), g.to_string(), format!("{gl}.{fl}"))
        };
        let country = if rng.chance(0.88) {
            &NL
        } else {
            rng.weighted(ABROAD)
        };
        let domain = match (country.code, rng.below(4)) {
            ("NL", 0..=2) => "example.nl",
            (_, 0) => "example.org",
            (_, 1) => "example.net",
            _ => "example.com",
        };
        let email = format!("{local}{id}@{domain}");
        let ip_address = if rng.chance(0.04) {
            None // imported from the old shop, before addresses were logged
        } else if rng.chance(0.3) {
            Some(if rng.chance(0.5) {
                format!(
                    "2001:db8:{:x}:{:x}::{:x}",
                    rng.below(0x1_0000),
                    rng.below(0x100),
                    rng.below(0x1_0000)
                )
            } else {
                let g: Vec<String> = (0..6)
                    .map(|_| format!("{:x}", rng.below(0x1_0000)))
                    .collect();
                format!("2001:db8:{}", g.join(":"))
            })
        } else {
            Some(format!("{}.{}", rng.pick(IPV4_NETS), rng.range(1, 255)))
        };
        let (street, city) = *rng.pick(country.places);
        let address = format!("{street} {}, {city}, {}", rng.range(1, 300), country.code);
        let terms_accepted_at = (created_at + Duration::seconds(rng.range(5, 600))).min(now);
        data.customers.push(Customer {
            id,
            name: name.clone(),
            email: email.clone(),
            ip_address: ip_address.clone(),
            billing_country: country.code,
            terms_accepted_at,
            created_at,
        });

        // Subscriptions: (plan, started_at, ended_at).
        let roll = rng.unit();
        let start = rng.between(created_at, (created_at + Duration::days(3)).min(now));
        let mut kind = if roll < 0.05 {
            Kind::Prospect
        } else if roll < 0.43 {
            Kind::Former
        } else {
            Kind::Active
        };
        if matches!(kind, Kind::Former) && now - start < Duration::days(3) {
            kind = Kind::Active;
        }
        let plan = rng.below(PLANS.len() as u64) as usize;
        let other = (plan + 1 + rng.below(PLANS.len() as u64 - 1) as usize) % PLANS.len();
        let mut subs: Vec<(usize, NaiveDateTime, Option<NaiveDateTime>)> = Vec::new();
        match kind {
            Kind::Prospect => {}
            Kind::Former => {
                // Some left only weeks ago; the rest at any time since they joined.
                let end = if rng.chance(0.12) {
                    rng.between(
                        (start + Duration::days(1)).max(now - Duration::days(120)),
                        now - Duration::hours(1),
                    )
                } else {
                    rng.between(start + Duration::days(1), now - Duration::days(1))
                };
                if rng.chance(0.25) && end - start > Duration::days(90) {
                    let change = start
                        + Duration::seconds(
                            ((end - start).num_seconds() as f64 * (0.2 + 0.5 * rng.unit())) as i64,
                        );
                    subs.push((plan, start, Some(change)));
                    subs.push((other, change, Some(end)));
                } else {
                    subs.push((plan, start, Some(end)));
                }
            }
            Kind::Active => {
                if rng.chance(0.3) && now - start > Duration::days(90) {
                    let second = rng.between(start + Duration::days(30), now - Duration::days(1));
                    if rng.chance(0.35) {
                        subs.push((plan, start, None)); // an add-on next to the first plan
                    } else {
                        subs.push((plan, start, Some(second))); // changed plan
                    }
                    subs.push((other, second, None));
                } else {
                    subs.push((plan, start, None));
                }
            }
        }

        // Support mail: busy in the first half year of a subscription, rare after that.
        let mut mail: Vec<(NaiveDateTime, &'static str, String, String)> = Vec::new();
        for &(p, from, until) in &subs {
            let plan_name = PLANS[p].0;
            let stop = until.unwrap_or(now);
            let mut t = from + rng.days(1, 20);
            while t < stop {
                let (dir, subject, body) = *rng.pick(CHATTER);
                mail.push((
                    t,
                    if dir == "in" { "inbound" } else { "outbound" },
                    fill(subject, &greeting, plan_name),
                    fill(body, &greeting, plan_name),
                ));
                t += if t < from + Duration::days(183) {
                    rng.days(30, 90)
                } else {
                    rng.days(180, 540)
                };
            }
            if let Some(end) = until {
                let at = end + Duration::seconds(rng.range(30, 3_600));
                if at < now {
                    let next = subs
                        .iter()
                        .find(|(_, s, _)| *s == end)
                        .map(|(q, _, _)| PLANS[*q].0);
                    let (subject, body) = match next {
                        Some(next) => (
                            "Your plan has changed".to_string(),
                            format!(
                                "Hi {greeting}, your plan changed from {plan_name} to {next}. The new price applies from today."
                            ),
                        ),
                        None => (
                            "Cancellation confirmed".to_string(),
                            format!(
                                "Hi {greeting}, we confirm that your {plan_name} plan has ended. Thank you for being a customer!"
                            ),
                        ),
                    };
                    mail.push((at, "outbound", subject, body));
                }
            }
        }
        if matches!(kind, Kind::Prospect) && rng.chance(0.7) {
            for _ in 0..rng.range(1, 4) {
                let at = created_at + rng.days(0, 30);
                if at < now {
                    let body = format!(
                        "Hello, does the {} plan include an invoice with VAT for my company? Regards, {greeting}",
                        PLANS[plan].0
                    );
                    mail.push((
                        at,
                        "inbound",
                        "Question before I subscribe".to_string(),
                        body,
                    ));
                }
            }
        }
        mail.sort_by_key(|a| a.0);
        for (sent_at, direction, subject, body) in mail {
            let fiscal = FISCAL_SUBJECTS.contains(&subject.as_str());
            data.messages.push(Message {
                id: data.messages.len() as i64 + 1,
                customer_id: id,
                sent_at,
                direction,
                subject,
                body,
                fiscal,
            });
        }

        // Yearly billing: an invoice at the start of every subscription year.
        for &(p, from, until) in &subs {
            let stop = until.unwrap_or(now);
            let mut year = 0;
            while let Some(at) = from.checked_add_months(Months::new(12 * year)) {
                if at >= stop {
                    break;
                }
                let amount = PLANS[p].1;
                invoices.push(Invoice {
                    id: 0,
                    customer_id: id,
                    number: String::new(),
                    issued_at: at.date(),
                    period_start: at.date(),
                    period_end: at
                        .checked_add_months(Months::new(12))
                        .map_or(at.date(), |end| end.date() - Duration::days(1)),
                    amount_cents: amount,
                    vat_cents: (amount * country.vat_permille + 500) / 1000,
                    billing_name: name.clone(),
                    billing_address: address.clone(),
                    customer_country: country.code,
                    customer_ip: ip_address.clone().filter(|_| country.oss),
                    oss_supply: country.oss,
                });
                year += 1;
            }
        }

        // Marketing consent for about half; those who left withdraw more often.
        if rng.chance(0.5) {
            let source = *rng.weighted(CONSENT_SOURCES);
            let consented_at = if source == "signup_form" {
                terms_accepted_at
            } else {
                rng.between(created_at, now)
            };
            let p_withdraw = if matches!(kind, Kind::Active) {
                0.22
            } else {
                0.40
            };
            let withdrawn_at = (rng.chance(p_withdraw) && now - consented_at > Duration::days(2))
                .then(|| rng.between(consented_at + Duration::days(1), now));
            data.consents.push(Consent {
                id: data.consents.len() as i64 + 1,
                customer_id: id,
                email: email.clone(),
                consented_at,
                withdrawn_at,
                source,
            });
        }

        for (p, started_at, ended_at) in subs {
            data.subscriptions.push(Subscription {
                id: data.subscriptions.len() as i64 + 1,
                customer_id: id,
                plan: PLANS[p].0,
                started_at,
                ended_at,
            });
        }
    }

    // Number the invoices in date order, a gap-free series per year; pay most of them.
    invoices.sort_by_key(|i| (i.issued_at, i.customer_id));
    let mut series = (0, 0);
    for (k, mut invoice) in invoices.into_iter().enumerate() {
        let year = invoice.issued_at.year();
        series = if series.0 == year {
            (year, series.1 + 1)
        } else {
            (year, 1)
        };
        invoice.id = k as i64 + 1;
        invoice.number = format!("{year}-{:05}", series.1);
        let issued = invoice.issued_at.and_hms_opt(0, 0, 0).unwrap_or(now);
        let paid_at = issued + Duration::seconds(rng.range(6 * 3_600, 21 * 86_400));
        let open = if now - issued < Duration::days(45) {
            rng.chance(0.35)
        } else {
            rng.chance(0.01)
        };
        if !open && paid_at < now {
            let method = *rng.weighted(PAYMENT_METHODS);
            data.payments.push(Payment {
                id: data.payments.len() as i64 + 1,
                invoice_id: invoice.id,
                paid_at,
                amount_cents: invoice.amount_cents + invoice.vat_cents,
                method,
                psp_reference: (method != "bank_transfer")
                    .then(|| format!("psp_{:016x}", rng.next_u64())),
            });
        }
        data.invoices.push(invoice);
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

    fn now() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2025, 11, 28)
            .unwrap()
            .and_hms_opt(14, 30, 0)
            .unwrap()
    }

    async fn pool(dir: &tempfile::TempDir) -> SqlitePool {
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("shop.db"))
            .create_if_missing(true);
        SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap()
    }

    async fn count(pool: &SqlitePool, sql: &'static str) -> i64 {
        sqlx::query(sql).fetch_one(pool).await.unwrap().get(0)
    }

    /// What each demo policy (config/demo.toml) would touch as of `now`, next to its table size.
    /// Approximates the engine with SQLite date arithmetic.
    pub(super) async fn expiring(pool: &SqlitePool, now: &str) -> Vec<(&'static str, i64, i64)> {
        const LAST_END: &str = "(SELECT CASE WHEN COUNT(*) = COUNT(s.ended_at) THEN MAX(s.ended_at) END \
                                 FROM subscriptions s WHERE s.customer_id = {k} HAVING COUNT(*) > 0)";
        let queries = [
            ("support-messages", "messages", format!(
                "SELECT COUNT(*) FROM messages m WHERE \
                 datetime(COALESCE({}, CASE WHEN NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.customer_id = m.customer_id) \
                 THEN m.sent_at END), '+6 months') < ?1",
                LAST_END.replace("{k}", "m.customer_id"))),
            ("marketing-consents", "marketing_consents",
                "SELECT COUNT(*) FROM marketing_consents WHERE datetime(withdrawn_at, '+2 years') < ?1".to_string()),
            ("customer-contact", "customers", format!(
                "SELECT COUNT(*) FROM customers c WHERE datetime({}, '+90 days') < ?1", LAST_END.replace("{k}", "c.id"))),
            ("payments", "payments",
                "SELECT COUNT(*) FROM payments WHERE (CAST(strftime('%Y', paid_at) AS INTEGER) + 8) || '-01-01' < ?1 \
                 AND invoice_id IN (SELECT id FROM invoices WHERE oss_supply = 0)".to_string()),
            ("payments-oss", "payments",
                "SELECT COUNT(*) FROM payments WHERE (CAST(strftime('%Y', paid_at) AS INTEGER) + 11) || '-01-01' < ?1 \
                 AND invoice_id IN (SELECT id FROM invoices WHERE oss_supply = 1)".to_string()),
            ("invoices", "invoices",
                "SELECT COUNT(*) FROM invoices WHERE (CAST(strftime('%Y', issued_at) AS INTEGER) + 8) || '-01-01' < ?1 \
                 AND oss_supply = 0".to_string()),
            ("invoices-oss", "invoices",
                "SELECT COUNT(*) FROM invoices WHERE (CAST(strftime('%Y', issued_at) AS INTEGER) + 11) || '-01-01' < ?1 \
                 AND oss_supply = 1".to_string()),
            ("customers", "customers", format!(
                "SELECT COUNT(*) FROM customers c WHERE datetime({}, '+7 years') < ?1", LAST_END.replace("{k}", "c.id"))),
        ];
        let mut out = Vec::new();
        for (policy, table, sql) in queries {
            let n: i64 = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(now)
                .fetch_one(pool)
                .await
                .unwrap()
                .get(0);
            let total: i64 =
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                    .fetch_one(pool)
                    .await
                    .unwrap()
                    .get(0);
            out.push((policy, n, total));
        }
        out
    }

    #[test]
    fn same_seed_same_data_other_seed_other_data() {
        let a = generate(300, 7, now());
        assert_eq!(a, generate(300, 7, now()));
        assert_ne!(a.customers, generate(300, 8, now()).customers);
    }

    #[test]
    fn everything_lies_in_the_twelve_years_before_now() {
        let d = generate(500, 1, now());
        let origin = now().checked_sub_months(Months::new(144)).unwrap();
        let times = d
            .customers
            .iter()
            .flat_map(|c| [c.created_at, c.terms_accepted_at])
            .chain(
                d.subscriptions
                    .iter()
                    .flat_map(|s| [Some(s.started_at), s.ended_at].into_iter().flatten()),
            )
            .chain(d.messages.iter().map(|m| m.sent_at))
            .chain(
                d.invoices
                    .iter()
                    .map(|i| i.issued_at.and_hms_opt(0, 0, 0).unwrap()),
            )
            .chain(d.payments.iter().map(|p| p.paid_at))
            .chain(
                d.consents
                    .iter()
                    .flat_map(|c| [Some(c.consented_at), c.withdrawn_at].into_iter().flatten()),
            );
        for t in times {
            assert!(t >= origin && t <= now(), "{t} out of range");
        }
        for s in &d.subscriptions {
            assert!(s.ended_at.is_none_or(|e| e > s.started_at));
            assert!(s.started_at >= d.customers[s.customer_id as usize - 1].created_at);
        }
    }

    #[tokio::test]
    async fn demo_sized_data_set_is_plausible() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir).await;
        let started = std::time::Instant::now();
        let s = create(&pool, 3000, 42, now()).await.unwrap();
        eprintln!(
            "created {s:?} ({} rows) in {:?}",
            s.total(),
            started.elapsed()
        );

        assert_eq!(s.customers, 3000);
        assert!((3000..5000).contains(&s.subscriptions), "{s:?}");
        assert!((10_000..45_000).contains(&s.messages), "{s:?}");
        assert!((5_000..30_000).contains(&s.invoices), "{s:?}");
        assert!(
            s.payments < s.invoices && s.payments > s.invoices * 9 / 10,
            "{s:?}"
        );
        assert!((1_200..1_800).contains(&s.marketing_consents), "{s:?}");
        // The summary tells the truth.
        assert_eq!(
            count(&pool, "SELECT COUNT(*) FROM messages").await as u64,
            s.messages
        );
        assert_eq!(
            count(&pool, "SELECT COUNT(*) FROM payments").await as u64,
            s.payments
        );

        let no_subscription = count(
            &pool,
            "SELECT COUNT(*) FROM customers c WHERE NOT EXISTS \
            (SELECT 1 FROM subscriptions s WHERE s.customer_id = c.id)",
        )
        .await;
        let no_open = count(
            &pool,
            "SELECT COUNT(*) FROM customers c WHERE NOT EXISTS \
            (SELECT 1 FROM subscriptions s WHERE s.customer_id = c.id AND s.ended_at IS NULL)",
        )
        .await;
        assert!(
            (90..240).contains(&no_subscription),
            "{no_subscription} customers never subscribed"
        );
        // ~40% have no open subscription (of whom a few never had one).
        assert!(
            (1050..1500).contains(&no_open),
            "{no_open} customers without an open subscription"
        );
        let oss = count(&pool, "SELECT COUNT(*) FROM invoices WHERE oss_supply = 1").await as f64
            / s.invoices as f64;
        assert!((0.04..0.13).contains(&oss), "oss share {oss}");
        let v6 = count(
            &pool,
            "SELECT COUNT(*) FROM customers WHERE ip_address LIKE '2001:db8:%'",
        )
        .await;
        assert!((700..1100).contains(&v6), "{v6} IPv6 addresses");
        let withdrawn = count(
            &pool,
            "SELECT COUNT(*) FROM marketing_consents WHERE withdrawn_at IS NOT NULL",
        )
        .await as f64
            / s.marketing_consents as f64;
        assert!(
            (0.22..0.38).contains(&withdrawn),
            "withdrawn share {withdrawn}"
        );

        // Stored formats are what the engine reads.
        let row = sqlx::query("SELECT created_at, issued_at FROM customers, invoices LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
        let (created, issued): (String, String) = (row.get(0), row.get(1));
        assert!(
            NaiveDateTime::parse_from_str(&created, "%Y-%m-%d %H:%M:%S").is_ok(),
            "{created}"
        );
        assert!(
            NaiveDate::parse_from_str(&issued, "%Y-%m-%d").is_ok(),
            "{issued}"
        );

        // Every demo policy finds something to do, and none exceeds max_fraction = 0.5.
        for (policy, n, total) in expiring(&pool, &ts(now())).await {
            eprintln!("{policy}: {n} of {total}");
            assert!(n > 0, "{policy} would find nothing");
            assert!((n as f64) < 0.5 * total as f64, "{policy}: {n} of {total}");
        }
    }

    #[tokio::test]
    async fn messages_outlive_the_subscriptions_they_are_about() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir).await;
        create(&pool, 800, 3, now()).await.unwrap();
        // Messages of customers whose last subscription ended more than 6 months ago.
        let stale = count(
            &pool,
            "SELECT COUNT(*) FROM messages m JOIN \
            (SELECT customer_id, MAX(ended_at) AS last_end FROM subscriptions GROUP BY customer_id \
             HAVING COUNT(*) = COUNT(ended_at)) e ON e.customer_id = m.customer_id \
            WHERE datetime(e.last_end, '+6 months') < '2025-11-28 14:30:00'",
        )
        .await;
        // Some customers left only weeks ago: their messages are not due yet.
        let recent = count(
            &pool,
            "SELECT COUNT(*) FROM messages m JOIN \
            (SELECT customer_id, MAX(ended_at) AS last_end FROM subscriptions GROUP BY customer_id \
             HAVING COUNT(*) = COUNT(ended_at)) e ON e.customer_id = m.customer_id \
            WHERE e.last_end > '2025-08-28 14:30:00'",
        )
        .await;
        let total = count(&pool, "SELECT COUNT(*) FROM messages").await;
        assert!(stale > 0 && stale < total / 2, "{stale} of {total}");
        assert!(recent > 0, "no customer left recently");
    }

    #[tokio::test]
    async fn refuses_to_fill_an_existing_schema_twice() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir).await;
        create(&pool, 50, 1, now()).await.unwrap();
        assert!(create(&pool, 50, 1, now()).await.is_err());
        // The failed second attempt left the first data set intact.
        assert_eq!(count(&pool, "SELECT COUNT(*) FROM customers").await, 50);
    }
}
