//! YAML with locations: the toolkit the config ([`crate::config`]) and the SLO files
//! ([`crate::slo::spec`]) are both decoded with, every error naming its file, field path,
//! line and column.
//!
//! # Layout
//!
//! - `tree.rs`: YAML text → a small tree of `Node`s that remember their line and column
//!   (`saphyr-parser` events; aliases expanded under a node budget).
//! - `read.rs`: the readers decoders are written with: the error sink (`Ctx`), a
//!   mapping reader that reports unknown keys with "did you mean" hints
//!   (`Fields`), and typed readers (durations, byte sizes, addresses, …) that
//!   interpolate first.
//! - `interpolate.rs`: `${…}` expansion inside scalar values through an injected [`Lookup`].
//! - `error.rs`: [`ConfigError`] (one located problem) and [`ConfigErrors`].
//!
//! # Invariants
//!
//! - Nothing here panics on input or allocates without a bound: the tree has a node budget
//!   and a depth limit.
//! - `${…}` is expanded only inside parsed scalar values, never in keys and never in the
//!   raw text, so a variable's value cannot inject YAML.

mod error;
pub(crate) mod interpolate;
pub(crate) mod read;
mod tree;

pub use error::{ConfigError, ConfigErrors};
pub use interpolate::{Lookup, SystemLookup};
pub(crate) use tree::{Node, Value, parse};
