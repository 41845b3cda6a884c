//! The fixed text of the erasure answer, in English and Dutch. `{key}`, `{date}`, `{period}`,
//! `{rule}`, `{from}`, `{day}` and `{time}` are filled in by the answer.

pub(super) struct Words {
    pub title: &'static str,
    pub request: &'static str,
    pub looked_up: &'static str,
    pub done_at: &'static str,
    pub dry_run: &'static str,
    pub intro: &'static str,
    pub not_found: &'static str,
    pub records: (&'static str, &'static str),
    pub field: &'static str,
    pub deleted: &'static str,
    pub erased: &'static str,
    pub erased_intro: &'static str,
    pub pseudonymised: &'static str,
    pub pseudonymised_intro: &'static str,
    pub obligation: &'static str,
    pub obligation_intro: &'static str,
    pub claims: &'static str,
    pub claims_intro: &'static str,
    pub suppression: &'static str,
    pub suppression_intro: &'static str,
    pub suppression_until: &'static str,
    pub held: &'static str,
    pub held_intro: &'static str,
    pub held_detail: &'static str,
    pub blocked: &'static str,
    pub blocked_intro: &'static str,
    pub blocked_detail: &'static str,
    pub ground: &'static str,
    pub until: &'static str,
    pub for_period: &'static str,
    /// Kept records that are (or now go) in the restricted archive.
    pub archive_until: &'static str,
    pub in_archive: &'static str,
    pub rule_end_of_year: &'static str,
    pub rule_after: &'static str,
    pub from_the_clock: &'static str,
    pub units: [(&'static str, &'static str); 5],
    pub transforms: [(&'static str, &'static str); 7],
    pub backups_heading: &'static str,
    pub backups: &'static str,
    pub backups_unknown: &'static str,
    pub recipients_heading: &'static str,
    pub recipients: &'static str,
    pub rights_heading: &'static str,
    pub rights: &'static str,
}

impl Words {
    /// What a transform (by its config name) did to a column.
    pub fn transform(&self, name: &str) -> &'static str {
        self.transforms
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, words)| words)
    }
}

