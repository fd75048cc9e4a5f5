//! The per-record limits of the backends, kept by the exporters that write to them.
//!
//! Loki and Mimir check each stream entry or series of a push against limits of their own
//! (label name length, labels per series, line size, structured metadata, sample age) and
//! answer 400 for the whole request when one record breaks one, which slotel can only
//! count as a permanent failure of every record in it, from every sender. So each
//! exporter keeps its backend's documented defaults itself, record by record: it cuts a
//! name, truncates a line or drops the excess structured metadata where the record can
//! stay, and drops only the record where it cannot. Nothing of it is silent: each case is
//! counted in `slotel_exporter_limited_records_total{exporter, reason}`.

use prometheus_client::metrics::counter::Counter;

/// Why an exporter changed or dropped a record to keep its backend's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A label name longer than `max_label_name_length`: cut, ended with a hash.
    LabelNameCut,
    /// A series with more labels than `max_label_names_per_series`: dropped.
    TooManyLabels,
    /// A sample or log entry older than the backend accepts: dropped.
    TooOld,
    /// A log entry further in the future than the backend accepts: dropped.
    TooNew,
    /// A log line longer than `max_line_size`: truncated, ended with a marker.
    LineTruncated,
    /// Structured metadata past `max_structured_metadata_entries_count` or
    /// `max_structured_metadata_size`: the attributes that did not fit dropped.
    MetadataDropped,
}

impl Reason {
    pub const ALL: [Reason; 6] = [
        Reason::LabelNameCut,
        Reason::TooManyLabels,
        Reason::TooOld,
        Reason::TooNew,
        Reason::LineTruncated,
        Reason::MetadataDropped,
    ];

    /// The `reason` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::LabelNameCut => "label_name_cut",
            Reason::TooManyLabels => "too_many_labels",
            Reason::TooOld => "too_old",
            Reason::TooNew => "too_new",
            Reason::LineTruncated => "line_truncated",
            Reason::MetadataDropped => "metadata_dropped",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Records changed or dropped while encoding one batch, per reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally([u64; Reason::ALL.len()]);

impl Tally {
    pub fn add(&mut self, reason: Reason) {
        self.0[reason.index()] += 1;
    }

    pub fn get(&self, reason: Reason) -> u64 {
        self.0[reason.index()]
    }
}

/// An exporter's `slotel_exporter_limited_records_total` counters, one per reason.
#[derive(Default)]
pub struct Counters(Option<Vec<Counter>>);

impl Counters {
    pub fn new(exporter: &str, metrics: &crate::telemetry::Metrics) -> Self {
        Self(Some(
            Reason::ALL
                .iter()
                .map(|r| {
                    metrics.exporters.limited_records.get_or_create_owned(
                        &crate::telemetry::LimitedLabels {
                            exporter: exporter.to_string(),
                            reason: r.as_str(),
                        },
                    )
                })
                .collect(),
        ))
    }

    /// Adds one batch's tally.
    pub fn record(&self, tally: &Tally) {
        let Some(counters) = &self.0 else { return };
        for (counter, n) in counters.iter().zip(tally.0) {
            if n > 0 {
                counter.inc_by(n);
            }
        }
    }
}

/// Bytes of the end of a cut name or value: a separator and 16 hex digits.
const CUT_SUFFIX_LEN: usize = 17;

/// Cuts `value` to at most `max` bytes (0: no limit): the longest prefix that ends at a
/// character boundary, then `sep` and the first 8 bytes of the SHA-256 of the whole value
/// in hex, so two long values with one prefix stay apart. Returns whether it cut.
pub fn cut_with_hash(value: &mut String, max: usize, sep: char) -> bool {
    use sha2::Digest as _;
    if max == 0 || value.len() <= max {
        return false;
    }
    let digest = sha2::Sha256::digest(value.as_bytes());
    value.truncate(floor_boundary(value, max.saturating_sub(CUT_SUFFIX_LEN)));
    value.push(sep);
    value.push_str(&const_hex::encode(&digest[..8]));
    true
}

/// Truncates a log line longer than `max` bytes (0: no limit) to at most `max` bytes: its
/// longest prefix that ends at a character boundary, then `…[truncated N bytes]` with the
/// whole line's length. Returns whether it truncated.
pub fn truncate_line(line: &mut String, max: usize) -> bool {
    if max == 0 || line.len() <= max {
        return false;
    }
    let marker = format!("…[truncated {} bytes]", line.len());
    line.truncate(floor_boundary(line, max.saturating_sub(marker.len())));
    line.push_str(&marker);
    // A `max` shorter than the marker (refused by the config) keeps the marker's start.
    line.truncate(floor_boundary(line, max));
    true
}

/// The largest character boundary of `s` at or before `at` (`str::floor_char_boundary`,
/// newer than the Rust this crate supports): at most 3 steps back, since a UTF-8
/// character is at most 4 bytes and 0 is a boundary.
fn floor_boundary(s: &str, at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    let mut at = at;
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The text of a scalar attribute value; complex values (arrays, maps, bytes) as JSON, an
/// absent value as the empty string. Label values, structured metadata and the `job`
/// and `instance` labels all read attributes this way.
pub fn value_text(v: Option<&opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    match v.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(_) => super::loki::any_json(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_value_keeps_its_prefix_and_ends_with_the_hash_of_the_whole() {
        let mut v = "a".repeat(100);
        assert!(cut_with_hash(&mut v, 64, '_'));
        assert_eq!(v.len(), 64);
        assert!(v.starts_with(&"a".repeat(47)));
        // The SHA-256 of 100 `a`s starts 2816597888e4a0d3 (sha256sum).
        assert_eq!(&v[47..], "_2816597888e4a0d3");
        let mut short = "abc".to_string();
        assert!(!cut_with_hash(&mut short, 64, '_'));
        assert!(!cut_with_hash(&mut v, 0, '_'));
    }

    #[test]
    fn a_truncated_line_ends_at_a_character_boundary_with_its_length() {
        // 300 Hangul syllables, 3 bytes each.
        let mut line = "가".repeat(300);
        assert!(truncate_line(&mut line, 256));
        assert!(line.len() <= 256, "{}", line.len());
        assert!(line.ends_with("…[truncated 900 bytes]"), "{line}");
        assert!(line.starts_with("가가"));
        let mut ok = "x".repeat(256);
        assert!(!truncate_line(&mut ok, 256));
        assert_eq!(ok.len(), 256);
        assert!(!truncate_line(&mut ok, 0));
    }

    #[test]
    fn scalar_values_are_text_and_complex_ones_json() {
        use crate::attr::AttrValue;
        use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, any_value::Value};
        assert_eq!(value_text(None), "");
        assert_eq!(value_text(Some(&"x".into_any_value())), "x");
        assert_eq!(value_text(Some(&3_i64.into_any_value())), "3");
        assert_eq!(value_text(Some(&true.into_any_value())), "true");
        assert_eq!(value_text(Some(&1.5_f64.into_any_value())), "1.5");
        let arr = AnyValue {
            value: Some(Value::ArrayValue(ArrayValue {
                values: vec!["a".into_any_value(), 2_i64.into_any_value()],
            })),
        };
        assert_eq!(value_text(Some(&arr)), r#"["a",2]"#);
    }
}
