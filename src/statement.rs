//! The retention statement: the table for the privacy statement (what, how long, from when,
//! then what, why) and the GDPR art. 30(1)(f) entries, rendered from the same policies the
//! runs enforce, so that the promise and the behaviour cannot drift apart. It reads only the
//! config (no database, no secret).
//!
//! It is written for the public (GDPR art. 12(1): clear and plain language): it names kinds
//! of data and moments in the words the config gives (`category`, `from`, `from_otherwise`,
//! `basis`, and their `nl` versions), never a table, a column or a filter. What the config
//! lacks for that is reported by `check` (`advice`), not printed here.

use crate::config::{Action, Clock, Config, Period, Policy, Rounding, Transform};
use askama::Template;

pub use crate::text::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Markdown,
    Html,
}

/// The fixed wording, per language.
pub struct Words {
    lang: &'static str,
    title: &'static str,
    intro: &'static str,
    headers: [&'static str; 5],
    art30_title: &'static str,
    art30_intro: &'static str,
    end_of_year: &'static str,
    /// The moment, when the config gives no words for it.
    from_own_date: &'static str,
    from_related: &'static str,
    /// "{from}, or where there is none: {otherwise}".
    with_otherwise: &'static str,
    otherwise_own_date: &'static str,
    deleted: &'static str,
    /// What happens at the end of the period to an archived row.
    archived: &'static str,
    /// What happens at the end of the archive's own period.
    deleted_from_archive: &'static str,
    changed: &'static str,
    pseudonymized_note: &'static str,
    units: [(&'static str, &'static str); 5],
    transforms: [(Transform, &'static str); 7],
    kept: &'static str,
    then: &'static str,
    from_word: &'static str,
}

const EN: Words = Words {
    lang: "en",
    title: "How long we keep your data",
    intro: "We keep personal data only as long as we need it. The table below lists each kind of \
            data, how long we keep it, from which moment, what happens then, and why.",
    headers: ["Data", "How long", "From", "Then", "Why"],
    art30_title: "Record of processing activities: time limits for erasure (GDPR art. 30(1)(f))",
    art30_intro: "The envisaged time limits for erasure of the different categories of data:",
    end_of_year: "the end of the calendar year of {from}",
    from_own_date: "the date recorded with this data",
    from_related: "the latest date of the records this data belongs to (the period does not \
                   start while any of them is still open)",
    with_otherwise: "{from}; where there is none: {otherwise}",
    otherwise_own_date: "the date recorded with this data",
    deleted: "deleted",
    deleted_from_archive: "deleted from the archive",
    archived: "moved out of the live system into a separate archive with restricted access, then deleted there when the archive's own rule says",
    changed: "details changed",
    pseudonymized_note: "Pseudonymised data is still personal data (GDPR recital 26).",
    units: [
        ("year", "years"),
        ("month", "months"),
        ("day", "days"),
        ("hour", "hours"),
        ("minute", "minutes"),
    ],
    transforms: [
        (Transform::Null, "removed"),
        (Transform::Redact, "replaced by a fixed text"),
        (
            Transform::Hash,
            "replaced by a keyed hash (HMAC), which pseudonymises them",
        ),
        (
            Transform::TruncateIp,
            "the IP address shortened to its network part, which pseudonymises it",
        ),
        (Transform::YearOnly, "the date reduced to its year"),
        (
            Transform::MonthOnly,
            "the date reduced to its year and month",
        ),
        (
            Transform::EmailDomain,
            "the e-mail address reduced to its domain",
        ),
    ],
    kept: "the rest of the record is kept",
    then: "then",
    from_word: "from",
};

const NL: Words = Words {
    lang: "nl",
    title: "Hoe lang wij uw gegevens bewaren",
    intro: "Wij bewaren persoonsgegevens niet langer dan nodig. De tabel hieronder noemt per soort \
            gegevens hoe lang wij ze bewaren, vanaf welk moment, wat er daarna gebeurt en waarom.",
    headers: ["Gegevens", "Hoe lang", "Vanaf", "Daarna", "Waarom"],
    art30_title: "Register van verwerkingsactiviteiten: termijnen voor het wissen (art. 30 lid 1 onder f AVG)",
    art30_intro: "De beoogde termijnen waarbinnen de verschillende categorieën van gegevens worden gewist:",
    end_of_year: "het einde van het kalenderjaar van {from}",
    from_own_date: "de datum die bij deze gegevens is vastgelegd",
    from_related: "de laatste datum van de gegevens waar dit bij hoort (de termijn begint niet \
                   zolang daarvan nog iets loopt)",
    with_otherwise: "{from}; als er geen is: {otherwise}",
    otherwise_own_date: "de datum die bij deze gegevens is vastgelegd",
    deleted: "verwijderd",
    deleted_from_archive: "uit het archief verwijderd",
    archived: "uit het live systeem verplaatst naar een apart archief met beperkte toegang, en daar verwijderd wanneer de eigen regel van het archief dat zegt",
    changed: "gegevens aangepast",
    pseudonymized_note: "Gepseudonimiseerde gegevens blijven persoonsgegevens (overweging 26 AVG).",
    units: [
        ("jaar", "jaar"),
        ("maand", "maanden"),
        ("dag", "dagen"),
        ("uur", "uur"),
        ("minuut", "minuten"),
    ],
    transforms: [
        (Transform::Null, "verwijderd"),
        (Transform::Redact, "vervangen door een vaste tekst"),
        (
            Transform::Hash,
            "vervangen door een hash met geheime sleutel (HMAC), dus gepseudonimiseerd",
        ),
        (
            Transform::TruncateIp,
            "het IP-adres ingekort tot het netwerkdeel, dus gepseudonimiseerd",
        ),
        (Transform::YearOnly, "de datum teruggebracht tot het jaar"),
        (
            Transform::MonthOnly,
            "de datum teruggebracht tot jaar en maand",
        ),
        (
            Transform::EmailDomain,
            "het e-mailadres teruggebracht tot het domein",
        ),
    ],
    kept: "de overige gegevens van dit record blijven bewaard",
    then: "daarna",
    from_word: "vanaf",
};

pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Nl => &NL,
    }
}

/// "1 year 6 months", "90 dagen".
pub fn period_text(p: &Period, lang: Lang) -> String {
    let w = words(lang);
    let (years, months) = (p.months / 12, p.months % 12);
    let (hours, minutes) = p.hours_minutes();
    let mut parts = Vec::new();
    for (n, (one, many)) in [
        (years, w.units[0]),
        (months, w.units[1]),
        (p.days, w.units[2]),
        (hours, w.units[3]),
        (minutes, w.units[4]),
    ] {
        if n > 0 {
            parts.push(format!("{n} {}", if n == 1 { one } else { many }));
        }
    }
    parts.join(" ")
}

/// The config's words for one policy in one language, English where the Dutch is missing.
struct Own<'a> {
    category: Option<&'a str>,
    from: Option<&'a str>,
    from_otherwise: Option<&'a str>,
    basis: &'a str,
}

