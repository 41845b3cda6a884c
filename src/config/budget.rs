//! `run.write_budget`: how many bytes per second of server writes (PostgreSQL WAL, InnoDB
//! redo) a purge may cause. Units are the servers' own: `kB`, `MB` and `GB` are powers of 1024,
//! as in `max_wal_size = 1GB`.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WriteBudget {
    /// Derived from the server's settings when a run starts (none on SQLite).
    Auto,
    Off,
    /// Bytes per second.
    PerSecond(f64),
}

const KB: f64 = 1024.0;

const FORMS: &str =
    "write \"auto\", \"off\" or a rate such as \"2 MB/s\" (B, kB, MB or GB per second)";

impl std::str::FromStr for WriteBudget {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        match t.to_ascii_lowercase().as_str() {
            "auto" => return Ok(WriteBudget::Auto),
            "off" => return Ok(WriteBudget::Off),
            _ => {}
        }
        let refused = |why: &str| format!("\"{s}\" is not a write budget: {why}; {FORMS}");
        let Some(amount) = t
            .strip_suffix("/s")
            .or_else(|| t.strip_suffix("/ s"))
            .map(str::trim)
        else {
            return Err(refused("it is no rate per second"));
        };
        let split = amount
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
            .unwrap_or(amount.len());
        let (number, unit) = amount.split_at(split);
        if number.trim().is_empty() {
            return Err(refused("it does not start with a number"));
        }
        let number: f64 = number
            .trim()
            .parse()
            .map_err(|_| refused(&format!("\"{}\" is not a number", number.trim())))?;
        let per = match unit.trim().to_ascii_lowercase().as_str() {
            "b" => 1.0,
            "kb" => KB,
            "mb" => KB * KB,
            "gb" => KB * KB * KB,
            "" => return Err(refused("the amount needs a unit (B, kB, MB or GB)")),
            other => return Err(refused(&format!("unknown unit \"{other}\""))),
        };
        if !number.is_finite() || number <= 0.0 {
            return Err(refused(
                "a budget must be more than zero (\"off\" sets none)",
            ));
        }
        Ok(WriteBudget::PerSecond(number * per))
    }
}

/// "1.7 MB/s", "200 kB/s", "512 B/s".
pub fn rate(bytes_per_second: f64) -> String {
    format!("{}/s", size(bytes_per_second))
}

/// "1.0 GB", "96 MB", "200 kB".
pub fn size(bytes: f64) -> String {
    let (value, unit) = if bytes >= KB * KB * KB {
        (bytes / (KB * KB * KB), "GB")
    } else if bytes >= KB * KB {
        (bytes / (KB * KB), "MB")
    } else if bytes >= KB {
        (bytes / KB, "kB")
    } else {
        return format!("{} B", bytes.round());
    };
    if value < 10.0 && value.fract().abs() > 0.05 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.0} {unit}")
    }
}

impl fmt::Display for WriteBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteBudget::Auto => f.write_str("auto"),
            WriteBudget::Off => f.write_str("off"),
            WriteBudget::PerSecond(b) => f.write_str(&rate(*b)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<WriteBudget, String> {
        s.parse()
    }

    #[test]
    fn rates_are_read_in_the_servers_units() {
        assert_eq!(parse("auto"), Ok(WriteBudget::Auto));
        assert_eq!(parse(" OFF "), Ok(WriteBudget::Off));
        assert_eq!(
            parse("2 MB/s"),
            Ok(WriteBudget::PerSecond(2.0 * 1024.0 * 1024.0))
        );
        assert_eq!(parse("200kB/s"), Ok(WriteBudget::PerSecond(204_800.0)));
        assert_eq!(parse("200 KB/s"), Ok(WriteBudget::PerSecond(204_800.0)));
        assert_eq!(
            parse("1.5 GB/s"),
            Ok(WriteBudget::PerSecond(1.5 * 1024.0 * 1024.0 * 1024.0))
        );
        assert_eq!(parse("512 B/s"), Ok(WriteBudget::PerSecond(512.0)));
    }

    #[test]
    fn what_is_no_rate_is_refused_with_the_forms_that_are() {
        for (bad, why) in [
            ("fast", "no rate per second"),
            ("-1 MB/s", "more than zero"),
            ("0 MB/s", "more than zero"),
            ("2 MB", "no rate per second"),
            ("2/s", "needs a unit"),
            ("2 TB/s", "unknown unit \"tb\""),
            ("x MB/s", "does not start with a number"),
            ("1.2.3 MB/s", "\"1.2.3\" is not a number"),
        ] {
            let e = parse(bad).expect_err(bad);
            assert!(e.contains(why), "{bad}: {e}");
            assert!(e.contains("\"auto\", \"off\""), "{bad}: {e}");
        }
    }

    #[test]
    fn rates_print_short() {
        assert_eq!(rate(1024.0 * 1024.0 * 1024.0 / 2.0 / 300.0), "1.7 MB/s");
        assert_eq!(rate(204_800.0), "200 kB/s");
        assert_eq!(size(1024.0 * 1024.0 * 1024.0), "1 GB");
        assert_eq!(size(96.0 * 1024.0 * 1024.0), "96 MB");
        assert_eq!(WriteBudget::PerSecond(512.0).to_string(), "512 B/s");
    }
}
