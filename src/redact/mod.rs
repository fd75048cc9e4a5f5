//! PII redaction: the processor that removes personal and secret data from logs and traces
//! before anything is stored.
//!
//! slotel is the one place where PII is removed before logs reach shared storage, so this
//! stage must be thorough (validated detectors, key rules, JSON inside JSON) and cheap
//! enough to sit on every log line.
//!
//! # How a string is redacted
//!
//! A string that looks like a JSON object or array is walked by `json.rs`, which copies the
//! text through and rewrites only the string tokens (and values under sensitive keys) that
//! must change: structure, key order, whitespace and number text survive byte for byte,
//! which a parse → modify → serialize round trip cannot promise. Any other string, and a
//! JSON-looking one that fails to parse or passes the limits, is scanned as text (fail
//! closed). Scanning is one byte pass per string (`scan.rs`) that finds where each group
//! of patterns can start, then anchored regex searches only there (`detect.rs`);
//! validators (Luhn, dates, mod-97, checksums) run only on candidates (`validate.rs`). A
//! string with nothing to redact costs no allocation. Object keys (JSON and OTLP maps)
//! are scanned as text too, and `bytes` values that are UTF-8 like strings.
//!
//! # Layout
//!
//! - `mod.rs`: [`Redactor`] (the compiled config), [`Session`] (per-batch state: search
//!   cache, counts), [`RedactionProcessor`] (the pipeline stage) and [`RedactError`].
//! - `types.rs`: [`PiiType`], [`RedactAction`], [`Validator`]: what is found and what is
//!   done with it (the config names them; their names are metric labels).
//! - `scan.rs`: the prefilter pass: candidate starts per group, numeric spans.
//! - `starts.rs`: the tests the scan pass applies where a match may start (keywords,
//!   parameter names, numeric shapes).
//! - `skip.rs`: 16-byte blocks classified at once (SSE2 on x86_64) for `scan.rs` and
//!   the JSON string scanner.
//! - `detect.rs`: the built-in patterns, grouped, and the anchored searches.
//! - `literal.rs`, `secret.rs`, `anchored.rs`: anchored searches read by hand, the same
//!   matches as the group regexes in `detect.rs` (the `literal` group; the `secret`
//!   pattern; the `url_secret`, `email` and `alnum` groups).
//! - `marked.rs`: secrets in free text after a word that names them (`passwd …`).
//! - `validate.rs`: validators run on candidates.
//! - `columns.rs`: values keyed apart from them: a CSV column under its header, an SQL
//!   value under its column list, an XML element's text, an Erlang `{key,<<"…">>}`.
//! - `context.rs`: what a key or the words before a value say it is (key hints, marking
//!   words in English and Korean), asked only for candidates that need it.
//! - `numbers.rs`: numbers read by hand at numeric candidates: US phones, Korean
//!   licences, and with context dates of birth, bank accounts, plain SSN/BRN/FRN.
//! - `phones.rs`: a phone number in any national format under a key that names a phone.
//! - `percent.rs`: percent-encoded text, decoded for detection (around what decoding
//!   changed) and mapped back.
//! - `wrap.rs`: tokens cut by a fixed-width line wrap, joined to their continuation.
//! - `keys.rs`: sensitive and ignored keys.
//! - `action.rs`: replace, mask, keyed hash (HMAC-SHA256), drop.
//! - `json.rs`: the copy-through JSON walker.
//! - `otlp/`: where redaction applies in OTLP logs, traces and metrics.
//! - `sensitive.rs`: [`Sensitive`], for values that must never reach slotel's own logs.
//! - `policy.rs`: [`Policies`] (the default and the per-tenant / per-service ones, picked
//!   per batch or per resource), allow-lists, and the per-batch counts on `/metrics`.
//! - `audit.rs`: counts per type and key path, and the dry-run markers.
//! - `slo_inputs.rs`: log SLI fields a policy would remove or rewrite (`slotel check`).
//! - `cli.rs`: `slotel redact`, to try the rules on sample log lines.
//!
//! # Invariants
//!
//! - Nothing here panics on input; every limit (depth, size, nesting) fails closed: the
//!   value is scanned as text instead, and the fallback is counted.
//! - Trace and span ids, timestamps and ignored keys are never changed.
//! - Found values never reach slotel's logs, errors or metric labels: metrics count per
//!   type, action, signal, tenant and policy, once per batch.

