//! A span's adjusted count from its W3C `tracestate`: how many spans of the population one
//! sampled span stands for, after the OpenTelemetry "TraceState: Probability Sampling"
//! specification.
//!
//! # Rules
//!
//! - The `tracestate` is a W3C list: at most 32 comma-separated `key=value` members
//!   (optional spaces and tabs around them, empty members skipped), keys unique. Only the
//!   OpenTelemetry member, `ot`, is read; its value is `;`-separated `key:value` sub-keys
//!   (keys lowercase letters and digits starting with a letter, values letters, digits,
//!   `.`, `_`, `-`; unique keys; at most 256 characters).
//! - `th` (1 to 14 hex digits, trailing zeros dropped) is the rejection threshold `T`:
//!   the digits extended with zeros to 14, read as a 56-bit number. The sampling
//!   probability is `(2^56 − T) / 2^56` and the adjusted count `2^56 / (2^56 − T)`: `th:0`
//!   counts 1, `th:8` 2, `th:c` 4, `th:fd70a4` about 100.
//! - `rv` (exactly 14 hex digits) is the explicit randomness value `R`. A span was kept
//!   only if `R ≥ T`; a span with `R < T` is inconsistent, and the specification says to
//!   erase its threshold: it counts 1.
//! - Without `th`, the legacy power-of-two sub-keys of the earlier specification apply:
//!   `p` (decimal 0 to 63) counts `2^p`, except `p:63`, which counts 0 (a span that
//!   represents no other span); `p` above 63, an `r` outside 0 to 62, or `p > r` (a
//!   sampled span whose `r` would not have kept it) erase `p`: the span counts 1.
//! - No `tracestate`, no `ot` member, or neither `th` nor `p`: the span counts 1 (a span
//!   kept without probability sampling has no adjusted count; counting it once is what
//!   every SLO did before sampling was understood).
//!
//! Anything malformed makes the span count 1 and is reported ([`Invalid`]) so that it can
//! be counted (`slotel_slo_invalid_tracestates_total{reason}`): the parser never panics,
//! never allocates and reads each byte of the value at most a few times.
//!
//! Attributes such as OpenTracing's `sampling.priority` are hints to a sampler, not an
//! adjusted count, and are not read.

/// 2^56: the number of distinct 56-bit thresholds, the largest adjusted count.
pub const MAX_ADJUSTED_COUNT: f64 = 72_057_594_037_927_936.0;

/// Why a `tracestate` gave no adjusted count. A closed set: its [`Invalid::as_str`] is a
/// label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// The W3C list or the `ot` member's sub-key list does not parse (or has more members
    /// than allowed, or a key twice).
    Syntax,
    /// `th` is not 1 to 14 hex digits.
    Threshold,
    /// `rv` is not 14 hex digits.
    Randomness,
    /// `p` or `r` (legacy) is out of range.
    Legacy,
    /// The threshold and the randomness disagree: `rv < th`, or legacy `p > r`.
    Inconsistent,
}

