//! OpenTelemetry Collector spellings: a pass over the YAML tree, before decoding, that
//! translates the keys a collector config holds into slotel's, drops those with no
//! effect here (with a warning) and refuses, with a message that says why, those whose
//! meaning slotel does not share.
//!
//! The rules are the table in `collector_keys.rs`, keyed by field path with ids
//! normalised (`exporters.otlp/tempo.tls` is looked up as `exporters.otlp.tls`). Every
//! rule that fires leaves a [`Translation`]: `slotel check` prints the warnings, and
//! `slotel check --explain` prints them all. A refused key becomes a [`ConfigError`] and
//! leaves the tree, so the decoder never reports it a second time as unknown.
//!
//! Keys slotel reads natively with the collector's meaning (`endpoint`, `headers`,
//! `tls.insecure`, `sending_queue.num_consumers`, …) stay in the tree and are explained
//! only when the table lists them.

use std::fmt;

use super::collector_keys::{Action, RULES, Verdict};
use crate::yaml::read::hint;
use crate::yaml::{ConfigError, Node, Value};

/// What slotel does with one collector key it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Treatment {
    /// Read with the collector's meaning (perhaps under another name).
    Translated,
    /// Has no effect in slotel; a warning.
    Ignored,
    /// Refused: slotel differs on purpose; an error.
    Refused,
}

/// One collector key found in a config, where, and what slotel does with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    pub file: String,
    /// The field path as written, e.g. `exporters.otlp/tempo.tls.insecure`.
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub treatment: Treatment,
    /// Lowercase, without a trailing period.
    pub message: String,
}

impl fmt::Display for Translation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.treatment {
            Treatment::Translated => "translated",
            Treatment::Ignored => "ignored",
            Treatment::Refused => "refused",
        };
        write!(
            f,
            "{}:{}:{}: {}: {what}: {}",
            self.file, self.line, self.column, self.path, self.message
        )
    }
}

/// The sections whose second segment is an id `type[/name]`, normalised to `type`.
const ID_SECTIONS: &[&str] = &[
    "receivers",
    "processors",
    "exporters",
    "extensions",
    "connectors",
];

/// Translates `root` in place; refusals go to `errors`.
pub(crate) fn translate(
    root: &mut Node,
    file: &str,
    errors: &mut Vec<ConfigError>,
) -> Vec<Translation> {
    let mut pass = Pass {
        file,
        errors,
        notes: Vec::new(),
    };
    pass.walk(root, &mut Vec::new(), &mut Vec::new());
    pass.notes
}

struct Pass<'a> {
    file: &'a str,
    errors: &'a mut Vec<ConfigError>,
    notes: Vec<Translation>,
}

