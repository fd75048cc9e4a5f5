//! The OTLP/JSON shapes every signal shares: resource, instrumentation scope, `KeyValue`,
//! `AnyValue` (with its arrays, key-value lists and bytes), and the ProtoJSON rules for
//! `null` and `bytes`.
//!
//! opentelemetry-proto reads `AnyValue` through serde's `flatten`, which turns an error in
//! a value into an absent one and refuses legal forms (`"doubleValue": "1.5"`). These
//! mirrors read each field without `flatten`: an error names its field (see
//! [`super::json::decode`]), and `null` is the field's default as the mapping says. Each
//! mirror converts into its protobuf type.

use std::fmt;

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::json_numbers as num;

/// Converts a vector of mirrors into their protobuf types.
pub fn vec<A, B: From<A>>(v: Vec<A>) -> Vec<B> {
    v.into_iter().map(B::from).collect()
}

/// A field whose `null` is its default (strings, bools, repeated fields).
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

const INDIFFERENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, INDIFFERENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, INDIFFERENT);

/// A `bytes` value: standard or URL-safe base64, padded or not (ProtoJSON).
pub fn base64_bytes(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s).or_else(|_| URL_SAFE.decode(s)).ok()
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct ResourceDe {
    #[serde(deserialize_with = "nullable")]
    attributes: Vec<KeyValueDe>,
    #[serde(deserialize_with = "num::int")]
    dropped_attributes_count: u32,
    #[serde(deserialize_with = "nullable")]
    entity_refs: Vec<EntityRefDe>,
}