pub(super) const EN: Words = Words {
    title: "Your request to erase your personal data",
    request: "Request",
    looked_up: "We looked up your data under the key {key}.",
    done_at: "Carried out on {day} at {time} UTC.",
    dry_run: "Trial run: nothing has been changed yet. This is what the erasure would do.",
    intro: "You asked us to erase your personal data (GDPR art. 17). Below you can read what we \
            erased, what we only pseudonymised, and what we keep, on which ground and until when.",
    not_found: "No record was found under the key {key}: we hold no personal data under this key \
                that could be erased or that we keep. If you think we do hold data about you, \
                tell us how you are known to us (for instance the e-mail address you used), and \
                we will look again.",
    records: ("record", "records"),
    field: "the field {field}",
    deleted: "deleted",
    erased: "Erased",
    erased_intro: "These data are gone.",
    pseudonymised: "Pseudonymised: still personal data",
    pseudonymised_intro: "These data no longer show directly who you are, but they can still be \
                          linked to you, so they remain personal data (GDPR recital 26). They \
                          are kept because the rest of the record they belong to is kept, and \
                          they go when that record goes.",
    obligation: "Kept because the law requires it",
    obligation_intro: "A law obliges us to keep these records (GDPR art. 17(3)(b)). We use them \
                       for nothing else, and delete them when the period has passed.",
    claims: "Kept to establish or defend legal claims",
    claims_intro: "No law obliges us to keep these records, but we keep them as evidence for as \
                   long as a legal claim about our agreement can be made (GDPR art. 17(3)(e)). \
                   We use them for nothing else.",
    suppression: "Kept on our do-not-mail list",
    suppression_intro: "So that we never e-mail you again, not even after a list of addresses is \
                        imported again, your entry stays on our do-not-mail list. We use it for \
                        nothing else.",
    suppression_until: "Kept as long as we send marketing e-mail",
    held: "Kept while a legal hold lasts",
    held_intro: "A legal matter (such as a dispute or an investigation) requires us to keep \
                 these records for now.",
    held_detail: "Kept while the hold lasts, then on their normal schedule: releasing the hold \
                  does not erase them",
    blocked: "Kept as long as records we keep refer to them",
    blocked_intro: "Records listed above still refer to these.",
    blocked_detail: "Deleted together with the records that refer to them",
    ground: "Ground",
    until: "Kept until {date}",
    for_period: "Kept for {rule}",
    archive_until: "Kept until {date} in a separate archive with restricted access, no longer in our live systems",
    in_archive: "Moved out of our live systems into a separate archive with restricted access, and kept there as long as this ground requires",
    rule_end_of_year: "{period} from the end of the year of {from}",
    rule_after: "{period} after {from}",
    from_the_clock: "the date of the record",
    units: [
        ("year", "years"),
        ("month", "months"),
        ("day", "days"),
        ("hour", "hours"),
        ("minute", "minutes"),
    ],
    transforms: [
        ("null", "removed"),
        ("redact", "replaced by a fixed text"),
        ("hash", "replaced by a hash with a secret key (HMAC)"),
        ("truncate_ip", "shortened to its network part"),
        ("year_only", "reduced to the year"),
        ("month_only", "reduced to year and month"),
        ("email_domain", "reduced to the domain"),
    ],
    backups_heading: "Backups",
    backups: "Our backups are kept for at most {period} and then overwritten: by {date} the \
              erased data is gone from them too. Until then we do not use them, and should we \
              ever restore one, we erase your data again before it is used.",
    backups_unknown: "To complete before sending: say when the erased data is gone from your \
                      backups (set backup_retention in the [erase] section of the \
                      configuration, and this sentence states the date).",
    recipients_heading: "Others who received your data",
    recipients: "We tell everyone to whom we disclosed these data that they have been erased, \
                 unless that proves impossible or takes a disproportionate effort (GDPR art. \
                 19). If you ask, we tell you who they are.",
    rights_heading: "Your rights",
    rights: "If you disagree with this answer, you may lodge a complaint with the Dutch Data \
             Protection Authority, the Autoriteit Persoonsgegevens \
             (autoriteitpersoonsgegevens.nl; GDPR art. 77), and you may go to court (GDPR \
             art. 79).",
};