mod action;
mod anchored;
pub mod audit;
mod cef;
pub mod cli;
mod columns;
mod context;
mod detect;
mod erlang;
mod hexrun;
mod html;
mod json;
#[cfg(test)]
mod keyed_tests;
mod keys;
#[cfg(test)]
mod labelled_tests;
mod literal;
mod markdown;
mod marked;
mod numbers;
mod otlp;
#[cfg(test)]
mod pair_tests;
mod pairs;
mod percent;
mod phones;
pub mod policy;
mod scan;
mod secret;
mod sensitive;
#[cfg(test)]
mod shape_tests;
mod skip;
pub mod slo_inputs;
mod starts;
#[cfg(test)]
mod test_text;
#[cfg(test)]
mod tests;
mod types;
mod validate;
mod wrap;

use std::sync::Arc;

pub use keys::DEFAULT_IGNORED;
pub use policy::Policies;
pub use sensitive::Sensitive;
pub(crate) use skip::{BLOCK as STRING_MASK_BLOCK, string_mask};
pub use types::{PiiType, RedactAction, Validator};

use crate::config::RedactionConfig;
use crate::pipeline::{Batch, Processor};
use crate::telemetry::Metrics;
use action::Hasher;
use detect::{Caches, Detectors, Found};

/// Why a [`Redactor`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    #[error("cannot compile the redaction detectors: {0}")]
    Regex(#[from] crate::user_regex::RegexError),
    #[error("cannot compile the redaction detectors: allow pattern: {0}")]
    AllowPattern(crate::user_regex::RegexError),
    /// The built-in detectors' patterns did not compile (a defect, not a setting).
    #[error("cannot compile the redaction detectors: {0}")]
    Builtin(Box<regex_automata::meta::BuildError>),
    #[error("cannot compile the redaction detectors: too many custom detectors")]
    TooManyDetectors,
    #[error("the hash key is not usable")]
    HashKey,
}

/// A detector's type: built-in types first (in [`PiiType::ALL`] order), then custom ones,
/// then the pseudonymised Kubernetes identifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TypeId(u16);

impl TypeId {
    pub(crate) fn builtin(t: PiiType) -> Self {
        TypeId(t as u16)
    }

    fn index(self) -> usize {
        usize::from(self.0)
    }
}

struct TypeInfo {
    name: String,
    builtin: Option<PiiType>,
    /// `None` when off.
    action: Option<RedactAction>,
}

/// Why a value was scanned as text instead of walked as JSON. A label value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// Deeper than `json.max_depth`.
    TooDeep,
    /// Larger than `json.max_bytes`.
    TooLarge,
}

impl Fallback {
    pub const ALL: [Fallback; 2] = [Fallback::TooDeep, Fallback::TooLarge];

    pub fn as_str(self) -> &'static str {
        match self {
            Fallback::TooDeep => "json_too_deep",
            Fallback::TooLarge => "json_too_large",
        }
    }
}

/// A compiled `processors.redaction` config.
pub struct Redactor {
    types: Vec<TypeInfo>,
    k8s: TypeId,
    detectors: Detectors,
    hasher: Option<Hasher>,
    mask_keep: usize,
    json: crate::config::JsonLimits,
    span_names: bool,
    summary: bool,
    pseudonymize: Vec<String>,
    has_custom: bool,
    /// Found values never redacted (`allow`).
    allow: policy::Allow,
    /// Search caches returned by finished sessions, so a batch does not rebuild the lazy
    /// DFAs' states from scratch.
    pool: std::sync::Mutex<Vec<Caches>>,
}

