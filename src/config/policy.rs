//! `processors.redaction.allow` and `processors.redaction.policies`: allow-lists and the
//! per-tenant / per-service redaction policies, and their decoders.
//!
//! A policy is decoded as the default policy (the keys of `processors.redaction` itself)
//! with the keys the policy sets put in their place: every key a policy sets replaces the
//! default's whole, except `detectors`, whose entries are merged per type (the policy's
//! win). The merge happens on the YAML tree, so a policy goes through the very decoder
//! the default does and its errors are located in the file. An error in a key a policy
//! inherits is reported once, at the default.

use super::redaction::{RedactionConfig, strings};
use crate::user_regex::compile_regex;
use crate::yaml::read::{Ctx, Fields};
use crate::yaml::{Node, Value};

/// The most policies one config may hold (each compiles its own detectors).
pub const MAX_POLICIES: usize = 64;

/// The most entries of one allow-list (`values` and `patterns` each).
pub const MAX_ALLOW: usize = 4096;

/// `allow`: values a detector or key rule finds that are never redacted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllowList {
    /// `values` (list of strings): a found value equal to one of these, ignoring ASCII
    /// case, is left as it is (e.g. a company's support address).
    pub values: Vec<String>,
    /// `patterns` (list of regexes): a found value that one of these matches whole is left
    /// as it is (e.g. `'[a-z.]+@example\.com'`).
    pub patterns: Vec<String>,
}

impl AllowList {
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.patterns.is_empty()
    }
}

/// One entry of `processors.redaction.policies`.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyConfig {
    /// `name` (required, unique; `[A-Za-z0-9_.-]`, at most 64 bytes): the `policy` label
    /// of `slotel_redactions_total`.
    pub name: String,
    /// `match.tenants` (list): the tenants (from the sender's token) this policy applies
    /// to. A tenant no token names is not an error (the policy then never matches on it).
    pub tenants: Vec<String>,
    /// `match.services` (list): the `service.name` resource attributes it applies to.
    pub services: Vec<String>,
    /// The settings: the default policy's, with the keys this policy sets in their place.
    /// Its own `policies` is always empty.
    pub config: RedactionConfig,
}

impl PolicyConfig {
    /// True when this policy applies to data of `tenant` and `service`: each list the
    /// policy gives must hold the data's value.
    pub fn matches(&self, tenant: Option<&str>, service: Option<&str>) -> bool {
        policy_matches(&self.tenants, &self.services, tenant, service)
    }
}

/// True when data of `tenant` and `service` is in each of the lists that is not empty.
pub fn policy_matches(
    tenants: &[String],
    services: &[String],
    tenant: Option<&str>,
    service: Option<&str>,
) -> bool {
    let has = |list: &[String], v: Option<&str>| {
        list.is_empty() || v.is_some_and(|v| list.iter().any(|x| x == v))
    };
    has(tenants, tenant) && has(services, service)
}

/// Decodes `allow`.
pub(super) fn allow(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<AllowList> {
    let mut f = Fields::new(ctx, node, path);
    let values = f.opt(ctx, "values", strings).unwrap_or_default();
    let pattern_list = f
        .opt(ctx, "patterns", |ctx, node, path| {
            let items = ctx.seq(node, path)?;
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let path = format!("{path}[{i}]");
                if let Some(re) = ctx.non_empty(item, &path) {
                    match compile_regex(&anchored(&re)) {
                        Ok(_) => out.push(re),
                        Err(e) => ctx.error(item, &path, e.to_string()),
                    }
                }
            }
            Some(out)
        })
        .unwrap_or_default();
    for (key, n) in [("values", values.len()), ("patterns", pattern_list.len())] {
        if n > MAX_ALLOW {
            let msg = format!("{n} entries, at most {MAX_ALLOW} are allowed");
            let at = f.get(key).unwrap_or(node);
            ctx.error(at, &f.path(key), msg);
        }
    }
    f.finish(ctx);
    Some(AllowList {
        values,
        patterns: pattern_list,
    })
}

/// An allow pattern as compiled: it must match the found value whole.
pub fn anchored(pattern: &str) -> String {
    format!(r"\A(?:{pattern})\z")
}

/// The keys of a policy entry that are not settings.
const OWN_KEYS: [&str; 2] = ["name", "match"];

