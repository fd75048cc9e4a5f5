//! A subset of iCalendar recurrence rules (RFC 5545 §3.3.10), for recurring adjustments.
//!
//! Supported, with RFC 5545's meaning, and nothing else (any other rule part, or a value
//! outside these, is an error that names it):
//!
//! - `FREQ=DAILY|WEEKLY|MONTHLY` (required).
//! - `INTERVAL=n`: every n-th day, week or month (1 to 1000; default 1). Weeks start on
//!   Monday (RFC 5545's default `WKST`; `WKST` itself is not accepted).
//! - `BYDAY=MO,TU,…`: with `DAILY`, limits the days; with `WEEKLY`, the days of each week
//!   (default: DTSTART's weekday); with `MONTHLY`, every such weekday of the month, or with
//!   an ordinal the n-th of the month (`1FR` the first Friday, `-1SU` the last Sunday;
//!   default: DTSTART's day of the month, skipped in months without it). Ordinals only
//!   with `MONTHLY`.
//! - `BYHOUR=0..23`, `BYMINUTE=0..59`: the times of each day (default: DTSTART's hour and
//!   minute; seconds are always DTSTART's).
//! - `COUNT=n` (1 to 10000, DTSTART counting as the first) or `UNTIL=YYYYMMDDTHHMMSSZ`
//!   (UTC, inclusive), not both; neither: forever.
//!
//! Occurrences are local times in the rule's time zone (so `BYHOUR=2` stays 02:00 across
//! daylight saving time); a local time that does not exist (the hour skipped in spring) is
//! moved forward by the gap, a repeated one takes its first instant, as RFC 5545 says for
//! DATE-TIME values. DTSTART must be an occurrence of its rule (RFC 5545 leaves a rule not
//! synchronized with its DTSTART undefined).
//!
//! Reading a span of time costs a few periods: forever and `UNTIL` rules jump to the
//! period containing it; `COUNT` rules are expanded once, when compiled.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;

/// Why a rule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// Not a rule of the supported subset: which part, and why.
    #[error("{0}")]
    Syntax(String),
    /// RFC 5545 leaves the recurrence of a DTSTART that is not an occurrence undefined.
    #[error(
        "dtstart {0} is not an occurrence of the rule: give the first occurrence (RFC 5545 \
         leaves other DTSTARTs undefined)"
    )]
    NotAnOccurrence(DateTime),
    #[error("the rule yields {found} of its COUNT={count} occurrences in {MAX_PERIODS} periods")]
    CountNotReached { found: usize, count: u32 },
}

/// The largest `INTERVAL`.
pub const MAX_INTERVAL: u32 = 1_000;
/// The largest `COUNT`.
pub const MAX_COUNT: u32 = 10_000;
/// Periods a `COUNT` rule may take to yield its occurrences.
const MAX_PERIODS: i64 = 200_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freq {
    Daily,
    Weekly,
    Monthly,
}

/// One `BYDAY` entry: a weekday, with an ordinal in the month (`MONTHLY` only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByDay {
    pub nth: Option<i8>,
    pub day: Weekday,
}

/// How a rule ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Never,
    Count(u32),
    Until(Timestamp),
}

/// A parsed rule (without its DTSTART).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub freq: Freq,
    pub interval: u32,
    pub by_day: Vec<ByDay>,
    pub by_hour: Vec<i8>,
    pub by_minute: Vec<i8>,
    pub end: End,
}

fn weekday(s: &str) -> Option<Weekday> {
    Some(match s {
        "MO" => Weekday::Monday,
        "TU" => Weekday::Tuesday,
        "WE" => Weekday::Wednesday,
        "TH" => Weekday::Thursday,
        "FR" => Weekday::Friday,
        "SA" => Weekday::Saturday,
        "SU" => Weekday::Sunday,
        _ => return None,
    })
}