impl Redactor {
    pub fn new(cfg: &RedactionConfig) -> Result<Self, RedactError> {
        let mut types: Vec<TypeInfo> = PiiType::ALL
            .into_iter()
            .map(|t| TypeInfo {
                name: t.as_str().to_string(),
                builtin: Some(t),
                action: cfg.action_of(t),
            })
            .collect();
        let mut custom_ids = Vec::new();
        for c in &cfg.custom {
            custom_ids.push(TypeId(
                u16::try_from(types.len()).map_err(|_| RedactError::TooManyDetectors)?,
            ));
            types.push(TypeInfo {
                name: c.name.clone(),
                builtin: None,
                action: Some(c.action),
            });
        }
        let k8s = TypeId(types.len() as u16);
        types.push(TypeInfo {
            name: "k8s".to_string(),
            builtin: None,
            action: Some(RedactAction::Hash),
        });
        let hasher = match &cfg.hash {
            Some(h) => Some(Hasher::new(h.key.as_bytes(), h.length).ok_or(RedactError::HashKey)?),
            None => None,
        };
        Ok(Self {
            detectors: Detectors::new(cfg, &custom_ids)?,
            types,
            k8s,
            hasher,
            mask_keep: cfg.mask_keep,
            json: cfg.json,
            span_names: cfg.span_names,
            summary: cfg.summary,
            pseudonymize: cfg.pseudonymize.clone().unwrap_or_default(),
            has_custom: !cfg.custom.is_empty(),
            allow: policy::Allow::new(&cfg.allow)?,
            pool: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// A session: the state to redact one batch (or a stream of lines) with.
    pub fn session(&self) -> Session<'_> {
        Session {
            redactor: self,
            caches: self
                .pool
                .lock()
                .ok()
                .and_then(|mut pool| pool.pop())
                .unwrap_or_else(|| self.detectors.caches()),
            found: Vec::new(),
            counts: vec![[0; 4]; self.types.len()],
            fallbacks: [0; 2],
            total: 0,
            walks: 0,
            walked: Vec::new(),
            audit: None,
            key_memo: json::KeyMemo::default(),
            whole_decoded: false,
        }
    }

    /// True for a key no built-in detector can match, so it need not be scanned: under
    /// 32 bytes of `[a-z_.]` only. Every built-in pattern needs a byte outside that set
    /// (`@`, `:`, `=`, `-`, a space, a digit or a capital) or, for GitHub tokens, 33
    /// bytes or more. Custom detectors can match anything, so with any of them every
    /// key is scanned.
    fn plain_key(&self, key: &str) -> bool {
        !self.has_custom
            && key.len() < 32
            && key
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c == b'_' || c == b'.')
    }

    fn enabled(&self, t: PiiType) -> bool {
        self.types[TypeId::builtin(t).index()].action.is_some()
    }
}

/// A match in percent-encoded text: start and end in the text as written, type, and
/// its span in the decoded text when it was found there.
type Hit = (usize, usize, TypeId, Option<(usize, usize)>);

/// A match found in percent-decoded text ends where its query or form field does: at a
/// `&` written as such (not `%26`) that starts the next `name=`, which no encoded value
/// holds (`?cookie=sid%3Dab12&spanId=…`: the cookie ends before `&spanId`). The match
/// is `a..b` in `s` and `ds..de` decoded; returns the new `b` and `de`.
fn query_field_end(
    s: &str,
    decoded: &percent::Decoded,
    a: usize,
    b: usize,
    ds: usize,
    de: usize,
) -> (usize, usize) {
    let bytes = s.as_bytes();
    let field = |at: usize| {
        let name = bytes[at + 1..]
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'%'))
            .count();
        name > 0 && bytes.get(at + 1 + name) == Some(&b'=')
    };
    let Some(cut) = (a + 1..b).find(|&i| bytes[i] == b'&' && field(i)) else {
        return (b, de);
    };
    // The decoded byte that came from the `&`.
    match (ds..de).find(|&j| decoded.original(j, j).0 == cut) {
        Some(j) => (cut, j),
        None => (b, de),
    }
}

/// How far around a decoded byte percent-decoded text is detected again, at least
/// (`percent::Decoded::windows`): past the longest look back for a marking word
/// (48 bytes) and the numbers written with blanks (an IBAN in groups, 42 bytes).
const DECODED_MARGIN: usize = 128;

/// The result of redacting one string.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Text {
    Clean,
    Changed(String),
    /// A `drop` action hit: remove the field that holds the string.
    Drop,
}

fn action_index(a: RedactAction) -> usize {
    match a {
        RedactAction::Replace => 0,
        RedactAction::Mask => 1,
        RedactAction::Hash => 2,
        RedactAction::Drop => 3,
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let caches = std::mem::replace(&mut self.caches, Caches::empty());
        if let Ok(mut pool) = self.redactor.pool.lock()
            && pool.len() < 64
        {
            pool.push(caches);
        }
    }
}

/// Per-batch redaction state: the regex search cache, scratch space and counts.
pub struct Session<'r> {
    redactor: &'r Redactor,
    caches: Caches,
    found: Vec<Found>,
    counts: Vec<[u64; 4]>,
    fallbacks: [u64; 2],
    /// Redactions so far (for the per-record summary).
    total: u64,
    /// JSON walks in progress, and what they counted (taken back when a walk fails).
    walks: usize,
    walked: Vec<(TypeId, RedactAction)>,
    /// Counts per key path and dry-run markers (`slotel redact --report`, `--dry-run`).
    audit: Option<Box<audit::Audit>>,
    /// Object keys seen in this session: class, and whether scanning them finds nothing.
    key_memo: json::KeyMemo,
    /// Detect percent-decoded text whole, not only around what decoding changed: the
    /// slower path the tests compare the parts with.
    whole_decoded: bool,
}

