//! An attribute path, `attributes["k"]`, `resource.attributes["k"]` or (log records)
//! `body["a"]["b"]`: what conditions
//! compare, what span facts hold as columns and what `group_by` lists (its label name is
//! in `spec`, where SLO series are named).

/// Where an attribute comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttrRef {
    /// `attributes["k"]`: span (or data point) attributes.
    Item(String),
    /// `resource.attributes["k"]`.
    Resource(String),
    /// `body["a"]["b"]` of a log record: a field of a map body or of a string body that
    /// holds JSON; no keys is the whole body. Log conditions and `group_by` of log SLIs only.
    Body(Vec<String>),
}

impl std::fmt::Display for AttrRef {
    /// The OTTL path: `attributes["k"]` or `resource.attributes["k"]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttrRef::Item(k) => write!(f, "attributes[{k:?}]"),
            AttrRef::Resource(k) => write!(f, "resource.attributes[{k:?}]"),
            AttrRef::Body(keys) => {
                f.write_str("body")?;
                keys.iter().try_for_each(|k| write!(f, "[{k:?}]"))
            }
        }
    }
}
