//! OTLP metrics → remote-write series: names and labels as Prometheus spells them, the
//! conversion of each kind of point, and the backend's per-series limits (see the
//! module's invariants in `mod.rs`).

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, DataPointFlags, ExponentialHistogramDataPoint, metric,
    number_data_point,
};

use super::STALE_NAN;
use crate::export::limits::{self, Reason, Tally, value_text};
use crate::export::proto::prometheus as prom;

pub(super) fn label(name: &str, value: &str) -> prom::Label {
    prom::Label {
        name: name.to_string(),
        value: value.to_string(),
    }
}

/// A Prometheus metric or label name from an OTLP one: characters outside
/// `[a-zA-Z0-9_:]` become `_`, and a leading digit gets a `_` in front.
pub fn sanitize(name: &str, allow_colon: bool) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    for (i, c) in name.chars().enumerate() {
        if i == 0 && c.is_ascii_digit() {
            out.push('_');
        }
        if c.is_ascii_alphanumeric() || c == '_' || (allow_colon && c == ':') {
            out.push(c);
        } else {
            out.push('_');
        }
    }
    out
}

/// Cuts `value` to at most `max` bytes (0: no limit), as Loki and Mimir refuse a longer
/// label value (their `max_label_value_length`, 2048 bytes by default) with the whole
/// request. A cut value keeps its longest prefix that ends at a character boundary and
/// ends with `~` and the first 8 bytes of the SHA-256 of the whole value in hex, so two
/// long values with one prefix stay two series. Returns whether it cut.
pub fn cut_label_value(value: &mut String, max: usize) -> bool {
    limits::cut_with_hash(value, max, '~')
}

/// [`cut_label_value`] for a label or metric name: the hash follows a `_`, which names
/// allow (`[a-zA-Z_:][a-zA-Z0-9_:]*`), where a value's `~` would make the name invalid.
pub fn cut_name(name: &mut String, max: usize) -> bool {
    limits::cut_with_hash(name, max, '_')
}

fn ns_to_ms(ns: u64) -> i64 {
    i64::try_from(ns / 1_000_000).unwrap_or(i64::MAX)
}

/// Whose series a request holds, which decides whether external labels beat its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Origin {
    /// Received from a sender: slotel's labels win over its attributes.
    Sender,
    /// slotel's own SLO series: their labels (`cluster`, `window`, …) keep their values
    /// where an external label has the same name, as Prometheus does with external labels.
    Slotel,
}

/// Builds series for one batch; `now_ms` clamps timestamps.
pub(super) struct Converter<'a> {
    pub(super) replica: &'a prom::Label,
    pub(super) external: &'a [prom::Label],
    pub(super) origin: Origin,
    pub(super) schema: i32,
    pub(super) now_ms: i64,
    pub(super) series: Vec<prom::TimeSeries>,
    /// Label values longer than this (bytes, 0: no limit) are cut (received series only).
    pub(super) max_value: usize,
    /// Label values cut so far.
    pub(super) cut: u64,
    /// Label names longer than this (bytes, 0: no limit) are cut (received series only).
    pub(super) max_name: usize,
    /// Received series with more labels than this (0: no limit) are dropped.
    pub(super) max_labels: usize,
    /// Received samples older than this (ms since the epoch) are dropped.
    pub(super) min_ms: i64,
    /// Series changed or dropped to keep the backend's limits.
    pub(super) tally: Tally,
}

