//! Reading state written before structural fingerprints (snapshot versions 2 and 3, log
//! frames `SLW1`): those knew an SLO's definition by its `Debug` text, which this module
//! computes again, once per loaded SLO and only when such state is found, so that an
//! upgrade keeps every SLO's state.
//!
//! That text held the compiled form of `IsMatch` regexes, including their cache pool: the
//! pool's owner thread and cached entries change once the regex is used, and its number of
//! stacks follows the machine's cores. Snapshot fingerprints are therefore compared with
//! every pool left out on both sides ([`normalize`]): before, an SLO with a regex
//! condition never matched its own snapshot after a restart. Log ids were hashed from the
//! text at load time (an unused pool), so they are tried with an unused pool of each
//! possible number of stacks ([`log_ids`]).
//!
//! That text also held where a journey's members are written (file, line, column, field
//! path): snapshot entries are compared without it, as the structural fingerprint does;
//! log ids still need it, so a journey's `SLW1` frames are replayed only when its file is
//! where it was (the usual upgrade in place), and counted as of an unknown SLO otherwise.

use crate::slo::spec::Slo;

/// The `Debug` text slotel knew `s`'s definition by before snapshot version 4.
pub(super) fn debug_text(s: &Slo) -> String {
    format!(
        "{}|{:?}|{:?}|{:?}|{:?}|{:?}",
        s.objective, s.window, s.budgeting, s.group_by, s.percentiles, s.sli
    )
}

const POOL: &str = "pool: Pool(";
/// Where a journey's member is written (`Member::at`), and its field path.
const AT: &str = "at: SourceRef {";
const PATH: &str = "path: \"";

/// `text` with what follows every `marker` left out, up to where `close` says it ends (an
/// offset into the text after the marker; its length when it does not end).
fn strip(text: &str, marker: &str, close: fn(&str) -> usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let open = at + marker.len();
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        rest = &rest[close(rest)..];
    }
    out.push_str(rest);
    out
}

/// Where the `Debug` string `s` (after its opening quote) ends: its closing quote.
fn string_end(s: &str) -> usize {
    let mut escaped = false;
    for (i, ch) in s.char_indices() {
        match ch {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return i,
            _ => {}
        }
    }
    s.len()
}

/// Where the bracket opened just before `s` closes: brackets of any kind nest inside, and
/// quoted strings are skipped whole.
fn bracket_end(s: &str) -> usize {
    let mut depth = 1usize;
    let mut i = 0;
    while let Some(ch) = s.get(i..).and_then(|r| r.chars().next()) {
        match ch {
            '"' => i += 1 + string_end(&s[i + 1..]),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
        i += ch.len_utf8();
    }
    s.len()
}

/// `text` with every regex cache pool left out.
fn strip_pools(text: &str) -> String {
    strip(text, POOL, bracket_end)
}

/// A former fingerprint (a stored one, or one computed again) as it is compared: without
/// regex cache pools, and without where a journey's members are written (no longer part of
/// a definition).
pub(super) fn normalize(text: &str) -> String {
    strip(
        &strip(&strip_pools(text), AT, bracket_end),
        PATH,
        string_end,
    )
}

/// What a version 2 or 3 snapshot entry's fingerprint is compared with, for `s`.
pub(super) fn snapshot_key(s: &Slo) -> String {
    normalize(&debug_text(s))
}

/// Most cache stacks a regex pool has (regex-automata's `MAX_POOL_STACKS`).
const MAX_STACKS: usize = 8;

/// The ids an `SLW1` log frame may know `s` by: the 64-bit FNV-1a hash of service, name
/// and the `Debug` text with unused regex pools of 1 to [`MAX_STACKS`] stacks.
pub(in crate::slo::engine) fn log_ids(s: &Slo) -> Vec<u64> {
    let stripped = strip_pools(&debug_text(s));
    let has_pool = stripped.contains(POOL);
    (1..=if has_pool { MAX_STACKS } else { 1 })
        .map(|n| {
            let stack = "CacheLine(Mutex { data: [], poisoned: false, .. })";
            let fresh = format!(
                "{POOL}Pool {{ stacks: [{}], owner: 0, owner_val: UnsafeCell {{ .. }} }})",
                vec![stack; n].join(", ")
            );
            let text = stripped.replace(&format!("{POOL})"), &fresh);
            crate::slo::engine::wal::stable_hash(&format!("{}\0{}\0{text}", s.service, s.name))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_are_left_out_whatever_they_hold() {
        let used = "a|Regex { imp: X(1), pool: Pool(Pool { stacks: [CacheLine(Mutex { data: [Cache { p: PikeVMCache(None) }], poisoned: false, .. })], owner: 3, owner_val: UnsafeCell { .. } }) } }|b";
        let fresh = "a|Regex { imp: X(1), pool: Pool(Pool { stacks: [CacheLine(Mutex { data: [], poisoned: false, .. }), CacheLine(Mutex { data: [], poisoned: false, .. })], owner: 0, owner_val: UnsafeCell { .. } }) } }|b";
        assert_eq!(strip_pools(used), strip_pools(fresh));
        assert_eq!(strip_pools(used), "a|Regex { imp: X(1), pool: Pool() } }|b");
        assert_ne!(
            strip_pools(used),
            strip_pools(&fresh.replace("X(1)", "X(2)"))
        );
        // No pool, or an unterminated one: nothing is lost that would make texts equal.
        assert_eq!(strip_pools("plain"), "plain");
        assert_eq!(strip_pools("x pool: Pool(Pool { y"), "x pool: Pool(");
        assert_eq!(strip_pools("x pool: Pool(\"unterminated"), "x pool: Pool(");
    }

    #[test]
    fn where_journey_members_are_written_is_left_out() {
        let member = |file: &str, line: u32, path: &str| {
            format!(
                "Journey(Journey {{ members: [Member {{ service: \"shop\", name: \"pay\", weight: 2, at: SourceRef {{ file: {file:?}, line: {line}, column: 16 }}, path: {path:?} }}], trace: None }})"
            )
        };
        let a = member(
            "/etc/slotel/slos.yaml",
            68,
            "slos[5].journey.members[0].slo",
        );
        let b = member("slos/{x}\"y.yaml", 12, "slos[1].journey.members[0].slo");
        assert_ne!(a, b);
        assert_eq!(normalize(&a), normalize(&b));
        assert_eq!(
            normalize(&a),
            "Journey(Journey { members: [Member { service: \"shop\", name: \"pay\", weight: 2, at: SourceRef {}, path: \"\" }], trace: None })"
        );
        assert_ne!(
            normalize(&a),
            normalize(&a.replace("weight: 2", "weight: 3"))
        );
    }
}
