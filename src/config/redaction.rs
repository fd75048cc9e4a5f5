//! `processors.redaction`: the validated settings the redaction processor
//! ([`crate::redact`]) is built from, and their decoder. The kinds of data, actions and
//! validators they name are redaction's own types ([`crate::redact::PiiType`], …); user
//! regexes are compiled under the one policy of [`crate::user_regex`].
//!
//! Everything that can be checked without data is checked here: type names, actions,
//! custom regexes (compiled once under size limits, so a bad or huge pattern is a located
//! config error instead of a start-up failure), and that a `hash` action has a key. The
//! hash key is never printed: not by `Debug`, not in errors.

use crate::redact::{PiiType, RedactAction, Validator};
use crate::user_regex::compile_regex;
use crate::yaml::Node;
use crate::yaml::read::{Ctx, Fields, hint};

/// The shortest hash key accepted, in bytes.
pub const MIN_HASH_KEY_BYTES: usize = 16;

/// One entry of `processors.redaction.custom`.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomDetector {
    /// `name` (required): `[a-z0-9_]+`, not a built-in type; the type in
    /// `[REDACTED:<name>]` and in metrics.
    pub name: String,
    /// `regex` (required): what to find; Rust regex syntax, size-limited.
    pub regex: String,
    /// `validator` (optional): `luhn` | `iban` | `kr_rrn` | `kr_brn`.
    pub validator: Option<Validator>,
    /// `action` (optional): overrides `processors.redaction.action`.
    pub action: RedactAction,
}

/// `processors.redaction.keys`.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRules {
    /// `builtin_sensitive` (default true): keys whose name, lowercased and stripped of
    /// everything but letters and digits, ends with a built-in sensitive name (`password`,
    /// `token`, `apikey`, `authorization`, `cookie`, …) have their whole value redacted.
    pub builtin_sensitive: bool,
    /// `sensitive` (list of regexes, default empty): more keys whose whole value is
    /// redacted (type `secret`).
    pub sensitive: Vec<String>,
    /// `ignore` (list of key names, case-insensitive): added to the built-in list of keys
    /// that are never scanned (trace and span ids, timestamps, `service.name`, …).
    pub ignore: Vec<String>,
}

impl Default for KeyRules {
    fn default() -> Self {
        Self {
            builtin_sensitive: true,
            sensitive: Vec::new(),
            ignore: Vec::new(),
        }
    }
}

/// `processors.redaction.hash`.
#[derive(Clone, PartialEq)]
pub struct HashConfig {
    /// `key` (required, at least 16 bytes; typically `${file:…}` or `${env:…}`).
    pub key: String,
    /// `length` (default 16, 8 to 64): hex characters kept of the HMAC.
    pub length: usize,
}

impl std::fmt::Debug for HashConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashConfig")
            .field("key", &"<redacted>")
            .field("length", &self.length)
            .finish()
    }
}

/// `processors.redaction.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonLimits {
    /// `max_depth` (default 64): the deepest nesting of objects and arrays walked; a
    /// deeper body is scanned as text instead (and counted).
    pub max_depth: usize,
    /// `max_nested` (default 2): how many levels of JSON inside JSON string values are
    /// walked; deeper ones are scanned as text.
    pub max_nested: usize,
    /// `max_bytes` (byte size, default 1MiB): larger strings are scanned as text, not
    /// parsed as JSON (and counted).
    pub max_bytes: usize,
}

impl Default for JsonLimits {
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_nested: 2,
            max_bytes: 1024 * 1024,
        }
    }
}

/// The resource attributes `pseudonymize` hashes by default.
pub const DEFAULT_PSEUDONYMIZED: [&str; 5] = [
    "k8s.pod.name",
    "k8s.pod.uid",
    "k8s.node.name",
    "k8s.node.uid",
    "host.name",
];

/// `processors.redaction`.
#[derive(Debug, Clone, PartialEq)]
pub struct RedactionConfig {
    /// `action` (default `replace`): the action of every type not given one under
    /// `detectors`.
    pub action: RedactAction,
    /// `detectors`: per built-in type, `off`, `on` (the default action) or an action.
    /// Resolved here for every type in [`PiiType::ALL`] order; `None` is off.
    pub detectors: Vec<(PiiType, Option<RedactAction>)>,
    /// `custom` (list, default empty).
    pub custom: Vec<CustomDetector>,
    /// `keys`.
    pub keys: KeyRules,
    /// `mask.keep` (default 4): letters and digits left visible at the end by `mask`.
    pub mask_keep: usize,
    /// `hash` (required when any action is `hash` or `pseudonymize` is set).
    pub hash: Option<HashConfig>,
    /// `json`.
    pub json: JsonLimits,
    /// `span_names` (default true): scan span names as text (URL paths carry PII).
    pub span_names: bool,
    /// `summary` (default false): add `slotel.redaction.count` to every log record and
    /// span that had something redacted.
    pub summary: bool,
    /// `pseudonymize.attributes`: resource attributes replaced by their keyed hash
    /// (`None` when `pseudonymize` is absent; present with no list means
    /// [`DEFAULT_PSEUDONYMIZED`]).
    pub pseudonymize: Option<Vec<String>>,
    /// `allow`: found values never redacted.
    pub allow: super::policy::AllowList,
    /// `policies` (list, default empty): the policies selected by tenant or
    /// `service.name`, first match first; these settings apply otherwise.
    pub policies: Vec<super::policy::PolicyConfig>,
}