impl Invalid {
    /// Every reason, in the order of [`Invalid::index`].
    pub const ALL: [Invalid; 5] = [
        Invalid::Syntax,
        Invalid::Threshold,
        Invalid::Randomness,
        Invalid::Legacy,
        Invalid::Inconsistent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Invalid::Syntax => "syntax",
            Invalid::Threshold => "threshold",
            Invalid::Randomness => "randomness",
            Invalid::Legacy => "legacy",
            Invalid::Inconsistent => "inconsistent",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// W3C: at most this many list members.
const MAX_MEMBERS: usize = 32;
/// OpenTelemetry: the `ot` value is at most this long.
const MAX_OT_LEN: usize = 256;

/// The adjusted count of a span with this `tracestate` (1 when it carries none), or why
/// it could not be read (the span then counts 1).
pub fn adjusted_count(trace_state: &str) -> Result<f64, Invalid> {
    match ot_value(trace_state)? {
        None => Ok(1.0),
        Some(ot) => from_ot(ot),
    }
}

/// The value of the `ot` member of a W3C `tracestate` list, if any.
fn ot_value(list: &str) -> Result<Option<&str>, Invalid> {
    let mut found = None;
    let mut members = 0;
    for member in list.split(',') {
        let member = member.trim_matches([' ', '\t']);
        if member.is_empty() {
            continue;
        }
        members += 1;
        if members > MAX_MEMBERS {
            return Err(Invalid::Syntax);
        }
        let (key, value) = member.split_once('=').ok_or(Invalid::Syntax)?;
        if !w3c_key(key) || !w3c_value(value) {
            return Err(Invalid::Syntax);
        }
        if key == "ot" {
            if found.is_some() {
                return Err(Invalid::Syntax);
            }
            found = Some(value);
        }
    }
    Ok(found)
}

/// A W3C key: `simple-key` or `tenant-id@system-id`, lowercase letters, digits and
/// `_-*/`, starting with a letter (a tenant id may start with a digit), at most 256.
fn w3c_key(key: &str) -> bool {
    let ok = |s: &str, first_digit: bool, max: usize| {
        let b = s.as_bytes();
        !b.is_empty()
            && b.len() <= max
            && (b[0].is_ascii_lowercase() || (first_digit && b[0].is_ascii_digit()))
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"_-*/".contains(c))
    };
    match key.split_once('@') {
        None => ok(key, false, 256),
        Some((tenant, system)) => ok(tenant, true, 241) && ok(system, false, 14),
    }
}

/// A W3C value: up to 256 printable ASCII characters but `,` and `=`, not ending in a
/// space (spaces inside are allowed).
fn w3c_value(value: &str) -> bool {
    let b = value.as_bytes();
    b.len() <= 256
        && !b.ends_with(b" ")
        && b.iter()
            .all(|c| (0x20..=0x7e).contains(c) && *c != b',' && *c != b'=')
}

/// The adjusted count from an `ot` value's sub-keys.
fn from_ot(ot: &str) -> Result<f64, Invalid> {
    if ot.len() > MAX_OT_LEN {
        return Err(Invalid::Syntax);
    }
    let (mut th, mut rv, mut p, mut r) = (None, None, None, None);
    for entry in ot.split(';') {
        let (key, value) = entry.split_once(':').ok_or(Invalid::Syntax)?;
        if !ot_key(key) || !ot_chars(value) {
            return Err(Invalid::Syntax);
        }
        let slot = match key {
            "th" => &mut th,
            "rv" => &mut rv,
            "p" => &mut p,
            "r" => &mut r,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(Invalid::Syntax);
        }
    }
    if let Some(th) = th {
        let t = threshold(th)?;
        if let Some(rv) = rv
            && randomness(rv)? < t
        {
            return Err(Invalid::Inconsistent);
        }
        // In integers: 2^56 − T is exact there (T near 2^56 is not exact as a float).
        return Ok(MAX_ADJUSTED_COUNT / ((1u64 << 56) - t) as f64);
    }
    let Some(p) = p else {
        return Ok(1.0);
    };
    let p = small_decimal(p)
        .filter(|p| *p <= 63)
        .ok_or(Invalid::Legacy)?;
    if let Some(r) = r {
        let r = small_decimal(r)
            .filter(|r| *r <= 62)
            .ok_or(Invalid::Legacy)?;
        if p != 63 && p > r {
            return Err(Invalid::Inconsistent);
        }
    }
    Ok(if p == 63 { 0.0 } else { (p as f64).exp2() })
}

/// An `ot` sub-key: a lowercase letter, then lowercase letters and digits.
fn ot_key(key: &str) -> bool {
    key.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        && key
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// An `ot` sub-key's value: letters, digits, `.`, `_`, `-`.
fn ot_chars(value: &str) -> bool {
    value
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(&c))
}

/// `th`: 1 to 14 hex digits, extended with trailing zeros to 56 bits.
fn threshold(th: &str) -> Result<u64, Invalid> {
    if th.is_empty() || th.len() > 14 {
        return Err(Invalid::Threshold);
    }
    let v = u64::from_str_radix(th, 16).map_err(|_| Invalid::Threshold)?;
    // `from_str_radix` takes a leading `+`: hex digits only.
    if !th.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(Invalid::Threshold);
    }
    Ok(v << (4 * (14 - th.len())))
}

/// `rv`: exactly 14 hex digits.
fn randomness(rv: &str) -> Result<u64, Invalid> {
    if rv.len() != 14 || !rv.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(Invalid::Randomness);
    }
    u64::from_str_radix(rv, 16).map_err(|_| Invalid::Randomness)
}

