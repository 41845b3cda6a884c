//! The answer to a data subject's erasure request (GDPR art. 12(3), 17, 19): what was erased,
//! what was only pseudonymised, what is kept, on which ground and until when, when the data
//! is gone from backups, and the right to complain. Rendered from what `erase` reports and the
//! policies' own words, through templates that escape what they insert (HTML), in English or
//! Dutch. Counts and categories only: nothing of the person's data is in it.

mod words;

use crate::config::{Config, KeptFor, Policy, Rounding};
use crate::engine::erase::{ColumnChange, EraseReport, ErasedPart, KeptPart, PartKind};
use crate::statement::{Format, Lang};
use askama::Template;
use words::Words;

/// One line of a section: what kind of data, and what happened to it.
struct Item {
    what: String,
    detail: String,
}

/// A heading with its explanation and its lines; left out when it has none.
struct Section {
    heading: &'static str,
    intro: &'static str,
    items: Vec<Item>,
}

struct Answer<'a> {
    w: &'a Words,
    lang: &'static str,
    request_id: &'a str,
    looked_up: String,
    done_at: String,
    dry_run: bool,
    found: bool,
    not_found: String,
    sections: Vec<Section>,
    backups: String,
    backups_known: bool,
}

#[derive(Template)]
#[template(path = "answer/erase.md", escape = "none")]
struct Markdown<'a> {
    a: &'a Answer<'a>,
}

#[derive(Template)]
#[template(path = "answer/erase.html")]
struct Html<'a> {
    a: &'a Answer<'a>,
}

/// The answer in the format and language asked for.
pub fn render(report: &EraseReport, config: &Config, format: Format, lang: Lang) -> String {
    let w = match lang {
        Lang::En => &words::EN,
        Lang::Nl => &words::NL,
    };
    let answer = build(report, config, w, lang);
    let text = match format {
        Format::Markdown => Markdown { a: &answer }.render(),
        Format::Html => Html { a: &answer }.render(),
    };
    // The templates have no fallible parts: every value is a prepared string.
    text.unwrap_or_else(|e| format!("the answer could not be rendered: {e}"))
}