impl Converter<'_> {
    /// Adds the series of every point of `req` (delta temporality skipped: remote write
    /// has no deltas).
    pub(super) fn request(
        &mut self,
        req: &opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest,
    ) {
        for rm in &req.resource_metrics {
            let mut res = Vec::new();
            if let Some(r) = &rm.resource {
                let get = |k: &str| {
                    r.attributes
                        .iter()
                        .find(|kv| kv.key == k)
                        .map(|kv| value_text(kv.value.as_ref()))
                };
                if let Some(svc) = get("service.name") {
                    let job = match get("service.namespace") {
                        Some(ns) if !ns.is_empty() => format!("{ns}/{svc}"),
                        _ => svc,
                    };
                    res.push(label("job", &job));
                }
                if let Some(i) = get("service.instance.id") {
                    res.push(label("instance", &i));
                }
            }
            for sm in &rm.scope_metrics {
                for m in &sm.metrics {
                    let name = sanitize(&m.name, true);
                    match &m.data {
                        Some(metric::Data::Gauge(g)) => {
                            for p in &g.data_points {
                                self.number_point(&name, &res, p);
                            }
                        }
                        Some(metric::Data::Sum(s)) => {
                            if s.aggregation_temporality == AggregationTemporality::Delta as i32 {
                                continue;
                            }
                            let name = if s.is_monotonic && !name.ends_with("_total") {
                                format!("{name}_total")
                            } else {
                                name.clone()
                            };
                            for p in &s.data_points {
                                self.number_point(&name, &res, p);
                            }
                        }
                        Some(metric::Data::ExponentialHistogram(h)) => {
                            if h.aggregation_temporality == AggregationTemporality::Delta as i32 {
                                continue;
                            }
                            for p in &h.data_points {
                                self.exponential(&name, &res, p);
                            }
                        }
                        Some(metric::Data::Histogram(h)) => {
                            if h.aggregation_temporality == AggregationTemporality::Delta as i32 {
                                continue;
                            }
                            for p in &h.data_points {
                                let ts = self.ts(p.time_unix_nano);
                                let stale =
                                    p.flags & DataPointFlags::NoRecordedValueMask as u32 != 0;
                                let v = |x: f64| if stale { f64::from_bits(STALE_NAN) } else { x };
                                let mut cumulative = 0u64;
                                for (i, c) in p.bucket_counts.iter().enumerate() {
                                    cumulative += c;
                                    let le = p
                                        .explicit_bounds
                                        .get(i)
                                        .map_or("+Inf".to_string(), |b| format_bound(*b));
                                    let labels = self.labels(
                                        &format!("{name}_bucket"),
                                        &res,
                                        &p.attributes,
                                        &[("le", le)],
                                    );
                                    self.sample(labels, v(cumulative as f64), ts);
                                }
                                let labels =
                                    self.labels(&format!("{name}_count"), &res, &p.attributes, &[]);
                                self.sample(labels, v(p.count as f64), ts);
                                if let Some(sum) = p.sum {
                                    let labels = self.labels(
                                        &format!("{name}_sum"),
                                        &res,
                                        &p.attributes,
                                        &[],
                                    );
                                    self.sample(labels, v(sum), ts);
                                }
                            }
                        }
                        Some(metric::Data::Summary(s)) => {
                            for p in &s.data_points {
                                let ts = self.ts(p.time_unix_nano);
                                for q in &p.quantile_values {
                                    let labels = self.labels(
                                        &name,
                                        &res,
                                        &p.attributes,
                                        &[("quantile", format_bound(q.quantile))],
                                    );
                                    self.sample(labels, q.value, ts);
                                }
                                let labels =
                                    self.labels(&format!("{name}_count"), &res, &p.attributes, &[]);
                                self.sample(labels, p.count as f64, ts);
                                let labels =
                                    self.labels(&format!("{name}_sum"), &res, &p.attributes, &[]);
                                self.sample(labels, p.sum, ts);
                            }
                        }
                        None => {}
                    }
                }
            }
        }
    }

    fn labels(
        &mut self,
        name: &str,
        resource: &[prom::Label],
        attrs: &[KeyValue],
        more: &[(&str, String)],
    ) -> Vec<prom::Label> {
        let mut labels: Vec<prom::Label> =
            Vec::with_capacity(self.external.len() + more.len() + resource.len() + attrs.len() + 2);
        // Pushed in order of precedence, and the first label of a name wins: slotel's own
        // (replica, external labels), then the conversion's (`le`, `quantile`, the metric
        // name), then the resource's (`job`, `instance`), then the data point's
        // attributes. So whatever a sender writes can never replace or duplicate the
        // labels slotel sets. The SLO series' own labels come before external labels.
        labels.push(self.replica.clone());
        if self.origin == Origin::Sender {
            labels.extend(self.external.iter().cloned());
        }
        for (k, v) in more {
            labels.push(label(k, v));
        }
        // The stale-marker gauge names each series with a `__name__` attribute.
        let name_label = attrs
            .iter()
            .find(|kv| kv.key == "__name__")
            .map_or_else(|| name.to_string(), |kv| value_text(kv.value.as_ref()));
        labels.push(label("__name__", &name_label));
        labels.extend(resource.iter().cloned());
        let mut names_cut = false;
        for kv in attrs.iter().filter(|kv| kv.key != "__name__") {
            let mut name = sanitize(&kv.key, false);
            if self.origin == Origin::Sender {
                names_cut |= cut_name(&mut name, self.max_name);
            }
            labels.push(prom::Label {
                name,
                value: value_text(kv.value.as_ref()),
            });
        }
        if names_cut {
            self.tally.add(Reason::LabelNameCut);
        }
        if self.origin == Origin::Slotel {
            labels.extend(self.external.iter().cloned());
        }
        // A stable sort keeps the order of precedence among labels of one name.
        labels.sort_by(|a, b| a.name.cmp(&b.name));
        labels.dedup_by(|later, first| later.name == first.name);
        labels.retain(|l| !l.value.is_empty());
        if self.origin == Origin::Sender {
            for l in &mut labels {
                // A metric name keeps the characters of a name.
                let cut = if l.name == "__name__" {
                    cut_name(&mut l.value, self.max_value)
                } else {
                    cut_label_value(&mut l.value, self.max_value)
                };
                self.cut += u64::from(cut);
            }
        }
        labels
    }

    fn ts(&self, ns: u64) -> i64 {
        let ms = ns_to_ms(ns);
        if ms <= 0 || ms > self.now_ms {
            self.now_ms
        } else {
            ms
        }
    }

    fn sample(&mut self, labels: Vec<prom::Label>, value: f64, ts: i64) {
        self.push(prom::TimeSeries {
            labels,
            samples: vec![prom::Sample {
                value,
                timestamp: ts,
            }],
            ..Default::default()
        });
    }

    /// Adds a series unless it breaks a per-series limit of the backend (received series
    /// only), which would make the backend refuse the whole request: then it is dropped and
    /// counted.
    fn push(&mut self, s: prom::TimeSeries) {
        if self.origin == Origin::Sender {
            if self.max_labels > 0 && s.labels.len() > self.max_labels {
                self.tally.add(Reason::TooManyLabels);
                return;
            }
            let ts = s
                .samples
                .iter()
                .map(|x| x.timestamp)
                .chain(s.histograms.iter().map(|x| x.timestamp))
                .min();
            if ts.is_some_and(|ts| ts < self.min_ms) {
                self.tally.add(Reason::TooOld);
                return;
            }
        }
        self.series.push(s);
    }

    fn number_point(
        &mut self,
        name: &str,
        res: &[prom::Label],
        p: &opentelemetry_proto::tonic::metrics::v1::NumberDataPoint,
    ) {
        let labels = self.labels(name, res, &p.attributes, &[]);
        let value = if p.flags & DataPointFlags::NoRecordedValueMask as u32 != 0 {
            f64::from_bits(STALE_NAN)
        } else {
            match p.value {
                Some(number_data_point::Value::AsDouble(d)) => d,
                Some(number_data_point::Value::AsInt(i)) => i as f64,
                None => return,
            }
        };
        let ts = self.ts(p.time_unix_nano);
        self.sample(labels, value, ts);
    }

    fn exponential(&mut self, name: &str, res: &[prom::Label], p: &ExponentialHistogramDataPoint) {
        let labels = self.labels(name, res, &p.attributes, &[]);
        let ts = self.ts(p.time_unix_nano);
        if p.flags & DataPointFlags::NoRecordedValueMask as u32 != 0 {
            self.sample(labels, f64::from_bits(STALE_NAN), ts);
            return;
        }
        let scale = p.scale.clamp(-4, 8);
        let schema = scale.min(self.schema);
        let (spans, deltas) = match &p.positive {
            Some(b) => native_buckets(b.offset, &b.bucket_counts, scale, schema),
            None => (Vec::new(), Vec::new()),
        };
        let (nspans, ndeltas) = match &p.negative {
            Some(b) => native_buckets(b.offset, &b.bucket_counts, scale, schema),
            None => (Vec::new(), Vec::new()),
        };
        self.push(prom::TimeSeries {
            labels,
            histograms: vec![prom::Histogram {
                count: Some(prom::histogram::Count::CountInt(p.count)),
                sum: p.sum.unwrap_or(0.0),
                schema,
                zero_threshold: p.zero_threshold,
                zero_count: Some(prom::histogram::ZeroCount::ZeroCountInt(p.zero_count)),
                positive_spans: spans,
                positive_deltas: deltas,
                negative_spans: nspans,
                negative_deltas: ndeltas,
                reset_hint: prom::histogram::ResetHint::Unknown as i32,
                timestamp: ts,
                ..Default::default()
            }],
            ..Default::default()
        });
    }
}

