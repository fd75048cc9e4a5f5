//! Log records as a condition source: their severity, attributes and body fields.
//!
//! A body is read once per record, whichever SLOs read it: [`read_into`] takes the body
//! paths every loaded log SLI names ([`BodyPaths`]) and keeps the value at each path; a
//! string borrows the record's body where it can (no escapes), so reading a record
//! allocates nothing in the common case, and the engine reads a chunk of records into one
//! buffer that it reuses ([`BodyView`] is one record's slice of it). A map body
//! (`kvlist_value`) is walked as it is; a string body that holds a JSON object is parsed
//! (at most [`MAX_JSON_BODY`] bytes, nesting bounded by the parser's recursion limit) in
//! one pass that builds only the values at the paths (`body_json.rs`); any other body has
//! no fields, and every path reads `nil`.
//!
//! Access logs write numbers as strings (`"status": "503"`, `"request_time": "0.123"`) and
//! nginx writes `-` for a value it does not have. In log conditions a string that holds a
//! number compares as that number with a number literal ([`as_number`]); `-` and other text
//! hold none, so they compare like any other string (`body["status"] >= 500` is false).

use std::borrow::Cow;

use super::AttrRef;
use super::ast::{Val, render};
use super::body_json;
use super::path_tree::PathTree;
use opentelemetry_proto::tonic::common::v1::AnyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;

/// The largest string body parsed as JSON, in bytes: larger ones have no fields.
pub const MAX_JSON_BODY: usize = 1 << 20;

/// The body paths a set of log SLIs reads, sorted, each once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyPaths {
    paths: Vec<Vec<String>>,
    /// The same paths as a tree of keys, for reading JSON bodies in one pass.
    tree: PathTree,
}

impl BodyPaths {
    /// The body paths of `attrs` (other attributes are left out), each once.
    pub fn of<'a>(attrs: impl IntoIterator<Item = &'a AttrRef>) -> BodyPaths {
        let mut paths: Vec<Vec<String>> = attrs
            .into_iter()
            .filter_map(|attr| match attr {
                AttrRef::Body(keys) => Some(keys.clone()),
                _ => None,
            })
            .collect();
        paths.sort_unstable();
        paths.dedup();
        let tree = PathTree::new(paths.iter().map(Vec::as_slice));
        BodyPaths { paths, tree }
    }

    /// Adds a path (the keys after `body`; none: the whole body).
    pub fn add(&mut self, keys: &[String]) {
        if let Err(i) = self.paths.binary_search_by(|p| p.as_slice().cmp(keys)) {
            self.paths.insert(i, keys.to_vec());
            self.tree = PathTree::new(self.iter());
        }
    }

    /// Adds every body path of `attr` (nothing for other attributes).
    pub fn add_attr(&mut self, attr: &AttrRef) {
        if let AttrRef::Body(keys) = attr {
            self.add(keys);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// How many paths (values a record's fields hold).
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// The paths, in order (the order of [`BodyFields`]' values).
    pub fn iter(&self) -> impl Iterator<Item = &[String]> {
        self.paths.iter().map(Vec::as_slice)
    }

    /// Where the path `keys` is in the order of [`BodyPaths::iter`] (its value's index in
    /// a record's fields), if it is read: found once when conditions and fields are bound
    /// ([`Condition::bind_log`](super::Condition::bind_log)), it spares a lookup per record
    /// ([`BodyView::value`]).
    pub fn slot(&self, keys: &[String]) -> Option<usize> {
        self.index(keys)
    }

    fn index(&self, keys: &[String]) -> Option<usize> {
        // A few paths (those of the loaded SLOs): compared for equality (lengths first),
        // cheaper than ordering them.
        if self.paths.len() <= 8 {
            return self.paths.iter().position(|p| p.as_slice() == keys);
        }
        self.paths.binary_search_by(|p| p.as_slice().cmp(keys)).ok()
    }

    /// The slot of the whole body (`body`), if it is read: the first path when it is one, as
    /// it sorts before every other.
    #[inline]
    fn whole(&self) -> Option<usize> {
        self.paths.first().is_some_and(Vec::is_empty).then_some(0)
    }

    /// Whether some path reads inside the body (not only the whole body).
    #[inline]
    fn reads_fields(&self) -> bool {
        self.paths.len() > usize::from(self.whole().is_some())
    }
}

/// A value read from a log body: a string borrows the body it was read from when it can
/// (a JSON string without escapes, a map body's string), else it is owned.
#[derive(Debug, Clone, PartialEq)]
pub enum BodyValue<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    /// An array or object (or bytes), in its string form.
    Rendered(String),
}

