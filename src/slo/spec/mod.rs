//! SLO files → a validated [`SloSet`].
//!
//! Two formats, told apart per YAML document: the native one (`service` + `slos`, see
//! `config/slos/README.md`) and OpenSLO v1 (`apiVersion: openslo/v1`, `kind: SLO`, see
//! `openslo/`). A file may hold several documents separated by `---`. Files come from
//! the globs of `slo.files`; `embedded:examples` names the example set of `config/slos/`
//! compiled into the binary.
//!
//! Like the config decoder, this one reports every problem at once, each with its file,
//! field path, line and column: unknown fields (with "did you mean" hints), objectives
//! outside (0, 100), windows shorter than a day, condition syntax errors at their column
//! inside the file, oversized regexes, and `(service, name)` pairs defined twice anywhere
//! in the set.
//!
//! # Layout
//!
//! - `types.rs`: the validated domain types the engine is built from.
//! - `fingerprint.rs`: a definition's fingerprint, what state on disk knows it by.
//! - `native.rs`, `openslo/`: the two formats.
//! - `exhaustion.rs`: the optional time-to-exhaustion alert (`alerting.exhaustion`).
//! - `logs.rs`: `sli.logs`, SLIs over log records.
//! - `values.rs`: readers they share (names, percentages, windows, conditions placed at
//!   their column in the file).
//! - `journey.rs`: journeys (`journey:`, OpenSLO composites): members by reference,
//!   checked and resolved against the whole set.
//! - `trace_mode.rs`: a journey's trace-aware mode (`mode: trace`) and its bounds.
//! - `labels.rs`: the labels of SLO series, group labels named as Prometheus names them.
//! - `tests.rs`: the examples, every fixture of `tests/fixtures/slos/`, both formats.
//!
//! # Invariants
//!
//! - A returned [`SloSet`] holds unique `(service, name)` pairs, compiled conditions and
//!   objectives in (0, 1); an `Err` is never empty.
//! - SLO files are not interpolated (`${…}` stays as written); the only I/O is reading the
//!   files the globs match.

mod exhaustion;
mod fingerprint;
#[cfg(test)]
mod fingerprint_tests;
pub mod journey;
mod labels;
mod logs;
mod native;
mod openslo;
mod template;
#[cfg(test)]
mod tests;
pub mod trace_mode;
mod types;
mod values;

use std::cell::Cell;
use std::collections::HashMap;

pub use exhaustion::{DEFAULT_EXHAUSTION_ALERT, DEFAULT_EXHAUSTION_SEVERITY, ExhaustionAlert};
pub use fingerprint::Fingerprint;
pub use labels::{
    Labels, MAX_GROUP_BY, MISSING, RESERVED, SLO_SERIES_OWN_LABELS, group_label_error,
    group_label_names, label_name, label_value, series_labels, window_label,
};
pub use native::{DEFAULT_MAX_GROUPS, DEFAULT_PERCENTILES};
pub use types::*;
pub use values::{MAX_WINDOW, MIN_WINDOW};

use crate::yaml::read::Ctx;
use crate::yaml::{self, ConfigError, ConfigErrors, Value};
use values::{NoLookup, Source};

/// The prefix of compiled-in SLO sets in `slo.files`.
pub const EMBEDDED_PREFIX: &str = "embedded:";

/// The files of `config/slos/`, compiled in as `embedded:examples`: (name, text).
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "checkout.yaml",
        include_str!("../../../config/slos/checkout.yaml"),
    ),
    (
        "payment.yaml",
        include_str!("../../../config/slos/payment.yaml"),
    ),
    (
        "cart-metrics.yaml",
        include_str!("../../../config/slos/cart-metrics.yaml"),
    ),
    (
        "catalog.openslo.yaml",
        include_str!("../../../config/slos/catalog.openslo.yaml"),
    ),
];

/// The largest SLO file read.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// An SLO and the column of its name, for duplicate errors.
struct Parsed {
    slo: Slo,
    column: usize,
}