impl Pass<'_> {
    /// `written` is the path as in the file, `normal` with ids normalised.
    fn walk(&mut self, node: &mut Node, written: &mut Vec<String>, normal: &mut Vec<String>) {
        let Value::Map(entries) = &mut node.value else {
            return;
        };
        // Removals wait until every key of this mapping had its rule, so a rule can
        // read a sibling that another rule removes (`queue_size` reads `sizer`).
        let mut keep = vec![true; entries.len()];
        for (i, kept) in keep.iter_mut().enumerate() {
            let Value::Scalar { text: key, .. } = &entries[i].0.value else {
                continue;
            };
            let key = key.clone();
            let normal_key = normalise(normal, &key);
            written.push(key);
            normal.push(normal_key);
            *kept = self.apply(entries, i, written, normal);
            if *kept {
                self.walk(&mut entries[i].1, written, normal);
            }
            written.pop();
            normal.pop();
        }
        let mut kept = keep.into_iter();
        entries.retain(|_| kept.next().unwrap_or(true));
    }

    /// Applies the rule for entry `i`, if any; false when the entry leaves the tree.
    fn apply(
        &mut self,
        entries: &mut [(Node, Node)],
        i: usize,
        written: &[String],
        normal: &[String],
    ) -> bool {
        let Some(rule) = RULES.iter().find(|r| matches(r.path, normal)) else {
            return true;
        };
        let (key_node, value) = (&entries[i].0, &entries[i].1);
        let path = written.join(".");
        let verdict = match rule.action {
            Action::Same(why) => Verdict::Keep(why.to_string()),
            Action::Ignore(why) => Verdict::Drop(why.to_string()),
            Action::Refuse(why) => Verdict::Refuse(why.to_string()),
            Action::Gone(why) => Verdict::Gone(why.to_string()),
            Action::Custom(handler) => handler(value, entries, last(written)),
        };
        let (line, column) = (key_node.line, key_node.column);
        let note = |treatment, message: String| Translation {
            file: self.file.to_string(),
            path: path.clone(),
            line,
            column,
            treatment,
            message,
        };
        match verdict {
            Verdict::Pass => true,
            Verdict::Keep(why) => {
                self.notes.push(note(Treatment::Translated, why));
                true
            }
            Verdict::Replace {
                key,
                value,
                note: why,
            } => {
                self.notes.push(note(Treatment::Translated, why));
                let entry = &mut entries[i];
                if let Some(key) = key {
                    entry.0.value = Value::Scalar {
                        text: key.to_string(),
                        quoted: false,
                    };
                }
                if let Some(value) = value {
                    entry.1 = value;
                }
                true
            }
            Verdict::Drop(why) => {
                self.notes.push(note(Treatment::Ignored, why));
                false
            }
            Verdict::Gone(why) => {
                self.notes.push(note(Treatment::Translated, why));
                false
            }
            Verdict::Refuse(why) => {
                let translation = note(Treatment::Refused, why);
                self.errors.push(ConfigError {
                    file: translation.file.clone(),
                    path: translation.path.clone(),
                    line,
                    column,
                    message: translation.message.clone(),
                });
                self.notes.push(translation);
                false
            }
        }
    }
}

/// The normalised form of `key` under `parent`: `type/name` → `type` for ids, and
/// `traces/name` → `traces/*` for named pipelines (which the table refuses).
fn normalise(parent: &[String], key: &str) -> String {
    let is_id = match parent {
        [section] => ID_SECTIONS.contains(&section.as_str()),
        [service, pipelines] => service == "service" && pipelines == "pipelines",
        _ => false,
    };
    match key.split_once('/') {
        Some((kind, _)) if is_id && parent.len() == 2 => format!("{kind}/*"),
        Some((kind, _)) if is_id => kind.to_string(),
        _ => key.to_string(),
    }
}

/// `pattern` segments: a name, `*` (any one), `a|b` (either) or `!a|b` (neither).
fn matches(pattern: &str, path: &[String]) -> bool {
    let segments: Vec<&str> = pattern.split('.').collect();
    segments.len() == path.len()
        && segments.iter().zip(path).all(|(p, s)| match *p {
            "*" => true,
            p if p.starts_with('!') => !p[1..].split('|').any(|a| a == s),
            p => p.split('|').any(|a| a == s),
        })
}

fn last(path: &[String]) -> &str {
    path.last().map_or("", String::as_str)
}

/// A scalar's text (not interpolated), or `None` for anything else.
pub(super) fn text(node: &Node) -> Option<&str> {
    match &node.value {
        Value::Scalar { text, .. } => Some(text),
        _ => None,
    }
}

/// A plain scalar node at `at`'s place.
pub(super) fn scalar(at: &Node, text: String) -> Node {
    Node {
        value: Value::Scalar {
            text,
            quoted: false,
        },
        line: at.line,
        column: at.column,
    }
}

