//! Logs: JSON string bodies as Java or Go services print them, some carrying PII, most with
//! trace context.

use std::fmt::Write as _;

use fastrand::Rng;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::AnyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};

use super::{
    ContentOpts, SCHEMA_URL, by_resource, latency_ns, s, scope, service_name, span_id, trace_id,
};

/// `records` log records with JSON string bodies (some carrying emails, phone numbers,
/// card numbers, resident registration numbers, IPs and tokens); 60% carry trace context.
pub fn logs(rng: &mut Rng, records: usize, opts: &ContentOpts) -> ExportLogsServiceRequest {
    let services = opts.services.max(1);
    let mut groups: Vec<Vec<LogRecord>> = vec![Vec::new(); opts.clusters.max(1) * services];
    for _ in 0..records {
        let group = rng.usize(..groups.len());
        let record = log_record(rng, group % services, opts);
        groups[group].push(record);
    }
    let resource_logs = by_resource(rng, opts, groups, |resource, log_records| ResourceLogs {
        resource: Some(resource),
        scope_logs: vec![ScopeLogs {
            scope: scope("io.opentelemetry.logback-appender"),
            log_records,
            ..Default::default()
        }],
        schema_url: SCHEMA_URL.to_string(),
    });
    ExportLogsServiceRequest { resource_logs }
}

fn log_record(rng: &mut Rng, service: usize, opts: &ContentOpts) -> LogRecord {
    let roll = rng.f64() - opts.error_ratio;
    let (severity, level) = match roll {
        ..0.0 => (SeverityNumber::Error, "error"),
        ..0.08 => (SeverityNumber::Warn, "warn"),
        ..0.13 => (SeverityNumber::Debug, "debug"),
        _ => (SeverityNumber::Info, "info"),
    };
    let time = opts.now_unix_nano.saturating_sub(rng.u64(..5_000_000_000));
    let with_trace = rng.f64() < 0.6;
    let templates = LOG_TEMPLATES.iter().filter(|(l, _)| *l == level);
    let template = templates
        .clone()
        .nth(rng.usize(..templates.count().max(1)))
        .map_or("", |t| t.1);
    let body = format!(r#"{{"level":"{level}",{}}}"#, fill(rng, template, opts));
    LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: time + rng.u64(100_000..50_000_000),
        severity_number: severity as i32,
        severity_text: level.to_ascii_uppercase(),
        body: Some(AnyValue {
            value: Some(Value::StringValue(body)),
        }),
        attributes: vec![
            s("log.iostream", "stdout"),
            s(
                "logger.name",
                format!("com.example.shop.{}", service_name(service)),
            ),
            s(
                "thread.name",
                format!("http-nio-8080-exec-{}", rng.u32(1..=20)),
            ),
        ],
        flags: u32::from(with_trace),
        trace_id: if with_trace {
            trace_id(rng)
        } else {
            Vec::new()
        },
        span_id: if with_trace { span_id(rng) } else { Vec::new() },
        ..Default::default()
    }
}

/// JSON log lines as Java or Go services print them, after `{"level":"…",`: (level,
/// template); `$name` placeholders are filled by [`fill`].
#[rustfmt::skip]
const LOG_TEMPLATES: &[(&str, &str)] = &[
    ("info", r#""msg":"payment accepted","user":{"email":"$email","phone":"$phone"},"order_id":$order,"amount":$amount,"currency":"KRW","latency_ms":$latency"#),
    ("info", r#""msg":"user logged in","user_id":$user_id,"email":"$email","client_ip":"198.51.100.$octet","method":"password""#),
    ("info", r#""msg":"request completed","http":{"method":"GET","route":"/api/cart","status":200},"latency_ms":$latency"#),
    ("warn", r#""msg":"slow query","db":"postgresql","statement":"SELECT * FROM orders WHERE customer_email = $1","duration_ms":$latency"#),
    ("warn", r#""msg":"retrying upstream call","upstream":"http://payment.shop:8080/v1/payments","attempt":2,"client_ip":"203.0.113.$octet""#),
    ("debug", r#""msg":"cache miss","key":"cart:$user_id","ttl_s":300"#),
    ("debug", r#""msg":"auth header received","authorization":"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.$order""#),
    ("error", r#""msg":"payment declined","card":{"number":"$card","holder":"$holder"},"reason":"insufficient_funds","order_id":$order"#),
    ("error", r#""msg":"upstream timeout","url":"https://svc:s3cr3t-$order@billing.internal/api/charge","timeout_ms":3000"#),
    ("error", r#""msg":"identity verification failed","rrn":"$rrn","phone":"+82 10-$d4-$d4""#),
];

const FIRST_NAMES: &[&str] = &["kim", "lee", "park", "choi", "jung", "alex", "maria", "sam"];
const DOMAINS: &[&str] = &["example.com", "mail.example.org", "corp.example.net"];
const CARDS: &[&str] = &[
    "4111 1111 1111 1111",
    "5555-5555-5555-4444",
    "378282246310005",
];

/// `template` with each `$name` replaced by a fresh random value; unknown names stay as is.
fn fill(rng: &mut Rng, template: &str, opts: &ContentOpts) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let end = tail
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .unwrap_or(tail.len());
        let first = FIRST_NAMES[rng.usize(..FIRST_NAMES.len())];
        // Writing to a String cannot fail.
        let _ = match &tail[..end] {
            "email" => write!(
                out,
                "{first}.{}@{}",
                rng.u32(1..999),
                DOMAINS[rng.usize(..3)]
            ),
            "holder" => write!(
                out,
                "{} {}",
                first.to_ascii_uppercase(),
                ["KIM", "LEE"][rng.usize(..2)]
            ),
            "phone" => write!(out, "010-{:04}-{:04}", rng.u32(..10_000), rng.u32(..10_000)),
            "d4" => write!(out, "{:04}", rng.u32(..10_000)),
            "card" => write!(out, "{}", CARDS[rng.usize(..CARDS.len())]),
            "rrn" => write!(
                out,
                "{:02}{:02}{:02}-{}{:06}",
                rng.u32(60..99),
                rng.u32(1..13),
                rng.u32(1..29),
                rng.u32(1..5),
                rng.u32(..1_000_000)
            ),
            "order" => write!(out, "{}", rng.u64(100_000_000..999_999_999)),
            "amount" => write!(out, "{}", rng.u32(1..500) * 100),
            "latency" => write!(out, "{}", latency_ns(rng, opts.latency_p50_ms) / 1_000_000),
            "user_id" => write!(out, "{}", rng.u32(1..1_000_000)),
            "octet" => write!(out, "{}", rng.u8(1..255)),
            other => write!(out, "${other}"),
        };
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}
