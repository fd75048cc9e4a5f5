//! YAML text → a small tree of nodes that remember where they were written.
//!
//! Built from `saphyr-parser` events. Aliases are expanded into copies of their anchored
//! node, under a total node budget ([`MAX_NODES`]), a budget of scalar text
//! ([`MAX_TEXT_BYTES`]: one long string aliased many times) and a nesting limit
//! ([`MAX_DEPTH`]), so a "billion laughs" file or a very deep one is an error instead of an
//! OOM or a stack overflow. Mapping keys always stay scalars (`null:` is the key `"null"`); a plain value
//! `~`, `null` or nothing at all becomes [`Value::Null`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

use super::error::ConfigError;

/// The most nodes one document may hold once its aliases are expanded.
pub(crate) const MAX_NODES: usize = 100_000;

/// The most scalar text (keys and values, in bytes) one document may hold once its aliases
/// are expanded: four times the largest file read, so no file without aliases reaches it.
pub(crate) const MAX_TEXT_BYTES: usize = 16 * 1024 * 1024;

/// The deepest nesting of mappings and lists allowed.
pub(crate) const MAX_DEPTH: usize = 64;

/// One YAML node and where it starts (1-based line and column).
///
/// An implicit null (`key:` with nothing after it) carries the position of its key, so an
/// error about it points somewhere visible.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub value: Value,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// Entries in file order; keys are scalars unless the file uses complex keys.
    Map(Vec<(Node, Node)>),
    Seq(Vec<Node>),
    /// The scalar's text; `quoted` is true for quoted and block scalars and for `!!str`.
    Scalar {
        text: String,
        quoted: bool,
    },
    Null,
}

impl Node {
    /// How an error describes what was found here, e.g. "a list".
    pub(crate) fn describe(&self) -> &'static str {
        match &self.value {
            Value::Map(_) => "a mapping",
            Value::Seq(_) => "a list",
            Value::Null => "null",
            Value::Scalar { quoted: true, .. } => "a string",
            Value::Scalar {
                text,
                quoted: false,
            } => match text.as_str() {
                "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => "a boolean",
                t if t.parse::<f64>().is_ok() => "a number",
                _ => "a string",
            },
        }
    }
}

/// Parses one YAML document.
///
/// Returns `None` after pushing the error when the text cannot be turned into a tree
/// (syntax error, several documents, budget exceeded). Problems that leave a usable tree
/// (duplicate keys: the first entry is kept; unsupported tags) are pushed and parsing goes
/// on, so the decoder can report its errors too.
pub(crate) fn parse(text: &str, file: &str, errors: &mut Vec<ConfigError>) -> Option<Node> {
    let mut builder = Builder {
        file,
        errors,
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        bytes: 0,
        root: None,
        documents: 0,
    };
    for event in Parser::new_from_str(text) {
        let step = match event {
            Ok((event, span)) => builder.event(event, span),
            Err(e) => Err(builder.error_at(
                e.marker().line(),
                e.marker().col() + 1,
                String::new(),
                format!("invalid yaml: {}", e.info()),
            )),
        };
        if let Err(error) = step {
            builder.errors.push(error);
            return None;
        }
    }
    Some(builder.root.take().unwrap_or(Node {
        value: Value::Null,
        line: 1,
        column: 1,
    }))
}

/// A node and what it costs: how many nodes it holds, how much scalar text and how deep
/// it nests.
struct Built {
    node: Node,
    size: usize,
    bytes: usize,
    height: usize,
}

/// An open mapping or list.
struct Frame {
    line: usize,
    column: usize,
    anchor: usize,
    size: usize,
    bytes: usize,
    height: usize,
    kind: FrameKind,
}

enum FrameKind {
    Seq(Vec<Node>),
    /// `key` is set between a key and its value; `duplicate` drops the value.
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        duplicate: bool,
    },
}

struct Builder<'a> {
    file: &'a str,
    errors: &'a mut Vec<ConfigError>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Built>,
    nodes: usize,
    bytes: usize,
    root: Option<Node>,
    documents: usize,
}

