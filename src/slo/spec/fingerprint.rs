//! An SLO definition's fingerprint: what the state on disk (the snapshot, the write-ahead
//! log) knows a definition by, so state is restored only into the SLO it was counted for.
//!
//! It is the SHA-256 of a canonical encoding of exactly the fields that
//! [`Slo::same_definition`] compares — service, name, objective, window, budgeting, SLI,
//! `group_by`, percentiles — each written in a fixed order with a tag for every enum
//! variant and a length before every string and list. It therefore depends on what the
//! definition means, not on how its file is written (quoting, key order, comments, line
//! numbers, native format or OpenSLO), nor on the build, the Rust version or the machine.
//! Two definitions have the same fingerprint exactly when `same_definition` holds (a
//! SHA-256 collision aside).
//!
//! Conditions are encoded by their text and target (their equality rule); floats by
//! their IEEE bits, `-0.0` as `0.0` (the loader admits finite floats only, so `==` and the
//! bits agree); durations as seconds and nanoseconds. Every struct is destructured
//! without `..`, so a field added to a definition type does not compile until it is
//! either encoded here or named as not part of the definition.
//!
//! Changing the encoding changes every fingerprint: the snapshot format version must
//! change with it (see `slo::engine::snapshot`).

use std::time::Duration;

use sha2::Digest;

use super::journey::{Journey, Leaf, Member};
use super::trace_mode::TraceMode;
use super::{
    Budgeting, CalendarUnit, LatencyField, LatencyUnit, LogSli, MetricSelector, MetricSli, Sli,
    Slo, SloWindow, SpanSli,
};
use crate::slo::ottl::{AttrRef, Condition, ConditionTarget};

/// The encoding's own version, hashed first.
const DOMAIN: &[u8] = b"slotel slo definition 1";

/// A definition's fingerprint: 32 bytes of SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// Lowercase hex, as snapshots store it.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The first 8 bytes, little-endian: an SLO's id in the write-ahead log.
    pub fn id(&self) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.0[..8]);
        u64::from_le_bytes(b)
    }
}

impl Slo {
    /// This definition's fingerprint (see the module doc).
    pub fn fingerprint(&self) -> Fingerprint {
        let Slo {
            service,
            name,
            objective,
            window,
            budgeting,
            sli,
            percentiles,
            group_by,
            // Not part of the definition: they change no counted state.
            description: _,
            max_groups: _,
            min_events: _,
            runbook_url: _,
            alerting: _,
            source: _,
        } = self;
        let mut c = Canon(sha2::Sha256::new());
        c.bytes(DOMAIN);
        c.str(service);
        c.str(name);
        c.f64(*objective);
        c.window(window);
        c.budgeting(budgeting);
        c.sli(sli);
        c.len(percentiles.len());
        percentiles.iter().for_each(|p| c.f64(*p));
        c.len(group_by.len());
        group_by.iter().for_each(|a| c.attr(a));
        Fingerprint(c.0.finalize().into())
    }
}

/// The canonical encoding, fed straight into the hasher.
struct Canon(sha2::Sha256);