fn own(p: &Policy, lang: Lang) -> Own<'_> {
    let nl = p.nl.as_ref().filter(|_| lang == Lang::Nl);
    Own {
        category: nl
            .and_then(|w| w.category.as_deref())
            .or(p.category.as_deref()),
        from: nl.and_then(|w| w.from.as_deref()).or(p.from.as_deref()),
        from_otherwise: nl
            .and_then(|w| w.from_otherwise.as_deref())
            .or(p.from_otherwise.as_deref()),
        basis: nl.and_then(|w| w.basis.as_deref()).unwrap_or(&p.basis),
    }
}

/// The kind of data a policy is about, in the words of its `category` (the policy's name
/// where it has none).
pub fn category(p: &Policy, lang: Lang) -> String {
    own(p, lang).category.unwrap_or(&p.name).to_string()
}

/// Whether a policy's action leaves pseudonymised data behind.
pub fn pseudonymizes(p: &Policy) -> bool {
    matches!(&p.action, Action::Anonymize(cols) if cols.iter().any(|(_, t)| t.is_pseudonymization()))
}

/// One row of the statement, in words.
pub struct Row {
    pub category: String,
    pub how_long: String,
    pub from: String,
    pub then: String,
    pub why: String,
}

fn row(p: &Policy, lang: Lang) -> Row {
    let w = words(lang);
    let own = own(p, lang);
    let from = match (own.from, &p.clock) {
        (Some(f), _) => f.to_string(),
        (None, Clock::Column { .. }) => w.from_own_date.to_string(),
        (None, Clock::Related { .. }) => w.from_related.to_string(),
    };
    let from = match &p.clock {
        Clock::Related {
            otherwise: Some(_), ..
        } => w.with_otherwise.replace("{from}", &from).replace(
            "{otherwise}",
            own.from_otherwise.unwrap_or(w.otherwise_own_date),
        ),
        _ => from,
    };
    let from = if p.round == Rounding::EndOfYear {
        w.end_of_year.replace("{from}", &from)
    } else {
        from
    };
    let then = match &p.action {
        Action::Delete if p.database == crate::config::Side::Archive => {
            w.deleted_from_archive.to_string()
        }
        Action::Delete => w.deleted.to_string(),
        Action::Archive => w.archived.to_string(),
        Action::Anonymize(columns) => {
            let parts: Vec<&str> = w
                .transforms
                .iter()
                .filter(|(t, _)| columns.iter().any(|(_, c)| c == t))
                .map(|(_, s)| *s)
                .collect();
            format!("{}: {}; {}", w.changed, parts.join("; "), w.kept)
        }
    };
    Row {
        category: category(p, lang),
        how_long: period_text(&p.retain, lang),
        from,
        then,
        why: own.basis.to_string(),
    }
}