pub(super) const NL: Words = Words {
    title: "Uw verzoek om uw persoonsgegevens te wissen",
    request: "Verzoek",
    looked_up: "Wij hebben uw gegevens opgezocht onder de sleutel {key}.",
    done_at: "Uitgevoerd op {day} om {time} UTC.",
    dry_run: "Proef: er is nog niets gewijzigd. Zo zou het wissen uitpakken.",
    intro: "U hebt ons gevraagd uw persoonsgegevens te wissen (art. 17 AVG). Hieronder leest u \
            wat wij hebben gewist, wat wij alleen hebben gepseudonimiseerd en wat wij bewaren, \
            op welke grond en tot wanneer.",
    not_found: "Onder de sleutel {key} is geen enkel gegeven gevonden: wij hebben onder deze \
                sleutel geen persoonsgegevens die gewist konden worden of die wij bewaren. Denkt \
                u dat wij wel gegevens van u hebben, laat ons dan weten hoe u bij ons bekend \
                bent (bijvoorbeeld het e-mailadres dat u gebruikte), dan zoeken wij opnieuw.",
    records: ("record", "records"),
    field: "het veld {field}",
    deleted: "verwijderd",
    erased: "Gewist",
    erased_intro: "Deze gegevens zijn weg.",
    pseudonymised: "Gepseudonimiseerd: nog steeds persoonsgegevens",
    pseudonymised_intro: "Deze gegevens laten niet meer direct zien wie u bent, maar zijn nog wel \
                          aan u te koppelen en blijven dus persoonsgegevens (overweging 26 AVG). \
                          Ze blijven bewaard omdat de overige gegevens van het record waar ze \
                          bij horen bewaard blijven, en verdwijnen samen met dat record.",
    obligation: "Bewaard omdat de wet dat verplicht",
    obligation_intro: "Een wet verplicht ons deze gegevens te bewaren (art. 17 lid 3 onder b \
                       AVG). Wij gebruiken ze nergens anders voor en verwijderen ze zodra de \
                       termijn voorbij is.",
    claims: "Bewaard om een rechtsvordering te kunnen instellen of ons ertegen te verweren",
    claims_intro: "Geen wet verplicht ons deze gegevens te bewaren, maar wij bewaren ze als \
                   bewijs zolang er over onze overeenkomst een rechtsvordering kan worden \
                   ingesteld (art. 17 lid 3 onder e AVG). Wij gebruiken ze nergens anders voor.",
    suppression: "Bewaard op onze afmeldlijst",
    suppression_intro: "Zodat wij u nooit meer e-mailen, ook niet nadat een adressenlijst opnieuw \
                        is ingelezen, blijft uw vermelding op onze afmeldlijst staan. Wij \
                        gebruiken die nergens anders voor.",
    suppression_until: "Bewaard zolang wij marketing-e-mail versturen",
    held: "Bewaard zolang een juridische blokkade (legal hold) geldt",
    held_intro: "Een juridische kwestie (zoals een geschil of een onderzoek) verplicht ons deze \
                 gegevens voorlopig te bewaren.",
    held_detail: "Bewaard zolang de blokkade duurt, daarna volgens hun gewone bewaartermijn: het \
                  opheffen van de blokkade wist ze niet",
    blocked: "Bewaard zolang bewaarde gegevens ernaar verwijzen",
    blocked_intro: "Gegevens die hierboven staan, verwijzen nog naar deze gegevens.",
    blocked_detail: "Verwijderd samen met de gegevens die ernaar verwijzen",
    ground: "Grond",
    until: "Bewaard tot {date}",
    for_period: "Bewaard gedurende {rule}",
    archive_until: "Bewaard tot {date} in een apart archief met beperkte toegang, niet meer in onze live systemen",
    in_archive: "Uit onze live systemen verplaatst naar een apart archief met beperkte toegang, en daar bewaard zolang deze grond dat vereist",
    rule_end_of_year: "{period} vanaf het einde van het kalenderjaar van {from}",
    rule_after: "{period} na {from}",
    from_the_clock: "de datum van het gegeven",
    units: [
        ("jaar", "jaar"),
        ("maand", "maanden"),
        ("dag", "dagen"),
        ("uur", "uur"),
        ("minuut", "minuten"),
    ],
    transforms: [
        ("null", "verwijderd"),
        ("redact", "vervangen door een vaste tekst"),
        ("hash", "vervangen door een hash met geheime sleutel (HMAC)"),
        ("truncate_ip", "ingekort tot het netwerkdeel"),
        ("year_only", "teruggebracht tot het jaar"),
        ("month_only", "teruggebracht tot jaar en maand"),
        ("email_domain", "teruggebracht tot het domein"),
    ],
    backups_heading: "Back-ups",
    backups: "Onze back-ups worden hoogstens {period} bewaard en daarna overschreven: uiterlijk \
              {date} zijn de gewiste gegevens ook daaruit verdwenen. Tot dan gebruiken wij ze \
              niet, en mochten wij er ooit een terugzetten, dan wissen wij uw gegevens opnieuw \
              voordat ze worden gebruikt.",
    backups_unknown: "In te vullen vóór verzending: vermeld wanneer de gewiste gegevens uit uw \
                      back-ups verdwenen zijn (stel backup_retention in de sectie [erase] van \
                      de configuratie in, dan noemt deze zin de datum).",
    recipients_heading: "Anderen die uw gegevens ontvingen",
    recipients: "Wij laten iedereen aan wie wij deze gegevens hebben verstrekt weten dat ze zijn \
                 gewist, tenzij dat onmogelijk blijkt of onevenredig veel moeite kost (art. 19 \
                 AVG). Als u dat vraagt, vertellen wij u wie dat zijn.",
    rights_heading: "Uw rechten",
    rights: "Bent u het niet eens met dit antwoord, dan kunt u een klacht indienen bij de \
             Autoriteit Persoonsgegevens (autoriteitpersoonsgegevens.nl; art. 77 AVG), en u \
             kunt naar de rechter stappen (art. 79 AVG).",
};