impl Session<'_> {
    /// Redacts a log body string: JSON-aware, or free text. `None` when nothing changed.
    pub fn redact_str(&mut self, s: &str) -> Option<String> {
        match self.string(s, false, 0, 0, context::Key::NONE) {
            Text::Changed(s) => Some(s),
            Text::Clean | Text::Drop => None,
        }
    }

    /// Redactions so far, by type name and action (non-zero only).
    pub fn counts(&self) -> impl Iterator<Item = (&str, RedactAction, u64)> + '_ {
        self.counts.iter().enumerate().flat_map(move |(i, per)| {
            RedactAction::ALL
                .into_iter()
                .zip(per)
                .filter(|(_, n)| **n > 0)
                .map(move |(a, n)| (self.redactor.types[i].name.as_str(), a, *n))
        })
    }

    /// Values scanned as text because they passed a JSON limit, by reason (non-zero only).
    pub fn fallbacks(&self) -> impl Iterator<Item = (Fallback, u64)> + '_ {
        Fallback::ALL
            .into_iter()
            .zip(self.fallbacks)
            .filter(|(_, n)| *n > 0)
    }

    /// Every redaction so far.
    pub fn total(&self) -> u64 {
        self.total
    }

    fn count(&mut self, ty: TypeId, action: RedactAction) {
        if let Some(slot) = self.counts.get_mut(ty.index()) {
            slot[action_index(action)] += 1;
        }
        self.total += 1;
        self.counted(ty, action);
    }

    /// A string that may hold JSON. `in_field`: a drop removes the field (else the match).
    /// `key`: the hint of the key it sits under (`context.rs`).
    fn string(
        &mut self,
        s: &str,
        in_field: bool,
        depth: usize,
        nested: usize,
        key: context::Key<'_>,
    ) -> Text {
        // `token_like` needs 16 bytes: most values are shorter and skip both tests.
        if s.len() >= 16 && key.hint() & context::CREDENTIAL != 0 && context::token_like(s) {
            return self.whole(TypeId::builtin(PiiType::ApiKey), s);
        }
        let limits = self.redactor.json;
        if nested <= limits.max_nested && json::looks_like_json(s) {
            if s.len() > limits.max_bytes {
                self.fallbacks[1] += 1;
            } else {
                match self.walk(s, depth, nested + 1) {
                    Ok(None) => return Text::Clean,
                    Ok(Some(out)) => return Text::Changed(out),
                    Err(json::JsonError::TooDeep) => self.fallbacks[0] += 1,
                    Err(json::JsonError::Invalid) => {}
                }
            }
        }
        self.text(s, in_field, key)
    }

    /// Free text: every detector, one pass. `key`: the hint of the key it sits under.
    fn text(&mut self, s: &str, in_field: bool, key: context::Key<'_>) -> Text {
        let r = self.redactor;
        let mut found = std::mem::take(&mut self.found);
        found.clear();
        r.detectors
            .find(&mut self.caches, s, key, |t| r.enabled(t), &mut found);
        // The scan of `s` that `find` ran saw every byte a decoder starts at: most
        // strings hold none and are not searched again.
        let scan = self.caches.scan();
        let (pct, markup, wide, newline) = (
            scan.has_percent_bytes(),
            scan.has_markup_bytes(),
            scan.has_wide_blanks(),
            scan.newline,
        );
        if newline < s.len() {
            r.detectors.join_wrapped(
                &mut self.caches,
                s,
                newline,
                key,
                |t| r.enabled(t),
                &mut found,
            );
        }
        if (pct || markup || wide)
            && let Some(decoded) = percent::decode_either(s, pct, markup, wide)
        {
            return self.text_encoded(s, &decoded, found, in_field, key);
        }
        // `ts=…`, `trace_id: …`: left alone in text as under the same key in JSON.
        found.retain(|f| !r.detectors.keys.ignored_in_text(s.as_bytes(), f.start));
        if !r.allow.is_empty() {
            found.retain(|f| !r.allow.permits(&s[f.start..f.end]));
        }
        if found.is_empty() {
            self.found = found;
            return Text::Clean;
        }
        let action = |f: &Found| {
            r.types[f.ty.index()]
                .action
                .unwrap_or(RedactAction::Replace)
        };
        let drops = self.drops();
        let result = if in_field && drops && found.iter().any(|f| action(f) == RedactAction::Drop) {
            Text::Drop
        } else {
            let mut out = String::with_capacity(s.len() + 16);
            let mut at = 0;
            for f in &found {
                out.push_str(&s[at..f.start]);
                self.replace(f.ty, action(f), &s[f.start..f.end], &mut out);
                at = f.end;
            }
            out.push_str(&s[at..]);
            Text::Changed(out)
        };
        for f in &found {
            self.count(f.ty, action(f));
        }
        self.found = found;
        result
    }

    /// Text with percent-escapes (`kim%40example.com`, `%2B82-10-…`) or markup
    /// (`kim&#64;example.com`, full-width `０１０－…`): detected in the text as written,
    /// and as decoded around what decoding changed; a match found in the decoded text is
    /// replaced in place, its replacement percent-encoded where the original was
    /// percent-encoded, so a URL or form body stays valid and decodes to
    /// `[REDACTED:<type>]`.
    fn text_encoded(
        &mut self,
        s: &str,
        decoded: &percent::Decoded,
        mut found: Vec<Found>,
        in_field: bool,
        key: context::Key<'_>,
    ) -> Text {
        let r = self.redactor;
        let plain = found.len();
        // The decoded text only around what decoding changed: elsewhere it is the text
        // as written, detected above.
        let parts = if self.whole_decoded {
            vec![(0, decoded.text.len())]
        } else {
            decoded.windows(DECODED_MARGIN)
        };
        for (lo, hi) in parts {
            let at = found.len();
            r.detectors.find(
                &mut self.caches,
                &decoded.text[lo..hi],
                key,
                |t| r.enabled(t),
                &mut found,
            );
            for f in &mut found[at..] {
                f.start += lo;
                f.end += lo;
            }
        }
        let mut hits: Vec<Hit> = found
            .iter()
            .enumerate()
            .filter(|&(i, f)| {
                let text = if i < plain { s } else { &decoded.text };
                !r.detectors.keys.ignored_in_text(text.as_bytes(), f.start)
            })
            .map(|(i, f)| {
                if i < plain {
                    (f.start, f.end, f.ty, None)
                } else {
                    let (a, b) = decoded.original(f.start, f.end);
                    let (b, end) = if decoded.percent {
                        query_field_end(s, decoded, a, b, f.start, f.end)
                    } else {
                        (b, f.end)
                    };
                    (a, b, f.ty, Some((f.start, end)))
                }
            })
            .collect();
        self.found = found;
        if !r.allow.is_empty() {
            hits.retain(|h| {
                let value = match h.3 {
                    Some((ds, de)) => &decoded.text[ds..de],
                    None => &s[h.0..h.1],
                };
                !r.allow.permits(value)
            });
        }
        if hits.is_empty() {
            return Text::Clean;
        }
        // Earliest first, the longer at equal starts; no overlaps.
        hits.sort_by_key(|h| (h.0, std::cmp::Reverse(h.1)));
        let mut end = 0;
        hits.retain(|h| {
            let keep = h.0 >= end;
            if keep {
                end = h.1;
            }
            keep
        });
        let action = |ty: TypeId| r.types[ty.index()].action.unwrap_or(RedactAction::Replace);
        let drops = self.drops();
        let result = if in_field && drops && hits.iter().any(|h| action(h.2) == RedactAction::Drop)
        {
            Text::Drop
        } else {
            let mut out = String::with_capacity(s.len() + 16);
            let mut at = 0;
            for &(start, end, ty, dec) in &hits {
                out.push_str(&s[at..start]);
                match dec {
                    Some((ds, de)) if decoded.percent && s[start..end].contains(['%', '+']) => {
                        let mut plain = String::new();
                        self.replace(ty, action(ty), &decoded.text[ds..de], &mut plain);
                        percent::encode(&plain, &mut out);
                    }
                    _ => self.replace(ty, action(ty), &s[start..end], &mut out),
                }
                at = end;
            }
            out.push_str(&s[at..]);
            Text::Changed(out)
        };
        for h in &hits {
            self.count(h.2, action(h.2));
        }
        result
    }

    /// The whole value is of type `ty` (a sensitive key's value).
    fn whole(&mut self, ty: TypeId, value: &str) -> Text {
        let Some(action) = self.redactor.types[ty.index()].action else {
            return Text::Clean;
        };
        if self.redactor.allow.permits(value) {
            return Text::Clean;
        }
        self.count(ty, action);
        if action == RedactAction::Drop && self.drops() {
            return Text::Drop;
        }
        let mut out = String::new();
        self.replace(ty, action, value, &mut out);
        Text::Changed(out)
    }

    fn replace(&self, ty: TypeId, action: RedactAction, value: &str, out: &mut String) {
        let r = self.redactor;
        let info = &r.types[ty.index()];
        if self.dry_run() {
            return audit::mark(&info.name, action, value, out);
        }
        action::apply(
            action,
            &info.name,
            info.builtin,
            value,
            r.mask_keep,
            r.hasher.as_ref(),
            out,
        );
    }
}

