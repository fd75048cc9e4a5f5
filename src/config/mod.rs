//! The slotel config: one YAML file shaped like an OpenTelemetry Collector config
//! (`receivers`, `processors`, `exporters`, `slo`, `service`), decoded into the validated
//! domain types of `types.rs` with every error reported at once, each with its file,
//! field path, line and column.
//!
//! # Why two steps and no serde
//!
//! 1. [`crate::yaml`] turns the text into a small tree of nodes that remember their line
//!    and column (`saphyr-parser` events; aliases expanded under a node budget).
//! 2. `decode` walks that tree by hand into [`Config`] with the toolkit's readers,
//!    interpolating `${env:VAR}`, `${VAR}`, `${env:VAR:-default}` and `${file:PATH}`
//!    inside string values, and validating as it goes. serde would stop at the first error; the
//!    decoder instead gives a failed field its default, records the error and carries on,
//!    so `slotel check` lists every mistake in one run.
//!
//! # Layout
//!
//! - `types.rs`: the validated domain types; each field's doc names its YAML key and default.
//! - `collector.rs`: a pass before decoding that reads OpenTelemetry Collector spellings
//!   (translated, ignored with a warning, or refused with the reason), by the table in
//!   `collector_keys.rs` (value-dependent rules in `collector_values.rs`).
//! - `decode.rs`: marked tree → [`Config`]: the schema, defaults and cross references.
//! - `cors.rs`: `receivers.otlp.protocols.http.cors`, its type and decoder.
//! - `exporters.rs`: the remote exporters' settings (client, retry, queue blocks).
//! - `redaction.rs`: `processors.redaction`: its settings and decoder (the kinds of data,
//!   actions and validators it names are [`crate::redact`]'s types).
//! - `policy.rs`: its `allow` lists and per-tenant / per-service `policies`.
//! - `warnings.rs`: what a valid config may still get wrong (a pipeline without exporters).
//! - `../../config/slotel.yaml`: the embedded default, commented as the reference manual.
//!
//! # Invariants
//!
//! - Unknown keys are errors (with a "did you mean" hint); so are duplicate keys and
//!   several YAML documents in one file.
//! - `${…}` is expanded only inside parsed scalar values, never in keys and never in the
//!   raw text, so a variable's value cannot inject YAML.
//! - Error messages never print a token, and interpolation errors never print a variable's
//!   value or a file's content (a value that then fails to parse, such as an address, is
//!   quoted as expanded: keep secrets in secret fields).
//! - Nothing here panics on input; the only I/O is reading the config file ([`load`]) and
//!   what the [`Lookup`] does.
//! - A returned [`ConfigErrors`] is never empty and is sorted by line and column.

mod collector;
mod collector_keys;
mod collector_values;
mod cors;
mod decode;
mod exporters;
mod policy;
mod redaction;
mod types;
mod warnings;

#[cfg(test)]
mod queue_tests;
#[cfg(test)]
mod tests;

use std::path::Path;

pub use crate::yaml::{ConfigError, ConfigErrors, Lookup, SystemLookup};

pub use collector::{Translation, Treatment};
pub use cors::CorsConfig;
pub use exporters::*;
pub use policy::*;
pub use redaction::*;
pub use types::*;
pub use warnings::{exporter_accepts, pipeline_warnings};

/// The default config, used when no `--config` is given.
pub const DEFAULT_CONFIG: &str = include_str!("../../config/slotel.yaml");

/// The source name of [`DEFAULT_CONFIG`] in errors and in [`Config::source`].
pub const EMBEDDED_SOURCE: &str = "<embedded>";

/// A mebibyte, the unit byte sizes are given in.
pub(crate) const MIB: usize = 1024 * 1024;

/// The largest config file [`load`] reads.
const MAX_CONFIG_BYTES: u64 = 4 * MIB as u64;

/// Loads the config file at `path`, or the embedded default when `path` is `None`, with
/// interpolation from the real environment and file system.
pub fn load(path: Option<&Path>) -> Result<Config, ConfigErrors> {
    load_explained(path).0
}

/// As [`load`], with the collector keys found and what slotel does with each (the
/// warnings are those [`Treatment::Ignored`]), in file order, whether or not the config
/// is valid.
pub fn load_explained(path: Option<&Path>) -> (Result<Config, ConfigErrors>, Vec<Translation>) {
    let Some(path) = path else {
        return parse_explained(DEFAULT_CONFIG, EMBEDDED_SOURCE, &SystemLookup);
    };
    let source = path.display().to_string();
    match read_config(path) {
        Ok(text) => parse_explained(&text, &source, &SystemLookup),
        Err(e) => (
            Err(ConfigErrors(vec![ConfigError {
                file: source,
                path: String::new(),
                line: 0,
                column: 0,
                message: e.to_string(),
            }])),
            Vec::new(),
        ),
    }
}

/// Parses and validates config `text`; `source` names it in errors (a path or
/// [`EMBEDDED_SOURCE`]); `lookup` resolves `${env:…}` and `${file:…}`.
pub fn parse(text: &str, source: &str, lookup: &dyn Lookup) -> Result<Config, ConfigErrors> {
    parse_explained(text, source, lookup).0
}

/// As [`parse`], with the collector keys found (see [`load_explained`]).
pub fn parse_explained(
    text: &str,
    source: &str,
    lookup: &dyn Lookup,
) -> (Result<Config, ConfigErrors>, Vec<Translation>) {
    let mut errors = Vec::new();
    let mut translations = Vec::new();
    let result = match crate::yaml::parse(text, source, &mut errors) {
        Some(mut root) => {
            translations = collector::translate(&mut root, source, &mut errors);
            decode::decode(&root, source, lookup, errors)
        }
        None => Err(errors),
    };
    let result = result.map_err(|mut errors| {
        errors.sort_by_key(|e| (e.line, e.column));
        ConfigErrors(errors)
    });
    (result, translations)
}

fn read_config(path: &Path) -> Result<String, crate::regular_file::ReadError> {
    crate::regular_file::read_text(path, MAX_CONFIG_BYTES, "config file")
}