/// `, did you mean …?` when `name` is a typo of one of `known`.
pub(super) fn typo(name: &str, known: &[&str]) -> bool {
    hint(name, known).starts_with(", did you mean")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(String::from).collect()
    }

    #[test]
    fn patterns_match_whole_paths_with_wildcards_and_alternatives() {
        assert!(matches(
            "exporters.*.tls.insecure",
            &path("exporters.otlp.tls.insecure")
        ));
        assert!(!matches(
            "exporters.*.tls",
            &path("exporters.otlp.tls.insecure")
        ));
        assert!(matches("a.otlp|otlphttp.b", &path("a.otlphttp.b")));
        assert!(!matches("a.!otlp|x.b", &path("a.otlp.b")));
        assert!(matches("a.!otlp|x.b", &path("a.kafka.b")));
    }

    #[test]
    fn ids_are_normalised_to_their_type() {
        let exporters = path("exporters");
        assert_eq!(normalise(&exporters, "otlp/tempo"), "otlp");
        assert_eq!(normalise(&exporters, "otlp"), "otlp");
        assert_eq!(
            normalise(&path("service.pipelines"), "traces/x"),
            "traces/*"
        );
        assert_eq!(normalise(&path("service.pipelines"), "traces"), "traces");
        assert_eq!(normalise(&path("exporters.otlp"), "a/b"), "a/b");
    }

    struct Env(&'static str, &'static str);

    impl crate::yaml::Lookup for Env {
        fn env(&self, name: &str) -> Option<String> {
            (name == self.0).then(|| self.1.to_string())
        }
        fn read_file(&self, _: &std::path::Path) -> std::io::Result<String> {
            Err(std::io::Error::other("no files"))
        }
    }

    fn endpoint(exporter: &str) -> String {
        let text = format!(
            "receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters:\n  otlp/x: {exporter}\n"
        );
        let cfg = crate::config::parse(&text, "t.yaml", &Env("EP", "http://env-host:4317"))
            .unwrap_or_else(|e| panic!("{e}"));
        match &cfg.exporters[0].kind {
            crate::config::ExporterKind::OtlpGrpc(c, _) => c.client.endpoint.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn otlp_host_port_is_tls_unless_insecure_and_a_scheme_decides_for_itself() {
        let cases = [
            ("{endpoint: tempo:4317}", "https://tempo:4317"),
            (
                "{endpoint: tempo:4317, tls: {insecure: false}}",
                "https://tempo:4317",
            ),
            (
                "{endpoint: tempo:4317, tls: {insecure: true}}",
                "http://tempo:4317",
            ),
            ("{endpoint: 'http://tempo:4317'}", "http://tempo:4317"),
            (
                "{endpoint: 'https://tempo:4317', tls: {insecure: true}}",
                "https://tempo:4317",
            ),
            (
                "{endpoint: '${env:EP}', tls: {insecure: true}}",
                "http://env-host:4317",
            ),
            (
                "{endpoint: tempo:4317, tls: {insecure_skip_verify: true}}",
                "https://tempo:4317",
            ),
        ];
        for (exporter, expected) in cases {
            assert_eq!(endpoint(exporter), expected, "{exporter}");
        }
    }

    fn errors(text: &str) -> Vec<String> {
        match crate::config::parse(text, "t.yaml", &Env("", "")) {
            Ok(_) => Vec::new(),
            Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn queue_size_is_bytes_with_a_bytes_sizer_whatever_the_key_order() {
        for queue in [
            "{sizer: bytes, queue_size: 1000000}",
            "{queue_size: 1000000, sizer: bytes}",
        ] {
            let text = format!(
                "receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters:\n  \
                 otlphttp: {{endpoint: 'http://a', sending_queue: {queue}}}\n"
            );
            let cfg = crate::config::parse(&text, "t.yaml", &Env("", "")).unwrap();
            let crate::config::ExporterKind::OtlpHttp(_, d) = &cfg.exporters[0].kind else {
                panic!();
            };
            assert_eq!(d.queue.max_bytes, 1_000_000, "{queue}");
        }
    }

    #[test]
    fn a_collector_key_and_its_slotel_spelling_together_are_an_error() {
        let text = "receivers: {otlp: {protocols: {grpc: {max_recv_msg_size_mib: 4, max_recv_msg_size: 4MiB}}}}\n";
        assert_eq!(
            errors(text),
            [
                "t.yaml:1:39: receivers.otlp.protocols.grpc.max_recv_msg_size_mib: set either \
              `max_recv_msg_size_mib` or `max_recv_msg_size`, not both"
            ]
        );
        let text = "receivers: {otlp: {protocols: {grpc: }}}\nservice: {telemetry: {logs: {encoding: yaml}}}\n";
        assert_eq!(
            errors(text),
            [
                "t.yaml:2:30: service.telemetry.logs.encoding: invalid encoding \"yaml\", expected `json` or `console`"
            ]
        );
    }
}
