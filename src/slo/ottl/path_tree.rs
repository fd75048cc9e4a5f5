//! The body paths the log SLIs read, as a tree of keys: what the one-pass JSON body reader
//! (`body_json.rs`) follows, each node with the value slots of the paths that end there.

use super::BodyValue;

/// The body paths as a tree of keys; a node may end paths (their value slots).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct PathTree {
    /// Slots of the paths that end here.
    pub(super) ends: Vec<usize>,
    /// The keys paths go on with, each once.
    pub(super) children: Vec<(String, PathTree)>,
    /// Bit `n` (63 for 63 bytes and more) set when a child's key is `n` bytes long: most
    /// keys of a body are ruled out by their length alone.
    pub(super) lengths: u64,
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
                        node.lengths |= length_bit(key.len());
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[at].1;
            }
            node.ends.push(slot);
        }
        root
    }

    /// Sets the values of the paths at and under this node to `nil`.
    pub(super) fn clear(&self, values: &mut [BodyValue<'_>]) {
        for &slot in &self.ends {
            values[slot] = BodyValue::Nil;
        }
        for (_, child) in &self.children {
            child.clear(values);
        }
    }
}

/// The bit of [`PathTree::lengths`] for a key of `len` bytes.
#[inline]
pub(super) fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

/// The values of `tree`'s paths inside `value`.
pub(super) fn fill(tree: &PathTree, values: &mut [BodyValue<'_>], value: &serde_json::Value) {
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
