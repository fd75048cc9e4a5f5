//! A [`RecordBatch`] read back (from a capture file) → [`SpanFacts`]: the fixed columns are
//! checked by name and type, attribute columns are found by their names
//! (`attributes["k"].str` …), the optional `trace_id` and `adjusted_count` columns by their
//! names (files written before `adjusted_count` count every span 1), columns of any other
//! name are kept but not read.

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, RecordBatch, StringArray};
use arrow_schema::DataType;

use super::{AttrColumns, FactsSchema, SpanFacts};
use crate::slo::ottl::{AttrRef, Use, parse_attribute};

/// The fixed columns, in order, with their types (dictionaries are `Dictionary(Int32, Utf8)`).
const FIXED: [(&str, Fixed); 7] = [
    ("end_time_unix_nano", Fixed::U64),
    ("duration_nanos", Fixed::U64),
    ("cluster", Fixed::Dict),
    ("service", Fixed::Dict),
    ("name", Fixed::Utf8),
    ("kind", Fixed::I32),
    ("status_code", Fixed::I32),
];

#[derive(Clone, Copy)]
enum Fixed {
    U64,
    Dict,
    Utf8,
    I32,
}

impl Fixed {
    fn matches(self, t: &DataType) -> bool {
        match self {
            Fixed::U64 => *t == DataType::UInt64,
            Fixed::Utf8 => *t == DataType::Utf8,
            Fixed::I32 => *t == DataType::Int32,
            Fixed::Dict => {
                matches!(t, DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8)
            }
        }
    }
}

/// What is wrong with a batch read back as span facts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FactsError {
    #[error("column {index} ({name}) is missing")]
    Missing { index: usize, name: &'static str },
    #[error("column {index} is {found:?} of type {ty}, expected {expected}")]
    Fixed {
        index: usize,
        found: String,
        ty: DataType,
        expected: &'static str,
    },
    #[error("column {0} has nulls")]
    Nulls(&'static str),
    #[error("columns cluster and service do not share their rows' resources")]
    Resources,
    #[error("a resource column has null values")]
    NullResource,
    #[error("a resource key is out of range")]
    ResourceKey,
    /// An optional column (`adjusted_count`, `trace_id`) of another type.
    #[error("column {column} is of type {ty}, expected {expected}")]
    Optional {
        column: &'static str,
        ty: DataType,
        expected: DataType,
    },
    #[error(
        "column {} has nulls or counts outside 0 and [1, 2^56]",
        super::ADJUSTED_COUNT
    )]
    AdjustedCounts,
    #[error("column {column:?}: a key is out of range")]
    AttributeKey { column: String },
    #[error("column {column:?} is of type {ty}, expected {expected}")]
    Attribute {
        column: String,
        ty: DataType,
        expected: DataType,
    },
}

/// An attribute column's name split into its attribute and its typed part (`str` …).
pub(super) fn attr_column(name: &str) -> Option<(AttrRef, Use)> {
    let (path, suffix) = name.rsplit_once('.')?;
    let uses = match suffix {
        "str" => Use::STR,
        "int" => Use::INT,
        "float" => Use::FLOAT,
        "bool" => Use::BOOL,
        "other" => Use::OTHER,
        _ => return None,
    };
    if !path.ends_with(']') {
        return None;
    }
    Some((parse_attribute(path).ok()?, uses))
}

impl FactsSchema {
    /// Whether facts that read this schema need the column `name` of a captured batch:
    /// every column but the attribute columns (`attributes["k"].int` …) of attributes or
    /// types the schema does not read.
    pub fn needs_column(&self, name: &str) -> bool {
        match attr_column(name) {
            None => true,
            Some((attr, uses)) => self.attributes.get(&attr).is_some_and(|u| u.has(uses)),
        }
    }
}

