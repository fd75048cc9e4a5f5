//! The rules of `collector_keys.rs` that decide from a value (and its siblings): the
//! collector's spellings whose translation depends on what was written.

use super::collector::{scalar, text, typo};
use super::collector_keys::Verdict;
use crate::yaml::{Node, Value};

/// The exporter types slotel has (see `decode.rs`).
pub(super) const EXPORTERS: &[&str] = &[
    "debug",
    "file",
    "nop",
    "prometheusremotewrite",
    "otlp",
    "otlphttp",
    "loki",
];

fn scalar_text(value: &Node) -> String {
    text(value).unwrap_or_default().trim().to_string()
}

pub(super) fn log_encoding(value: &Node, _: &[(Node, Node)], _: &str) -> Verdict {
    let format = match scalar_text(value).as_str() {
        "json" => "json",
        "console" => "text",
        other => {
            return Verdict::Refuse(format!(
                "invalid encoding {other:?}, expected `json` or `console`"
            ));
        }
    };
    Verdict::Replace {
        key: Some("format"),
        value: Some(scalar(value, format.to_string())),
        note: format!("slotel's `format: {format}`"),
    }
}

fn receiver_ids(value: &Node) -> Vec<String> {
    match &value.value {
        Value::Seq(items) => items.iter().map(scalar_text).collect(),
        _ => Vec::new(),
    }
}

pub(super) fn pipeline_receivers(value: &Node, _: &[(Node, Node)], _: &str) -> Verdict {
    let others: Vec<String> = receiver_ids(value)
        .into_iter()
        .filter(|id| id != "otlp" && !id.starts_with("otlp/"))
        .collect();
    if others.is_empty() {
        Verdict::Gone("slotel's `otlp` receiver feeds every pipeline".to_string())
    } else {
        Verdict::Refuse(format!(
            "slotel receives OTLP only (`receivers.otlp`), not {}",
            others.join(", ")
        ))
    }
}

fn is_built_in(id: &str) -> bool {
    let kind = id.split('/').next().unwrap_or(id);
    kind == "batch" || kind == "memory_limiter"
}

pub(super) fn pipeline_processors(value: &Node, _: &[(Node, Node)], _: &str) -> Verdict {
    let Value::Seq(items) = &value.value else {
        return Verdict::Pass;
    };
    let (removed, kept): (Vec<&Node>, Vec<&Node>) = items
        .iter()
        .partition(|item| is_built_in(&scalar_text(item)));
    if removed.is_empty() {
        return Verdict::Keep("the processors this signal runs, in order".to_string());
    }
    let names: Vec<String> = removed.iter().map(|n| scalar_text(n)).collect();
    let mut list = value.clone();
    list.value = Value::Seq(kept.into_iter().cloned().collect());
    Verdict::Replace {
        key: None,
        value: Some(list),
        note: format!(
            "{} left out: slotel batches per request and bounds memory itself",
            names.join(", ")
        ),
    }
}

pub(super) fn receiver_type(_: &Node, _: &[(Node, Node)], key: &str) -> Verdict {
    let kind = key.split('/').next().unwrap_or(key);
    if typo(kind, &["otlp"]) {
        return Verdict::Pass;
    }
    Verdict::Refuse(format!(
        "slotel receives OTLP only (`otlp` over gRPC and HTTP): keep a collector in front \
         to receive `{kind}` and forward it as OTLP"
    ))
}

pub(super) fn processor_type(_: &Node, _: &[(Node, Node)], key: &str) -> Verdict {
    let kind = key.split('/').next().unwrap_or(key);
    if typo(kind, &["redaction"]) || (kind.len() >= 3 && "redaction".starts_with(kind)) {
        return Verdict::Pass;
    }
    Verdict::Refuse(format!(
        "slotel has no `{kind}` processor: it has `redaction`, and batching and memory \
         limits are built in; run `{kind}` in a collector in front"
    ))
}

