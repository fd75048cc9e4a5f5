//! An attribute path, `attributes["k"]` or `resource.attributes["k"]`: what conditions
//! compare, what span facts hold as columns and what `group_by` lists (its label name is
//! in `spec`, where SLO series are named).

/// Where an attribute comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttrRef {
    /// `attributes["k"]`: span (or data point) attributes.
    Item(String),
    /// `resource.attributes["k"]`.
    Resource(String),
}

impl std::fmt::Display for AttrRef {
    /// The OTTL path: `attributes["k"]` or `resource.attributes["k"]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttrRef::Item(k) => write!(f, "attributes[{k:?}]"),
            AttrRef::Resource(k) => write!(f, "resource.attributes[{k:?}]"),
        }
    }
}
