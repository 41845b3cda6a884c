//! The summary's fixed wording, per language. `{n}` etc. are filled in by `report`.

use crate::text::Lang;

pub struct Words {
    pub months: [&'static str; 12],
    pub short_months: [&'static str; 12],
    pub at: &'static str,
    pub ended: &'static str,
    pub one_record: &'static str,
    pub records: &'static str,
    pub attention: &'static str,
    pub done: &'static str,
    pub nothing_to_do: &'static str,
    pub verdict_failed: &'static str,
    pub verdict_stopped: &'static str,
    pub verdict_rule_failed: &'static str,
    pub verdict_run_stopped: &'static str,
    pub verdict_overdue: &'static str,
    pub verdict_stale_holds: &'static str,
    pub failed_database: &'static str,
    pub failed_safety: &'static str,
    pub failed_clock: &'static str,
    pub failed_other: &'static str,
    pub nothing_changed: &'static str,
    pub batches_stay: &'static str,
    pub todo_safety: &'static str,
    pub todo_retry_at: &'static str,
    pub todo_retry: &'static str,
    pub deleted: &'static str,
    /// Rows an archive policy moved out of the live database.
    pub archived: &'static str,
    /// Rows the archive's own policies deleted there.
    pub deleted_from_archive: &'static str,
    pub pseudonymized: &'static str,
    pub anonymized: &'static str,
    pub pseudonymized_short: &'static str,
    pub anonymized_short: &'static str,
    pub kind_failed: &'static str,
    pub kind_not_reached: &'static str,
    pub kind_stopped: &'static str,
    pub kind_left: &'static str,
    pub todo_failed: &'static str,
    pub todo_continue: &'static str,
    pub todo_left: &'static str,
    pub kept_blocked: &'static str,
    pub kept_held: &'static str,
    pub stale_holds: &'static str,
    pub todo_stale_holds: &'static str,
    pub next_run: &'static str,
    pub no_next_run: &'static str,
    pub forecast_once: &'static str,
    pub forecast_spread: &'static str,
    pub forecast_nothing: &'static str,
    pub forecast_unknown: &'static str,
    pub run_id: &'static str,
    pub reason: &'static str,
    pub stopped_because: &'static str,
    /// `{duration}`: how long the batches waited for a replica to catch up.
    pub waited_for_replica: &'static str,
    // Headings and fixed sentences of the templates.
    pub h_attention: &'static str,
    pub h_done: &'static str,
    pub nothing_done: &'static str,
    pub h_kept: &'static str,
    pub kept_intro: &'static str,
    pub h_forecast: &'static str,
    pub forecast_intro: &'static str,
    pub h_next: &'static str,
    pub h_operator: &'static str,
    pub todo: &'static str,
    pub footer: &'static str,
}

const EN: Words = Words {
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    short_months: [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ],
    at: "{date} at {time}",
    ended: "The retention run ended on {when} (times in {zone}).",
    one_record: "1 record",
    records: "{n} records",
    attention: "Your attention is needed:",
    done: "Done:",
    nothing_to_do: "Nothing to do: no data was due.",
    verdict_failed: "the retention run failed.",
    verdict_stopped: "the retention run was stopped by a safety check.",
    verdict_rule_failed: "a retention rule failed.",
    verdict_run_stopped: "the retention run stopped before it was done.",
    verdict_overdue: "data is kept past its retention period.",
    verdict_stale_holds: "a legal hold is past its review date.",
    failed_database: "The database could not be reached, or the connection to it was lost.",
    failed_safety: "A rule would have removed far more data than usual at once, so the run \
                    stopped to let someone check it first.",
    failed_clock: "The database's clock looked wrong (it went back, or jumped far ahead), so \
                   the run removed nothing.",
    failed_other: "Something went wrong that the run could not work around.",
    nothing_changed: "Nothing was changed.",
    batches_stay: "What was finished before that stays done; nothing was left half-done.",
    todo_safety: "Ask the operator to check the rule with `retentiond plan`. If the numbers \
                  are right, the operator lets the run go ahead once; until then nothing of \
                  this is removed.",
    todo_retry_at: "Nothing, for now: the next run, on {when}, tries again and continues \
                    where this one stopped. If it fails again, pass this message to the \
                    operator.",
    todo_retry: "The next run tries again and continues where this one stopped. If it fails \
                 again, pass this message to the operator.",
    deleted: "{n} deleted",
    archived: "{n} moved to the archive",
    deleted_from_archive: "{n} deleted from the archive",
    pseudonymized: "{n} pseudonymised (still personal data; the rest of each record is kept)",
    anonymized: "{n} anonymised (the rest of each record is kept)",
    pseudonymized_short: "{n} pseudonymised",
    anonymized_short: "{n} anonymised",
    kind_failed: "the rule failed, so {overdue} past their retention period are still there.",
    kind_not_reached: "not reached: the run stopped before this kind of data, so {overdue} \
                       past their retention period are still there.",
    kind_stopped: "stopped before it was done: {overdue} past their retention period are \
                   still there.",
    kind_left: "{overdue} past their retention period are still there after the run.",
    todo_failed: "The next run tries again. If the next summary says the same, pass this \
                  message to the operator: the reason is at the end.",
    todo_continue: "Nothing, for now: the next run continues with them.",
    todo_left: "If the next summary says the same, ask the operator to look into it \
                (`retentiond plan`).",
    kept_blocked: "{n} past their retention period are still referred to by records that \
                   are kept (for example invoices); they go once those have gone.",
    kept_held: "{n} are under a legal hold; they stay until the hold is released, then \
                follow their normal schedule.",
    stale_holds: "Legal holds past their review date: {n}. They stay in force until someone \
                  releases them.",
    todo_stale_holds: "Decide for each whether it is still needed. The operator lists them \
                       with `retentiond hold list` and releases one with `retentiond hold \
                       release ID`.",
    next_run: "The next run is on {when}.",
    no_next_run: "No next run is scheduled.",
    forecast_once: "{n}, all in {month}.",
    forecast_spread: "{n}, spread over {months} months; the most in {month} ({peak}).",
    forecast_nothing: "Nothing reaches the end of its retention period in the coming 12 months.",
    forecast_unknown: "The forecast could not be counted this time.",
    run_id: "Run {id}, cutoff {cutoff} UTC.",
    reason: "Reason: {reason}",
    stopped_because: "Stopped early: {reason}",
    waited_for_replica: "Waited {duration} for the replica to catch up (run.max_replica_lag).",
    h_attention: "Needs your attention",
    h_done: "What was done",
    nothing_done: "Nothing was deleted or changed.",
    h_kept: "Kept past their date, on purpose",
    kept_intro: "Nothing to do about these:",
    h_forecast: "What expires next",
    forecast_intro: "Records that reach the end of their retention period in the coming 12 \
                     months, per kind of data:",
    h_next: "Next run",
    h_operator: "For the operator",
    todo: "What to do:",
    footer: "This message holds counts and kinds of data only, no personal data.",
};

const NL: Words = Words {
    months: [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    short_months: [
        "jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
    ],
    at: "{date} om {time}",
    ended: "De opschoning was klaar op {when} (tijden in {zone}).",
    one_record: "1 record",
    records: "{n} records",
    attention: "Uw aandacht is nodig:",
    done: "Klaar:",
    nothing_to_do: "Niets te doen: er waren geen gegevens aan de beurt.",
    verdict_failed: "de opschoning is mislukt.",
    verdict_stopped: "de opschoning is gestopt door een veiligheidscontrole.",
    verdict_rule_failed: "een bewaarregel is mislukt.",
    verdict_run_stopped: "de opschoning is gestopt voordat ze klaar was.",
    verdict_overdue: "er worden gegevens langer bewaard dan hun bewaartermijn.",
    verdict_stale_holds: "een bewaarplicht (legal hold) is over de datum voor herbeoordeling.",
    failed_database: "De database was niet bereikbaar, of de verbinding ermee viel weg.",
    failed_safety: "Een regel zou in één keer veel meer gegevens verwijderen dan gewoonlijk; \
                    daarom is de opschoning gestopt, zodat iemand het eerst kan nakijken.",
    failed_clock: "De klok van de database leek niet te kloppen (hij liep terug of sprong ver \
                   vooruit); daarom is er niets verwijderd.",
    failed_other: "Er ging iets mis waar de opschoning niet omheen kon.",
    nothing_changed: "Er is niets gewijzigd.",
    batches_stay: "Wat daarvoor al af was, blijft gedaan; er is niets half gebleven.",
    todo_safety: "Vraag de beheerder de regel na te kijken met `retentiond plan`. Kloppen de \
                  aantallen, dan laat de beheerder de opschoning één keer doorgaan; tot dan \
                  wordt hiervan niets verwijderd.",
    todo_retry_at: "Voorlopig niets: de volgende opschoning, op {when}, probeert het opnieuw \
                    en gaat verder waar deze stopte. Mislukt die ook, geef dit bericht dan \
                    door aan de beheerder.",
    todo_retry: "De volgende opschoning probeert het opnieuw en gaat verder waar deze stopte. \
                 Mislukt die ook, geef dit bericht dan door aan de beheerder.",
    deleted: "{n} verwijderd",
    archived: "{n} naar het archief verplaatst",
    deleted_from_archive: "{n} uit het archief verwijderd",
    pseudonymized: "{n} gepseudonimiseerd (nog steeds persoonsgegevens; de rest van elk \
                    record blijft bewaard)",
    anonymized: "{n} geanonimiseerd (de rest van elk record blijft bewaard)",
    pseudonymized_short: "{n} gepseudonimiseerd",
    anonymized_short: "{n} geanonimiseerd",
    kind_failed: "de regel is mislukt; daardoor zijn {overdue} over hun bewaartermijn er nog.",
    kind_not_reached: "niet aan toegekomen: de opschoning stopte eerder; daardoor zijn \
                       {overdue} over hun bewaartermijn er nog.",
    kind_stopped: "gestopt voordat het klaar was: {overdue} over hun bewaartermijn zijn er nog.",
    kind_left: "{overdue} over hun bewaartermijn zijn er na de opschoning nog.",
    todo_failed: "De volgende opschoning probeert het opnieuw. Staat hetzelfde in de volgende \
                  samenvatting, geef dit bericht dan door aan de beheerder: de reden staat \
                  onderaan.",
    todo_continue: "Voorlopig niets: de volgende opschoning gaat ermee verder.",
    todo_left: "Staat hetzelfde in de volgende samenvatting, vraag de beheerder dan het uit \
                te zoeken (`retentiond plan`).",
    kept_blocked: "{n} over hun bewaartermijn worden nog gebruikt door gegevens die bewaard \
                   blijven (bijvoorbeeld facturen); ze gaan zodra die weg zijn.",
    kept_held: "{n} vallen onder een bewaarplicht (legal hold); ze blijven tot die wordt \
                opgeheven en volgen daarna hun gewone termijn.",
    stale_holds: "Bewaarplichten (legal holds) over de datum voor herbeoordeling: {n}. Ze \
                  blijven gelden tot iemand ze opheft.",
    todo_stale_holds: "Beslis per bewaarplicht of die nog nodig is. De beheerder toont ze met \
                       `retentiond hold list` en heft er een op met `retentiond hold release \
                       ID`.",
    next_run: "De volgende opschoning is op {when}.",
    no_next_run: "Er is geen volgende opschoning gepland.",
    forecast_once: "{n}, allemaal in {month}.",
    forecast_spread: "{n}, verdeeld over {months} maanden; de meeste in {month} ({peak}).",
    forecast_nothing: "In de komende 12 maanden bereiken geen gegevens het einde van hun \
                       bewaartermijn.",
    forecast_unknown: "De vooruitblik kon deze keer niet worden geteld.",
    run_id: "Run {id}, peilmoment {cutoff} UTC.",
    reason: "Reden: {reason}",
    stopped_because: "Eerder gestopt: {reason}",
    waited_for_replica: "{duration} gewacht tot de replica bij was (run.max_replica_lag).",
    h_attention: "Vraagt uw aandacht",
    h_done: "Wat er is gedaan",
    nothing_done: "Er is niets verwijderd of gewijzigd.",
    h_kept: "Bewust langer bewaard",
    kept_intro: "Hieraan hoeft u niets te doen:",
    h_forecast: "Wat komt er aan",
    forecast_intro: "Records die in de komende 12 maanden het einde van hun bewaartermijn \
                     bereiken, per soort gegevens:",
    h_next: "Volgende opschoning",
    h_operator: "Voor de beheerder",
    todo: "Wat te doen:",
    footer: "Dit bericht bevat alleen aantallen en soorten gegevens, geen persoonsgegevens.",
};

pub fn of(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Nl => &NL,
    }
}