/// A comma-separated list of integers in `lo..=hi`, sorted and deduplicated.
fn numbers(part: &str, value: &str, lo: i8, hi: i8) -> Result<Vec<i8>, RuleError> {
    let mut out = Vec::new();
    for v in value.split(',') {
        match v.parse::<i8>() {
            Ok(n) if (lo..=hi).contains(&n) => out.push(n),
            _ => {
                return Err(RuleError::Syntax(format!(
                    "{part}: {v:?} is not a whole number in {lo}..={hi}"
                )));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// `UNTIL` as a UTC date-time: `YYYYMMDDTHHMMSSZ`.
fn until(value: &str) -> Result<Timestamp, RuleError> {
    let err = || {
        RuleError::Syntax(format!(
            "UNTIL: {value:?} is not a UTC date-time like 19971224T000000Z (a rule with a \
             DTSTART in a time zone takes UNTIL in UTC, RFC 5545 §3.3.10)"
        ))
    };
    let digits = value.strip_suffix('Z').ok_or_else(err)?;
    let (date, time) = digits.split_once('T').ok_or_else(err)?;
    if date.len() != 8
        || time.len() != 6
        || !(date.chars().chain(time.chars())).all(|c| c.is_ascii_digit())
    {
        return Err(err());
    }
    let n = |s: &str| s.parse::<i16>().map_err(|_| err());
    let d = Date::new(n(&date[..4])?, n(&date[4..6])? as i8, n(&date[6..])? as i8)
        .map_err(|_| err())?;
    let t = Time::new(
        n(&time[..2])? as i8,
        n(&time[2..4])? as i8,
        n(&time[4..])? as i8,
        0,
    )
    .map_err(|_| err())?;
    TimeZone::UTC
        .to_timestamp(d.to_datetime(t))
        .map_err(|_| err())
}

/// Parses a rule: `FREQ=WEEKLY;BYDAY=SU;BYHOUR=2` (an optional `RRULE:` prefix allowed).
pub fn parse(text: &str) -> Result<Rule, RuleError> {
    let text = text.trim();
    let text = text.strip_prefix("RRULE:").unwrap_or(text);
    if text.is_empty() {
        return Err(RuleError::Syntax(
            "the rule is empty: give at least FREQ, e.g. FREQ=WEEKLY;BYDAY=SU".into(),
        ));
    }
    if text.len() > 1_024 {
        return Err(RuleError::Syntax(
            "the rule is longer than 1024 characters".into(),
        ));
    }
    let mut freq = None;
    let mut interval = None;
    let mut by_day = None;
    let mut by_hour = None;
    let mut by_minute = None;
    let mut count = None;
    let mut until_at = None;
    for part in text.split(';') {
        let Some((name, value)) = part.split_once('=') else {
            return Err(RuleError::Syntax(format!("{part:?} is not NAME=VALUE")));
        };
        let name = name.to_ascii_uppercase();
        let value = value.to_ascii_uppercase();
        let seen = match name.as_str() {
            "FREQ" => freq.is_some(),
            "INTERVAL" => interval.is_some(),
            "BYDAY" => by_day.is_some(),
            "BYHOUR" => by_hour.is_some(),
            "BYMINUTE" => by_minute.is_some(),
            "COUNT" => count.is_some(),
            "UNTIL" => until_at.is_some(),
            _ => {
                return Err(RuleError::Syntax(format!(
                    "{name} is not supported: slotel reads FREQ (DAILY, WEEKLY, MONTHLY), \
                     INTERVAL, BYDAY, BYHOUR, BYMINUTE, COUNT and UNTIL"
                )));
            }
        };
        if seen {
            return Err(RuleError::Syntax(format!("{name} is given twice")));
        }
        match name.as_str() {
            "FREQ" => {
                freq = Some(match value.as_str() {
                    "DAILY" => Freq::Daily,
                    "WEEKLY" => Freq::Weekly,
                    "MONTHLY" => Freq::Monthly,
                    _ => {
                        return Err(RuleError::Syntax(format!(
                            "FREQ={value} is not supported: use DAILY, WEEKLY or MONTHLY"
                        )));
                    }
                });
            }
            "INTERVAL" => match value.parse::<u32>() {
                Ok(n) if (1..=MAX_INTERVAL).contains(&n) => interval = Some(n),
                _ => {
                    return Err(RuleError::Syntax(format!(
                        "INTERVAL: {value:?} is not in 1..={MAX_INTERVAL}"
                    )));
                }
            },
            "COUNT" => match value.parse::<u32>() {
                Ok(n) if (1..=MAX_COUNT).contains(&n) => count = Some(n),
                _ => {
                    return Err(RuleError::Syntax(format!(
                        "COUNT: {value:?} is not in 1..={MAX_COUNT}"
                    )));
                }
            },
            "UNTIL" => until_at = Some(until(&value)?),
            "BYHOUR" => by_hour = Some(numbers("BYHOUR", &value, 0, 23)?),
            "BYMINUTE" => by_minute = Some(numbers("BYMINUTE", &value, 0, 59)?),
            _ => {
                let mut days = Vec::new();
                for v in value.split(',') {
                    let at = v.len().saturating_sub(2);
                    let (nth, day) = v.split_at_checked(at).unwrap_or(("", v));
                    let Some(day) = weekday(day) else {
                        return Err(RuleError::Syntax(format!(
                            "BYDAY: {v:?} is not a weekday (MO … SU, e.g. 1FR or -1SU)"
                        )));
                    };
                    let nth = match nth {
                        "" => None,
                        n => match n.strip_prefix('+').unwrap_or(n).parse::<i8>() {
                            Ok(k) if k != 0 && (-5..=5).contains(&k) => Some(k),
                            _ => {
                                return Err(RuleError::Syntax(format!(
                                    "BYDAY: {v:?}: the ordinal must be 1..5 or -5..-1"
                                )));
                            }
                        },
                    };
                    let entry = ByDay { nth, day };
                    if !days.contains(&entry) {
                        days.push(entry);
                    }
                }
                by_day = Some(days);
            }
        }
    }
    let Some(freq) = freq else {
        return Err(RuleError::Syntax(
            "FREQ is required (DAILY, WEEKLY or MONTHLY)".into(),
        ));
    };
    let by_day = by_day.unwrap_or_default();
    if freq != Freq::Monthly && by_day.iter().any(|d| d.nth.is_some()) {
        return Err(RuleError::Syntax(
            "BYDAY: an ordinal (like 1FR) goes only with FREQ=MONTHLY".into(),
        ));
    }
    let end = match (count, until_at) {
        (Some(_), Some(_)) => {
            return Err(RuleError::Syntax(
                "COUNT and UNTIL exclude each other".into(),
            ));
        }
        (Some(n), None) => End::Count(n),
        (None, Some(t)) => End::Until(t),
        (None, None) => End::Never,
    };
    Ok(Rule {
        freq,
        interval: interval.unwrap_or(1),
        by_day,
        by_hour: by_hour.unwrap_or_default(),
        by_minute: by_minute.unwrap_or_default(),
        end,
    })
}

/// Days since 1970-01-01.
fn epoch_day(d: Date) -> i64 {
    d.since((jiff::Unit::Day, Date::constant(1970, 1, 1)))
        .map(|s| i64::from(s.get_days()))
        .unwrap_or(0)
}

fn from_epoch_day(n: i64) -> Option<Date> {
    let span = jiff::Span::new().try_days(n).ok()?;
    Date::constant(1970, 1, 1).checked_add(span).ok()
}

/// Months since year 0.
fn month_index(d: Date) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month()) - 1
}

/// A rule with its DTSTART (a local time in `tz`): the start times of its occurrences.
#[derive(Debug, Clone)]
pub struct Recurrence {
    rule: Rule,
    dtstart: DateTime,
    tz: TimeZone,
    /// Every occurrence of a `COUNT` rule, ascending.
    finite: Option<Vec<Timestamp>>,
}

impl Recurrence {
    /// Compiles `rule` from `dtstart` in `tz`; an error when DTSTART is not an occurrence
    /// of the rule, or a `COUNT` rule does not reach its count in reasonable time.
    pub fn new(rule: Rule, dtstart: DateTime, tz: TimeZone) -> Result<Self, RuleError> {
        let mut r = Self {
            rule,
            dtstart,
            tz,
            finite: None,
        };
        let first = r.candidates(0);
        if !first.contains(&dtstart) {
            return Err(RuleError::NotAnOccurrence(dtstart));
        }
        if let End::Count(n) = r.rule.end {
            let mut all = Vec::with_capacity(n as usize);
            let mut k = 0;
            while all.len() < n as usize {
                if k >= MAX_PERIODS {
                    return Err(RuleError::CountNotReached {
                        found: all.len(),
                        count: n,
                    });
                }
                for dt in r.candidates(k) {
                    if dt >= dtstart && all.len() < n as usize {
                        all.push(r.instant(dt));
                    }
                }
                k += 1;
            }
            r.finite = Some(all);
        }
        Ok(r)
    }

    pub fn rule(&self) -> &Rule {
        &self.rule
    }

    fn instant(&self, dt: DateTime) -> Timestamp {
        self.tz.to_timestamp(dt).unwrap_or(Timestamp::MAX)
    }

    /// The dates of period `k`, ascending.
    fn period_dates(&self, k: i64) -> Vec<Date> {
        let start = self.dtstart.date();
        let step = i64::from(self.rule.interval) * k;
        let rule = &self.rule;
        match rule.freq {
            Freq::Daily => {
                let Some(d) = from_epoch_day(epoch_day(start) + step) else {
                    return Vec::new();
                };
                let wanted =
                    rule.by_day.is_empty() || rule.by_day.iter().any(|b| b.day == d.weekday());
                if wanted { vec![d] } else { Vec::new() }
            }
            Freq::Weekly => {
                let monday = epoch_day(start) - i64::from(start.weekday().to_monday_zero_offset());
                let week = monday + 7 * step;
                let mut out: Vec<Date> = if rule.by_day.is_empty() {
                    from_epoch_day(week + i64::from(start.weekday().to_monday_zero_offset()))
                        .into_iter()
                        .collect()
                } else {
                    rule.by_day
                        .iter()
                        .filter_map(|b| {
                            from_epoch_day(week + i64::from(b.day.to_monday_zero_offset()))
                        })
                        .collect()
                };
                out.sort();
                out
            }
            Freq::Monthly => {
                let m = month_index(start) + step;
                let (year, month) = (m.div_euclid(12), m.rem_euclid(12) + 1);
                let Ok(year) = i16::try_from(year) else {
                    return Vec::new();
                };
                let Ok(first) = Date::new(year, month as i8, 1) else {
                    return Vec::new();
                };
                let mut out = Vec::new();
                if rule.by_day.is_empty() {
                    if let Ok(d) = Date::new(year, month as i8, start.day()) {
                        out.push(d);
                    }
                } else {
                    for b in &rule.by_day {
                        match b.nth {
                            Some(n) => {
                                if let Ok(d) = first.nth_weekday_of_month(n, b.day) {
                                    out.push(d);
                                }
                            }
                            None => {
                                for n in 1..=5 {
                                    if let Ok(d) = first.nth_weekday_of_month(n, b.day) {
                                        out.push(d);
                                    }
                                }
                            }
                        }
                    }
                }
                out.sort();
                out.dedup();
                out
            }
        }
    }

    /// The local start times of period `k`, ascending (before DTSTART and UNTIL filters).
    fn candidates(&self, k: i64) -> Vec<DateTime> {
        let t = self.dtstart.time();
        let hours = if self.rule.by_hour.is_empty() {
            vec![t.hour()]
        } else {
            self.rule.by_hour.clone()
        };
        let minutes = if self.rule.by_minute.is_empty() {
            vec![t.minute()]
        } else {
            self.rule.by_minute.clone()
        };
        let mut out = Vec::new();
        for d in self.period_dates(k) {
            for h in &hours {
                for m in &minutes {
                    if let Ok(time) = Time::new(*h, *m, t.second(), t.subsec_nanosecond()) {
                        out.push(d.to_datetime(time));
                    }
                }
            }
        }
        out
    }

    /// The period holding local date `d` (negative before DTSTART's).
    fn period_of(&self, d: Date) -> i64 {
        let start = self.dtstart.date();
        let interval = i64::from(self.rule.interval);
        match self.rule.freq {
            Freq::Daily => (epoch_day(d) - epoch_day(start)).div_euclid(interval),
            Freq::Weekly => {
                let monday =
                    |x: Date| epoch_day(x) - i64::from(x.weekday().to_monday_zero_offset());
                (monday(d) - monday(start)).div_euclid(7 * interval)
            }
            Freq::Monthly => (month_index(d) - month_index(start)).div_euclid(interval),
        }
    }

    /// Start times of the occurrences that start in `[from, to)`, ascending (at most
    /// `limit`).
    pub fn starts_between(&self, from: Timestamp, to: Timestamp, limit: usize) -> Vec<Timestamp> {
        if let Some(all) = &self.finite {
            let i = all.partition_point(|t| *t < from);
            return all[i..]
                .iter()
                .take_while(|t| **t < to)
                .take(limit)
                .copied()
                .collect();
        }
        let until = match self.rule.end {
            End::Until(u) => Some(u),
            _ => None,
        };
        // A day of slack either side: local dates and UTC instants differ by under a day.
        let day = jiff::SignedDuration::from_hours(24);
        let local = |t: Timestamp| self.tz.to_datetime(t).date();
        let first = local(from.checked_sub(day).unwrap_or(Timestamp::MIN));
        let last = local(to.checked_add(day).unwrap_or(Timestamp::MAX));
        let mut k = self.period_of(first).max(0);
        let last_k = self.period_of(last);
        let mut out = Vec::new();
        let mut periods = 0;
        while k <= last_k && out.len() < limit && periods < MAX_PERIODS {
            periods += 1;
            for dt in self.candidates(k) {
                if dt < self.dtstart {
                    continue;
                }
                let t = self.instant(dt);
                if until.is_some_and(|u| t > u) {
                    return out;
                }
                if t >= from && t < to && out.len() < limit {
                    out.push(t);
                }
            }
            k += 1;
        }
        out
    }
}