impl Builder<'_> {
    fn error_at(&self, line: usize, column: usize, path: String, message: String) -> ConfigError {
        ConfigError {
            file: self.file.to_string(),
            path,
            line,
            column,
            message,
        }
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), ConfigError> {
        let (line, column) = (span.start.line(), span.start.col() + 1);
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    let msg = "a config file must hold exactly one yaml document".to_string();
                    return Err(self.error_at(line, column, String::new(), msg));
                }
                Ok(())
            }
            Event::Scalar(text, style, anchor, tag) => {
                let in_key = self.expecting_key();
                let implicit = text.is_empty() && style == ScalarStyle::Plain;
                let (quoted, known_tag) = match tag {
                    Some(tag) if !tag.is_yaml_core_schema() => {
                        self.unsupported_tag(&tag, line, column);
                        (false, false)
                    }
                    Some(tag) => (tag.suffix == "str", true),
                    None => (false, true),
                };
                let quoted = quoted || style != ScalarStyle::Plain;
                let is_null = matches!(&*text, "" | "~" | "null" | "Null" | "NULL");
                // A value under an unknown tag is dropped: its error is already reported.
                let value = if !in_key && (!known_tag || (!quoted && is_null)) {
                    Value::Null
                } else {
                    Value::Scalar {
                        text: text.into_owned(),
                        quoted,
                    }
                };
                // An implicit null has no text of its own: point at its key instead.
                let (line, column) = match self.pending_key() {
                    Some(key) if implicit => (key.line, key.column),
                    _ => (line, column),
                };
                let bytes = match &value {
                    Value::Scalar { text, .. } => text.len(),
                    _ => 0,
                };
                self.count(1, bytes, line, column)?;
                let node = Node {
                    value,
                    line,
                    column,
                };
                self.finish(
                    anchor,
                    Built {
                        node,
                        size: 1,
                        bytes,
                        height: 0,
                    },
                )
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(anchor, tag, FrameKind::Seq(Vec::new()), line, column)
            }
            Event::MappingStart(anchor, tag) => {
                let kind = FrameKind::Map {
                    entries: Vec::new(),
                    key: None,
                    duplicate: false,
                };
                self.open(anchor, tag, kind, line, column)
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            Event::Alias(id) => {
                let Some(&Built {
                    size,
                    bytes,
                    height,
                    ..
                }) = self.anchors.get(&id)
                else {
                    let msg = "alias refers to a node that contains it".to_string();
                    return Err(self.error_at(line, column, self.path(), msg));
                };
                if self.stack.len() + height > MAX_DEPTH {
                    return Err(self.too_deep(line, column));
                }
                self.count(size, bytes, line, column)?;
                let Some(target) = self.anchors.get(&id) else {
                    return Ok(());
                };
                let mut node = target.node.clone();
                (node.line, node.column) = (line, column);
                self.finish(
                    0,
                    Built {
                        node,
                        size,
                        bytes,
                        height,
                    },
                )
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => Ok(()),
        }
    }

    /// True when the next node is a mapping key.
    fn expecting_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame {
                kind: FrameKind::Map { key: None, .. },
                ..
            })
        )
    }

    /// The key whose value is being built, if any.
    fn pending_key(&self) -> Option<&Node> {
        match self.stack.last() {
            Some(Frame {
                kind: FrameKind::Map { key, .. },
                ..
            }) => key.as_ref(),
            _ => None,
        }
    }

    fn unsupported_tag(&mut self, tag: &Tag, line: usize, column: usize) {
        let error = self.error_at(
            line,
            column,
            self.path(),
            format!("unsupported tag `{tag}`"),
        );
        self.errors.push(error);
    }

    fn open(
        &mut self,
        anchor: usize,
        tag: Option<Cow<'_, Tag>>,
        kind: FrameKind,
        line: usize,
        column: usize,
    ) -> Result<(), ConfigError> {
        if let Some(tag) = tag.filter(|t| !t.is_yaml_core_schema()) {
            self.unsupported_tag(&tag, line, column);
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.too_deep(line, column));
        }
        self.count(1, 0, line, column)?;
        self.stack.push(Frame {
            line,
            column,
            anchor,
            size: 1,
            bytes: 0,
            height: 1,
            kind,
        });
        Ok(())
    }

    fn close(&mut self) -> Result<(), ConfigError> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let value = match frame.kind {
            FrameKind::Seq(items) => Value::Seq(items),
            FrameKind::Map { entries, .. } => Value::Map(entries),
        };
        let node = Node {
            value,
            line: frame.line,
            column: frame.column,
        };
        let built = Built {
            node,
            size: frame.size,
            bytes: frame.bytes,
            height: frame.height,
        };
        self.finish(frame.anchor, built)
    }

    /// Hands a complete node to its parent (or makes it the root) and records its anchor.
    fn finish(&mut self, anchor: usize, built: Built) -> Result<(), ConfigError> {
        if anchor != 0 {
            // The stored copy counts against the budget too.
            self.count(built.size, built.bytes, built.node.line, built.node.column)?;
            self.anchors.insert(
                anchor,
                Built {
                    node: built.node.clone(),
                    size: built.size,
                    bytes: built.bytes,
                    height: built.height,
                },
            );
        }
        let duplicate_of = self.duplicate_key(&built.node);
        let path = if duplicate_of.is_some() {
            self.path_with(Some(&built.node))
        } else {
            String::new()
        };
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(built.node);
            return Ok(());
        };
        frame.size += built.size;
        frame.bytes += built.bytes;
        frame.height = frame.height.max(built.height + 1);
        match &mut frame.kind {
            FrameKind::Seq(items) => items.push(built.node),
            FrameKind::Map {
                entries,
                key,
                duplicate,
            } => match key.take() {
                None => {
                    *duplicate = duplicate_of.is_some();
                    *key = Some(built.node);
                }
                Some(k) if !*duplicate => entries.push((k, built.node)),
                Some(_) => {}
            },
        }
        if let Some((first_line, text, line, column)) = duplicate_of {
            let msg = format!("duplicate key {text:?} (first defined on line {first_line})");
            let error = self.error_at(line, column, path, msg);
            self.errors.push(error);
        }
        Ok(())
    }

    /// When `node` is about to become a key that its mapping already holds: the first
    /// key's line, the key text and the new key's position.
    fn duplicate_key(&self, node: &Node) -> Option<(usize, String, usize, usize)> {
        let Some(Frame {
            kind: FrameKind::Map {
                entries, key: None, ..
            },
            ..
        }) = self.stack.last()
        else {
            return None;
        };
        let Value::Scalar { text, .. } = &node.value else {
            return None;
        };
        entries.iter().find_map(|(k, _)| match &k.value {
            Value::Scalar { text: t, .. } if t == text => {
                Some((k.line, text.clone(), node.line, node.column))
            }
            _ => None,
        })
    }

    /// Adds `n` nodes and `bytes` of scalar text to the document's totals, failing past
    /// [`MAX_NODES`] or [`MAX_TEXT_BYTES`].
    fn count(
        &mut self,
        n: usize,
        bytes: usize,
        line: usize,
        column: usize,
    ) -> Result<(), ConfigError> {
        self.nodes = self.nodes.saturating_add(n);
        self.bytes = self.bytes.saturating_add(bytes);
        if self.nodes > MAX_NODES {
            let msg =
                format!("document expands to more than {MAX_NODES} nodes (too many aliases?)");
            return Err(self.error_at(line, column, self.path(), msg));
        }
        if self.bytes > MAX_TEXT_BYTES {
            let msg = format!(
                "document expands to more than {} MiB of text (too many aliases?)",
                MAX_TEXT_BYTES >> 20
            );
            return Err(self.error_at(line, column, self.path(), msg));
        }
        Ok(())
    }

    fn too_deep(&self, line: usize, column: usize) -> ConfigError {
        let msg = format!("nesting is deeper than {MAX_DEPTH} levels");
        self.error_at(line, column, self.path(), msg)
    }

    /// The field path of the node being built, e.g. `service.pipelines.traces.exporters[1]`.
    fn path(&self) -> String {
        self.path_with(None)
    }

    fn path_with(&self, last_key: Option<&Node>) -> String {
        let mut path = String::new();
        let push_key = |path: &mut String, key: &Node| {
            if !path.is_empty() {
                path.push('.');
            }
            match &key.value {
                Value::Scalar { text, .. } => path.push_str(text),
                _ => path.push('?'),
            }
        };
        for frame in &self.stack {
            match &frame.kind {
                FrameKind::Seq(items) => {
                    let _ = write!(path, "[{}]", items.len());
                }
                FrameKind::Map { key: Some(k), .. } => push_key(&mut path, k),
                FrameKind::Map { key: None, .. } => {}
            }
        }
        if let Some(key) = last_key {
            push_key(&mut path, key);
        }
        path
    }
}