impl<'a> BodyValue<'a> {
    pub(crate) fn val(&self) -> Val<'_> {
        match self {
            BodyValue::Nil => Val::Nil,
            BodyValue::Bool(b) => Val::Bool(*b),
            BodyValue::Int(i) => Val::Int(*i),
            BodyValue::Float(f) => Val::Float(*f),
            BodyValue::Str(s) => Val::Str(s),
            BodyValue::Rendered(s) => Val::Rendered(s),
        }
    }

    fn of_any(value: Option<&'a AnyValue>) -> BodyValue<'a> {
        match Val::of(value) {
            Val::Nil => BodyValue::Nil,
            Val::Bool(b) => BodyValue::Bool(b),
            Val::Int(i) => BodyValue::Int(i),
            Val::Float(f) => BodyValue::Float(f),
            Val::Str(s) => BodyValue::Str(Cow::Borrowed(s)),
            other => {
                let mut text = String::new();
                render(other, &mut text);
                BodyValue::Rendered(text)
            }
        }
    }

    pub(super) fn of_json(value: &serde_json::Value) -> BodyValue<'a> {
        match value {
            serde_json::Value::Null => BodyValue::Nil,
            serde_json::Value::Bool(b) => BodyValue::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => BodyValue::Int(i),
                // Beyond i64 (a u64) or with a fraction or exponent.
                None => n.as_f64().map_or(BodyValue::Nil, BodyValue::Float),
            },
            serde_json::Value::String(s) => BodyValue::Str(Cow::Owned(s.clone())),
            other => BodyValue::Rendered(other.to_string()),
        }
    }
}

/// How a record's body was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body paths are read, or the record has no body.
    None,
    /// A map body.
    Map,
    /// A string body that parsed as a JSON object.
    Json,
    /// A string body that is not a JSON object (or is larger than [`MAX_JSON_BODY`]).
    Text,
    /// Another type of body (int, bytes, array …).
    Other,
    /// Read back from a capture: the fields hold the record's attributes too.
    Captured,
}

/// The body fields of one log record: one value per path of a [`BodyPaths`].
#[derive(Debug, Clone)]
pub struct BodyFields<'a> {
    values: Vec<BodyValue<'a>>,
    pub kind: BodyKind,
    /// [`BodyKind::Captured`]: the record's attributes and resource attributes, which a
    /// capture holds as values (the record itself has none then).
    attributes: Vec<(AttrRef, BodyValue<'a>)>,
}

impl<'a> BodyFields<'a> {
    /// The fields of a record read back from a capture: `values` in the order of the
    /// [`BodyPaths`] they stand for, `attributes` the record's `attributes[…]` and
    /// `resource.attributes[…]` that the capture holds (any other reads `nil`).
    pub fn captured(values: Vec<BodyValue<'a>>, attributes: Vec<(AttrRef, BodyValue<'a>)>) -> Self {
        BodyFields {
            values,
            kind: BodyKind::Captured,
            attributes,
        }
    }

    /// Reads every path of `paths` from `body`, parsing a JSON string body once.
    pub fn read(body: Option<&'a AnyValue>, paths: &BodyPaths) -> BodyFields<'a> {
        let mut values = Vec::with_capacity(paths.len());
        let kind = read_into(body, paths, &mut values);
        BodyFields {
            values,
            kind,
            attributes: Vec::new(),
        }
    }

    /// The value of the `i`-th path of the [`BodyPaths`] it was read with.
    pub fn value(&self, i: usize) -> &BodyValue<'a> {
        self.values.get(i).unwrap_or(&BodyValue::Nil)
    }

    /// The fields as conditions read them.
    pub fn view(&self) -> BodyView<'_> {
        BodyView {
            values: &self.values,
            captured: (self.kind == BodyKind::Captured).then_some(self.attributes.as_slice()),
        }
    }
}

