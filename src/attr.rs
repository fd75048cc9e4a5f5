//! OTLP attributes in one call: `kv("http.route", "/pay")`, `kv("retries", 3_i64)`. Used by
//! slotel's own SLO series and by the tests, which build many attributes by hand.

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