impl Default for RedactionConfig {
    fn default() -> Self {
        Self {
            action: RedactAction::Replace,
            detectors: PiiType::ALL
                .into_iter()
                .map(|t| (t, Some(RedactAction::Replace)))
                .collect(),
            custom: Vec::new(),
            keys: KeyRules::default(),
            mask_keep: 4,
            hash: None,
            json: JsonLimits::default(),
            span_names: true,
            summary: false,
            pseudonymize: None,
            allow: super::policy::AllowList::default(),
            policies: Vec::new(),
        }
    }
}

impl RedactionConfig {
    /// The action of a built-in type, `None` when it is off.
    pub fn action_of(&self, t: PiiType) -> Option<RedactAction> {
        self.detectors
            .iter()
            .find(|(d, _)| *d == t)
            .and_then(|(_, a)| *a)
    }
}

const ACTIONS: [(&str, RedactAction); 4] = [
    ("replace", RedactAction::Replace),
    ("mask", RedactAction::Mask),
    ("hash", RedactAction::Hash),
    ("drop", RedactAction::Drop),
];

const BOOLS: [(&str, bool); 2] = [("true", true), ("false", false)];

fn action(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<RedactAction> {
    ctx.choice(node, path, &ACTIONS)
}

pub(super) fn boolean(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<bool> {
    ctx.choice(node, path, &BOOLS)
}

pub(super) fn strings(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<Vec<String>> {
    let items = ctx.seq(node, path)?;
    let strings = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| ctx.non_empty(item, &format!("{path}[{i}]")));
    Some(strings.collect())
}

fn regexes(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<Vec<String>> {
    let items = ctx.seq(node, path)?;
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("{path}[{i}]");
        if let Some(re) = ctx.non_empty(item, &path) {
            match compile_regex(&re) {
                Ok(_) => out.push(re),
                Err(e) => ctx.error(item, &path, e.to_string()),
            }
        }
    }
    Some(out)
}

/// A small number (0 allowed) no larger than `max`.
fn bounded(ctx: &mut Ctx<'_>, node: &Node, path: &str, min: usize, max: usize) -> Option<usize> {
    let text = ctx.string(node, path)?;
    match text.trim().parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            let msg =
                format!("invalid number {text:?}, expected a whole number from {min} to {max}");
            ctx.error(node, path, msg);
            None
        }
    }
}

