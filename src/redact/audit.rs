//! The audit trail of a redaction run (`slotel redact --report` and `--dry-run`): how
//! many items were redacted per type and per key path, and the dry-run marker that shows
//! where each detection is, and of what type, without the value.
//!
//! A key path is the JSON path of the value that held the item: `user.email`,
//! `headers.authorization`, `items[].card` (array elements are `[]`, never an index, so
//! the report stays small), `payload.user.phone` for JSON inside the string under
//! `payload`. `$body` is a log body that is plain text, `.$key` an object key that was
//! itself redacted (an e-mail used as a key). A path names the keys as they are written
//! out: a key that was redacted appears redacted, so a path never shows a found value.
//!
//! Nothing here is on the pipeline's path: a [`Session`] has an audit only when the
//! command line asks for one, and otherwise every hook is a test of an `Option`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::json::{self, JsonError};
use super::{Session, TypeId, action_index};
use crate::redact::RedactAction;

/// The path of a log body that is plain text.
pub const BODY: &str = "$body";

/// The path segment of an object key that was itself found (`user.$key`).
pub const KEY: &str = "$key";

/// Where items go once [`MAX_PATHS`] distinct paths have been seen.
pub const OTHER: &str = "$other";

/// The most distinct (type, path) rows one run keeps; later ones count under [`OTHER`].
pub const MAX_PATHS: usize = 10_000;

/// The longest path kept, in bytes; deeper segments become one `…`.
pub const MAX_PATH_BYTES: usize = 256;

/// The most characters of a value the dry-run marker shows the shape of.
pub const MAX_MARK_CHARS: usize = 48;

/// Per-run audit state: the current key path and the counts per (type, action, path).
#[derive(Debug, Default)]
pub(crate) struct Audit {
    pub(crate) dry_run: bool,
    path: String,
    counts: BTreeMap<(usize, usize, String), u64>,
    /// The rows counted by JSON walks in progress, to take back when one fails.
    walked: Vec<(usize, usize, String)>,
}

impl Audit {
    pub(crate) fn new(dry_run: bool) -> Self {
        Self {
            dry_run,
            ..Self::default()
        }
    }

    /// Appends a segment (a key, `[]` or [`KEY`]); returns the mark to go back to.
    pub(crate) fn enter(&mut self, segment: &str) -> usize {
        let mark = self.path.len();
        if self.path.ends_with('…') {
            return mark;
        }
        let dot = !self.path.is_empty() && !segment.starts_with('[');
        if self.path.len() + usize::from(dot) + segment.len() > MAX_PATH_BYTES {
            self.path.push_str(".…");
            return mark;
        }
        if dot {
            self.path.push('.');
        }
        // Control characters would break a report line.
        self.path.extend(
            segment
                .chars()
                .map(|c| if c.is_control() { '?' } else { c }),
        );
        mark
    }

    pub(crate) fn leave(&mut self, mark: usize) {
        self.path.truncate(mark);
    }

    pub(crate) fn mark(&self) -> usize {
        self.path.len()
    }

    /// Takes back the last `n` rows counted in walks; forgets the rest when `done`.
    fn uncount(&mut self, n: usize, done: bool) {
        let from = self.walked.len().saturating_sub(n);
        for key in self.walked.drain(from..) {
            if let Some(c) = self.counts.get_mut(&key) {
                *c -= 1;
                if *c == 0 {
                    self.counts.remove(&key);
                }
            }
        }
        if done {
            self.walked.clear();
        }
    }

    pub(crate) fn count(&mut self, ty: usize, action: usize, walking: bool) {
        let path = if self.path.is_empty() {
            BODY
        } else {
            self.path.as_str()
        };
        let key = (ty, action, path.to_string());
        let key = if self.counts.len() >= MAX_PATHS && !self.counts.contains_key(&key) {
            (ty, action, OTHER.to_string())
        } else {
            key
        };
        if walking {
            self.walked.push(key.clone());
        }
        *self.counts.entry(key).or_default() += 1;
    }
}

/// One row of a report: a type, its action and its count at one path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PathCount {
    pub path: String,
    pub count: u64,
}

/// The items of one type (and action) redacted in a run, per path, most first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TypeReport {
    pub r#type: String,
    pub action: &'static str,
    pub count: u64,
    pub paths: Vec<PathCount>,
}