impl Canon {
    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.0.update(b);
    }

    fn tag(&mut self, t: u8) {
        self.0.update([t]);
    }

    fn u64(&mut self, v: u64) {
        self.0.update(v.to_le_bytes());
    }

    fn len(&mut self, n: usize) {
        self.u64(n as u64);
    }

    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    fn bool(&mut self, b: bool) {
        self.tag(u8::from(b));
    }

    fn f64(&mut self, v: f64) {
        let v = if v == 0.0 { 0.0 } else { v };
        self.u64(v.to_bits());
    }

    fn duration(&mut self, d: Duration) {
        self.u64(d.as_secs());
        self.u64(u64::from(d.subsec_nanos()));
    }

    fn opt<T>(&mut self, v: Option<&T>, mut f: impl FnMut(&mut Self, &T)) {
        match v {
            None => self.tag(0),
            Some(v) => {
                self.tag(1);
                f(self, v);
            }
        }
    }

    fn window(&mut self, w: &SloWindow) {
        match w {
            SloWindow::Rolling(d) => {
                self.tag(1);
                self.duration(*d);
            }
            SloWindow::Calendar { unit, time_zone } => {
                self.tag(2);
                self.tag(match unit {
                    CalendarUnit::Week => 1,
                    CalendarUnit::Month => 2,
                });
                self.str(time_zone);
            }
        }
    }

    fn budgeting(&mut self, b: &Budgeting) {
        match b {
            Budgeting::Occurrences => self.tag(1),
            Budgeting::Timeslices {
                slice,
                slice_target,
            } => {
                self.tag(2);
                self.duration(*slice);
                self.f64(*slice_target);
            }
        }
    }

    fn condition(&mut self, c: &Condition) {
        self.tag(match c.target() {
            ConditionTarget::Span => 1,
            ConditionTarget::Metric => 2,
            ConditionTarget::Log => 3,
        });
        self.str(c.text());
    }

    fn attr(&mut self, a: &AttrRef) {
        match a {
            AttrRef::Item(k) => {
                self.tag(1);
                self.str(k);
            }
            AttrRef::Resource(k) => {
                self.tag(2);
                self.str(k);
            }
            AttrRef::Body(keys) => {
                self.tag(3);
                self.len(keys.len());
                keys.iter().for_each(|k| self.str(k));
            }
        }
    }

    fn sli(&mut self, sli: &Sli) {
        match sli {
            Sli::Spans(SpanSli {
                filter,
                bad,
                latency_threshold,
                adjusted_counts,
            }) => {
                self.tag(1);
                self.condition(filter);
                self.opt(bad.as_ref(), Self::condition);
                self.opt(latency_threshold.as_ref(), |c, d| c.duration(*d));
                self.bool(*adjusted_counts);
            }
            Sli::Metric(m) => {
                self.tag(2);
                self.metric(m);
            }
            Sli::Logs(LogSli {
                filter,
                bad,
                latency,
                latency_threshold,
            }) => {
                self.tag(3);
                self.condition(filter);
                self.opt(bad.as_ref(), Self::condition);
                self.opt(latency.as_ref(), |c, LatencyField { field, unit }| {
                    c.attr(field);
                    c.tag(match unit {
                        LatencyUnit::Seconds => 1,
                        LatencyUnit::Millis => 2,
                        LatencyUnit::Micros => 3,
                        LatencyUnit::Nanos => 4,
                    });
                });
                self.opt(latency_threshold.as_ref(), |c, d| c.duration(*d));
            }
            Sli::Journey(j) => {
                self.tag(4);
                self.journey(j);
            }
        }
    }

    fn selector(&mut self, MetricSelector { name, filter }: &MetricSelector) {
        self.str(name);
        self.opt(filter.as_ref(), Self::condition);
    }

    fn metric(&mut self, m: &MetricSli) {
        match m {
            MetricSli::Threshold { metric, threshold } => {
                self.tag(1);
                self.selector(metric);
                self.f64(*threshold);
            }
            MetricSli::Ratio { good, bad, total } => {
                self.tag(2);
                self.opt(good.as_ref(), Self::selector);
                self.opt(bad.as_ref(), Self::selector);
                self.selector(total);
            }
        }
    }

    fn journey(&mut self, j: &Journey) {
        let Journey {
            members,
            trace,
            leaves,
        } = j;
        self.len(members.len());
        for Member {
            service,
            name,
            weight,
            // Where the member is written: not its meaning.
            at: _,
            path: _,
        } in members
        {
            self.str(service);
            self.str(name);
            self.u64(*weight);
        }
        self.opt(
            trace.as_ref(),
            |c,
             TraceMode {
                 max_wait,
                 max_traces,
             }| {
                c.duration(*max_wait);
                c.len(*max_traces);
            },
        );
        self.len(leaves.len());
        for Leaf {
            service,
            name,
            weight,
            group_labels,
        } in leaves
        {
            self.str(service);
            self.str(name);
            self.u64(*weight);
            self.len(group_labels.len());
            group_labels.iter().for_each(|l| self.str(l));
        }
    }
}