/// Decodes `processors.redaction` (`f` is its mapping).
pub(super) fn decode(ctx: &mut Ctx<'_>, mut f: Fields<'_>) -> RedactionConfig {
    let defaults = RedactionConfig::default();
    let entries = f.entries();
    let section = f.node;
    let section_path = f.path.clone();
    let default_action = f.opt(ctx, "action", action).unwrap_or(defaults.action);

    let mut detectors: Vec<(PiiType, Option<RedactAction>)> = PiiType::ALL
        .into_iter()
        .map(|t| (t, Some(default_action)))
        .collect();
    if let Some(node) = f.get("detectors") {
        let path = f.path("detectors");
        let names: Vec<&str> = PiiType::ALL.iter().map(|t| t.as_str()).collect();
        for (key, value) in ctx.entries(node, &path) {
            let Some(name) = ctx.key(key, &path) else {
                continue;
            };
            let entry_path = format!("{path}.{name}");
            let Some(t) = PiiType::from_name(&name) else {
                let msg = format!("unknown detector type {name:?}{}", hint(&name, &names));
                ctx.error(key, &entry_path, msg);
                continue;
            };
            let choices = [
                ("on", Some(default_action)),
                ("true", Some(default_action)),
                ("off", None),
                ("false", None),
                ("replace", Some(RedactAction::Replace)),
                ("mask", Some(RedactAction::Mask)),
                ("hash", Some(RedactAction::Hash)),
                ("drop", Some(RedactAction::Drop)),
            ];
            if let Some(setting) = ctx.choice(value, &entry_path, &choices)
                && let Some(slot) = detectors.iter_mut().find(|(d, _)| *d == t)
            {
                slot.1 = setting;
            }
        }
    }

    let custom = f
        .opt(ctx, "custom", |ctx, node, path| {
            Some(custom_detectors(ctx, node, path, default_action))
        })
        .unwrap_or_default();

    let mut keys = f.child(ctx, "keys");
    let key_rules = KeyRules {
        builtin_sensitive: keys.opt(ctx, "builtin_sensitive", boolean).unwrap_or(true),
        sensitive: keys.opt(ctx, "sensitive", regexes).unwrap_or_default(),
        ignore: keys.opt(ctx, "ignore", strings).unwrap_or_default(),
    };
    keys.finish(ctx);

    let mut mask = f.child(ctx, "mask");
    let mask_keep = mask
        .opt(ctx, "keep", |ctx, node, path| {
            bounded(ctx, node, path, 0, 64)
        })
        .unwrap_or(defaults.mask_keep);
    mask.finish(ctx);

    let hash_node = f.get("hash");
    let hash = f.section(ctx, "hash").map(|mut h| {
        let key_node = h.get("key");
        let key = h.required(ctx, "key", Ctx::non_empty).unwrap_or_default();
        if let Some(node) = key_node
            && !key.is_empty()
            && key.len() < MIN_HASH_KEY_BYTES
        {
            // Never print the key itself.
            let msg = format!("hash key is shorter than {MIN_HASH_KEY_BYTES} bytes");
            ctx.error(node, &h.path("key"), msg);
        }
        let length = h
            .opt(ctx, "length", |ctx, node, path| {
                bounded(ctx, node, path, 8, 64)
            })
            .unwrap_or(16);
        h.finish(ctx);
        HashConfig { key, length }
    });

    let mut json = f.child(ctx, "json");
    let jd = JsonLimits::default();
    let json_limits = JsonLimits {
        max_depth: json
            .opt(ctx, "max_depth", |ctx, node, path| {
                bounded(ctx, node, path, 1, 512)
            })
            .unwrap_or(jd.max_depth),
        max_nested: json
            .opt(ctx, "max_nested", |ctx, node, path| {
                bounded(ctx, node, path, 0, 8)
            })
            .unwrap_or(jd.max_nested),
        max_bytes: json
            .opt(ctx, "max_bytes", Ctx::byte_size)
            .unwrap_or(jd.max_bytes),
    };
    json.finish(ctx);

    let span_names = f.opt(ctx, "span_names", boolean).unwrap_or(true);
    let summary = f.opt(ctx, "summary", boolean).unwrap_or(false);
    let pseudonymize = f.section(ctx, "pseudonymize").map(|mut p| {
        let attributes = p.opt(ctx, "attributes", strings);
        p.finish(ctx);
        attributes.unwrap_or_else(|| DEFAULT_PSEUDONYMIZED.map(String::from).to_vec())
    });
    let allow = f
        .opt(ctx, "allow", super::policy::allow)
        .unwrap_or_default();
    let policies = f.get("policies").map(|node| (node, f.path("policies")));
    f.finish(ctx);

    let mut config = RedactionConfig {
        action: default_action,
        detectors,
        custom,
        keys: key_rules,
        mask_keep,
        hash,
        json: json_limits,
        span_names,
        summary,
        pseudonymize,
        allow,
        policies: Vec::new(),
    };
    let hashes = config
        .detectors
        .iter()
        .any(|(_, a)| *a == Some(RedactAction::Hash))
        || config.custom.iter().any(|c| c.action == RedactAction::Hash)
        || config.pseudonymize.is_some();
    if hashes && config.hash.is_none() {
        let msg = "the `hash` action and `pseudonymize` need `hash.key`";
        ctx.error(hash_node.unwrap_or(section), &section_path, msg);
    }
    if let Some((node, path)) = policies {
        config.policies = super::policy::policies(ctx, node, &path, entries);
    }
    config
}

fn custom_detectors(
    ctx: &mut Ctx<'_>,
    node: &Node,
    path: &str,
    default_action: RedactAction,
) -> Vec<CustomDetector> {
    let mut out: Vec<CustomDetector> = Vec::new();
    let Some(items) = ctx.seq(node, path) else {
        return out;
    };
    for (i, item) in items.iter().enumerate() {
        let path = format!("{path}[{i}]");
        let mut f = Fields::new(ctx, item, &path);
        let name_node = f.get("name");
        let name = f.required(ctx, "name", Ctx::non_empty).unwrap_or_default();
        if let Some(node) = name_node
            && !name.is_empty()
        {
            let name_path = f.path("name");
            if !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                let msg = format!("invalid detector name {name:?}, use only a-z, 0-9 and `_`");
                ctx.error(node, &name_path, msg);
            } else if PiiType::from_name(&name).is_some() {
                let msg = format!("detector name {name:?} is a built-in type");
                ctx.error(node, &name_path, msg);
            } else if out.iter().any(|c| c.name == name) {
                ctx.error(
                    node,
                    &name_path,
                    format!("duplicate detector name {name:?}"),
                );
            }
        }
        let regex = f
            .required(ctx, "regex", |ctx, node, path| {
                let re = ctx.non_empty(node, path)?;
                match compile_regex(&re) {
                    Ok(_) => Some(re),
                    Err(e) => {
                        ctx.error(node, path, e.to_string());
                        None
                    }
                }
            })
            .unwrap_or_default();
        let validator = f.opt(ctx, "validator", |ctx, node, path| {
            ctx.choice(node, path, &Validator::NAMED)
        });
        let action = f.opt(ctx, "action", action).unwrap_or(default_action);
        f.finish(ctx);
        out.push(CustomDetector {
            name,
            regex,
            validator,
            action,
        });
    }
    out
}
