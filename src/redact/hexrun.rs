//! Runs of colon-separated hex groups that are longer than an IPv6 address can be.
//!
//! RFC 4291 §2.2 writes an address as at most eight groups of one to four hex digits,
//! `::` standing for one or more groups of zeros (so at most seven written around it).
//! A certificate fingerprint (`openssl x509 -fingerprint`: 16, 20 or 32 bytes, each two
//! hex digits, joined by `:`) holds eight groups that parse as an address, but the run it
//! sits in goes on past them: no address is part of it.
//!
//! One group past an address is still an address: its port, as Java's
//! `InetSocketAddress` and others write it without brackets (`/2001:db8::1:8080`), so a
//! ninth group alone does not make a run longer than an address.

/// How far a run is read on either side of a candidate, in bytes (nine groups fit).
const MAX_RUN: usize = 64;

/// Whether the IPv6 candidate `b[start..end]` is part of a longer run of `:`-joined hex
/// groups than an address (and a port) has: sixteen groups or more of two digits each (a
/// fingerprint), or more than nine groups (eight with a `::`).
pub(crate) fn longer_than_address(b: &[u8], start: usize, end: usize) -> bool {
    let glued_before = start >= 2 && b[start - 1] == b':' && b[start - 2].is_ascii_hexdigit();
    let glued_after =
        b.get(end) == Some(&b':') && b.get(end + 1).is_some_and(u8::is_ascii_hexdigit);
    if !glued_before && !glued_after {
        return false;
    }
    let hex_or_colon = |c: &u8| c.is_ascii_hexdigit() || *c == b':';
    let from = start
        - b[..start]
            .iter()
            .rev()
            .take(MAX_RUN)
            .take_while(|c| hex_or_colon(c))
            .count();
    let to = end
        + b[end..]
            .iter()
            .take(MAX_RUN)
            .take_while(|c| hex_or_colon(c))
            .count();
    let run = &b[from..to];
    let compressed = run.windows(2).any(|w| w == b"::");
    let mut groups = 0;
    let mut all_pairs = true;
    for group in run.split(|&c| c == b':').filter(|g| !g.is_empty()) {
        if group.len() > 4 {
            // Not a group of an address: the run is no address, nor is it longer.
            return false;
        }
        all_pairs &= group.len() == 2;
        groups += 1;
    }
    (all_pairs && !compressed && groups >= 16) || groups + usize::from(compressed) > 9
}

#[cfg(test)]
mod tests {
    use super::*;

    fn longer(s: &str, candidate: &str) -> bool {
        let start = s.find(candidate).unwrap_or(0);
        longer_than_address(s.as_bytes(), start, start + candidate.len())
    }

    #[test]
    fn fingerprints_are_longer_than_an_address() {
        // A SHA-256 fingerprint: 32 two-digit groups; the first eight parse as IPv6.
        let sha256 = "SHA256 Fingerprint=0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:\
                      0a:1b:2c:3d:4e:5f:60:71:82:93:a4:b5:c6:d7:e8:f9";
        assert!(longer(sha256, "0A:1B:2C:3D:4E:5F:60:71"));
        assert!(longer(sha256, "82:93:A4:B5:C6:D7:E8:F9"));
        assert!(longer(sha256, "82:93:a4:b5:c6:d7:e8:f9"));
        // SHA-1: 20 groups.
        let sha1 = "fp 12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc:de:f0:12:34:56:78";
        assert!(longer(sha1, "12:34:56:78:9a:bc:de:f0"));
        // MD5: 16 groups.
        let md5 = "md5=9e:10:7d:9d:37:2b:b6:82:6b:d8:1d:35:42:a4:19:d6";
        assert!(longer(md5, "9e:10:7d:9d:37:2b:b6:82"));
        assert!(longer(md5, "6b:d8:1d:35:42:a4:19:d6"));
        // Ten groups are more than an address and its port; with `::`, nine written are.
        assert!(longer("a 1:2:3:4:5:6:7:8:9:a b", "1:2:3:4:5:6:7:8"));
        assert!(longer("1:2::4:5:6:7:8:9:a", "2::4:5:6:7:8:9"));
    }

    #[test]
    fn addresses_are_not() {
        // RFC 5952 examples, alone and after a key or before a port in brackets.
        for (s, a) in [
            ("at 2001:db8::1 ok", "2001:db8::1"),
            (
                "ip=2001:0db8:85a3:0000:0000:8a2e:0370:7334",
                "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
            ),
            ("[2001:db8::1]:8080", "2001:db8::1"),
            ("from fe80::1:2:3:4%eth0", "fe80::1:2:3:4"),
            ("ad:2001:db8::1", "2001:db8::1"),
            ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
            // An address and its port without brackets (Java's `InetSocketAddress`).
            (
                "connected to /2001:db8:85a3:0:0:8a2e:370:7334:8443",
                "2001:db8:85a3:0:0:8a2e:370:7334",
            ),
            ("peer=fe80:0:0:0:1:2:3:4:443", "fe80:0:0:0:1:2:3:4"),
            // Two-digit groups, but only as many as an address and a port.
            ("ab:cd:ef:01:23:45:67:89:10", "ab:cd:ef:01:23:45:67:89"),
            // Glued to something that is no group: a word, a long hex run.
            ("deadbeef01:2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6"),
        ] {
            assert!(!longer(s, a), "{s}");
        }
    }
}
