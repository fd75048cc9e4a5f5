//! Calendar SLO windows: the current month or week in a time zone.
//!
//! A calendar SLO window covers its period so far: from the start of the current month
//! (or week, Monday to Monday, ISO 8601) in the SLO's time zone up to now, and starts again
//! from zero at the next period's start. Its ring has one slot per *local day* (days are
//! 23 or 25 hours long across daylight-saving changes), keyed by the local date's day
//! number, so a period is a run of whole slots and is exact, not exact to 1/30.
//!
//! Every lookup goes through the bundled time zone database (jiff); the ring caches the
//! day it saw last, so the record path computes a day only when an event falls outside it.
//! Times outside what the database can represent fall back to UTC days (never a panic).

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::slo::spec::CalendarUnit;

const DAY_NANOS: u64 = 86_400 * 1_000_000_000;

/// A calendar period kind in a time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub unit: CalendarUnit,
    /// The IANA name, as written in the SLO file.
    pub zone: String,
    tz: TimeZone,
}

/// One local day: its slot id (local day number + 2, so never 0) and its bounds in Unix
/// nanoseconds, `[start, end)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Day {
    pub id: u64,
    pub start: u64,
    pub end: u64,
}

/// One calendar period: `[start, end)` in Unix nanoseconds and the id of its first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: u64,
    pub end: u64,
    pub first_day: u64,
}

/// Days from 1970-01-01 to a civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn day_number(d: Date) -> i64 {
    days_from_civil(
        i64::from(d.year()),
        i64::from(d.month()),
        i64::from(d.day()),
    )
}

fn to_u64(nanos: i128) -> u64 {
    nanos.clamp(0, i128::from(u64::MAX)) as u64
}

impl Calendar {
    /// A calendar in `zone`; an unknown zone (the SLO loader refuses them) is UTC.
    pub fn new(unit: CalendarUnit, zone: &str) -> Self {
        Self {
            unit,
            zone: zone.to_string(),
            tz: TimeZone::get(zone).unwrap_or(TimeZone::UTC),
        }
    }