impl SpanFacts {
    /// Span facts from a batch with the columns [`SpanFacts::build`] makes (plus any other
    /// columns, which are ignored), with the schema of attribute columns it holds; or what
    /// is wrong with it.
    pub fn from_batch(batch: RecordBatch) -> Result<(SpanFacts, FactsSchema), FactsError> {
        let schema = batch.schema();
        for (i, (name, ty)) in FIXED.iter().enumerate() {
            let Some(field) = schema.fields().get(i) else {
                return Err(FactsError::Missing { index: i, name });
            };
            if field.name() != name || !ty.matches(field.data_type()) {
                return Err(FactsError::Fixed {
                    index: i,
                    found: field.name().clone(),
                    ty: field.data_type().clone(),
                    expected: name,
                });
            }
            if batch.column(i).null_count() > 0 {
                return Err(FactsError::Nulls(name));
            }
        }
        let cluster = batch.column(2).as_dictionary::<Int32Type>();
        let service = batch.column(3).as_dictionary::<Int32Type>();
        if cluster.keys() != service.keys() {
            return Err(FactsError::Resources);
        }
        let strings =
            |dict: &arrow_array::DictionaryArray<Int32Type>| -> Result<StringArray, FactsError> {
                let values = dict.values().as_string::<i32>().clone();
                let len = values.len();
                if values.null_count() > 0 {
                    return Err(FactsError::NullResource);
                }
                if dict
                    .keys()
                    .values()
                    .iter()
                    .any(|k| *k < 0 || *k as usize >= len)
                {
                    return Err(FactsError::ResourceKey);
                }
                Ok(values)
            };
        let clusters = strings(cluster)?;
        let services = strings(service)?;
        let resource_of_row = cluster.keys().values().clone();

        let adjusted = match schema.index_of(super::ADJUSTED_COUNT) {
            Err(_) => None,
            Ok(i) => {
                let column = batch.column(i);
                let Some(values) = column.as_primitive_opt::<arrow_array::types::Float64Type>()
                else {
                    return Err(FactsError::Optional {
                        column: super::ADJUSTED_COUNT,
                        ty: column.data_type().clone(),
                        expected: DataType::Float64,
                    });
                };
                let valid =
                    |w: &f64| *w == 0.0 || (1.0..=super::sampling::MAX_ADJUSTED_COUNT).contains(w);
                if values.null_count() > 0 || !values.values().iter().all(valid) {
                    return Err(FactsError::AdjustedCounts);
                }
                // A capture's batch without sampled spans holds ones: no adjusted counts.
                (!values.values().iter().all(|w| *w == 1.0)).then(|| values.values().clone())
            }
        };
        let trace_id = match schema.index_of(super::TRACE_ID) {
            Err(_) => None,
            Ok(i) => {
                let t = batch.column(i).data_type();
                if *t != DataType::FixedSizeBinary(16) {
                    return Err(FactsError::Optional {
                        column: super::TRACE_ID,
                        ty: t.clone(),
                        expected: DataType::FixedSizeBinary(16),
                    });
                }
                Some(i)
            }
        };
        let mut attrs: BTreeMap<_, AttrColumns> = BTreeMap::new();
        let mut found = FactsSchema::default();
        for (i, field) in schema.fields().iter().enumerate().skip(FIXED.len()) {
            let Some((attr, uses)) = attr_column(field.name()) else {
                continue;
            };
            let column = batch.column(i).clone();
            let value_type = match column.data_type() {
                DataType::Dictionary(k, v) if **k == DataType::Int32 => {
                    let keys = column.as_dictionary::<Int32Type>().keys();
                    let len = column.as_dictionary::<Int32Type>().values().len();
                    if keys.iter().flatten().any(|k| k < 0 || k as usize >= len) {
                        return Err(FactsError::AttributeKey {
                            column: field.name().clone(),
                        });
                    }
                    (**v).clone()
                }
                t => t.clone(),
            };
            let expected = match uses {
                u if u == Use::INT => DataType::Int64,
                u if u == Use::FLOAT => DataType::Float64,
                u if u == Use::BOOL => DataType::Boolean,
                _ => DataType::Utf8,
            };
            if value_type != expected {
                return Err(FactsError::Attribute {
                    column: field.name().clone(),
                    ty: column.data_type().clone(),
                    expected,
                });
            }
            let entry = attrs.entry(attr.clone()).or_default();
            let slot = match uses {
                u if u == Use::STR => &mut entry.str,
                u if u == Use::INT => &mut entry.int,
                u if u == Use::FLOAT => &mut entry.float,
                u if u == Use::BOOL => &mut entry.bool,
                _ => &mut entry.other,
            };
            *slot = Some(column);
            found.add(attr, uses);
        }
        Ok((
            SpanFacts {
                batch,
                attrs,
                resource_of_row,
                clusters,
                services,
                trace_id,
                adjusted,
                invalid_tracestates: Default::default(),
                compared: Default::default(),
                lean: false,
            },
            {
                let mut found = found;
                if trace_id.is_some() {
                    found.add_trace_ids();
                }
                found
            },
        ))
    }
}