#[derive(Template)]
#[template(path = "statement.md", escape = "none")]
struct Markdown<'a> {
    w: &'a Words,
    rows: Vec<Row>,
    pseudonymizes: bool,
}

#[derive(Template)]
#[template(path = "statement.html")]
struct Html<'a> {
    w: &'a Words,
    rows: Vec<Row>,
    pseudonymizes: bool,
}

/// A Markdown table cell holds one line and no unescaped `|`.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render(config: &Config, format: Format, lang: Lang) -> Result<String, askama::Error> {
    let w = words(lang);
    let rows: Vec<Row> = config.policies.iter().map(|p| row(p, lang)).collect();
    let pseudonymizes = config.policies.iter().any(pseudonymizes);
    let out = match format {
        Format::Markdown => Markdown {
            w,
            rows: rows
                .into_iter()
                .map(|r| Row {
                    category: cell(&r.category),
                    how_long: cell(&r.how_long),
                    from: cell(&r.from),
                    then: cell(&r.then),
                    why: cell(&r.why),
                })
                .collect(),
            pseudonymizes,
        }
        .render()?,
        Format::Html => Html {
            w,
            rows,
            pseudonymizes,
        }
        .render()?,
    };
    Ok(format!("{}\n", out.trim_end()))
}

/// The languages the config asks the statement in: English, and Dutch when the summary is
/// Dutch or any policy has Dutch wording.
pub fn languages(config: &Config) -> Vec<Lang> {
    let dutch = config
        .report
        .as_ref()
        .is_some_and(|r| r.language == Lang::Nl)
        || config.policies.iter().any(|p| p.nl.is_some());
    if dutch {
        vec![Lang::En, Lang::Nl]
    } else {
        vec![Lang::En]
    }
}

/// What the config lacks for a statement in plain words, for `check` to say: the statement
/// itself never tells its readers what the controller should change.
pub fn advice(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let dutch = languages(config).contains(&Lang::Nl);
    for p in &config.policies {
        let has_otherwise = matches!(
            &p.clock,
            Clock::Related {
                otherwise: Some(_),
                ..
            }
        );
        let mut missing = Vec::new();
        if p.category.is_none() {
            missing.push("category");
        }
        if p.from.is_none() {
            missing.push("from");
        }
        if has_otherwise && p.from_otherwise.is_none() {
            missing.push("from_otherwise");
        }
        if !missing.is_empty() {
            out.push(format!(
                "policy \"{}\": the retention statement has no words of yours for {} \
                 (it shows the policy name or a general phrase instead)",
                p.name,
                missing.join(", ")
            ));
        }
        if dutch {
            let nl = p.nl.clone().unwrap_or_default();
            let mut missing = Vec::new();
            if nl.category.is_none() {
                missing.push("nl.category");
            }
            if nl.from.is_none() {
                missing.push("nl.from");
            }
            if has_otherwise && nl.from_otherwise.is_none() {
                missing.push("nl.from_otherwise");
            }
            if nl.basis.is_none() {
                missing.push("nl.basis");
            }
            if !missing.is_empty() {
                out.push(format!(
                    "policy \"{}\": no Dutch wording for {}: `report --lang nl` shows your \
                     English text there",
                    p.name,
                    missing.join(", ")
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_naturally_in_both_languages() {
        let p: Period = "1 year 6 months".parse().expect("period");
        assert_eq!(period_text(&p, Lang::En), "1 year 6 months");
        assert_eq!(period_text(&p, Lang::Nl), "1 jaar 6 maanden");
        let p: Period = "90 days".parse().expect("period");
        assert_eq!(period_text(&p, Lang::Nl), "90 dagen");
    }

    fn config(policy: &str) -> Config {
        let text = format!(
            "[database]\nurl = \"sqlite://x.db\"\n\n[[policies]]\nname = \"mail\"\ntable = \"messages\"\n\
             since = {{ table = \"subscriptions\", column = \"ended_at\", match = {{ customer_id = \"customer_id\" }}, otherwise = \"sent_at\" }}\n\
             retain = \"6 months\"\naction = \"delete\"\nbasis = \"not needed\"\n{policy}"
        );
        Config::from_toml(std::path::Path::new("t.toml"), &text, std::iter::empty())
            .expect("config")
    }

    #[test]
    fn check_names_the_wording_a_statement_lacks_in_each_language_asked_for() {
        let bare = advice(&config(""));
        assert_eq!(bare.len(), 1, "{bare:?}");
        assert!(
            bare[0].contains("category, from, from_otherwise"),
            "{bare:?}"
        );
        // Dutch wording for one key asks for Dutch: the others are named.
        let dutch = advice(&config(
            "category = \"Mail\"\nfrom = \"the end\"\nfrom_otherwise = \"the day\"\nnl = { category = \"Post\" }\n",
        ));
        assert_eq!(dutch.len(), 1, "{dutch:?}");
        assert!(
            dutch[0].contains("no Dutch wording for nl.from, nl.from_otherwise, nl.basis"),
            "{dutch:?}"
        );
    }
}