fn build<'a>(report: &'a EraseReport, config: &Config, w: &'a Words, lang: Lang) -> Answer<'a> {
    let policy = |name: &str| config.policies.iter().find(|p| p.name == name);
    let category = |name: &str, fallback: &str| {
        let p = policy(name);
        match lang {
            Lang::Nl => p.and_then(|p| p.nl.as_ref()?.category.clone()),
            Lang::En => None,
        }
        .unwrap_or_else(|| fallback.to_string())
    };
    let records = |n: u64| {
        let (one, many) = w.records;
        format!("{n} {}", if n == 1 { one } else { many })
    };
    let columns = |cols: &[&ColumnChange]| {
        cols.iter()
            .map(|c| {
                format!(
                    "{} {}",
                    w.field.replace("{field}", &c.column),
                    w.transform(c.transform)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let item = |e: &ErasedPart, detail: String| Item {
        what: category(&e.policy, &e.category),
        detail,
    };

    let mut erased = Vec::new();
    let mut pseudonymised = Vec::new();
    let mut held = Vec::new();
    let mut blocked = Vec::new();
    for e in &report.erased {
        if e.rows > 0 {
            if e.deleted {
                erased.push(item(e, format!("{} {}.", records(e.rows), w.deleted)));
            } else {
                let gone: Vec<&ColumnChange> = e.columns.iter().filter(|c| c.erased).collect();
                let kept: Vec<&ColumnChange> = e.columns.iter().filter(|c| !c.erased).collect();
                if !gone.is_empty() {
                    erased.push(item(e, format!("{}: {}.", records(e.rows), columns(&gone))));
                }
                if !kept.is_empty() {
                    debug_assert_eq!(e.kind, PartKind::Pseudonymised);
                    pseudonymised
                        .push(item(e, format!("{}: {}.", records(e.rows), columns(&kept))));
                }
            }
        }
        if e.held > 0 {
            held.push(item(e, format!("{}. {}.", records(e.held), w.held_detail)));
        }
        if e.blocked > 0 {
            blocked.push(item(
                e,
                format!("{}. {}.", records(e.blocked), w.blocked_detail),
            ));
        }
    }

    let kept_item = |k: &KeptPart| {
        let p = policy(&k.policy);
        let basis = match lang {
            Lang::Nl => p.and_then(|p| p.nl.as_ref()?.basis.clone()),
            Lang::En => None,
        }
        .unwrap_or_else(|| k.basis.clone());
        let when = match (k.kind, k.until, p) {
            (KeptFor::Suppression, _, _) => w.suppression_until.to_string(),
            (_, Some(date), _) if k.in_archive => w
                .archive_until
                .replace("{date}", &date.format("%Y-%m-%d").to_string()),
            (_, None, _) if k.in_archive => w.in_archive.to_string(),
            (_, Some(date), _) => w
                .until
                .replace("{date}", &date.format("%Y-%m-%d").to_string()),
            (_, None, Some(p)) => w.for_period.replace("{rule}", &rule(p, w, lang)),
            (_, None, None) => String::new(),
        };
        let changed: Vec<&ColumnChange> = k.columns.iter().collect();
        let changed = if changed.is_empty() {
            String::new()
        } else {
            format!(": {}", columns(&changed))
        };
        Item {
            what: category(&k.policy, &k.category),
            detail: format!(
                "{}{changed}. {}: {basis}. {when}.",
                records(k.rows),
                w.ground
            ),
        }
    };
    let kept_of = |kind: KeptFor| -> Vec<Item> {
        report
            .kept
            .iter()
            .filter(|k| k.kind == kind)
            .map(kept_item)
            .collect()
    };

    let sections = [
        (w.erased, w.erased_intro, erased),
        (w.pseudonymised, w.pseudonymised_intro, pseudonymised),
        (
            w.obligation,
            w.obligation_intro,
            kept_of(KeptFor::LegalObligation),
        ),
        (w.claims, w.claims_intro, kept_of(KeptFor::LegalClaims)),
        (
            w.suppression,
            w.suppression_intro,
            kept_of(KeptFor::Suppression),
        ),
        (w.held, w.held_intro, held),
        (w.blocked, w.blocked_intro, blocked),
    ]
    .into_iter()
    .filter(|(_, _, items)| !items.is_empty())
    .map(|(heading, intro, items)| Section {
        heading,
        intro,
        items,
    })
    .collect();

    let day = report.date.get(..10).unwrap_or(&report.date);
    let (backups, backups_known) = match config.backup_retention {
        Some(period) => {
            let gone = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .ok()
                .and_then(|d| period.add_to(d.and_hms_opt(0, 0, 0)?))
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default();
            (
                w.backups
                    .replace("{period}", &period.in_units(w.units))
                    .replace("{date}", &gone),
                true,
            )
        }
        None => (w.backups_unknown.to_string(), false),
    };

    Answer {
        w,
        lang: match lang {
            Lang::En => "en",
            Lang::Nl => "nl",
        },
        request_id: &report.request_id,
        looked_up: w.looked_up.replace("{key}", &report.subject),
        done_at: w
            .done_at
            .replace("{day}", day)
            .replace("{time}", report.date.get(11..16).unwrap_or_default()),
        dry_run: report.dry_run,
        found: report.found,
        not_found: w.not_found.replace("{key}", &report.subject),
        sections,
        backups,
        backups_known,
    }
}

/// The policy's period in words, for a kept record whose clock gives no date.
fn rule(p: &Policy, w: &Words, lang: Lang) -> String {
    let from = match lang {
        Lang::Nl => p.nl.as_ref().and_then(|n| n.from.clone()),
        Lang::En => None,
    }
    .or_else(|| p.from.clone())
    .unwrap_or_else(|| w.from_the_clock.to_string());
    let template = match p.round {
        Rounding::EndOfYear => w.rule_end_of_year,
        Rounding::None => w.rule_after,
    };
    template
        .replace("{period}", &p.retain.in_units(w.units))
        .replace("{from}", &from)
}