/// A decimal of at most two digits (`p` and `r` are at most 63).
fn small_decimal(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 2 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Turns adjusted counts, which need not be whole, into whole event counts without bias:
/// each span adds its adjusted count to a carry, and the whole part of the carry is
/// counted (so 3 spans of `1/0.3` count 3, 3, 4: 10 in all). A whole adjusted count
/// (1, and every power of two) is counted as it is and leaves the carry alone, so unsampled
/// and power-of-two-sampled spans count exactly. Counts saturate at `u64::MAX`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Carry(f64);

impl Carry {
    /// The whole number of events for one span of adjusted count `w` (finite, ≥ 0).
    pub fn take(&mut self, w: f64) -> u64 {
        if !w.is_finite() || w <= 0.0 {
            return 0;
        }
        if w.fract() == 0.0 {
            return w as u64;
        }
        let sum = self.0 + w;
        let whole = sum.floor();
        self.0 = sum - whole;
        whole as u64
    }

    /// The fraction of an event carried to the next span, in `[0, 1)`.
    pub fn fraction(&self) -> f64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table of "Converting floating-point probability to threshold value" in the
    /// specification: thresholds at precision 3, 4 and 5 and their exact adjusted counts.
    const SPEC_TABLE: [(&str, f64); 28] = [
        ("0", 1.0),
        ("8", 2.0),
        ("aab", 3.0007326007326007),
        ("aaab", 3.00004577706569),
        ("aaaab", 3.0000028610256777),
        ("c", 4.0),
        ("ccd", 5.001221001221001),
        ("cccd", 5.0000762951094835),
        ("ccccd", 5.0000047683761295),
        ("e", 8.0),
        ("e66", 9.990243902439024),
        ("e666", 9.99938968568813),
        ("e6666", 9.999961853172863),
        ("f", 16.0),
        ("fd71", 100.05496183206107),
        ("fd70a", 99.99771123402633),
        ("fd70a4", 100.00009536752259),
        ("ffbe7", 999.5958055290753),
        ("ffbe77", 1000.012874769029),
        ("ffbe76d", 1000.0016987352618),
        ("fff972", 9998.340882002383),
        ("fff9724", 9999.830725674266),
        ("fff97247", 9999.99370426336),
        ("ffff584", 100013.21013412817),
        ("ffff583a", 99999.238556461),
        ("ffff583a5", 99999.96614643588),
        ("ffffef4", 1.0016248358208955e+06),
        ("ffffef39", 999992.38556461),
    ];

    #[test]
    fn thresholds_of_the_specification_table() {
        for (th, expected) in SPEC_TABLE {
            let got = adjusted_count(&format!("ot=th:{th}")).unwrap();
            let err = ((got - expected) / expected).abs();
            assert!(err < 1e-12, "th:{th}: {got} != {expected}");
        }
        // 1% at 5 digits: 0xfd70a400000000 = 71337018784743424.
        assert_eq!(threshold("fd70a4"), Ok(71_337_018_784_743_424));
        assert_eq!(threshold("fd70a400000000"), threshold("fd70a4"));
    }

    #[test]
    fn the_tracestate_handling_examples() {
        // "ot=th:0": 100% sampling.
        assert_eq!(adjusted_count("ot=th:0"), Ok(1.0));
        // The `ot` examples of the tracestate handling page: legacy p = 8.
        assert_eq!(adjusted_count("ot=p:8;r:62"), Ok(256.0));
        assert_eq!(adjusted_count("ot=p:8;r:62;k1:13"), Ok(256.0));
        assert_eq!(adjusted_count("ot=foo:bar;k1:13"), Ok(1.0));
    }

    #[test]
    fn extremes_of_the_threshold() {
        // The largest threshold: probability 2^-56, adjusted count 2^56.
        assert_eq!(
            adjusted_count("ot=th:ffffffffffffff"),
            Ok(MAX_ADJUSTED_COUNT)
        );
        assert_eq!(adjusted_count("ot=th:00000000000000"), Ok(1.0));
        assert_eq!(adjusted_count("ot=th:F"), Ok(16.0));
    }

    #[test]
    fn other_vendors_and_whitespace() {
        let ts = "congo=t61rcWkgMzE, ot=th:c;rv:fe123456789abc ,rojo=00f067aa0ba902b7";
        assert_eq!(adjusted_count(ts), Ok(4.0));
        assert_eq!(adjusted_count("Vendor=x,ot=th:8"), Err(Invalid::Syntax));
        assert_eq!(adjusted_count("tenant@vendor=x,,\tot=th:8"), Ok(2.0));
        assert_eq!(adjusted_count("congo=t61rcWkgMzE"), Ok(1.0));
        assert_eq!(adjusted_count(""), Ok(1.0));
    }

    #[test]
    fn randomness_below_the_threshold_is_inconsistent() {
        assert_eq!(
            adjusted_count("ot=th:c;rv:bfffffffffffff"),
            Err(Invalid::Inconsistent)
        );
        assert_eq!(adjusted_count("ot=th:c;rv:c0000000000000"), Ok(4.0));
        assert_eq!(adjusted_count("ot=rv:c0000000000000"), Ok(1.0));
    }

    #[test]
    fn legacy_power_of_two_values() {
        assert_eq!(adjusted_count("ot=p:0"), Ok(1.0));
        assert_eq!(adjusted_count("ot=p:2;r:5"), Ok(4.0));
        assert_eq!(adjusted_count("ot=p:62"), Ok(2f64.powi(62)));
        assert_eq!(adjusted_count("ot=p:63"), Ok(0.0));
        assert_eq!(adjusted_count("ot=p:64"), Err(Invalid::Legacy));
        assert_eq!(adjusted_count("ot=p:3;r:63"), Err(Invalid::Legacy));
        assert_eq!(adjusted_count("ot=p:6;r:5"), Err(Invalid::Inconsistent));
        // `th` wins over `p`.
        assert_eq!(adjusted_count("ot=p:8;th:c"), Ok(4.0));
    }

    #[test]
    fn malformed_values_are_reported() {
        let cases = [
            ("ot=th:", Invalid::Threshold),
            ("ot=th:123456789abcdef", Invalid::Threshold),
            ("ot=th:xyz", Invalid::Threshold),
            ("ot=th:+1", Invalid::Syntax),
            ("ot=th:c;rv:123", Invalid::Randomness),
            ("ot=th:c;rv:zzzzzzzzzzzzzz", Invalid::Randomness),
            ("ot=th:c;th:8", Invalid::Syntax),
            ("ot=th", Invalid::Syntax),
            ("ot=Th:8", Invalid::Syntax),
            ("ot=th:8,ot=th:c", Invalid::Syntax),
            ("ot", Invalid::Syntax),
            ("OT=th:8", Invalid::Syntax),
            ("ot=th:8=", Invalid::Syntax),
            ("ot=p:x", Invalid::Legacy),
            ("ot=p:-1", Invalid::Legacy),
            ("ot=p:007", Invalid::Legacy),
        ];
        for (ts, reason) in cases {
            assert_eq!(adjusted_count(ts), Err(reason), "{ts:?}");
        }
        let long = format!("ot=th:8;{}", "a:b;".repeat(70));
        assert_eq!(
            adjusted_count(long.trim_end_matches(';')),
            Err(Invalid::Syntax)
        );
        let many = (0..33)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(adjusted_count(&many), Err(Invalid::Syntax));
    }

    #[test]
    fn any_input_gives_a_count_or_a_reason() {
        // Every short string over the characters that matter: no panic, and a count that
        // is 0, 1 or at least 1 and at most 2^56.
        let alphabet = [
            "ot", "=", "th", ":", ";", ",", "rv", "p", "r", "8", "f", " ", "@",
        ];
        let mut s = String::new();
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    for d in alphabet {
                        s.clear();
                        s.extend([a, b, c, d]);
                        if let Ok(w) = adjusted_count(&s) {
                            assert!(w == 0.0 || (1.0..=MAX_ADJUSTED_COUNT).contains(&w), "{s}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn carries_keep_totals_whole_and_unbiased() {
        let mut carry = Carry::default();
        let w = 1.0 / 0.3;
        let counts: Vec<u64> = (0..3).map(|_| carry.take(w)).collect();
        assert_eq!(counts, [3, 3, 4]);
        // A million spans of th:aab: the total is the sum of their adjusted counts, less
        // the fraction still carried.
        let w = adjusted_count("ot=th:aab").unwrap();
        let mut carry = Carry::default();
        let total: u64 = (0..1_000_000).map(|_| carry.take(w)).sum();
        let exact = w * 1e6;
        assert!(
            (exact - total as f64 - carry.fraction()).abs() < 1e-3,
            "{total} {exact}"
        );
        // Whole counts pass through and leave the carry alone.
        let mut carry = Carry(0.5);
        assert_eq!(carry.take(1.0), 1);
        assert_eq!(carry.take(4.0), 4);
        assert_eq!(carry.take(0.0), 0);
        assert_eq!(carry.fraction(), 0.5);
        assert_eq!(carry.take(MAX_ADJUSTED_COUNT), 1 << 56);
    }
}