/// The pipeline stage: redacts logs, traces and metrics in place with the policy of each
/// batch's tenant (and each resource's `service.name`), counts per batch.
pub struct RedactionProcessor {
    policies: Arc<Policies>,
    metrics: Arc<Metrics>,
}

impl RedactionProcessor {
    /// A processor with the default policy alone.
    pub fn new(redactor: Arc<Redactor>, metrics: Arc<Metrics>) -> Self {
        Self::with_policies(Arc::new(Policies::single(redactor)), metrics)
    }

    pub fn with_policies(policies: Arc<Policies>, metrics: Arc<Metrics>) -> Self {
        Self { policies, metrics }
    }
}

impl Processor for RedactionProcessor {
    fn name(&self) -> &str {
        "redaction"
    }

    fn process(&self, batch: &mut Batch) {
        // Any redaction drops the bytes as received (`Batch::edit_payload`).
        self.policies.process(&self.metrics, batch);
    }
}

/// A xorshift64 sequence from `seed` (not zero): the redaction tests' random pieces,
/// the same on every run.
#[cfg(test)]
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// Every line of the redaction corpora (`testdata/redact/`), each followed by the body,
/// document or input string it holds: the tests' real-world places.
#[cfg(test)]
pub(crate) fn corpus_texts() -> Vec<String> {
    let mut out = Vec::new();
    for file in ["corpus.jsonl", "eval/corpus.jsonl", "cases.jsonl"] {
        let path = format!("{}/testdata/redact/{file}", env!("CARGO_MANIFEST_DIR"));
        for line in std::fs::read_to_string(path).unwrap().lines() {
            out.push(line.to_string());
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            for field in ["body", "doc", "in"] {
                if let Some(s) = v[field].as_str() {
                    out.push(s.to_string());
                }
            }
        }
    }
    out
}