impl Session<'_> {
    /// Turns on the audit: counts per key path ([`Session::report`]) and, for a dry run,
    /// markers instead of the actions (`drop` marks instead of removing).
    pub fn audited(mut self, dry_run: bool) -> Self {
        self.audit = Some(Box::new(Audit::new(dry_run)));
        self
    }

    /// The counts per type and path so far (empty without [`Session::audited`]), by type
    /// in detector order.
    pub fn report(&self) -> Vec<TypeReport> {
        let Some(audit) = &self.audit else {
            return Vec::new();
        };
        let mut out: Vec<TypeReport> = Vec::new();
        for ((ty, action, path), n) in &audit.counts {
            let name = &self.redactor.types[*ty].name;
            let action = RedactAction::ALL
                .into_iter()
                .find(|a| action_index(*a) == *action)
                .unwrap_or(RedactAction::Replace)
                .as_str();
            let row = PathCount {
                path: path.clone(),
                count: *n,
            };
            match out.last_mut() {
                Some(last) if last.r#type == *name && last.action == action => {
                    last.count += n;
                    last.paths.push(row);
                }
                _ => out.push(TypeReport {
                    r#type: name.clone(),
                    action,
                    count: *n,
                    paths: vec![row],
                }),
            }
        }
        for t in &mut out {
            t.paths
                .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.path.cmp(&b.path)));
        }
        out
    }

    /// After each count: logged while a JSON walk is in progress, and kept per path when
    /// audited.
    pub(crate) fn counted(&mut self, ty: TypeId, action: RedactAction) {
        let walking = self.walks > 0;
        if walking {
            self.walked.push((ty, action));
        }
        if let Some(a) = &mut self.audit {
            a.count(ty.index(), action_index(action), walking);
        }
    }

    /// Walks a JSON text ([`json::redact`]). When the walk fails the caller scans the
    /// text as text instead, which finds again what the walk had found: what the walk
    /// counted is taken back, so nothing is counted twice, and the key path it entered is
    /// left.
    pub(crate) fn walk(
        &mut self,
        s: &str,
        depth: usize,
        nested: usize,
    ) -> Result<Option<String>, JsonError> {
        let mark = self.path_mark();
        let from = self.walked.len();
        self.walks += 1;
        let walked = json::redact(self, s, depth, nested);
        self.walks -= 1;
        let undone = if walked.is_err() {
            self.path_leave(mark);
            let n = self.walked.len() - from;
            for (ty, action) in self.walked.drain(from..) {
                if let Some(slot) = self.counts.get_mut(ty.index()) {
                    slot[action_index(action)] -= 1;
                }
                self.total -= 1;
            }
            n
        } else {
            0
        };
        let done = self.walks == 0;
        if done {
            self.walked.clear();
        }
        if let Some(a) = &mut self.audit {
            a.uncount(undone, done);
        }
        walked
    }

    /// Enters a key path segment when audited (see [`Audit::enter`]).
    pub(crate) fn path_enter(&mut self, segment: &str) -> usize {
        self.audit.as_mut().map_or(0, |a| a.enter(segment))
    }

    pub(crate) fn path_leave(&mut self, mark: usize) {
        if let Some(a) = &mut self.audit {
            a.leave(mark);
        }
    }

    pub(crate) fn path_mark(&self) -> usize {
        self.audit.as_ref().map_or(0, |a| a.mark())
    }

    /// True when a `drop` removes things (not in a dry run, where it is marked).
    pub(crate) fn drops(&self) -> bool {
        !self.audit.as_ref().is_some_and(|a| a.dry_run)
    }

    pub(crate) fn dry_run(&self) -> bool {
        !self.drops()
    }
}

/// Renders a report as text: a row per type with its total, then a row per path.
pub fn render(types: &[TypeReport]) -> String {
    let mut out = String::new();
    if types.is_empty() {
        out.push_str("nothing redacted\n");
        return out;
    }
    let _ = writeln!(out, "{:<20} {:<8} {:>8}  path", "type", "action", "count");
    for t in types {
        let _ = writeln!(
            out,
            "{:<20} {:<8} {:>8}  (all)",
            t.r#type, t.action, t.count
        );
        for p in &t.paths {
            let _ = writeln!(out, "{:<20} {:<8} {:>8}  {}", "", "", p.count, p.path);
        }
    }
    out
}

