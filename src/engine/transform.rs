//! The transforms computed outside SQL: keyed hashing and IP truncation of text.

use super::target::Col;
use crate::config::Transform;
use crate::db::schema::ColumnKind;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::IpAddr;

/// Whether this transform of this column is computed here from the row's value, rather than
/// in SQL: hashing, and IP truncation of text (the address types, packed bytes and integers are
/// truncated by the database in their own type).
pub fn computed_outside_sql(col: &Col, t: Transform) -> bool {
    match t {
        Transform::Hash => true,
        Transform::TruncateIp => col.kind == ColumnKind::Text,
        _ => false,
    }
}

/// The new value of a column computed here from the text it holds (`None` inside: NULL), or
/// `None` when it already holds what the transform gives. An address that is no IP address
/// says nothing: NULL where the column allows it, else `0.0.0.0`.
pub fn computed_value(
    t: Transform,
    nullable: bool,
    current: &str,
    hash_key: &[u8],
) -> Option<Option<String>> {
    match t {
        Transform::Hash if is_hashed(current) => None,
        Transform::Hash => Some(Some(hash(hash_key, current))),
        Transform::TruncateIp => match truncate_ip(current) {
            Some(ip) if ip == current => None,
            Some(ip) => Some(Some(ip)),
            None if nullable => Some(None),
            None => Some(Some("0.0.0.0".to_string())),
        },
        _ => None,
    }
}

/// HMAC-SHA256 of the value under the configured key, as 64 lowercase hex characters. The
/// same input gives the same output, so joins and uniqueness survive; without the key the
/// input cannot be recomputed from it. Still personal data: pseudonymization, not erasure.
pub fn hash(key: &[u8], value: &str) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(value.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// True for a value `hash` produced (or one that looks exactly like it).
pub fn is_hashed(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// IPv4 to its /24 (`192.0.2.77` → `192.0.2.0`), IPv6 to its /48. An IPv4-mapped IPv6
/// address is the IPv4 address it maps, truncated as such and kept in the form the application
/// wrote (`::ffff:192.0.2.5` → `::ffff:192.0.2.0`): its /48 would be `::`, which says nothing,
/// while the /24 keeps what truncation is meant to keep. A value that is not an IP address says
/// nothing useful and is dropped: `None`.
pub fn truncate_ip(value: &str) -> Option<String> {
    let truncate_v4 = |v4: std::net::Ipv4Addr| {
        let [a, b, c, _] = v4.octets();
        std::net::Ipv4Addr::new(a, b, c, 0)
    };
    match value.trim().parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some(truncate_v4(v4).to_string()),
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => v6
            .to_ipv4_mapped()
            .map(|v4| truncate_v4(v4).to_ipv6_mapped().to_string()),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            Some(std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0).to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_keyed_stable_and_recognisable() {
        let a = hash(b"key-one-0123456789", "zoe@example.nl");
        assert_eq!(a, hash(b"key-one-0123456789", "zoe@example.nl"));
        assert_ne!(a, hash(b"key-two-0123456789", "zoe@example.nl"));
        assert!(is_hashed(&a));
        assert!(!is_hashed("zoe@example.nl"));
    }

    #[test]
    fn computed_values_change_only_what_is_not_done_yet() {
        let key = b"key-one-0123456789";
        let hashed = hash(key, "zoe@example.nl");
        assert_eq!(
            computed_value(Transform::Hash, false, "zoe@example.nl", key),
            Some(Some(hashed.clone()))
        );
        assert_eq!(computed_value(Transform::Hash, false, &hashed, key), None);
        let ip = |v, nullable| computed_value(Transform::TruncateIp, nullable, v, key);
        assert_eq!(ip("192.0.2.77", false), Some(Some("192.0.2.0".into())));
        assert_eq!(ip("192.0.2.0", false), None);
        assert_eq!(ip("unknown", true), Some(None), "NULL where allowed");
        assert_eq!(ip("unknown", false), Some(Some("0.0.0.0".into())));
    }

    #[test]
    fn truncates_ipv4_and_ipv6() {
        assert_eq!(truncate_ip("192.0.2.77").as_deref(), Some("192.0.2.0"));
        assert_eq!(
            truncate_ip("2001:db8:85a3:12::7334").as_deref(),
            Some("2001:db8:85a3::")
        );
        assert_eq!(truncate_ip("192.0.2.0").as_deref(), Some("192.0.2.0"));
        assert_eq!(
            truncate_ip("2001:db8:85a3::").as_deref(),
            Some("2001:db8:85a3::")
        );
        assert_eq!(truncate_ip("not an ip"), None);
    }

    #[test]
    fn ipv4_mapped_addresses_truncate_as_ipv4_in_their_own_form() {
        assert_eq!(
            truncate_ip("::ffff:192.0.2.5").as_deref(),
            Some("::ffff:192.0.2.0")
        );
        assert_eq!(
            truncate_ip("::FFFF:192.0.2.0").as_deref(),
            Some("::ffff:192.0.2.0")
        );
        assert_eq!(truncate_ip("::1").as_deref(), Some("::"));
    }

    #[test]
    fn truncated_ipv6_always_ends_with_double_colon() {
        // The SQL "already done" test relies on this form.
        for ip in [
            "2001:0:0:1::1",
            "::1",
            "fe80::1",
            "2001:db8:0:0:1:2:3:4",
            "::ffff:10.1.2.3",
        ] {
            let t = truncate_ip(ip).expect("ip");
            assert!(t.ends_with("::") || t.ends_with(".0"), "{ip} -> {t}");
        }
    }
}