/// OTLP exponential buckets (offset, counts at `scale`) → native histogram spans and
/// deltas at `schema` (≤ scale). OTLP bucket `i` is native bucket `i + 1`.
pub fn native_buckets(
    offset: i32,
    counts: &[u64],
    scale: i32,
    schema: i32,
) -> (Vec<prom::BucketSpan>, Vec<i64>) {
    let shift = (scale - schema).clamp(0, 31);
    let mut merged: Vec<(i32, u64)> = Vec::new();
    for (i, c) in counts.iter().enumerate() {
        if *c == 0 {
            continue;
        }
        let native = offset.saturating_add(i as i32).saturating_add(1);
        let idx = -((-native) >> shift);
        match merged.last_mut() {
            Some((last, n)) if *last == idx => *n += c,
            _ => merged.push((idx, *c)),
        }
    }
    let mut spans: Vec<prom::BucketSpan> = Vec::new();
    let mut deltas = Vec::with_capacity(merged.len());
    let (mut prev_idx, mut prev_count) = (0i32, 0i64);
    for (n, (idx, c)) in merged.iter().enumerate() {
        let c = i64::try_from(*c).unwrap_or(i64::MAX);
        if n == 0 {
            spans.push(prom::BucketSpan {
                offset: *idx,
                length: 1,
            });
        } else {
            let gap = idx - prev_idx - 1;
            // Short gaps are cheaper as empty buckets than as a new span.
            if gap <= 2 {
                if let Some(s) = spans.last_mut() {
                    s.length += gap as u32 + 1;
                }
                for _ in 0..gap {
                    deltas.push(-prev_count);
                    prev_count = 0;
                }
            } else {
                spans.push(prom::BucketSpan {
                    offset: gap,
                    length: 1,
                });
            }
        }
        deltas.push(c - prev_count);
        prev_count = c;
        prev_idx = *idx;
    }
    (spans, deltas)
}

/// A bucket bound or quantile as Prometheus writes it (`0.25`, `1`, `+Inf`).
fn format_bound(b: f64) -> String {
    if b == f64::INFINITY {
        "+Inf".to_string()
    } else if b == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{b}")
    }
}