/// Writes the dry-run marker of a value found as type `ty`, to get `action`:
/// `[<type>:<action>:<shape>]`. The shape keeps the value's punctuation and, of each run
/// of letters and digits, the first character when the run is at least four long;
/// everything else is `*`, and past [`MAX_MARK_CHARS`] characters it ends with `…`.
/// `kim.minsu@example.com` → `[email:replace:***.m****@e******.***]`.
pub fn mark(ty: &str, action: RedactAction, value: &str, out: &mut String) {
    out.push('[');
    out.push_str(ty);
    out.push(':');
    out.push_str(action.as_str());
    out.push(':');
    let chars: Vec<char> = value.chars().take(MAX_MARK_CHARS + 1).collect();
    let shown = &chars[..chars.len().min(MAX_MARK_CHARS)];
    let mut i = 0;
    while i < shown.len() {
        let c = shown[i];
        if c.is_alphanumeric() {
            let start = i;
            while i < shown.len() && shown[i].is_alphanumeric() {
                i += 1;
            }
            // A run cut by the limit counts as long: its end is not shown anyway.
            let long = i - start >= 4 || (i == shown.len() && chars.len() > MAX_MARK_CHARS);
            for (j, c) in shown[start..i].iter().enumerate() {
                out.push(if j == 0 && long { *c } else { '*' });
            }
            continue;
        }
        out.push(match c {
            c if c.is_control() => ' ',
            '[' | ']' => '?',
            c => c,
        });
        i += 1;
    }
    if chars.len() > MAX_MARK_CHARS {
        out.push('…');
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(v: &str) -> String {
        let mut out = String::new();
        mark("email", RedactAction::Hash, v, &mut out);
        out
    }

    #[test]
    fn markers_show_type_and_shape_never_the_value() {
        assert_eq!(
            marked("kim.minsu@example.com"),
            "[email:hash:***.m****@e******.***]"
        );
        assert_eq!(marked("010-1234-5678"), "[email:hash:***-1***-5***]");
        assert_eq!(marked("a]b\nc"), "[email:hash:*?* *]");
        let long = "x".repeat(100);
        let m = marked(&long);
        assert_eq!(m, format!("[email:hash:x{}…]", "*".repeat(47)));
    }

    fn rows(s: &Session<'_>) -> Vec<(String, String, u64)> {
        s.report()
            .into_iter()
            .flat_map(|t| {
                t.paths
                    .into_iter()
                    .map(move |p| (t.r#type.clone(), p.path, p.count))
            })
            .collect()
    }

    #[test]
    fn sessions_count_per_key_path() {
        use crate::config::RedactionConfig;
        let r = crate::redact::Redactor::new(&RedactionConfig::default()).unwrap();
        let mut s = r.session().audited(false);
        let out = s
            .redact_str(
                r#"{"a":{"kim@example.com":1,"b":["x 010-1234-5678"]},"password":{"p":"x"}}"#,
            )
            .unwrap();
        assert!(!out.contains("kim@"), "{out}");
        // Not JSON after all (no colon): the walk stops at once and the text is scanned;
        // the path it had entered is left.
        s.redact_str(r#"{"c" "lee@example.com"}"#).unwrap();
        s.redact_str("call 010-2345-6789").unwrap();
        // Not JSON either, found out after a count (a trailing comma): counted once, as
        // text, and the totals agree.
        s.redact_str(r#"{"d":{"e":"park@example.com"},}"#).unwrap();
        let mut got = rows(&s);
        got.sort();
        let want = [
            ("email", "$body", 2),
            ("email", "a.$key", 1),
            ("phone", "$body", 1),
            ("phone", "a.b[]", 1),
            ("secret", "password.p", 1),
        ];
        let want: Vec<(String, String, u64)> = want
            .iter()
            .map(|(t, p, n)| (t.to_string(), p.to_string(), *n))
            .collect();
        assert_eq!(got, want);
        assert_eq!(s.total(), 6);
        let by_type: u64 = s.counts().map(|(_, _, n)| n).sum();
        assert_eq!(by_type, 6);
        // Without an audit, no report and no markers.
        let mut plain = r.session();
        assert_eq!(
            plain.redact_str(r#"{"e":"kim@example.com"}"#).unwrap(),
            r#"{"e":"[REDACTED:email]"}"#
        );
        assert!(plain.report().is_empty());
    }

    #[test]
    fn paths_are_bounded_and_restored() {
        let mut a = Audit::new(false);
        let m0 = a.enter("user");
        let m1 = a.enter("email");
        a.count(0, 0, false);
        a.leave(m1);
        let m2 = a.enter("[]");
        a.count(0, 0, false);
        a.leave(m2);
        a.leave(m0);
        a.count(1, 0, false);
        let paths: Vec<&str> = a.counts.keys().map(|k| k.2.as_str()).collect();
        assert_eq!(paths, ["user.email", "user[]", "$body"]);
        for _ in 0..100 {
            a.enter("segment_of_some_length");
        }
        assert!(a.path.len() <= MAX_PATH_BYTES + 4, "{}", a.path);
        assert!(a.path.ends_with('…'));
        let mut b = Audit::new(false);
        for i in 0..MAX_PATHS + 10 {
            let m = b.enter(&format!("k{i}"));
            b.count(0, 0, false);
            b.leave(m);
        }
        assert_eq!(b.counts.len(), MAX_PATHS + 1);
        assert_eq!(b.counts[&(0, 0, OTHER.to_string())], 10);
    }
}
