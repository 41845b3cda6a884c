//! Formatting shared by everything retentiond writes for people: the terminal, the summary
//! e-mail and the retention statement. It knows nothing of where the text goes.

/// The languages of the documents retentiond writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Lang {
    #[default]
    En,
    Nl,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Nl => "nl",
        }
    }
}

/// 1204 → "1 204": readable at a glance, unambiguous in every locale.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Wraps every line longer than `width` at spaces. A continuation keeps the line's
/// indentation, and under a list item ("- ") lines up with the item's text.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.chars().count() <= width {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let body = line.trim_start();
        let mut indent = line.len() - body.len();
        if body.starts_with("- ") {
            indent += 2;
        }
        let pad = " ".repeat(indent);
        let mut current = line[..line.len() - body.len()].to_string();
        let mut empty = true;
        for word in body.split(' ') {
            let fits = current.chars().count() + 1 + word.chars().count() <= width;
            if !empty && !fits {
                out.push_str(current.trim_end());
                out.push('\n');
                current = pad.clone();
                empty = true;
            }
            if !empty {
                current.push(' ');
            }
            current.push_str(word);
            empty = false;
        }
        out.push_str(current.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1204), "1 204");
        assert_eq!(count(1234567), "1 234 567");
    }

    #[test]
    fn long_lines_wrap_under_their_list_item() {
        let text = "- one two three four five six seven\nshort\n";
        assert_eq!(
            wrap(text, 16),
            "- one two three\n  four five six\n  seven\nshort\n"
        );
    }
}
