//! Alert label and annotation values (and `runbook_url`) as Prometheus reads them: Go
//! `text/template` text, expanded when an alert fires. The ruler (and `promtool check
//! rules`) refuses the whole rule file when one of them does not parse, so every SLO of the
//! file would lose its alerts; a value is checked here when its SLO file loads instead.
//!
//! Checked: every action `{{ … }}` is closed (strings, raw strings, character constants and
//! comments inside it included), and every function it calls is one Go's templates or
//! Prometheus' template functions define. Not checked: the pipeline's grammar and types
//! (`{{ if }}` without `{{ end }}`, argument counts), which the ruler reports when it
//! loads the file.

/// Functions and keywords of Go's `text/template` and the functions Prometheus adds
/// (`template/template.go`).
const KNOWN: &[&str] = &[
    // keywords and constants
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
    "nil",
    "true",
    "false",
    // Go's builtins
    "and",
    "call",
    "html",
    "index",
    "slice",
    "js",
    "len",
    "not",
    "or",
    "print",
    "printf",
    "println",
    "urlquery",
    "eq",
    "ge",
    "gt",
    "le",
    "lt",
    "ne",
    // Prometheus
    "query",
    "first",
    "label",
    "value",
    "strvalue",
    "args",
    "reReplaceAll",
    "safeHtml",
    "match",
    "title",
    "toUpper",
    "toLower",
    "graphLink",
    "tableLink",
    "sortByLabel",
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "toTime",
    "toDuration",
    "now",
    "pathPrefix",
    "externalURL",
    "parseDuration",
    "stripPort",
    "stripDomain",
];

/// Why `text` would not parse as a Prometheus alert template, if it would not.
pub fn template_error(text: &str) -> Option<String> {
    let mut rest = text;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        let start = offset + open;
        let body = &rest[open + 2..];
        let Some((len, error)) = action(body) else {
            return Some(format!(
                "the template action opened at character {} is never closed with `}}}}`",
                text[..start].chars().count() + 1
            ));
        };
        if let Some(e) = error {
            return Some(e);
        }
        let consumed = open + 2 + len;
        offset += consumed;
        rest = &rest[consumed..];
    }
    None
}

/// Reads one action's body up to and including its `}}`: its length, and the error in it
/// if any. `None` when it is never closed.
fn action(body: &str) -> Option<(usize, Option<String>)> {
    let trimmed = body.strip_prefix('-').unwrap_or(body).trim_start();
    if let Some(comment) = trimmed.strip_prefix("/*") {
        let end = comment.find("*/")?;
        let after = &comment[end + 2..];
        let close = after.find("}}")?;
        let len = body.len() - after.len() + close + 2;
        return Some((len, None));
    }
    let mut chars = body.char_indices().peekable();
    let mut error = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '}' if body[i..].starts_with("}}") => return Some((i + 2, error)),
            '"' | '\'' => {
                let mut escaped = false;
                loop {
                    let (_, d) = chars.next()?;
                    match d {
                        '\n' => return None,
                        '\\' if !escaped => escaped = true,
                        d if d == c && !escaped => break,
                        _ => escaped = false,
                    }
                }
            }
            '`' => loop {
                if chars.next()?.1 == '`' {
                    break;
                }
            },
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_ascii_alphanumeric() || d == '_' {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let word = &body[i..end];
                let before = body[..i].chars().next_back();
                let field_or_variable =
                    matches!(before, Some('.' | '$')) || before.is_some_and(|b| b.is_ascii_digit());
                if !field_or_variable && !KNOWN.contains(&word) && error.is_none() {
                    error = Some(format!(
                        "`{word}` in `{{{{{}}}}}` is not a function of Prometheus' alert templates",
                        body[..body.find("}}").unwrap_or(body.len())].trim()
                    ));
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::template_error;

    /// Templates from Prometheus' documentation (alerting rules, template examples) and
    /// plain text: all parse.
    #[test]
    fn documented_templates_and_plain_text_pass() {
        for ok in [
            "High request latency",
            "https://runbooks.example.com/slo/checkout",
            "{{ $labels.instance }} has a median request latency above 1s (current value: {{ $value }}s)",
            "{{ $value | humanizePercentage }} of {{ $labels.job }}/{{ $labels.instance }} targets are down.",
            "{{ with query \"some_metric{instance='someinstance'}\" }}{{ . | first | value | humanize }}{{ end }}",
            "{{ range query \"up\" }}{{ .Labels.instance }} {{ .Value }}\n{{ end }}",
            "{{- /* a comment with }} inside */ -}}",
            "{{ printf \"%.1f\" $value }}x as fast, {{ `raw }} string` }} and {{ 'x' }}",
            "{{ if gt $value 1.0 }}burning{{ else }}ok{{ end }}",
            "a } and }} and { alone",
        ] {
            assert_eq!(template_error(ok), None, "{ok}");
        }
    }

    #[test]
    fn what_the_ruler_refuses_is_an_error() {
        for (bad, why) in [
            (
                "https://runbooks.example.com/{{ .Labels.slo }}#{{",
                "never closed",
            ),
            ("{{ $labels.slo", "never closed"),
            ("{{ \"}}\"", "never closed"),
            ("{{ unclosed }}", "`unclosed`"),
            ("{{ $labels.slo | shout }}", "`shout`"),
            ("{{ printf \"%s\n\" }}", "never closed"),
        ] {
            let e = template_error(bad).unwrap_or_else(|| panic!("{bad} passed"));
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
