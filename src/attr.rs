//! OTLP attributes in one call: `kv("http.route", "/pay")`, `kv("retries", 3_i64)`. Used by
//! slotel's own SLO series and by the tests, which build many attributes by hand. And which
//! attribute keys a backend reads as the same label ([`same_label`]).

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};

/// What an attribute's value can be made from.
pub trait AttrValue {
    fn into_any_value(self) -> AnyValue;
}

impl AttrValue for AnyValue {
    fn into_any_value(self) -> AnyValue {
        self
    }
}

impl AttrValue for any_value::Value {
    fn into_any_value(self) -> AnyValue {
        AnyValue { value: Some(self) }
    }
}

impl AttrValue for &str {
    fn into_any_value(self) -> AnyValue {
        any_value::Value::StringValue(self.to_string()).into_any_value()
    }
}

impl AttrValue for &&str {
    fn into_any_value(self) -> AnyValue {
        (*self).into_any_value()
    }
}

impl AttrValue for &String {
    fn into_any_value(self) -> AnyValue {
        self.as_str().into_any_value()
    }
}

impl AttrValue for String {
    fn into_any_value(self) -> AnyValue {
        any_value::Value::StringValue(self).into_any_value()
    }
}

impl AttrValue for i64 {
    fn into_any_value(self) -> AnyValue {
        any_value::Value::IntValue(self).into_any_value()
    }
}

impl AttrValue for f64 {
    fn into_any_value(self) -> AnyValue {
        any_value::Value::DoubleValue(self).into_any_value()
    }
}

impl AttrValue for bool {
    fn into_any_value(self) -> AnyValue {
        any_value::Value::BoolValue(self).into_any_value()
    }
}

/// The attribute `key` = `value`.
pub fn kv(key: &str, value: impl AttrValue) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(value.into_any_value()),
        ..Default::default()
    }
}

/// The characters of `name` as a Prometheus label name: every character outside
/// `[A-Za-z0-9_]` is `_`, and a leading digit gets a `_` before it.
fn label_chars(name: &str) -> impl Iterator<Item = char> + '_ {
    let lead = name
        .starts_with(|c: char| c.is_ascii_digit())
        .then_some('_');
    lead.into_iter().chain(name.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        }
    }))
}

/// The first byte of `name`'s label (0 for an empty name).
#[inline(always)]
fn first_label_byte(name: &str) -> u8 {
    match name.as_bytes().first() {
        None => 0,
        Some(b) if b.is_ascii_alphabetic() => *b,
        Some(_) => b'_',
    }
}

/// Whether attribute `key` becomes the same Prometheus (or Loki) label as `attr`: every
/// character outside `[A-Za-z0-9_]` is read as `_` (the receiver's cluster binding). Most
/// keys differ in their first byte, which is looked at before any character is mapped
/// (this runs for every attribute a bound token sends).
pub fn same_label(key: &str, attr: &str) -> bool {
    key == attr
        || (first_label_byte(key) == first_label_byte(attr)
            && label_chars(key).eq(label_chars(attr)))
}

/// A test that rules out most keys before [`same_label`] (whose answer it never changes):
/// a key whose label begins with another byte is another label. Inlined where every
/// attribute key is looked at.
#[inline(always)]
pub fn may_be_same_label(key: &str, attr: &str) -> bool {
    first_label_byte(key) == first_label_byte(attr)
}