/// Reads every path of `paths` from `body` onto the end of `values` (one value a path, in
/// the order of [`BodyPaths::iter`]), parsing a JSON string body once; how it was read.
/// Strings borrow `body` where they can: reading a record allocates nothing then.
pub fn read_into<'a>(
    body: Option<&'a AnyValue>,
    paths: &BodyPaths,
    values: &mut Vec<BodyValue<'a>>,
) -> BodyKind {
    let start = values.len();
    let value = body.and_then(|b| b.value.as_ref());
    values.extend((0..paths.len()).map(|_| BodyValue::Nil));
    if paths.is_empty() {
        return BodyKind::None;
    }
    let values = &mut values[start..];
    match value {
        None => BodyKind::None,
        Some(Value::KvlistValue(_)) => {
            for (slot, keys) in values.iter_mut().zip(&paths.paths) {
                *slot = BodyValue::of_any(map_path(body, keys));
            }
            BodyKind::Map
        }
        Some(Value::StringValue(text)) => {
            let json = paths.reads_fields()
                && text.len() <= MAX_JSON_BODY
                && body_json::read(text, &paths.tree, values);
            if let Some(whole) = paths.whole() {
                values[whole] = BodyValue::Str(Cow::Borrowed(text));
            }
            if json { BodyKind::Json } else { BodyKind::Text }
        }
        Some(_) => {
            if let Some(whole) = paths.whole() {
                values[whole] = BodyValue::of_any(body);
            }
            BodyKind::Other
        }
    }
}

/// One record's body fields as conditions read them ([`BodyFields::view`], or a slice of
/// the values [`read_into`] appended).
#[derive(Debug, Clone, Copy)]
pub struct BodyView<'v> {
    values: &'v [BodyValue<'v>],
    /// Read back from a capture: the record's attributes and resource attributes that the
    /// capture holds (the record itself has none then).
    captured: Option<&'v [(AttrRef, BodyValue<'v>)]>,
}

impl<'v> BodyView<'v> {
    /// A live record's fields: one value per path of the [`BodyPaths`] they were read with.
    pub fn live(values: &'v [BodyValue<'v>]) -> Self {
        BodyView {
            values,
            captured: None,
        }
    }

    /// The value of the `i`-th path ([`BodyPaths::slot`]).
    pub(crate) fn value(self, i: usize) -> Val<'v> {
        self.values.get(i).map_or(Val::Nil, BodyValue::val)
    }

    /// Whether the `i`-th path holds a value (not `nil`).
    #[inline]
    pub(super) fn is_present(self, i: usize) -> bool {
        self.values
            .get(i)
            .is_some_and(|v| !matches!(v, BodyValue::Nil))
    }

    /// The value at `keys`, `nil` when the path was not read.
    #[cfg(test)]
    fn get(self, paths: &BodyPaths, keys: &[String]) -> Val<'v> {
        paths
            .index(keys)
            .and_then(|i| self.values.get(i))
            .map_or(Val::Nil, BodyValue::val)
    }

    /// Read back from a capture: the record's attributes the capture holds.
    pub(super) fn captured(self) -> Option<&'v [(AttrRef, BodyValue<'v>)]> {
        self.captured
    }

    /// A captured attribute's value.
    pub(super) fn captured_attr(
        attributes: &'v [(AttrRef, BodyValue<'v>)],
        attr: &AttrRef,
    ) -> Val<'v> {
        // Few attributes (those the SLOs read): a scan.
        attributes
            .iter()
            .find(|(a, _)| a == attr)
            .map_or(Val::Nil, |(_, v)| v.val())
    }
}

/// The value at `keys` in a map body (the last matching key wins, as in a JSON object).
fn map_path<'a>(body: Option<&'a AnyValue>, keys: &[String]) -> Option<&'a AnyValue> {
    let mut at = body?;
    for key in keys {
        let Some(Value::KvlistValue(list)) = &at.value else {
            return None;
        };
        at = list
            .values
            .iter()
            .rev()
            .find(|kv| kv.key == *key)?
            .value
            .as_ref()?;
    }
    Some(at)
}

/// The value at `keys` in a parsed JSON document (the reference [`body_json`] is tested
/// against).
#[cfg(test)]
pub(super) fn json_path<'a>(
    mut at: &'a serde_json::Value,
    keys: &[String],
) -> Option<&'a serde_json::Value> {
    for key in keys {
        at = at.as_object()?.get(key)?;
    }
    Some(at)
}

/// A number written as a string, as access logs write them: an optional `-`, digits, an
/// optional fraction and exponent (JSON's number syntax, surrounding spaces allowed).
/// `-`, `0.1, 0.2` (nginx's several upstreams), `NaN` and `1_000` are not numbers.
pub(crate) fn parse_number(text: &str) -> Option<Val<'static>> {
    let t = text.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    let valid = digits.starts_with(|c: char| c.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !valid {
        return None;
    }
    if let Ok(i) = t.parse::<i64>() {
        return Some(Val::Int(i));
    }
    t.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Val::Float)
}