/// Decodes `policies` (`node`); `defaults` are the entries of `processors.redaction`.
pub(super) fn policies(
    ctx: &mut Ctx<'_>,
    node: &Node,
    path: &str,
    defaults: &[(Node, Node)],
) -> Vec<PolicyConfig> {
    let mut out: Vec<PolicyConfig> = Vec::new();
    let Some(items) = ctx.seq(node, path) else {
        return out;
    };
    if items.len() > MAX_POLICIES {
        let msg = format!(
            "{} policies, at most {MAX_POLICIES} are allowed",
            items.len()
        );
        ctx.error(node, path, msg);
        return out;
    }
    for (i, item) in items.iter().enumerate() {
        let path = format!("{path}[{i}]");
        let Value::Map(entries) = &item.value else {
            ctx.error(
                item,
                &path,
                format!("expected a mapping, found {}", item.describe()),
            );
            continue;
        };
        let own = |name: &str| {
            entries
                .iter()
                .find(|(k, _)| key_is(k, name))
                .map(|(k, v)| (k, v))
        };
        let name = match own("name") {
            Some((_, v)) if v.value != Value::Null => {
                let name_path = format!("{path}.name");
                ctx.non_empty(v, &name_path).and_then(|name| {
                    if name.len() > 64
                        || !name
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
                    {
                        let msg = format!(
                            "invalid policy name {name:?}: use 1 to 64 of a-z, A-Z, 0-9, `_`, `.`, `-`"
                        );
                        ctx.error(v, &name_path, msg);
                        None
                    } else if name == "default" || out.iter().any(|p| p.name == name) {
                        let msg = if name == "default" {
                            "the policy name \"default\" is the default policy's".to_string()
                        } else {
                            format!("duplicate policy name {name:?}")
                        };
                        ctx.error(v, &name_path, msg);
                        None
                    } else {
                        Some(name)
                    }
                })
            }
            _ => {
                ctx.error(item, &path, "missing required field `name`");
                None
            }
        };
        let (tenants, services) = match own("match") {
            Some((k, v)) if v.value != Value::Null => {
                let mut m = Fields::new(ctx, v, &format!("{path}.match")).at(k);
                let tenants = m.opt(ctx, "tenants", strings).unwrap_or_default();
                let services = m.opt(ctx, "services", strings).unwrap_or_default();
                if tenants.is_empty() && services.is_empty() && m.valid {
                    let msg = "a policy needs `tenants` or `services` to match on";
                    ctx.error(v, &m.path, msg);
                }
                m.finish(ctx);
                (tenants, services)
            }
            _ => {
                ctx.error(item, &path, "missing required field `match`");
                (Vec::new(), Vec::new())
            }
        };
        if let Some((k, _)) = own("policies") {
            ctx.error(
                k,
                &format!("{path}.policies"),
                "a policy cannot hold policies",
            );
        }

        let merged = Node {
            value: Value::Map(merge(defaults, entries)),
            line: item.line,
            column: item.column,
        };
        let before = ctx.errors.len();
        let f = Fields::new(ctx, &merged, &path);
        let config = super::redaction::decode(ctx, f);
        dedupe(ctx, before);
        if let Some(name) = name {
            out.push(PolicyConfig {
                name,
                tenants,
                services,
                config,
            });
        }
    }
    out
}

fn key_is(key: &Node, name: &str) -> bool {
    matches!(&key.value, Value::Scalar { text, .. } if text == name)
}

fn key_name(key: &Node) -> Option<&str> {
    match &key.value {
        Value::Scalar { text, .. } => Some(text),
        _ => None,
    }
}

/// The default's entries with the policy's in their place (`detectors` merged per type).
fn merge(defaults: &[(Node, Node)], policy: &[(Node, Node)]) -> Vec<(Node, Node)> {
    let set = |name: &str| policy.iter().find(|(k, _)| key_is(k, name));
    let mut out = Vec::new();
    for (k, v) in defaults {
        let Some(name) = key_name(k) else {
            continue;
        };
        if name == "policies" {
            continue;
        }
        match set(name) {
            None => out.push((k.clone(), v.clone())),
            Some((pk, pv)) if name == "detectors" => {
                let mut both = Vec::new();
                for side in [v, pv] {
                    if let Value::Map(e) = &side.value {
                        both.extend(e.iter().cloned());
                    }
                }
                let node = match (&v.value, &pv.value) {
                    // Both mappings: merged, the policy's entries last (they win).
                    (Value::Map(_), Value::Map(_)) => Node {
                        value: Value::Map(both),
                        line: pv.line,
                        column: pv.column,
                    },
                    // Otherwise the policy's value alone, so its errors show.
                    _ => pv.clone(),
                };
                out.push((pk.clone(), node));
            }
            Some(_) => {}
        }
    }
    for (k, v) in policy {
        let name = key_name(k);
        if name.is_some_and(|n| OWN_KEYS.contains(&n) || n == "policies") {
            continue;
        }
        if name == Some("detectors") && out.iter().any(|(ok, _)| key_is(ok, "detectors")) {
            continue;
        }
        out.push((k.clone(), v.clone()));
    }
    out
}