/// Loads every SLO file matched by `globs` (entries starting with `embedded:` name
/// compiled-in sets: `embedded:examples` is the files of `config/slos/`; a directory
/// stands for its `*.yaml` and `*.yml` files) and validates the set as a whole.
///
/// Every entry must bring at least one SLO file: a glob or directory that matches none is
/// an error unless `allow_empty` (a typo must not silently remove SLOs and their alerts);
/// a plain path must exist either way. A file matched twice is read once.
pub fn load(globs: &[String], allow_empty: bool) -> Result<SloSet, ConfigErrors> {
    let mut errors = Vec::new();
    let mut files: Vec<(String, String)> = Vec::new();
    let error = |file: &str, message: String| ConfigError {
        file: file.to_string(),
        path: String::new(),
        line: 0,
        column: 0,
        message,
    };
    for pattern in globs {
        if let Some(set) = pattern.strip_prefix(EMBEDDED_PREFIX) {
            match set {
                "examples" => files.extend(
                    EXAMPLES
                        .iter()
                        .map(|(name, text)| (format!("{pattern}/{name}"), text.to_string())),
                ),
                _ => {
                    let msg = format!("unknown embedded slo set {set:?}, expected `examples`");
                    errors.push(error(pattern, msg));
                }
            }
            continue;
        }
        let is_dir = std::path::Path::new(pattern).is_dir();
        let mut matched = 0;
        let mut invalid = false;
        for glob in expand(pattern) {
            let paths = match glob::glob(&glob) {
                Ok(paths) => paths,
                Err(e) => {
                    errors.push(error(pattern, format!("invalid glob: {}", e.msg)));
                    invalid = true;
                    continue;
                }
            };
            for entry in paths {
                let path = match entry {
                    Ok(path) => path,
                    Err(e) => {
                        matched += 1;
                        let file = e.path().display().to_string();
                        errors.push(error(&file, format!("cannot read: {}", e.error())));
                        continue;
                    }
                };
                if path.is_dir() {
                    continue;
                }
                matched += 1;
                let name = path.display().to_string();
                if files.iter().any(|(n, _)| *n == name) {
                    continue;
                }
                match read_file(&path) {
                    Ok(text) => files.push((name, text)),
                    Err(e) => errors.push(error(&name, e.to_string())),
                }
            }
        }
        let wildcard = pattern.contains(['*', '?', '[']);
        if invalid {
            continue;
        }
        if matched == 0 && !is_dir && !wildcard {
            errors.push(error(pattern, "no such file".to_string()));
        } else if matched == 0 && !allow_empty {
            let what = if is_dir {
                "directory holds no slo file (*.yaml, *.yml)"
            } else {
                "glob matches no slo file"
            };
            errors.push(error(
                pattern,
                format!(
                    "{what}: fix the path, or set `slo.allow_empty: true` (`--allow-empty`) \
                     to run without its slos"
                ),
            ));
        }
    }
    let mut parsed = Vec::new();
    let mut adjustments = Vec::new();
    // One room for the regexes of every file: the set is loaded (and kept) as a whole.
    let regex_room = Cell::new(crate::slo::ottl::MAX_REGEX_TOTAL_BYTES);
    for (name, text) in &files {
        let (slos, file_errors) = parse_located(text, name, &mut adjustments, &regex_room);
        parsed.extend(slos);
        errors.extend(file_errors);
    }
    check_duplicates(&parsed, &mut errors);
    journey::resolve(&mut parsed, &mut errors);
    if !errors.is_empty() {
        let order: HashMap<&str, usize> = files
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.as_str(), i))
            .collect();
        errors.sort_by_key(|e| {
            let file = order.get(e.file.as_str()).copied().unwrap_or(usize::MAX);
            (file, e.line, e.column)
        });
        return Err(ConfigErrors(errors));
    }
    Ok(SloSet {
        slos: parsed.into_iter().map(|p| p.slo).collect(),
        adjustments,
    })
}

/// A fingerprint of the files `globs` match right now (paths, sizes, modification
/// times), so a watcher can tell when a reload is due without parsing anything.
pub fn fingerprint(globs: &[String]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let expanded = globs
        .iter()
        .filter(|p| !p.starts_with(EMBEDDED_PREFIX))
        .flat_map(|p| expand(p));
    for pattern in expanded {
        let Ok(paths) = glob::glob(&pattern) else {
            continue;
        };
        for path in paths.flatten() {
            path.hash(&mut h);
            if let Ok(meta) = std::fs::metadata(&path) {
                meta.len().hash(&mut h);
                meta.modified().ok().hash(&mut h);
            }
        }
    }
    h.finish()
}