/// Compares a hand reading of an anchored search with its regex (the reference) at every
/// character boundary `p` of `s`, up to the end and up to the last boundary at least
/// `cut_back` bytes before it: the same (pattern, end) or both none, wherever `hand`
/// decides (`Some`). Counts the places decided and those that matched.
#[cfg(test)]
pub(crate) fn compare_with_regex(
    re: &regex_automata::meta::Regex,
    hand: impl Fn(&[u8], usize, usize) -> Option<Option<(usize, usize)>>,
    s: &str,
    cut_back: usize,
    counts: &mut (usize, usize),
) {
    use regex_automata::{Anchored, Input};
    let b = s.as_bytes();
    let cut = s
        .char_indices()
        .map(|(i, _)| i)
        .rfind(|&i| i + cut_back <= b.len())
        .unwrap_or(0);
    for p in (0..b.len()).filter(|&p| s.is_char_boundary(p)) {
        for hi in [b.len(), cut] {
            if p >= hi {
                continue;
            }
            let Some(got) = hand(b, p, hi) else {
                continue;
            };
            counts.0 += 1;
            counts.1 += usize::from(got.is_some());
            let input = Input::new(s).range(p..hi).anchored(Anchored::Yes);
            let want = re.search(&input).map(|m| (m.pattern().as_usize(), m.end()));
            assert_eq!(got, want, "{s:?} at {p}..{hi}");
        }
    }
}

/// A table of bytes for a scan's `t[usize::from(c)]` test: ASCII letters and digits, the
/// bytes of `extra`, and every byte from 0x80 (of UTF-8 sequences) when `non_ascii`.
pub(crate) const fn byte_table(extra: &[u8], non_ascii: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = (c as u8).is_ascii_alphanumeric() || (non_ascii && c >= 0x80);
        c += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}
