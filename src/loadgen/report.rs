//! What a run did: the [`Report`] with its [`Refused`] counts and [`LatencySummary`], how
//! each request's [`Outcome`] is counted into it, the request-latency histogram, and the
//! text and JSON renderings.

use std::collections::BTreeMap;
use std::fmt;

use tokio::time::Duration;

use super::ReportFormat;
use super::args::Settings;
use super::client::{Class, Outcome};

/// Refused items and requests by class.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Refused {
    /// Refused with a retryable answer (gRPC UNAVAILABLE and the other OTLP-retryable codes,
    /// RESOURCE_EXHAUSTED with RetryInfo; HTTP 429, 502, 503, 504).
    pub retryable_items: u64,
    pub retryable_requests: u64,
    /// Refused for good (any other gRPC code or HTTP status).
    pub permanent_items: u64,
    pub permanent_requests: u64,
    /// No answer: connection failures, resets, timeouts.
    pub transport_items: u64,
    pub transport_requests: u64,
}

/// Request round-trip latency in milliseconds (histogram with ~6% resolution).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LatencySummary {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// What a run did. Items are spans, data points or log records.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Report {
    /// `send` or `decode-baseline`.
    pub mode: &'static str,
    pub signal: String,
    pub protocol: String,
    pub encoding: String,
    pub compression: String,
    pub endpoint: String,
    pub items_per_request: usize,
    pub concurrency: usize,
    pub requests: u64,
    pub sent_items: u64,
    /// Request body bytes as sent (after compression for HTTP, before it for gRPC).
    pub sent_bytes: u64,
    /// Items in answered-OK requests minus those the server reported rejected.
    pub acknowledged_items: u64,
    /// Items in `partial_success.rejected_*` of OK answers.
    pub rejected_items: u64,
    pub refused: Refused,
    /// Refused requests by answer, e.g. `grpc UNAVAILABLE`, `http 503`, `transport`.
    pub errors: BTreeMap<String, u64>,
    /// The message of the last refused request, if any.
    pub last_error: Option<String>,
    pub latency_ms: LatencySummary,
    pub elapsed_seconds: f64,
    pub sent_items_per_second: f64,
    pub acknowledged_items_per_second: f64,
    /// Decode baseline only.
    pub decoded_items: u64,
    pub decoded_bytes: u64,
    pub decoded_items_per_second: f64,
}

impl Report {
    /// Why the run failed although it completed: a send run whose server acknowledged
    /// nothing (every request refused, or the server unreachable) is a failure.
    pub fn failure(&self) -> Option<String> {
        (self.mode == "send" && self.acknowledged_items == 0).then(|| {
            let last = self
                .last_error
                .as_deref()
                .unwrap_or("no request was answered");
            format!(
                "nothing was acknowledged ({} items sent in {} requests; last error: {last})",
                self.sent_items, self.requests
            )
        })
    }

    pub(super) fn new(mode: &'static str, s: &Settings) -> Self {
        fn name(value: &impl clap::ValueEnum) -> String {
            let value = value.to_possible_value();
            value.map(|v| v.get_name().to_string()).unwrap_or_default()
        }
        Self {
            mode,
            signal: name(&s.signal),
            protocol: name(&s.protocol),
            encoding: name(&s.encoding),
            compression: name(&s.compression),
            endpoint: s.uri.to_string(),
            items_per_request: s.items_per_request,
            concurrency: s.concurrency,
            ..Self::default()
        }
    }