/// The globs an entry of `slo.files` stands for: a directory's `*.yaml` and `*.yml`
/// files, else the entry itself.
fn expand(pattern: &str) -> Vec<String> {
    if std::path::Path::new(pattern).is_dir() {
        let escaped = glob::Pattern::escape(pattern.trim_end_matches('/'));
        vec![format!("{escaped}/*.yaml"), format!("{escaped}/*.yml")]
    } else {
        vec![pattern.to_string()]
    }
}

/// Parses one SLO file (native or OpenSLO, several documents allowed); `file` names it in
/// errors and in [`Slo::source`]. Duplicate names within the file are errors too.
pub fn parse_file(text: &str, file: &str) -> Result<Vec<Slo>, Vec<ConfigError>> {
    let regex_room = Cell::new(crate::slo::ottl::MAX_REGEX_TOTAL_BYTES);
    let (mut parsed, mut errors) = parse_located(text, file, &mut Vec::new(), &regex_room);
    check_duplicates(&parsed, &mut errors);
    journey::resolve(&mut parsed, &mut errors);
    if errors.is_empty() {
        Ok(parsed.into_iter().map(|p| p.slo).collect())
    } else {
        errors.sort_by_key(|e| (e.line, e.column));
        Err(errors)
    }
}

fn parse_located(
    text: &str,
    file: &str,
    adjustments: &mut Vec<crate::slo::adjust::Adjustment>,
    regex_room: &Cell<usize>,
) -> (Vec<Parsed>, Vec<ConfigError>) {
    let mut errors = Vec::new();
    let mut parsed = Vec::new();
    let src = Source::new(text, regex_room);
    let mut documents = 0;
    for document in documents_of(text) {
        let mut doc_errors = Vec::new();
        let Some(root) = yaml::parse(&document, file, &mut doc_errors) else {
            errors.extend(doc_errors);
            continue;
        };
        if root.value == Value::Null {
            errors.extend(doc_errors);
            continue;
        }
        documents += 1;
        let mut ctx = Ctx::new(file, &NoLookup, doc_errors);
        let is_openslo = match &root.value {
            Value::Map(entries) => entries.iter().any(|(k, _)| {
                matches!(&k.value, Value::Scalar { text, .. } if text == "apiVersion" || text == "kind")
            }),
            _ => false,
        };
        if is_openslo {
            openslo::decode(&mut ctx, &src, &root, &mut parsed);
        } else {
            native::decode(&mut ctx, &src, &root, &mut parsed, adjustments);
        }
        errors.extend(ctx.errors);
    }
    if documents == 0 && errors.is_empty() {
        errors.push(ConfigError {
            file: file.to_string(),
            path: String::new(),
            line: 0,
            column: 0,
            message: "the file defines no slo".to_string(),
        });
    }
    (parsed, errors)
}

/// The YAML documents of `text`, split at `---` lines; each is padded with empty lines so
/// that its line numbers are those of the whole file.
fn documents_of(text: &str) -> Vec<String> {
    let mut documents = Vec::new();
    let mut current = String::new();
    for (lines, line) in text.split_inclusive('\n').enumerate() {
        let marker = line
            .strip_prefix("---")
            .is_some_and(|rest| rest.chars().next().is_none_or(char::is_whitespace));
        if marker && lines > 0 {
            documents.push(std::mem::replace(&mut current, "\n".repeat(lines)));
        }
        current.push_str(line);
    }
    documents.push(current);
    documents
}

fn check_duplicates(parsed: &[Parsed], errors: &mut Vec<ConfigError>) {
    let mut seen: HashMap<(&str, &str), &Slo> = HashMap::new();
    for p in parsed {
        let slo = &p.slo;
        let key = (slo.service.as_str(), slo.name.as_str());
        match seen.get(&key) {
            Some(first) => errors.push(ConfigError {
                file: slo.source.file.clone(),
                path: String::new(),
                line: slo.source.line,
                column: p.column,
                message: format!(
                    "duplicate slo `{}/{}`, first defined at {}:{}",
                    slo.service, slo.name, first.source.file, first.source.line
                ),
            }),
            None => {
                seen.insert(key, slo);
            }
        }
    }
}

fn read_file(path: &std::path::Path) -> Result<String, crate::regular_file::ReadError> {
    crate::regular_file::read_text(path, MAX_FILE_BYTES, "slo file")
}
