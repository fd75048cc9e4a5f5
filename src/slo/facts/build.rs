//! `ExportTraceServiceRequest` → [`SpanFacts`]: one pass over the spans, appending to
//! pre-sized [`Columns`] (which the wire reader feeds too); attribute values are found with
//! one scan of each span's attribute list, keys looked up in a [`KeyIndex`].

use std::collections::HashMap;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};

use super::columns::{Columns, Plan, SpanRow};
use super::{FactsSchema, SpanFacts};
use crate::slo::ottl::Val;

/// Finds a key's position among the schema's attribute keys.
///
/// Most keys of a request are not the schema's, so a key is first ruled out by its length
/// (one bit a length modulo 64: the lengths of the schema's keys, one bit test), without
/// touching its bytes; only a
/// key of a length some schema key has is compared: with the one schema key of that length
/// when there is one (the common case: a few keys of different lengths), else one by one
/// (a few keys) or by hash (more).
#[derive(Clone, Debug)]
pub(super) struct KeyIndex {
    keys: Vec<Box<[u8]>>,
    /// Bit `n` is set when a key is `n` bytes long modulo 64 (a key of 70 bytes sets bit 6:
    /// a key of 6 bytes is then compared, and found or not as the keys say).
    lengths: u64,
    /// For each length below 63, the position of the only key of that length, or
    /// [`SEVERAL`] (none, more than one, or a position past 254).
    by_length: [u8; 63],
    /// The keys by hash, when there are more than a few.
    map: Option<HashMap<Box<[u8]>, usize>>,
}

/// [`KeyIndex::by_length`]: no single key of that length.
const SEVERAL: u8 = u8::MAX;

/// Keys compared one by one; more go into a hash map.
const FEW: usize = 12;

impl KeyIndex {
    pub(super) fn new(keys: Vec<&str>) -> Self {
        let keys: Vec<Box<[u8]>> = keys.into_iter().map(|k| k.as_bytes().into()).collect();
        // One pass: a length's first key takes its place, a second one makes it
        // `SEVERAL` (the lengths seen so far tell which).
        let mut lengths = 0;
        let mut by_length = [SEVERAL; 63];
        for (i, k) in keys.iter().enumerate() {
            let bit = length_bit(k.len());
            if let Some(at) = by_length.get_mut(k.len()) {
                *at = if lengths & bit == 0 {
                    u8::try_from(i).unwrap_or(SEVERAL)
                } else {
                    SEVERAL
                };
            }
            lengths |= bit;
        }
        let map = (keys.len() > FEW).then(|| {
            let mut map = HashMap::with_capacity(keys.len());
            for (i, k) in keys.iter().enumerate() {
                // The first position of a key given twice, as a scan finds it.
                map.entry(k.clone()).or_insert(i);
            }
            map
        });
        KeyIndex {
            keys,
            lengths,
            by_length,
            map,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    #[inline]
    pub(super) fn find(&self, key: &str) -> Option<usize> {
        self.find_bytes(key.as_bytes())
    }

    /// [`KeyIndex::find`] for a key as bytes (bytes that are not UTF-8 match no key: every
    /// schema key is UTF-8).
    #[inline]
    pub(super) fn find_bytes(&self, key: &[u8]) -> Option<usize> {
        if self.lengths & length_bit(key.len()) == 0 {
            return None;
        }
        self.find_among(key)
    }

    /// A key of a length some schema key has.
    #[inline(always)]
    fn find_among(&self, key: &[u8]) -> Option<usize> {
        if let Some(&at) = self.by_length.get(key.len())
            && at != SEVERAL
        {
            let at = usize::from(at);
            return self
                .keys
                .get(at)
                .is_some_and(|k| same(k, key))
                .then_some(at);
        }
        match &self.map {
            None => self.keys.iter().position(|k| same(k, key)),
            Some(map) => map.get(key).copied(),
        }
    }

    /// The value of each key in `attributes` (the first one when a key repeats).
    fn lookup<'v>(&self, attributes: &'v [KeyValue], slots: &mut [Option<&'v AnyValue>]) {
        slots.fill(None);
        for kv in attributes {
            if let Some(i) = self.find(&kv.key)
                && slots[i].is_none()
            {
                slots[i] = Some(kv.value.as_ref().unwrap_or(&EMPTY));
            }
        }
    }
}

/// `a == b`, compared eight bytes at a time inline (keys are short: a call to `memcmp`
/// costs more than the comparison): the last eight bytes first (keys of one length often
/// differ at the end: `…status_code`, `…status_codE`), then the words from the start, up to
/// 32 bytes without a loop (the last word overlaps the ones before it).
#[inline(always)]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return a == b;
    }
    // The word at `at` (`at + 8 <= n`).
    let word = |s: &[u8], at: usize| {
        s.get(at..)
            .and_then(|s| s.first_chunk::<8>())
            .map_or(0, |w| u64::from_ne_bytes(*w))
    };
    let equal = |at: usize| word(a, at) == word(b, at);
    if !equal(n - 8) {
        return false;
    }
    match n {
        8..=16 => equal(0),
        17..=24 => equal(0) && equal(8),
        25..=32 => equal(0) && equal(8) && equal(16),
        _ => a
            .as_chunks::<8>()
            .0
            .iter()
            .zip(b.as_chunks::<8>().0)
            .all(|(x, y)| u64::from_ne_bytes(*x) == u64::from_ne_bytes(*y)),
    }
}

