//! The examples of RFC 5545 §3.8.5.3 that fall within the supported subset, with the
//! occurrences the RFC lists (its DTSTARTs are in America/New_York). Where an example
//! names `WKST=SU`, it is dropped only when the RFC's result does not depend on it (no
//! `BYDAY` day is a Sunday, or `INTERVAL=1`), which the note says.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use super::rrule::{Recurrence, RuleError, parse};

const NY: &str = "America/New_York";

fn recurrence(rule: &str, dtstart: &str) -> Recurrence {
    let tz = TimeZone::get(NY).unwrap();
    let dt: DateTime = dtstart.parse().unwrap();
    Recurrence::new(parse(rule).unwrap(), dt, tz).unwrap()
}

/// The first `n` occurrences (all, if fewer), as local `YYYY-MM-DD HH:MM` in New York.
fn first(rule: &str, dtstart: &str, n: usize) -> Vec<String> {
    let r = recurrence(rule, dtstart);
    let tz = TimeZone::get(NY).unwrap();
    let from: DateTime = dtstart.parse().unwrap();
    let from = tz.to_timestamp(from).unwrap();
    r.starts_between(from, Timestamp::MAX, n)
        .into_iter()
        .map(|t| tz.to_datetime(t).strftime("%Y-%m-%d %H:%M").to_string())
        .collect()
}

/// Days of one month (`1997-09`) at 09:00.
fn days(month: &str, days: &[u8]) -> Vec<String> {
    days.iter()
        .map(|d| format!("{month}-{d:02} 09:00"))
        .collect()
}

fn concat(parts: &[Vec<String>]) -> Vec<String> {
    parts.concat()
}

