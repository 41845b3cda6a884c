//! "Did you mean": the known key closest to a mistyped one.

/// The known key nearest to `typed` by edit distance (a swap of two neighbours counts as one
/// edit), when it is near enough to be a typo: at most a third of the key's length, at least
/// one edit, at most three.
pub(super) fn closest<'a>(typed: &str, known: &[&'a str]) -> Option<&'a str> {
    let typed = typed.to_lowercase();
    let allowed = (typed.chars().count() / 3).clamp(1, 3);
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&typed, k), *k))
        .filter(|(d, _)| *d <= allowed)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// The message for a key that is not one of `known`: the nearest one when it is close, and
/// the keys this table takes when there are few of them or none is close.
pub(super) fn unknown_key(typed: &str, known: &[&str]) -> String {
    let list = || {
        known
            .iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match closest(typed, known) {
        Some(k) if known.len() <= 8 => {
            format!(
                "is not a known key; did you mean `{k}`? (accepted here: {})",
                list()
            )
        }
        Some(k) => format!("is not a known key; did you mean `{k}`?"),
        None => format!("is not a known key (accepted here: {})", list()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &[&str] = &[
        "name", "table", "since", "retain", "action", "basis", "round",
    ];

    #[test]
    fn suggests_the_nearest_key_for_a_typo() {
        assert_eq!(closest("retian", POLICY), Some("retain"));
        assert_eq!(closest("retan", POLICY), Some("retain"));
        assert_eq!(closest("Retain", POLICY), Some("retain"));
        assert_eq!(
            closest("tabel", &["table", "column", "unit", "match"]),
            Some("table")
        );
        assert_eq!(
            closest("batchsize", &["batch_size", "pause"]),
            Some("batch_size")
        );
        assert_eq!(
            closest("categorie", &["category", "from", "basis"]),
            Some("category")
        );
    }

    #[test]
    fn suggests_nothing_when_no_key_is_close() {
        assert_eq!(closest("colour", POLICY), None);
        assert_eq!(closest("x", &["to", "on"]), None);
        assert_eq!(closest("retention_period", POLICY), None);
        // One edit in a two-letter key is a typo; two are another word.
        assert_eq!(closest("no", &["on"]), Some("on"));
        assert_eq!(closest("at", &["on"]), None);
    }

    #[test]
    fn lists_the_accepted_keys_of_a_small_table() {
        let m = unknown_key("tabel", &["table", "column", "unit", "match", "otherwise"]);
        assert_eq!(
            m,
            "is not a known key; did you mean `table`? (accepted here: table, column, unit, match, otherwise)"
        );
        assert_eq!(
            unknown_key("colour", &["name", "table"]),
            "is not a known key (accepted here: name, table)"
        );
    }
}