    /// The window label: `month` or `week`.
    pub fn label(&self) -> &'static str {
        match self.unit {
            CalendarUnit::Month => "month",
            CalendarUnit::Week => "week",
        }
    }

    /// The longest period, in seconds (31 or 7 days).
    pub fn longest_secs(&self) -> u64 {
        match self.unit {
            CalendarUnit::Month => 31 * 86_400,
            CalendarUnit::Week => 7 * 86_400,
        }
    }

    fn date_of(&self, t: u64) -> Option<Date> {
        let ts = Timestamp::from_nanosecond(i128::from(t)).ok()?;
        Some(ts.to_zoned(self.tz.clone()).date())
    }

    /// The start of local date `d`, in Unix nanoseconds.
    fn start_of(&self, d: Date) -> Option<u64> {
        let z = d.to_zoned(self.tz.clone()).ok()?.start_of_day().ok()?;
        Some(to_u64(z.timestamp().as_nanosecond()))
    }

    /// The local day holding `t`.
    pub fn day(&self, t: u64) -> Day {
        let local = self.date_of(t).and_then(|d| {
            let next = d.tomorrow().ok()?;
            let id = u64::try_from(day_number(d) + 2).ok()?;
            Some(Day {
                id,
                start: self.start_of(d)?,
                end: self.start_of(next)?,
            })
        });
        local.unwrap_or_else(|| {
            let n = t / DAY_NANOS;
            Day {
                id: n + 2,
                start: n * DAY_NANOS,
                end: (n + 1).saturating_mul(DAY_NANOS),
            }
        })
    }

    /// The period holding `t`.
    pub fn period(&self, t: u64) -> Period {
        let local = self.date_of(t).and_then(|d| {
            let (first, next) = match self.unit {
                CalendarUnit::Month => {
                    let first = d.first_of_month();
                    (first, d.last_of_month().tomorrow().ok()?)
                }
                CalendarUnit::Week => {
                    let back = i64::from(d.weekday().to_monday_zero_offset());
                    let first = d.checked_sub(jiff::Span::new().days(back)).ok()?;
                    (first, first.checked_add(jiff::Span::new().days(7)).ok()?)
                }
            };
            Some(Period {
                start: self.start_of(first)?,
                end: self.start_of(next)?,
                first_day: u64::try_from(day_number(first) + 2).ok()?,
            })
        });
        local.unwrap_or_else(|| {
            let day = self.day(t);
            Period {
                start: day.start,
                end: day.end,
                first_day: day.id,
            }
        })
    }

    /// The start of the day with slot id `id`.
    pub fn day_start(&self, id: u64) -> u64 {
        let days = id.saturating_sub(2);
        let local = i64::try_from(days).ok().and_then(|n| {
            let epoch = Date::new(1970, 1, 1).ok()?;
            let d = epoch
                .checked_add(jiff::Span::new().try_days(n).ok()?)
                .ok()?;
            self.start_of(d)
        });
        local.unwrap_or_else(|| days.saturating_mul(DAY_NANOS))
    }

    /// `t` as RFC 3339 in the calendar's zone: `2026-11-01T00:00:00+09:00`.
    pub fn rfc3339(&self, t: u64) -> String {
        match Timestamp::from_nanosecond(i128::from(t)) {
            Ok(ts) => ts
                .to_zoned(self.tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string(),
            Err(_) => t.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn at(s: &str) -> u64 {
        let ts: Timestamp = s.parse().unwrap();
        ts.as_nanosecond() as u64
    }

    #[test]
    fn civil_day_numbers() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2026, 11, 1), 20_758);
    }

    #[test]
    fn months_start_at_local_midnight() {
        let c = Calendar::new(CalendarUnit::Month, "Asia/Seoul");
        // 2026-10-31T16:00Z is already November 1st, 01:00 in Seoul.
        let p = c.period(at("2026-10-31T16:00:00Z"));
        assert_eq!(p.start, at("2026-10-31T15:00:00Z"));
        assert_eq!(p.end, at("2026-11-30T15:00:00Z"));
        assert_eq!(c.rfc3339(p.start), "2026-11-01T00:00:00+09:00");
        // One second before is still October.
        let oct = c.period(at("2026-10-31T14:59:59Z"));
        assert_eq!(oct.end, p.start);
        assert_eq!(oct.start, at("2026-09-30T15:00:00Z"));
        assert_eq!(p.first_day, c.day(p.start).id);
        assert_eq!(c.day(p.end - 1).id - p.first_day, 29, "30 days in november");
    }

    #[test]
    fn weeks_start_on_monday_and_days_follow_daylight_saving() {
        let c = Calendar::new(CalendarUnit::Week, "Europe/Berlin");
        // Sunday 2026-03-29: clocks go forward at 02:00, the day is 23 hours long.
        let day = c.day(at("2026-03-29T12:00:00Z"));
        assert_eq!(day.start, at("2026-03-28T23:00:00Z"));
        assert_eq!(day.end, at("2026-03-29T22:00:00Z"));
        assert_eq!(day.end - day.start, 23 * 3_600 * S);
        let p = c.period(at("2026-03-29T12:00:00Z"));
        assert_eq!(c.rfc3339(p.start), "2026-03-23T00:00:00+01:00");
        assert_eq!(c.rfc3339(p.end), "2026-03-30T00:00:00+02:00");
        assert_eq!(c.day_start(day.id), day.start);
        assert_eq!(c.label(), "week");
    }

    #[test]
    fn utc_and_unknown_zones() {
        let c = Calendar::new(CalendarUnit::Month, "Not/AZone");
        let p = c.period(at("2026-02-14T10:00:00Z"));
        assert_eq!(p.start, at("2026-02-01T00:00:00Z"));
        assert_eq!(p.end, at("2026-03-01T00:00:00Z"));
        assert_eq!(c.day(0).id, 2);
        assert_eq!(c.day_start(c.day(5 * S).id), 0);
    }
}