impl From<ResourceDe> for Resource {
    fn from(r: ResourceDe) -> Self {
        Self {
            attributes: vec(r.attributes),
            dropped_attributes_count: r.dropped_attributes_count,
            entity_refs: vec(r.entity_refs),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct EntityRefDe {
    #[serde(deserialize_with = "nullable")]
    schema_url: String,
    #[serde(deserialize_with = "nullable")]
    r#type: String,
    #[serde(deserialize_with = "nullable")]
    id_keys: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    description_keys: Vec<String>,
}

impl From<EntityRefDe> for EntityRef {
    fn from(e: EntityRefDe) -> Self {
        Self {
            schema_url: e.schema_url,
            r#type: e.r#type,
            id_keys: e.id_keys,
            description_keys: e.description_keys,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct ScopeDe {
    #[serde(deserialize_with = "nullable")]
    name: String,
    #[serde(deserialize_with = "nullable")]
    version: String,
    #[serde(deserialize_with = "nullable")]
    attributes: Vec<KeyValueDe>,
    #[serde(deserialize_with = "num::int")]
    dropped_attributes_count: u32,
}

impl From<ScopeDe> for InstrumentationScope {
    fn from(s: ScopeDe) -> Self {
        Self {
            name: s.name,
            version: s.version,
            attributes: vec(s.attributes),
            dropped_attributes_count: s.dropped_attributes_count,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct KeyValueDe {
    #[serde(deserialize_with = "nullable")]
    key: String,
    value: Option<AnyValueDe>,
    #[serde(deserialize_with = "num::int")]
    key_strindex: i32,
}

impl From<KeyValueDe> for KeyValue {
    fn from(kv: KeyValueDe) -> Self {
        Self {
            key: kv.key,
            value: kv.value.map(|v| v.0),
            key_strindex: kv.key_strindex,
        }
    }
}

/// Reads a vector of attributes into protobuf `KeyValue`s; `null` is empty.
pub fn key_values<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<KeyValue>, D::Error> {
    Ok(vec(nullable::<D, Vec<KeyValueDe>>(d)?))
}

/// Reads an optional `AnyValue` (a log record's body); `null` is absent.
pub fn opt_any_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<AnyValue>, D::Error> {
    Ok(Option::<AnyValueDe>::deserialize(d)?.map(|v| v.0))
}

/// An `AnyValue`: an object with at most one of its value fields set (a `null` one is
/// unset, as ProtoJSON reads a oneof member); `{}` is a value with nothing set.
pub struct AnyValueDe(pub AnyValue);

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum ValueField {
    StringValue,
    BoolValue,
    IntValue,
    DoubleValue,
    ArrayValue,
    KvlistValue,
    BytesValue,
    StringValueStrindex,
    #[serde(other)]
    Unknown,
}

impl ValueField {
    fn name(&self) -> &'static str {
        match self {
            Self::StringValue => "stringValue",
            Self::BoolValue => "boolValue",
            Self::IntValue => "intValue",
            Self::DoubleValue => "doubleValue",
            Self::ArrayValue => "arrayValue",
            Self::KvlistValue => "kvlistValue",
            Self::BytesValue => "bytesValue",
            Self::StringValueStrindex => "stringValueStrindex",
            Self::Unknown => "",
        }
    }
}

/// The value fields of `AnyValue`, each read as the mapping reads its type.
struct OptI64(Option<i64>);
impl<'de> Deserialize<'de> for OptI64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        num::int_opt(d).map(OptI64)
    }
}

struct OptI32(Option<i32>);
impl<'de> Deserialize<'de> for OptI32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        num::int_opt(d).map(OptI32)
    }
}

struct OptF64(Option<f64>);
impl<'de> Deserialize<'de> for OptF64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        num::opt_double(d).map(OptF64)
    }
}

struct OptBytes(Option<Vec<u8>>);
impl<'de> Deserialize<'de> for OptBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct BytesVisitor;
        impl<'de> Visitor<'de> for BytesVisitor {
            type Value = Option<Vec<u8>>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("bytes in standard or URL-safe base64")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                base64_bytes(v)
                    .map(Some)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
        }
        d.deserialize_any(BytesVisitor).map(OptBytes)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ArrayValueDe {
    #[serde(deserialize_with = "nullable")]
    values: Vec<AnyValueDe>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KeyValueListDe {
    #[serde(deserialize_with = "nullable")]
    values: Vec<KeyValueDe>,
}

struct AnyValueVisitor;

impl<'de> Visitor<'de> for AnyValueVisitor {
    type Value = AnyValueDe;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an AnyValue object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyValueDe, A::Error> {
        use any_value::Value;
        let mut value: Option<Value> = None;
        let mut seen: Option<&'static str> = None;
        while let Some(field) = map.next_key::<ValueField>()? {
            let read = match field {
                ValueField::StringValue => {
                    map.next_value::<Option<String>>()?.map(Value::StringValue)
                }
                ValueField::BoolValue => map.next_value::<Option<bool>>()?.map(Value::BoolValue),
                ValueField::IntValue => map.next_value::<OptI64>()?.0.map(Value::IntValue),
                ValueField::DoubleValue => map.next_value::<OptF64>()?.0.map(Value::DoubleValue),
                ValueField::ArrayValue => map.next_value::<Option<ArrayValueDe>>()?.map(|a| {
                    Value::ArrayValue(ArrayValue {
                        values: vec(a.values),
                    })
                }),
                ValueField::KvlistValue => map.next_value::<Option<KeyValueListDe>>()?.map(|l| {
                    Value::KvlistValue(KeyValueList {
                        values: vec(l.values),
                    })
                }),
                ValueField::BytesValue => map.next_value::<OptBytes>()?.0.map(Value::BytesValue),
                ValueField::StringValueStrindex => map
                    .next_value::<OptI32>()?
                    .0
                    .map(Value::StringValueStrindex),
                ValueField::Unknown => {
                    map.next_value::<IgnoredAny>()?;
                    None
                }
            };
            if let Some(v) = read {
                if let Some(first) = seen {
                    return Err(de::Error::custom(format_args!(
                        "an AnyValue has both {first} and {}",
                        field.name()
                    )));
                }
                seen = Some(field.name());
                value = Some(v);
            }
        }
        Ok(AnyValueDe(AnyValue { value }))
    }
}

impl<'de> Deserialize<'de> for AnyValueDe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(AnyValueVisitor)
    }
}

impl From<AnyValueDe> for AnyValue {
    fn from(v: AnyValueDe) -> Self {
        v.0
    }
}

#[cfg(test)]
#[path = "json_common_tests.rs"]
mod tests;