pub(super) fn exporter_type(_: &Node, _: &[(Node, Node)], key: &str) -> Verdict {
    let kind = key.split('/').next().unwrap_or(key);
    if EXPORTERS.contains(&kind) || typo(kind, EXPORTERS) || key.ends_with('/') {
        return Verdict::Pass;
    }
    let message = match kind {
        "logging" => {
            "the `logging` exporter is `debug` (in slotel and in recent collectors)".to_string()
        }
        "otlp_grpc" | "otlpgrpc" => "slotel's OTLP gRPC exporter is `otlp`".to_string(),
        "otlp_http" => "slotel's OTLP HTTP exporter is `otlphttp`".to_string(),
        _ => format!(
            "slotel has no `{kind}` exporter: it has {}; send OTLP to a collector that has it",
            EXPORTERS.join(", ")
        ),
    };
    Verdict::Refuse(message)
}

pub(super) fn max_recv_msg_size_mib(value: &Node, siblings: &[(Node, Node)], _: &str) -> Verdict {
    if siblings
        .iter()
        .any(|(k, _)| text(k) == Some("max_recv_msg_size"))
    {
        return Verdict::Refuse(
            "set either `max_recv_msg_size_mib` or `max_recv_msg_size`, not both".to_string(),
        );
    }
    let mib = scalar_text(value);
    Verdict::Replace {
        key: Some("max_recv_msg_size"),
        value: Some(scalar(value, format!("{mib}MiB"))),
        note: format!("slotel's `max_recv_msg_size: {mib}MiB`"),
    }
}

pub(super) fn transport(value: &Node, _: &[(Node, Node)], _: &str) -> Verdict {
    match scalar_text(value).as_str() {
        "tcp" | "tcp4" | "tcp6" => Verdict::Gone("slotel listens on TCP".to_string()),
        other => Verdict::Refuse(format!("slotel listens on TCP only, not {other:?}")),
    }
}

pub(super) fn url_path(value: &Node, _: &[(Node, Node)], key: &str) -> Verdict {
    let signal = key.split('_').next().unwrap_or(key);
    let standard = format!("/v1/{signal}");
    let path = scalar_text(value);
    if path == standard || path.trim_start_matches('/') == standard.trim_start_matches('/') {
        Verdict::Gone(format!("slotel serves `{standard}`"))
    } else {
        Verdict::Refuse(format!(
            "slotel serves the standard path `{standard}` only, not {path:?}"
        ))
    }
}

pub(super) fn encoding(value: &Node, _: &[(Node, Node)], _: &str) -> Verdict {
    match scalar_text(value).as_str() {
        "proto" => Verdict::Gone("slotel sends protobuf".to_string()),
        other => Verdict::Refuse(format!(
            "slotel sends protobuf (`proto`) only, not {other:?}"
        )),
    }
}

pub(super) fn queue_enabled(value: &Node, _: &[(Node, Node)], _: &str) -> Verdict {
    match scalar_text(value).as_str() {
        "true" => Verdict::Gone("slotel always queues".to_string()),
        _ => Verdict::Refuse(
            "slotel always queues (it acknowledges senders once data is queued); remove \
             `enabled: false`"
                .to_string(),
        ),
    }
}

pub(super) fn queue_size(_: &Node, siblings: &[(Node, Node)], _: &str) -> Verdict {
    let sizer = siblings
        .iter()
        .find(|(k, _)| text(k) == Some("sizer"))
        .map(|(_, v)| scalar_text(v))
        .unwrap_or_else(|| "requests".to_string());
    if sizer == "bytes" {
        if siblings.iter().any(|(k, _)| text(k) == Some("max_bytes")) {
            return Verdict::Refuse("set either `queue_size` or `max_bytes`, not both".to_string());
        }
        return Verdict::Replace {
            key: Some("max_bytes"),
            value: None,
            note: "with `sizer: bytes`, slotel's `max_bytes`".to_string(),
        };
    }
    Verdict::Drop(format!(
        "slotel bounds its queues in bytes, not {sizer}: set `sending_queue.max_bytes` \
         (default 256MiB)"
    ))
}

pub(super) fn queue_storage(value: &Node, _: &[(Node, Node)], _: &str) -> Verdict {
    match scalar_text(value).as_str() {
        "memory" | "disk" => Verdict::Pass,
        other if typo(other, &["memory", "disk"]) => Verdict::Pass,
        other => Verdict::Refuse(format!(
            "{other:?} names a collector storage extension: slotel's disk queue is \
             `storage: disk` with a `directory`"
        )),
    }
}