/// `value` as a number when it is a string holding one and `other` is a number (log
/// conditions), else `value`.
pub(super) fn as_number<'a>(value: Val<'a>, other: Val<'_>) -> Val<'a> {
    match (value, other) {
        (Val::Str(s), Val::Int(_) | Val::Float(_)) => parse_number(s).unwrap_or(value),
        _ => value,
    }
}

/// The reference reading of a log record (tests only): each body path found by its keys.
#[cfg(test)]
pub(super) mod reference {
    use opentelemetry_proto::tonic::logs::v1::LogRecord;
    use opentelemetry_proto::tonic::resource::v1::Resource;

    use super::super::AttrRef;
    use super::super::ast::{LogField, Path, Val};
    use super::super::row::{Source, lookup, resource_attr};
    use super::{BodyPaths, BodyView};

    /// One log record, read by a log condition as the reference evaluator reads it: each body
    /// path found by its keys (live recording binds them once a request, `bound.rs`).
    pub(in crate::slo::ottl) struct LogSource<'a> {
        pub(in crate::slo::ottl) record: &'a LogRecord,
        pub(in crate::slo::ottl) resource: Option<&'a Resource>,
        pub(in crate::slo::ottl) paths: &'a BodyPaths,
        pub(in crate::slo::ottl) body: BodyView<'a>,
    }

    impl<'a> LogSource<'a> {
        /// An attribute, resource attribute or body field of the record.
        pub(in crate::slo::ottl) fn attr(&self, attr: &AttrRef) -> Val<'a> {
            if let Some(attributes) = self.body.captured
                && !matches!(attr, AttrRef::Body(_))
            {
                return BodyView::captured_attr(attributes, attr);
            }
            match attr {
                AttrRef::Item(key) => lookup(&self.record.attributes, key),
                AttrRef::Resource(key) => resource_attr(self.resource, key),
                AttrRef::Body(keys) => self.body.get(self.paths, keys),
            }
        }
    }

    impl Source for LogSource<'_> {
        fn get(&self, path: &Path) -> Val<'_> {
            match path {
                Path::Log(LogField::SeverityNumber) => {
                    Val::Int(i64::from(self.record.severity_number))
                }
                Path::Log(LogField::SeverityText) => Val::Str(&self.record.severity_text),
                Path::Attr(attr) => self.attr(attr),
                // Refused by the parser for log conditions.
                Path::Name | Path::Kind | Path::StatusCode | Path::Duration => Val::Nil,
            }
        }

        fn numeric_strings(&self) -> bool {
            true
        }
    }
}

/// A latency field's value in nanoseconds, or why there is none.
#[inline]
pub fn latency_nanos(value: Val<'_>, nanos_per_unit: f64) -> Result<u64, Unreadable> {
    let n = match value {
        Val::Nil => return Err(Unreadable::Missing),
        Val::Int(i) => i as f64,
        Val::Float(f) => f,
        Val::Str(s) if s.trim() == "-" || s.trim().is_empty() => return Err(Unreadable::Dash),
        Val::Str(s) => match parse_number(s) {
            Some(Val::Int(i)) => i as f64,
            Some(Val::Float(f)) => f,
            _ => return Err(Unreadable::Invalid),
        },
        _ => return Err(Unreadable::Invalid),
    };
    let nanos = n * nanos_per_unit;
    if !nanos.is_finite() || nanos < 0.0 || nanos >= u64::MAX as f64 {
        return Err(Unreadable::Invalid);
    }
    // Whole already (an integer in an integral unit, the common case): the same value
    // without `round`, which is a call on x86_64's baseline.
    let whole = nanos as u64;
    if whole as f64 == nanos {
        return Ok(whole);
    }
    Ok(nanos.round() as u64)
}

/// Why a record's latency field could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unreadable {
    /// The field is absent (or `null`).
    Missing,
    /// `-` or empty: nginx's (and Envoy's) way of writing a value it does not have.
    Dash,
    /// Anything else that is not a non-negative number (`0.1, 0.2`, `abc`, a map).
    Invalid,
}

impl Unreadable {
    pub const ALL: [Unreadable; 3] = [Unreadable::Missing, Unreadable::Dash, Unreadable::Invalid];

    /// The `reason` label value.
    pub fn name(self) -> &'static str {
        match self {
            Unreadable::Missing => "missing",
            Unreadable::Dash => "dash",
            Unreadable::Invalid => "invalid",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}