/// The bit of [`KeyIndex::lengths`] for a key `len` bytes long: one shift (and one bit test
/// where it is tested), the length's low six bits being the shift's count as it is.
#[inline]
fn length_bit(len: usize) -> u64 {
    1 << (len % 64)
}

/// A key with no value: `nil`.
static EMPTY: AnyValue = AnyValue { value: None };

pub(super) fn build(
    req: &ExportTraceServiceRequest,
    token_cluster: Option<&str>,
    cluster_attribute: &str,
    schema: &FactsSchema,
) -> SpanFacts {
    let spans = req
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    let resources = req.resource_spans.len();
    let plan = Plan::of(schema, cluster_attribute);
    let mut columns = Columns::new(schema, &plan, token_cluster, spans, resources, false);
    let mut resource_slots = vec![None; columns.plan.resource_index.len()];
    let mut item_slots = vec![None; columns.plan.item_index.len()];
    let mut values = Vec::with_capacity(resource_slots.len().max(item_slots.len()));
    for resource_spans in &req.resource_spans {
        let attributes = resource_spans
            .resource
            .as_ref()
            .map_or(&[][..], |r| &r.attributes[..]);
        columns
            .plan
            .resource_index
            .lookup(attributes, &mut resource_slots);
        values.clear();
        values.extend(resource_slots.iter().map(|v| Val::of(*v)));
        columns.add_resource(&values);
        for span in resource_spans.scope_spans.iter().flat_map(|s| &s.spans) {
            values.clear();
            if columns.reads_item_attributes() {
                columns
                    .plan
                    .item_index
                    .lookup(&span.attributes, &mut item_slots);
                values.extend(item_slots.iter().map(|v| Val::of(*v)));
            }
            let row = SpanRow {
                start: span.start_time_unix_nano,
                end: span.end_time_unix_nano,
                kind: span.kind,
                status: span.status.as_ref().map_or(0, |s| s.code),
                name: &span.name,
                trace_state: &span.trace_state,
                trace_id: &span.trace_id,
            };
            columns.add_span(&row, &values);
        }
    }
    columns.finish()
}

#[cfg(test)]
mod tests {
    use super::{KeyIndex, same};

    /// The word-at-a-time comparison is `==`: keys of every length up to 40 bytes against
    /// each copy of themselves with one byte changed (first, last and every middle byte,
    /// so each word and the overlapping last one are tested), and against other lengths.
    #[test]
    fn keys_compare_as_equal_slices_do() {
        for len in 0..=40usize {
            let key: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(same(&key, &key.clone()), "{len}");
            for at in 0..len {
                let mut other = key.clone();
                other[at] ^= 0x20;
                assert!(!same(&key, &other), "{len} {at}");
            }
            let mut longer = key.clone();
            longer.push(b'a');
            assert!(!same(&key, &longer) && !same(&longer, &key), "{len}");
        }
    }

    /// Keys found by the length filter and the comparison are those a plain scan finds, for
    /// a few keys and for many (hashed), whatever their lengths (lengths 64 apart share a
    /// bit).
    #[test]
    fn keys_are_found_as_a_scan_finds_them() {
        let long = "k".repeat(63);
        let longer = "k".repeat(64);
        let wrapped = "k".repeat(70);
        let few = vec!["service.name", "", "ключ", long.as_str(), "a"];
        // Lengths that share a bit (6 and 70, 1 and 65), in both orders.
        let sharing = vec![wrapped.as_str(), "kkkkkk", "a", &wrapped[..65]];
        let sharing_too = vec!["kkkkkk", wrapped.as_str(), &wrapped[..65], "a"];
        let mut many: Vec<String> = (0..40).map(|i| format!("attr.{i}")).collect();
        many.push(longer.clone());
        many.push("attr.7".into());
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        // Keys sharing a length, one given twice: compared one by one.
        let shared = vec!["http.route", "url.scheme", "http.route", "a", "b"];
        // A key given twice alone, three keys of one length, and a length of one key
        // after them.
        let repeated = vec!["a", "a", "bb", "cc", "dd", "x", "http.route"];
        for keys in [few, many, shared, repeated, sharing, sharing_too] {
            let index = KeyIndex::new(keys.clone());
            assert_eq!(index.len(), keys.len());
            let probes = keys.iter().copied().chain([
                "service.nam",
                "service.namE",
                "b",
                "attr.77",
                "k",
                &longer[..62],
                &longer,
                "ключи",
                "url.schemE",
                "c",
                "ee",
                "x",
                "kkkkkj",
                "kkkkkkk",
                &wrapped,
                &wrapped[..69],
            ]);
            for probe in probes {
                let scan = keys.iter().position(|k| *k == probe);
                assert_eq!(index.find(probe), scan, "{probe:?}");
                assert_eq!(index.find_bytes(probe.as_bytes()), scan, "{probe:?}");
            }
        }
        // Bytes that are not UTF-8 match nothing.
        let index = KeyIndex::new(vec!["\u{fffd}"]);
        assert_eq!(index.find_bytes(&[0xff, 0xfe, 0xfd]), None);
    }
}