    /// The report as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!(r#"{{"error":"{e}"}}"#))
    }

    /// The report in the format `--report` asked for.
    pub fn render(&self, format: ReportFormat) -> String {
        match format {
            ReportFormat::Text => self.to_string(),
            ReportFormat::Json => self.to_json(),
        }
    }

    /// Total refused items of every class.
    pub fn refused_items(&self) -> u64 {
        self.refused.retryable_items + self.refused.permanent_items + self.refused.transport_items
    }

    /// Counts one request of `items` items and `bytes` body bytes.
    pub(crate) fn record(&mut self, items: u64, bytes: u64, outcome: Outcome) {
        self.requests += 1;
        self.sent_items += items;
        self.sent_bytes += bytes;
        match outcome {
            Outcome::Acknowledged { rejected } => {
                if rejected.is_none() {
                    *self
                        .errors
                        .entry("unreadable ok answer".to_string())
                        .or_default() += 1;
                }
                let rejected = rejected.unwrap_or(0).min(items);
                self.rejected_items += rejected;
                self.acknowledged_items += items - rejected;
            }
            Outcome::Refused {
                class,
                answer,
                message,
            } => {
                let r = &mut self.refused;
                let (i, n) = match class {
                    Class::Retryable => (&mut r.retryable_items, &mut r.retryable_requests),
                    Class::Permanent => (&mut r.permanent_items, &mut r.permanent_requests),
                    Class::Transport => (&mut r.transport_items, &mut r.transport_requests),
                };
                (*i, *n) = (*i + items, *n + 1);
                self.last_error = Some(format!("{answer}: {message}"));
                *self.errors.entry(answer).or_default() += 1;
            }
        }
    }

    /// Adds the counts of another worker.
    pub(super) fn merge(&mut self, other: Report) {
        self.requests += other.requests;
        self.sent_items += other.sent_items;
        self.sent_bytes += other.sent_bytes;
        self.acknowledged_items += other.acknowledged_items;
        self.rejected_items += other.rejected_items;
        let (r, o) = (&mut self.refused, other.refused);
        r.retryable_items += o.retryable_items;
        r.retryable_requests += o.retryable_requests;
        r.permanent_items += o.permanent_items;
        r.permanent_requests += o.permanent_requests;
        r.transport_items += o.transport_items;
        r.transport_requests += o.transport_requests;
        for (answer, n) in other.errors {
            *self.errors.entry(answer).or_default() += n;
        }
        self.last_error = other.last_error.or(self.last_error.take());
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        if self.mode == "decode-baseline" {
            return write!(
                f,
                "decode baseline ({} {} {}, one thread): {} items ({:.1} MiB) in {:.2}s = {:.0} items/s",
                self.signal,
                self.encoding,
                self.compression,
                self.decoded_items,
                mib(self.decoded_bytes),
                self.elapsed_seconds,
                self.decoded_items_per_second
            );
        }
        writeln!(
            f,
            "loadgen {} over {}/{} ({}) to {}, {} in flight",
            self.signal,
            self.protocol,
            self.encoding,
            self.compression,
            self.endpoint,
            self.concurrency
        )?;
        writeln!(
            f,
            "  sent {} items in {} requests ({:.1} MiB) in {:.2}s: {:.0} items/s sent, {:.0} items/s acknowledged",
            self.sent_items,
            self.requests,
            mib(self.sent_bytes),
            self.elapsed_seconds,
            self.sent_items_per_second,
            self.acknowledged_items_per_second
        )?;
        writeln!(
            f,
            "  acknowledged {}, rejected {}, refused {} (retryable {}, permanent {}, transport {})",
            self.acknowledged_items,
            self.rejected_items,
            self.refused_items(),
            self.refused.retryable_items,
            self.refused.permanent_items,
            self.refused.transport_items
        )?;
        let l = &self.latency_ms;
        write!(
            f,
            "  request latency ms: p50 {:.2}, p90 {:.2}, p99 {:.2}, max {:.2}",
            l.p50, l.p90, l.p99, l.max
        )?;
        for (answer, requests) in &self.errors {
            write!(f, "\n  {answer}: {requests} requests")?;
        }
        if let Some(last) = &self.last_error {
            write!(f, "\n  last error: {last}")?;
        }
        Ok(())
    }
}

pub(super) fn per_second(n: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        n as f64 / seconds
    } else {
        0.0
    }
}

/// Log-linear histogram of microseconds: exact below 8 µs, then 8 sub-buckets per power of
/// two (at most 6% from the true value).
pub(crate) struct LatencyHistogram {
    counts: Vec<u64>,
    total: u64,
    max_us: u64,
}

const LATENCY_BUCKETS: usize = 8 + 61 * 8;

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            counts: vec![0; LATENCY_BUCKETS],
            total: 0,
            max_us: 0,
        }
    }
}

impl LatencyHistogram {
    fn index(us: u64) -> usize {
        if us < 8 {
            return us as usize;
        }
        let exp = 63 - us.leading_zeros() as usize; // at least 3
        let sub = ((us >> (exp - 3)) & 7) as usize;
        (8 + (exp - 3) * 8 + sub).min(LATENCY_BUCKETS - 1)
    }

    fn lower_bound(index: usize) -> u128 {
        if index < 8 {
            return index as u128;
        }
        let (exp, sub) = ((index - 8) / 8 + 3, (index - 8) % 8);
        (8 + sub as u128) << (exp - 3)
    }

    pub(crate) fn record(&mut self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.counts[Self::index(us)] += 1;
        self.total += 1;
        self.max_us = self.max_us.max(us);
    }

    pub(super) fn merge(&mut self, other: &LatencyHistogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.max_us = self.max_us.max(other.max_us);
    }

    /// The value at quantile `q` in microseconds (middle of its bucket, at most the maximum).
    pub(crate) fn quantile_us(&self, q: f64) -> f64 {
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total.max(1));
        let mut seen = 0;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                let (low, high) = (Self::lower_bound(index), Self::lower_bound(index + 1));
                let middle = if index < 8 { low } else { (low + high) / 2 };
                return (middle as f64).min(self.max_us as f64);
            }
        }
        0.0
    }

    pub(super) fn summary(&self) -> LatencySummary {
        let ms = |us: f64| (us / 10.0).round() / 100.0;
        LatencySummary {
            p50: ms(self.quantile_us(0.5)),
            p90: ms(self.quantile_us(0.9)),
            p99: ms(self.quantile_us(0.99)),
            max: ms(self.max_us as f64),
        }
    }
}