#[test]
fn daily_for_10_occurrences() {
    assert_eq!(
        first("FREQ=DAILY;COUNT=10", "1997-09-02T09:00:00", 100),
        days("1997-09", &[2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    );
}

#[test]
fn daily_until_december_24_1997() {
    let got = first(
        "FREQ=DAILY;UNTIL=19971224T000000Z",
        "1997-09-02T09:00:00",
        1000,
    );
    // Sep 2 … Dec 23: 29 + 31 + 30 + 23 days, at 09:00 local across the DST change.
    assert_eq!(got.len(), 113);
    assert_eq!(got.first().unwrap(), "1997-09-02 09:00");
    assert_eq!(got.last().unwrap(), "1997-12-23 09:00");
    assert!(got.iter().all(|s| s.ends_with("09:00")));
    // The instants move by the DST change: 13:00Z in EDT, 14:00Z in EST.
    let r = recurrence("FREQ=DAILY;UNTIL=19971224T000000Z", "1997-09-02T09:00:00");
    let all = r.starts_between(Timestamp::MIN, Timestamp::MAX, 1000);
    assert_eq!(all[0].to_string(), "1997-09-02T13:00:00Z");
    assert_eq!(all[112].to_string(), "1997-12-23T14:00:00Z");
}

#[test]
fn every_other_day_forever() {
    let got = first("FREQ=DAILY;INTERVAL=2", "1997-09-02T09:00:00", 20);
    assert_eq!(
        &got[..16],
        concat(&[
            days(
                "1997-09",
                &[2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
            ),
            days("1997-10", &[2])
        ])
    );
    // The RFC continues "...": the same step across months and years.
    let later = recurrence("FREQ=DAILY;INTERVAL=2", "1997-09-02T09:00:00");
    let tz = TimeZone::get(NY).unwrap();
    let from = tz
        .to_timestamp("1997-12-30T00:00:00".parse().unwrap())
        .unwrap();
    let got: Vec<String> = later
        .starts_between(from, Timestamp::MAX, 3)
        .into_iter()
        .map(|t| tz.to_datetime(t).strftime("%Y-%m-%d").to_string())
        .collect();
    assert_eq!(got, ["1997-12-31", "1998-01-02", "1998-01-04"]);
}

#[test]
fn every_10_days_5_occurrences() {
    assert_eq!(
        first("FREQ=DAILY;INTERVAL=10;COUNT=5", "1997-09-02T09:00:00", 100),
        concat(&[days("1997-09", &[2, 12, 22]), days("1997-10", &[2, 12])])
    );
}

#[test]
fn weekly_for_10_occurrences() {
    assert_eq!(
        first("FREQ=WEEKLY;COUNT=10", "1997-09-02T09:00:00", 100),
        concat(&[
            days("1997-09", &[2, 9, 16, 23, 30]),
            days("1997-10", &[7, 14, 21, 28]),
            days("1997-11", &[4])
        ])
    );
}

#[test]
fn weekly_until_december_24_1997() {
    assert_eq!(
        first(
            "FREQ=WEEKLY;UNTIL=19971224T000000Z",
            "1997-09-02T09:00:00",
            100
        ),
        concat(&[
            days("1997-09", &[2, 9, 16, 23, 30]),
            days("1997-10", &[7, 14, 21, 28]),
            days("1997-11", &[4, 11, 18, 25]),
            days("1997-12", &[2, 9, 16, 23])
        ])
    );
}

/// The RFC's rules carry `WKST=SU`, which changes nothing at INTERVAL=1.
#[test]
fn weekly_on_tuesday_and_thursday_for_five_weeks() {
    let want = concat(&[
        days("1997-09", &[2, 4, 9, 11, 16, 18, 23, 25, 30]),
        days("1997-10", &[2]),
    ]);
    assert_eq!(
        first(
            "FREQ=WEEKLY;UNTIL=19971007T000000Z;BYDAY=TU,TH",
            "1997-09-02T09:00:00",
            100
        ),
        want
    );
    assert_eq!(
        first(
            "FREQ=WEEKLY;COUNT=10;BYDAY=TU,TH",
            "1997-09-02T09:00:00",
            100
        ),
        want
    );
}

/// `WKST=SU` dropped: no BYDAY day is a Sunday, so Sunday- and Monday-started weeks hold
/// the same days.
#[test]
fn every_other_week_on_monday_wednesday_friday_until_december_24() {
    assert_eq!(
        first(
            "FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;BYDAY=MO,WE,FR",
            "1997-09-01T09:00:00",
            100
        ),
        concat(&[
            days("1997-09", &[1, 3, 5, 15, 17, 19, 29]),
            days("1997-10", &[1, 3, 13, 15, 17, 27, 29, 31]),
            days("1997-11", &[10, 12, 14, 24, 26, 28]),
            days("1997-12", &[8, 10, 12, 22])
        ])
    );
}

/// `WKST=SU` dropped, as above.
#[test]
fn every_other_week_on_tuesday_and_thursday_for_8_occurrences() {
    assert_eq!(
        first(
            "FREQ=WEEKLY;INTERVAL=2;COUNT=8;BYDAY=TU,TH",
            "1997-09-02T09:00:00",
            100
        ),
        concat(&[
            days("1997-09", &[2, 4, 16, 18, 30]),
            days("1997-10", &[2, 14, 16])
        ])
    );
}

#[test]
fn monthly_on_the_first_friday() {
    assert_eq!(
        first(
            "FREQ=MONTHLY;COUNT=10;BYDAY=1FR",
            "1997-09-05T09:00:00",
            100
        ),
        concat(&[
            days("1997-09", &[5]),
            days("1997-10", &[3]),
            days("1997-11", &[7]),
            days("1997-12", &[5]),
            days("1998-01", &[2]),
            days("1998-02", &[6]),
            days("1998-03", &[6]),
            days("1998-04", &[3]),
            days("1998-05", &[1]),
            days("1998-06", &[5])
        ])
    );
    assert_eq!(
        first(
            "FREQ=MONTHLY;UNTIL=19971224T000000Z;BYDAY=1FR",
            "1997-09-05T09:00:00",
            100
        ),
        concat(&[
            days("1997-09", &[5]),
            days("1997-10", &[3]),
            days("1997-11", &[7]),
            days("1997-12", &[5])
        ])
    );
}

#[test]
fn every_other_month_on_the_first_and_last_sunday() {
    assert_eq!(
        first(
            "FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU",
            "1997-09-07T09:00:00",
            100
        ),
        concat(&[
            days("1997-09", &[7, 28]),
            days("1997-11", &[2, 30]),
            days("1998-01", &[4, 25]),
            days("1998-03", &[1, 29]),
            days("1998-05", &[3, 31])
        ])
    );
}

#[test]
fn monthly_on_the_second_to_last_monday_for_6_months() {
    assert_eq!(
        first(
            "FREQ=MONTHLY;COUNT=6;BYDAY=-2MO",
            "1997-09-22T09:00:00",
            100
        ),
        concat(&[
            days("1997-09", &[22]),
            days("1997-10", &[20]),
            days("1997-11", &[17]),
            days("1997-12", &[22]),
            days("1998-01", &[19]),
            days("1998-02", &[16])
        ])
    );
}

#[test]
fn every_tuesday_every_other_month() {
    assert_eq!(
        first(
            "FREQ=MONTHLY;INTERVAL=2;BYDAY=TU",
            "1997-09-02T09:00:00",
            18
        ),
        concat(&[
            days("1997-09", &[2, 9, 16, 23, 30]),
            days("1997-11", &[4, 11, 18, 25]),
            days("1998-01", &[6, 13, 20, 27]),
            days("1998-03", &[3, 10, 17, 24, 31])
        ])
    );
}

#[test]
fn every_20_minutes_from_9_to_16_40_every_day() {
    let got = first(
        "FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40",
        "1997-09-02T09:00:00",
        48,
    );
    let mut want = Vec::new();
    for day in ["1997-09-02", "1997-09-03"] {
        for h in 9..=16 {
            for m in [0, 20, 40] {
                want.push(format!("{day} {h:02}:{m:02}"));
            }
        }
    }
    assert_eq!(got, want);
}

/// The RFC's example of WKST making a difference, with `WKST=MO` (the default): the week
/// of Tuesday 5 August holds Sunday 10 August.
#[test]
fn weekly_every_other_week_with_monday_weeks() {
    assert_eq!(
        first(
            "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU",
            "1997-08-05T09:00:00",
            100
        ),
        days("1997-08", &[5, 10, 19, 24])
    );
}

#[test]
fn a_skipped_local_hour_moves_forward_and_stays_local_afterwards() {
    // 2026-03-08 02:30 does not exist in New York (02:00 → 03:00).
    let r = recurrence("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "2026-03-07T02:30:00");
    let all = r.starts_between(Timestamp::MIN, Timestamp::MAX, 3);
    let s: Vec<String> = all.iter().map(ToString::to_string).collect();
    assert_eq!(
        s,
        [
            "2026-03-07T07:30:00Z",
            "2026-03-08T07:30:00Z",
            "2026-03-09T06:30:00Z"
        ]
    );
}

#[test]
fn a_span_of_time_reads_only_its_occurrences() {
    let r = recurrence(
        "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0",
        "1997-09-07T02:00:00",
    );
    let tz = TimeZone::get(NY).unwrap();
    let from = tz
        .to_timestamp("2030-01-01T00:00:00".parse().unwrap())
        .unwrap();
    let to = tz
        .to_timestamp("2030-01-15T00:00:00".parse().unwrap())
        .unwrap();
    let got: Vec<String> = r
        .starts_between(from, to, 100)
        .into_iter()
        .map(|t| tz.to_datetime(t).strftime("%Y-%m-%d %H:%M %a").to_string())
        .collect();
    assert_eq!(got, ["2030-01-06 02:00 Sun", "2030-01-13 02:00 Sun"]);
}

#[test]
fn everything_outside_the_subset_is_refused_by_name() {
    let err = |rule: &str| parse(rule).unwrap_err().to_string();
    assert!(err("FREQ=YEARLY").contains("FREQ=YEARLY is not supported"));
    assert!(err("FREQ=HOURLY;INTERVAL=3").contains("DAILY, WEEKLY or MONTHLY"));
    assert!(err("FREQ=MONTHLY;BYMONTHDAY=15").contains("BYMONTHDAY is not supported"));
    assert!(err("FREQ=WEEKLY;WKST=SU").contains("WKST is not supported"));
    assert!(err("FREQ=DAILY;BYSETPOS=1").contains("BYSETPOS is not supported"));
    assert!(err("FREQ=DAILY;COUNT=3;UNTIL=19971224T000000Z").contains("exclude each other"));
    assert!(err("FREQ=DAILY;UNTIL=19971224T000000").contains("UTC"));
    assert!(err("FREQ=WEEKLY;BYDAY=1MO").contains("only with FREQ=MONTHLY"));
    assert!(err("FREQ=MONTHLY;BYDAY=6MO").contains("ordinal"));
    assert!(err("FREQ=DAILY;BYHOUR=24").contains("BYHOUR"));
    assert!(err("FREQ=DAILY;BYMINUTE=60").contains("BYMINUTE"));
    assert!(err("FREQ=DAILY;INTERVAL=0").contains("INTERVAL"));
    assert!(err("FREQ=DAILY;COUNT=0").contains("COUNT"));
    assert!(err("FREQ=DAILY;FREQ=DAILY").contains("twice"));
    assert!(err("INTERVAL=2").contains("FREQ is required"));
    assert!(err("").contains("empty"));
    assert!(err("FREQ").contains("NAME=VALUE"));
    assert!(err("FREQ=WEEKLY;BYDAY=XX").contains("weekday"));
    // DTSTART must be an occurrence.
    let tz = TimeZone::get(NY).unwrap();
    let tuesday: DateTime = "1997-09-02T09:00:00".parse().unwrap();
    let e = Recurrence::new(parse("FREQ=WEEKLY;BYDAY=SU").unwrap(), tuesday, tz).unwrap_err();
    assert_eq!(e, RuleError::NotAnOccurrence(tuesday));
    assert!(e.to_string().contains("not an occurrence"), "{e}");
}
