//! Readers for the values both SLO formats share: names, numbers, percentages, windows,
//! conditions (errors placed at the right column inside the file) and metric thresholds.
//!
//! SLO files are not interpolated: `${…}` stays as written.

use std::cell::{Cell, OnceCell};
use std::time::Duration;

use crate::slo::ottl::{self, Condition, ConditionTarget};
use crate::slo::spec::{AttrRef, CalendarUnit, SloWindow};
use crate::yaml::read::{Ctx, Fields, hint};
use crate::yaml::{ConfigError, Lookup, Node, Value};

/// The shortest SLO window.
pub const MIN_WINDOW: Duration = Duration::from_secs(86_400);

/// The longest rolling SLO window.
pub const MAX_WINDOW: Duration = Duration::from_secs(366 * 86_400);

/// The largest `max_groups`.
pub const MAX_GROUPS_LIMIT: usize = 100_000;

/// What decoding a file needs besides the error sink: its text, to place condition errors.
pub(super) struct Source<'a> {
    pub(super) text: &'a str,
    /// Bytes of compiled `IsMatch` regex still allowed, shared by every file of one load
    /// ([`crate::slo::ottl::MAX_REGEX_TOTAL_BYTES`] in all).
    pub(super) regex_room: &'a Cell<usize>,
    /// The byte offset where each line starts, built when the first error is placed:
    /// placing thousands of errors must not walk the file from its start each time.
    pub(super) line_starts: OnceCell<Vec<usize>>,
}

impl<'a> Source<'a> {
    pub(super) fn new(text: &'a str, regex_room: &'a Cell<usize>) -> Self {
        Self {
            text,
            regex_room,
            line_starts: OnceCell::new(),
        }
    }

    /// The byte offset where 1-based `line` starts (the text's end past the last line).
    fn line_start(&self, line: usize) -> usize {
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len())
    }
}

/// SLO files are not interpolated; [`Ctx`] still wants a lookup.
pub(super) struct NoLookup;

impl Lookup for NoLookup {
    fn env(&self, _: &str) -> Option<String> {
        None
    }

    fn read_file(&self, _: &std::path::Path) -> std::io::Result<String> {
        Err(std::io::Error::other("slo files are not interpolated"))
    }
}

fn mismatch(ctx: &mut Ctx<'_>, node: &Node, path: &str, expected: &str) {
    let msg = format!("expected {expected}, found {}", node.describe());
    ctx.error(node, path, msg);
}