/// Drops the errors pushed since `from` that repeat an earlier one (same place, same
/// message): an inherited key's error is reported once.
fn dedupe(ctx: &mut Ctx<'_>, from: usize) {
    let mut i = from;
    while i < ctx.errors.len() {
        let e = &ctx.errors[i];
        let seen = ctx.errors[..i]
            .iter()
            .any(|p| p.line == e.line && p.column == e.column && p.message == e.message);
        if seen {
            ctx.errors.remove(i);
        } else {
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{SystemLookup, parse};
    use crate::redact::{PiiType, RedactAction};

    fn config(redaction: &str) -> Result<crate::config::RedactionConfig, Vec<String>> {
        let text = format!(
            "processors:\n  redaction:\n{redaction}receivers:\n  otlp:\n    protocols:\n      http:\n"
        );
        parse(&text, "t.yaml", &SystemLookup)
            .map(|c| c.redaction.unwrap())
            .map_err(|e| e.errors().iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn policies_inherit_the_default_and_replace_what_they_set() {
        let c = config(
            "    action: mask
    detectors: {ipv4: off, phone: hash}
    hash: {key: a-key-of-enough-length-0123}
    allow: {values: [help@example.com], patterns: ['ops-[0-9]+@example\\.com']}
    policies:
      - name: acme
        match: {tenants: [acme]}
        detectors: {email: hash}
      - name: pay.svc
        match: {tenants: [acme], services: [payments]}
        action: replace
        allow: {values: [billing@example.com]}
",
        )
        .unwrap();
        assert_eq!(c.allow.values, ["help@example.com"]);
        assert_eq!(c.policies.len(), 2);
        let acme = &c.policies[0];
        assert_eq!(
            (acme.name.as_str(), &acme.tenants[..]),
            ("acme", &["acme".to_string()][..])
        );
        // Merged per type: the default's entries stay, the policy's are added.
        assert_eq!(
            acme.config.action_of(PiiType::Email),
            Some(RedactAction::Hash)
        );
        assert_eq!(
            acme.config.action_of(PiiType::Phone),
            Some(RedactAction::Hash)
        );
        assert_eq!(acme.config.action_of(PiiType::Ipv4), None);
        assert_eq!(
            acme.config.action_of(PiiType::Iban),
            Some(RedactAction::Mask)
        );
        assert_eq!(acme.config.allow, c.allow, "allow is inherited");
        assert!(acme.config.hash.is_some());
        let pay = &c.policies[1];
        assert_eq!(
            pay.config.action_of(PiiType::Iban),
            Some(RedactAction::Replace)
        );
        assert_eq!(pay.config.allow.values, ["billing@example.com"]);
        assert!(
            pay.config.allow.patterns.is_empty(),
            "allow is replaced whole"
        );
        assert!(pay.matches(Some("acme"), Some("payments")));
        assert!(!pay.matches(Some("acme"), Some("web")));
        assert!(!pay.matches(None, Some("payments")));
        assert!(acme.matches(Some("acme"), None));
    }

    #[test]
    fn policy_errors_are_located_and_reported_once() {
        let errors = config(
            "    detectors: {emial: hash}
    allow: {values: [x], patterns: ['(']}
    policies:
      - name: a
        match: {tenants: [t1]}
      - name: a
        match: {tenants: [t2]}
        detectors: {phone: hash}
      - match: {}
        bogus: 1
      - name: 'bad name'
        match: {tenants: [t3], teams: [x]}
",
        )
        .unwrap_err();
        let expected = [
            "t.yaml:3:17: processors.redaction.detectors.emial: unknown detector type \"emial\", did you mean `email`?",
            "t.yaml:4:37: processors.redaction.allow.patterns[0]: invalid regex: unclosed group",
            "t.yaml:8:9: processors.redaction.policies[1]: the `hash` action and `pseudonymize` need `hash.key`",
            "t.yaml:8:15: processors.redaction.policies[1].name: duplicate policy name \"a\"",
            "t.yaml:11:9: processors.redaction.policies[2]: missing required field `name`",
            "t.yaml:11:16: processors.redaction.policies[2].match: a policy needs `tenants` or `services` to match on",
            "t.yaml:12:9: processors.redaction.policies[2].bogus: unknown key \"bogus\"",
            "t.yaml:13:15: processors.redaction.policies[3].name: invalid policy name \"bad name\"",
            "t.yaml:14:32: processors.redaction.policies[3].match.teams: unknown key \"teams\"",
        ];
        for e in expected {
            assert!(
                errors.iter().any(|got| got.starts_with(e)),
                "missing {e:?} in:\n{}",
                errors.join("\n")
            );
        }
        // The default's bad detector name is inherited by four policies: reported once.
        assert_eq!(
            errors.iter().filter(|e| e.contains("emial")).count(),
            1,
            "{}",
            errors.join("\n")
        );
        assert_eq!(errors.len(), expected.len(), "{}", errors.join("\n"));
    }
}
