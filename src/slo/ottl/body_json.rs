//! A JSON string body's fields read in one pass, keeping only the values at the body paths
//! the log SLIs name.
//!
//! The body is parsed with serde_json's own parser (the same syntax checks, number rules
//! and recursion limit as parsing it whole), but every value off the paths is skipped
//! without being built, and keys are compared where they lie in the text: a record costs
//! one parse and the values it keeps. The answer is the one the whole-document parse gives
//! (`tests` compares the two): a body that is not a JSON object has no fields; a key given
//! twice keeps its last value; a number is an `Int` when it fits an i64, else a `Float`;
//! an array or object at a path is its compact JSON text.

use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::BodyValue;

/// The body paths as a tree of keys; a node may end paths (their value slots).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct PathTree {
    /// Slots of the paths that end here.
    ends: Vec<usize>,
    children: Vec<(String, PathTree)>,
}

impl PathTree {
    /// The tree of `paths`: path `i` fills slot `i`.
    pub(super) fn new<'a>(paths: impl Iterator<Item = &'a [String]>) -> Self {
        let mut root = PathTree::default();
        for (slot, keys) in paths.enumerate() {
            let mut node = &mut root;
            for key in keys {
                let at = match node.children.iter().position(|(k, _)| k == key) {
                    Some(at) => at,
                    None => {
                        node.children.push((key.clone(), PathTree::default()));
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[at].1;
            }
            node.ends.push(slot);
        }
        root
    }

    fn clear(&self, values: &mut [BodyValue]) {
        for &slot in &self.ends {
            values[slot] = BodyValue::Nil;
        }
        for (_, child) in &self.children {
            child.clear(values);
        }
    }
}

/// Reads `text`, which must hold a JSON object, into `values` (one per slot of `tree`,
/// all `Nil` on entry); `false` when it is not a JSON object (then `values` are all `Nil`).
pub(super) fn read(text: &str, tree: &PathTree, values: &mut [BodyValue]) -> bool {
    let mut de = serde_json::Deserializer::from_str(text);
    let object = de
        .deserialize_any(Top { tree, values })
        .and_then(|object| de.end().map(|()| object));
    match object {
        Ok(true) => true,
        _ => {
            tree.clear(values);
            false
        }
    }
}

/// The document: an object is walked, anything else skipped.
struct Top<'t, 'v> {
    tree: &'t PathTree,
    values: &'v mut [BodyValue],
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        walk(self.tree, self.values, map)?;
        Ok(true)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(false)
    }

    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// The members of an object at `tree`: those on a path are read, the others skipped.
fn walk<'de, A: MapAccess<'de>>(
    tree: &PathTree,
    values: &mut [BodyValue],
    mut map: A,
) -> Result<(), A::Error> {
    while let Some(child) = map.next_key_seed(Key(tree))? {
        let Some(child) = child else {
            map.next_value::<Skip>()?;
            continue;
        };
        // A key given twice: its last value counts, as in a parsed object.
        child.clear(values);
        map.next_value_seed(Node {
            tree: child,
            values,
        })?;
    }
    Ok(())
}

/// A key, compared with the children of a node where it lies in the text.
struct Key<'t>(&'t PathTree);

impl<'de, 't> DeserializeSeed<'de> for Key<'t> {
    type Value = Option<&'t PathTree>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 't> Visitor<'de> for Key<'t> {
    type Value = Option<&'t PathTree>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self
            .0
            .children
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, c)| c))
    }
}

/// A value on a path: kept where a path ends, walked where paths go on.
struct Node<'t, 'v> {
    tree: &'t PathTree,
    values: &'v mut [BodyValue],
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.tree.ends.is_empty() {
            return d.deserialize_any(Inner(self));
        }
        // Paths end here: the value is kept whole (and read further when paths go on).
        let value = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
        fill(self.tree, self.values, &value);
        Ok(())
    }
}

/// The values of `tree`'s paths inside `value`.
fn fill(tree: &PathTree, values: &mut [BodyValue], value: &serde_json::Value) {
    for &slot in &tree.ends {
        values[slot] = BodyValue::of_json(value);
    }
    if let Some(object) = value.as_object() {
        for (key, child) in &tree.children {
            if let Some(v) = object.get(key) {
                fill(child, values, v);
            }
        }
    }
}

/// A value where paths go on but none ends: an object is walked, anything else skipped.
struct Inner<'t, 'v>(Node<'t, 'v>);

impl<'de> Visitor<'de> for Inner<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        walk(self.0.tree, self.0.values, map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// A value off the paths, skipped without being built. Unlike serde's `IgnoredAny` it goes
/// through `deserialize_any`, so nesting counts toward the parser's recursion limit as it
/// does when the whole body is parsed.
struct Skip;

impl<'de> serde::Deserialize<'de> for Skip {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Skip, D::Error> {
        d.deserialize_any(SkipVisitor)
    }
}

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
}