/// A scalar's text, as written.
pub(super) fn text(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<String> {
    match &node.value {
        Value::Scalar { text, .. } => Some(text.clone()),
        _ => {
            mismatch(ctx, node, path, "a string");
            None
        }
    }
}

/// A scalar run through `parse`, whose error becomes the field's error.
pub(super) fn parsed<T, E: std::fmt::Display>(
    ctx: &mut Ctx<'_>,
    node: &Node,
    path: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Option<T> {
    let text = text(ctx, node, path)?;
    parse(text.trim())
        .map_err(|e| ctx.error(node, path, e.to_string()))
        .ok()
}

/// A service or SLO name: it appears in URLs and label values.
pub(super) fn name(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<String> {
    parsed(ctx, node, path, |s| {
        let valid = s.len() <= 128
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if valid {
            Ok(s.to_string())
        } else {
            Err(format!(
                "invalid name {s:?}: use letters, digits, `-`, `_` and `.`, starting with a \
                 letter or digit, at most 128 characters"
            ))
        }
    })
}

pub(super) fn non_empty(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<String> {
    parsed(ctx, node, path, |s| {
        if s.is_empty() {
            Err("must not be empty".to_string())
        } else {
            Ok(s.to_string())
        }
    })
}

pub(super) fn number(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<f64> {
    if !matches!(node.value, Value::Scalar { .. }) {
        mismatch(ctx, node, path, "a number");
        return None;
    }
    parsed(ctx, node, path, |s| match s.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(n),
        _ => Err(format!("invalid number {s:?}")),
    })
}

pub(super) fn boolean(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<bool> {
    parsed(ctx, node, path, |s| match s {
        "true" | "True" | "TRUE" => Ok(true),
        "false" | "False" | "FALSE" => Ok(false),
        _ => Err(format!("invalid boolean {s:?}, expected `true` or `false`")),
    })
}

/// A whole number; `min` is the smallest allowed.
pub(super) fn whole(ctx: &mut Ctx<'_>, node: &Node, path: &str, min: u64, max: u64) -> Option<u64> {
    parsed(ctx, node, path, |s| match s.parse::<u64>() {
        Ok(n) if n < min => Err(format!("must be at least {min}")),
        Ok(n) if n > max => Err(format!("must be at most {max}")),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("invalid number {s:?}, expected a whole number")),
    })
}

/// A percentage strictly between 0 and 100 (or up to 100 with `allow_100`), as a ratio.
pub(super) fn percent(ctx: &mut Ctx<'_>, node: &Node, path: &str, allow_100: bool) -> Option<f64> {
    let value = number(ctx, node, path)?;
    let ok = value > 0.0 && (value < 100.0 || (allow_100 && value == 100.0));
    if !ok {
        let range = if allow_100 { "(0, 100]" } else { "(0, 100)" };
        let msg = format!("must be a percentage in {range}, found {value}");
        ctx.error(node, path, msg);
        return None;
    }
    Some(hundredth(value))
}

/// `value / 100` rounded from its decimal form: `99.9` gives the `f64` nearest 0.999, where
/// the division gives 0.9990000000000001 (what the status API and `/metrics` then showed).
fn hundredth(value: f64) -> f64 {
    // `Display` writes the shortest decimal that reads back as `value`.
    format!("{value}e-2").parse().unwrap_or(value / 100.0)
}

/// A ratio strictly between 0 and 1 (or up to 1 with `allow_1`).
pub(super) fn ratio(ctx: &mut Ctx<'_>, node: &Node, path: &str, allow_1: bool) -> Option<f64> {
    let value = number(ctx, node, path)?;
    let ok = value > 0.0 && (value < 1.0 || (allow_1 && value == 1.0));
    if !ok {
        let range = if allow_1 { "(0, 1]" } else { "(0, 1)" };
        let mut msg = format!("must be a ratio in {range}, found {value}");
        if value > 1.0 && value < 100.0 {
            msg.push_str(" (a percentage goes in `targetPercent`)");
        }
        ctx.error(node, path, msg);
        return None;
    }
    Some(value)
}

pub(super) fn duration(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<Duration> {
    parsed(ctx, node, path, |s| match ottl::parse_duration(s) {
        Ok(d) if d.is_zero() => Err("must be greater than 0".to_string()),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    })
}

/// The shortest time slice.
pub const MIN_SLICE: Duration = Duration::from_secs(1);

/// The longest time slice.
pub const MAX_SLICE: Duration = Duration::from_secs(3_600);

/// A time slice of timeslice budgeting: [`MIN_SLICE`] to [`MAX_SLICE`], in both formats.
pub(super) fn slice(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<Duration> {
    let d = duration(ctx, node, path)?;
    if !(MIN_SLICE..=MAX_SLICE).contains(&d) {
        ctx.error(node, path, "a time slice must be between 1s and 1h");
        return None;
    }
    Some(d)
}

/// A rolling window: at least a day, at most [`MAX_WINDOW`].
pub(super) fn rolling(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<SloWindow> {
    parsed(ctx, node, path, |s| {
        let d = ottl::parse_duration(s)
            .map_err(|_| format!("invalid window {s:?}, expected e.g. `30d`, `28d` or `4w`"))?;
        if d < MIN_WINDOW {
            return Err(format!("window {s:?} is shorter than 1d"));
        }
        if d > MAX_WINDOW {
            return Err(format!("window {s:?} is longer than 366d"));
        }
        Ok(SloWindow::Rolling(d))
    })
}

/// `month` or `week`.
pub(super) fn calendar_unit(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<CalendarUnit> {
    parsed(ctx, node, path, |s| match s {
        "month" => Ok(CalendarUnit::Month),
        "week" => Ok(CalendarUnit::Week),
        _ => Err(format!(
            "invalid calendar unit {s:?}{}",
            hint(s, &["month", "week"])
        )),
    })
}

/// An IANA time zone name known to the bundled time zone database.
pub(super) fn time_zone(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<String> {
    parsed(ctx, node, path, |s| match jiff::tz::TimeZone::get(s) {
        Ok(_) => Ok(s.to_string()),
        Err(_) => Err(format!(
            "unknown time zone {s:?}, expected an IANA name such as `UTC` or `Asia/Seoul`"
        )),
    })
}

/// A metric threshold: a number in the metric's unit, or a duration (→ seconds).
pub(super) fn threshold(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<f64> {
    parsed(ctx, node, path, |s| {
        let value = match s.parse::<f64>() {
            Ok(n) => n,
            Err(_) => ottl::parse_duration(s)
                .map_err(|_| {
                    format!(
                        "invalid threshold {s:?}, expected a number or a duration such as `300ms`"
                    )
                })?
                .as_secs_f64(),
        };
        if value.is_finite() && value > 0.0 {
            Ok(value)
        } else {
            Err("must be greater than 0".to_string())
        }
    })
}

/// A list under `key`: each item read by `read`.
pub(super) fn list<'n, T>(
    ctx: &mut Ctx<'_>,
    f: &mut Fields<'n>,
    key: &'static str,
    mut read: impl FnMut(&mut Ctx<'_>, &'n Node, &str) -> Option<T>,
) -> Option<Vec<T>> {
    let node = f.get(key)?;
    let path = f.path(key);
    let Value::Seq(items) = &node.value else {
        mismatch(ctx, node, &path, "a list");
        return None;
    };
    Some(
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| read(ctx, item, &format!("{path}[{i}]")))
            .collect(),
    )
}

/// A condition, its errors placed at their column inside the file.
pub(super) fn condition(
    ctx: &mut Ctx<'_>,
    src: &Source<'_>,
    node: &Node,
    path: &str,
    target: ConditionTarget,
) -> Option<Condition> {
    let text = text(ctx, node, path)?;
    Condition::parse_within(&text, target, src.regex_room)
        .map_err(|e| condition_error(ctx, src, node, path, &text, e))
        .ok()
}

/// Records a condition error at its column inside the YAML scalar that holds it.
fn condition_error(
    ctx: &mut Ctx<'_>,
    src: &Source<'_>,
    node: &Node,
    path: &str,
    text: &str,
    e: ottl::ConditionError,
) {
    let (line, column) = locate(src, node, text, e.column.saturating_sub(1));
    ctx.errors.push(ConfigError {
        file: ctx.file.to_string(),
        path: path.to_string(),
        line,
        column,
        message: e.message,
    });
}

/// A `group_by` entry.
pub(super) fn attribute(
    ctx: &mut Ctx<'_>,
    src: &Source<'_>,
    node: &Node,
    path: &str,
) -> Option<AttrRef> {
    let text = text(ctx, node, path)?;
    ottl::parse_attribute(&text)
        .map_err(|e| condition_error(ctx, src, node, path, &text, e))
        .ok()
}

/// Where the character at `offset` of a scalar's parsed `value` was written in `source`,
/// given that the scalar starts at `node`'s position.
///
/// Walks the source from the scalar's start and matches the value's characters one by one,
/// skipping what YAML removed: quotes, escapes' backslashes, line breaks and indentation
/// of folded lines. Falls back to the scalar's start when the two cannot be matched.
pub(super) fn locate(src: &Source<'_>, node: &Node, value: &str, offset: usize) -> (usize, usize) {
    let fallback = (node.line, node.column);
    let source = src.text;
    let line_start = src.line_start(node.line);
    let Some((start, _)) = source[line_start..]
        .char_indices()
        .nth(node.column.saturating_sub(1))
    else {
        return fallback;
    };
    let mut src = source[line_start + start..].chars().peekable();
    let (mut line, mut column) = (node.line, node.column);
    let advance = |c: char, line: &mut usize, column: &mut usize| {
        if c == '\n' {
            *line += 1;
            *column = 1;
        } else {
            *column += 1;
        }
    };
    for (i, wanted) in value.chars().enumerate() {
        // Find `wanted` in the source, skipping at most a line's worth of YAML syntax.
        let mut skipped = 0;
        loop {
            let Some(&c) = src.peek() else {
                return fallback;
            };
            let matches = c == wanted || (wanted == ' ' && c == '\n');
            if matches {
                break;
            }
            skipped += 1;
            if skipped > 512 {
                return fallback;
            }
            advance(c, &mut line, &mut column);
            src.next();
        }
        if i == offset {
            return (line, column);
        }
        if let Some(c) = src.next() {
            advance(c, &mut line, &mut column);
        }
    }
    // Just past the end of the value (an error "at the end of the condition").
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::hundredth;

    #[test]
    fn a_percentage_reads_as_the_ratio_its_decimals_say() {
        // The nearest f64 to each decimal ratio, not the division's rounding of the
        // nearest f64 to the percentage (99.9 / 100 is 0.9990000000000001).
        for (percent, ratio) in [
            (99.9, "0.999"),
            (99.99, "0.9999"),
            (99.5, "0.995"),
            (95.0, "0.95"),
            (50.0, "0.5"),
            (99.95, "0.9995"),
            (0.1, "0.001"),
            (33.3, "0.333"),
            (99.999, "0.99999"),
            (100.0, "1"),
        ] {
            assert_eq!(
                hundredth(percent),
                ratio.parse::<f64>().unwrap(),
                "{percent}"
            );
        }
        assert_ne!(99.9 / 100.0, 0.999);
    }
}
