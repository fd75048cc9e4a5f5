//! The PromQL shapes an imported events SLI can have: `sum(rate(metric{…}[{{.window}}]))`
//! (or `increase` / `irate`, `sum by (…)`), turned into a metric name and a slotel
//! condition on the OTLP points that metric came from; and a histogram's count less one of
//! its buckets (a latency SLI).
//!
//! Anything else (arithmetic, several selectors, other aggregations, subqueries) is PromQL
//! over stored series, which slotel cannot evaluate on the data it receives: the caller
//! says so.

/// A selector read from an events query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Selector {
    pub(crate) metric: String,
    pub(crate) matchers: Vec<Matcher>,
    /// Labels of `sum by (…)` / `sum without (…)`, if any.
    pub(crate) grouping: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Matcher {
    pub(crate) label: String,
    pub(crate) op: MatchOp,
    pub(crate) value: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum MatchOp {
    Eq,
    Ne,
    Re,
    Nre,
}

/// A query longer than this is refused unread.
const MAX_QUERY: usize = 8 * 1024;

/// Why a query is not an events selector ([`selector`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum QueryError {
    #[error("longer than {MAX_QUERY} bytes")]
    TooLong,
    #[error("does not start with `sum`")]
    NotSum,
    #[error("expected `{token}` at byte {at}")]
    Expected { token: &'static str, at: usize },
    #[error("expected a string")]
    NoString,
    #[error("expected a quoted string at byte {0}")]
    NotQuoted(usize),
    #[error("unterminated string")]
    Unterminated,
    #[error("expected a label name")]
    NoLabel,
    #[error("expected a metric name")]
    NoMetric,
    #[error("expected a matcher operator after `{0}`")]
    NoOperator(String),
    #[error("sums `{0}`, not `rate(…)` or `increase(…)` of a counter")]
    NotRate(String),
    #[error("has more after the sum (byte {0}): arithmetic or several selectors")]
    Trailing(usize),
    #[error("matches on `__name__`")]
    NameMatcher,
}

struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn ws(&mut self) {
        while self.s[self.i..].starts_with(char::is_whitespace) {
            self.i += self.s[self.i..].chars().next().map_or(1, char::len_utf8);
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.ws();
        if self.s[self.i..].starts_with(token) {
            self.i += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &'static str) -> Result<(), QueryError> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(QueryError::Expected { token, at: self.i })
        }
    }

    fn ident(&mut self, colons: bool) -> Option<&'a str> {
        self.ws();
        let rest = &self.s[self.i..];
        let len = rest
            .char_indices()
            .find(|&(n, c)| {
                !(c.is_ascii_alphabetic()
                    || c == '_'
                    || (colons && c == ':')
                    || (n > 0 && c.is_ascii_digit()))
            })
            .map_or(rest.len(), |(n, _)| n);
        if len == 0 {
            return None;
        }
        self.i += len;
        Some(&rest[..len])
    }

    /// A PromQL string: double or single quotes (with escapes) or backticks (raw).
    fn string(&mut self) -> Result<String, QueryError> {
        self.ws();
        let rest = &self.s[self.i..];
        let quote = rest.chars().next().ok_or(QueryError::NoString)?;
        if !matches!(quote, '"' | '\'' | '`') {
            return Err(QueryError::NotQuoted(self.i));
        }
        let mut out = String::new();
        let mut chars = rest.char_indices().skip(1);
        while let Some((n, c)) = chars.next() {
            if c == quote {
                self.i += n + 1;
                return Ok(out);
            }
            if c == '\\' && quote != '`' {
                let (_, e) = chars.next().ok_or(QueryError::Unterminated)?;
                out.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                });
            } else {
                out.push(c);
            }
        }
        Err(QueryError::Unterminated)
    }

    fn done(&mut self) -> bool {
        self.ws();
        self.i == self.s.len()
    }
}

/// Reads `query` as `sum [by|without (labels)] (rate|increase|irate(metric{…}[{{.window}}]))`.
pub(crate) fn selector(query: &str) -> Result<Selector, QueryError> {
    if query.len() > MAX_QUERY {
        return Err(QueryError::TooLong);
    }
    let mut c = Cursor { s: query, i: 0 };
    if c.ident(false) != Some("sum") {
        return Err(QueryError::NotSum);
    }
    let mut grouping = Vec::new();
    let mut read_grouping = |c: &mut Cursor<'_>| -> Result<(), QueryError> {
        let at = c.i;
        match c.ident(false) {
            Some("by") | Some("without") => {
                c.expect("(")?;
                loop {
                    if c.eat(")") {
                        break;
                    }
                    let label = c.ident(false).ok_or(QueryError::NoLabel)?;
                    grouping.push(label.to_string());
                    if !c.eat(",") {
                        c.expect(")")?;
                        break;
                    }
                }
            }
            _ => c.i = at,
        }
        Ok(())
    };
    read_grouping(&mut c)?;
    c.expect("(")?;
    match c.ident(false) {
        Some("rate" | "increase" | "irate") => {}
        other => {
            return Err(QueryError::NotRate(
                other.unwrap_or("an expression").to_string(),
            ));
        }
    }
    c.expect("(")?;
    let metric = c.ident(true).ok_or(QueryError::NoMetric)?.to_string();
    let mut matchers = Vec::new();
    if c.eat("{") {
        loop {
            if c.eat("}") {
                break;
            }
            let label = c.ident(false).ok_or(QueryError::NoLabel)?.to_string();
            let op = if c.eat("=~") {
                MatchOp::Re
            } else if c.eat("!~") {
                MatchOp::Nre
            } else if c.eat("!=") {
                MatchOp::Ne
            } else if c.eat("=") {
                MatchOp::Eq
            } else {
                return Err(QueryError::NoOperator(label));
            };
            let value = c.string()?;
            matchers.push(Matcher { label, op, value });
            if !c.eat(",") {
                c.expect("}")?;
                break;
            }
        }
    }
    c.expect("[")?;
    c.expect("{{")?;
    c.expect(".window")?;
    c.expect("}}")?;
    c.expect("]")?;
    c.expect(")")?;
    c.expect(")")?;
    read_grouping(&mut c)?;
    if !c.done() {
        return Err(QueryError::Trailing(c.i));
    }
    if matchers.iter().any(|m| m.label == "__name__") {
        return Err(QueryError::NameMatcher);
    }
    Ok(Selector {
        metric,
        matchers,
        grouping,
    })
}

/// A latency SLI written the way Sloth's examples write one: the error query is the
/// histogram's count less its bucket at one bound, `sum(rate(x_count{…}[w])) -
/// sum(rate(x_bucket{…, le="0.25"}[w]))` (in parentheses or not), the total query the same
/// count. Returns the count's selector and the bound.
pub(crate) fn latency(error: &str, total: &str) -> Option<(Selector, f64)> {
    let (left, right) = split_minus(strip_parens(error.trim()))?;
    let count = selector(left.trim()).ok()?;
    let bucket = selector(right.trim()).ok()?;
    let total = selector(total.trim()).ok()?;
    let base = count.metric.strip_suffix("_count")?;
    if bucket.metric.strip_suffix("_bucket") != Some(base) {
        return None;
    }
    let mut rest = bucket.matchers.clone();
    let at = rest
        .iter()
        .position(|m| m.label == "le" && m.op == MatchOp::Eq)?;
    let bound: f64 = rest.remove(at).value.parse().ok()?;
    let same = |a: &[Matcher], b: &[Matcher]| a.len() == b.len() && a.iter().all(|m| b.contains(m));
    let grouped = !count.grouping.is_empty() || !bucket.grouping.is_empty();
    (bound.is_finite()
        && bound > 0.0
        && !grouped
        && same(&rest, &count.matchers)
        && total.metric == count.metric
        && same(&total.matchers, &count.matchers))
    .then_some((count, bound))
}

/// `(x)` → `x`, when the parentheses enclose the whole text.
fn strip_parens(s: &str) -> &str {
    let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) else {
        return s;
    };
    let mut depth = 0i32;
    for c in inner.chars() {
        depth += match c {
            '(' => 1,
            ')' => -1,
            _ => 0,
        };
        if depth < 0 {
            return s;
        }
    }
    inner.trim()
}

/// Splits at the one `-` outside brackets and strings.
fn split_minus(s: &str) -> Option<(&str, &str)> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut at = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '(' | '{' | '[') => depth += 1,
            (None, ')' | '}' | ']') => depth -= 1,
            (None, '-') if depth == 0 => {
                if at.is_some() {
                    return None;
                }
                at = Some(i);
            }
            _ => {}
        }
    }
    let i = at?;
    Some((&s[..i], &s[i + 1..]))
}

/// The OTLP attribute a Prometheus label stands for: `job` and `instance` are made from
/// the resource's `service.name` and `service.instance.id` by the OpenTelemetry-to-Prometheus
/// translation; other labels are taken as data point attributes of the same name.
pub(crate) fn attribute_of(label: &str) -> String {
    match label {
        "job" => "resource.attributes[\"service.name\"]".to_string(),
        "instance" => "resource.attributes[\"service.instance.id\"]".to_string(),
        other => format!("attributes[{}]", quote(other)),
    }
}

/// A condition string literal.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The slotel condition of `matchers` (`None` when there are none). Prometheus regexes are
/// anchored at both ends, so they are wrapped in `^(?:…)$`; a label matched equal to `""`
/// is one the point lacks.
pub(crate) fn condition(matchers: &[Matcher]) -> Option<String> {
    let parts: Vec<String> = matchers
        .iter()
        .map(|m| {
            let path = attribute_of(&m.label);
            let re = || quote(&format!("^(?:{})$", m.value));
            match (m.op, m.value.is_empty()) {
                (MatchOp::Eq, true) => format!("{path} == nil"),
                (MatchOp::Ne, true) => format!("{path} != nil"),
                (MatchOp::Eq, false) => format!("{path} == {}", quote(&m.value)),
                (MatchOp::Ne, false) => format!("{path} != {}", quote(&m.value)),
                (MatchOp::Re, _) => format!("IsMatch({path}, {})", re()),
                (MatchOp::Nre, _) => format!("not IsMatch({path}, {})", re()),
            }
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" and "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sloths_getting_started_queries() {
        // Sloth's documented getting-started SLI.
        let s = selector(
            r#"sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))"#,
        )
        .unwrap();
        assert_eq!(s.metric, "http_request_duration_seconds_count");
        assert_eq!(s.matchers.len(), 2);
        assert_eq!(
            condition(&s.matchers).unwrap(),
            r#"resource.attributes["service.name"] == "myservice" and IsMatch(attributes["code"], "^(?:(5..|429))$")"#
        );
        // Sloth allows spaces inside the template (`{{ .window }}`).
        let g = selector("sum by (route) (increase(x_total[{{ .window }}]))").unwrap();
        assert_eq!(g.grouping, vec!["route"]);
        assert_eq!(condition(&g.matchers), None);
    }

    #[test]
    fn reads_a_latency_sli_from_count_less_bucket() {
        let count = r#"sum(rate(http_request_duration_seconds_count{job="orders"}[{{.window}}]))"#;
        let error = format!(
            "(\n  {count}\n  -\n  sum(rate(http_request_duration_seconds_bucket{{job=\"orders\",le=\"0.25\"}}[{{{{.window}}}}]))\n)"
        );
        let (sel, bound) = latency(&error, count).unwrap();
        assert_eq!(sel.metric, "http_request_duration_seconds_count");
        assert_eq!(bound, 0.25);
        // Another histogram, other matchers, or no bound: not a latency SLI.
        let other = error.replace("duration_seconds_bucket", "size_bytes_bucket");
        assert!(latency(&other, count).is_none());
        let narrower = error.replace(r#"job="orders",le"#, r#"job="orders",code="200",le"#);
        assert!(latency(&narrower, count).is_none());
        assert!(latency(&error.replace(r#",le="0.25""#, ""), count).is_none());
        assert!(latency(&error, &count.replace("orders", "other")).is_none());
    }

    #[test]
    fn refuses_other_promql() {
        use QueryError::*;
        let expected = |token, at| Expected { token, at };
        for (q, why, message) in [
            (
                "sum(rate(a[{{.window}}])) - sum(rate(b[{{.window}}]))",
                Trailing(26),
                "has more after the sum (byte 26): arithmetic or several selectors",
            ),
            (
                "avg(rate(a[{{.window}}]))",
                NotSum,
                "does not start with `sum`",
            ),
            (
                "sum(rate(a[5m]))",
                expected("{{", 11),
                "expected `{{` at byte 11",
            ),
            (
                "1 - sum(rate(a[{{.window}}]))",
                NotSum,
                "does not start with `sum`",
            ),
            (
                "sum(rate(a{b=~\"x\"[{{.window}}]))",
                expected("}", 17),
                "expected `}` at byte 17",
            ),
            (
                "sum(rate({__name__=\"a\"}[{{.window}}]))",
                NoMetric,
                "expected a metric name",
            ),
            (
                "sum(rate(a{__name__=\"a\"}[{{.window}}]))",
                NameMatcher,
                "matches on `__name__`",
            ),
            (
                "sum(max(a[{{.window}}]))",
                NotRate("max".into()),
                "sums `max`, not `rate(…)` or `increase(…)` of a counter",
            ),
            (
                "sum(rate(a{b \"x\"}[{{.window}}]))",
                NoOperator("b".into()),
                "expected a matcher operator after `b`",
            ),
            (
                "sum(rate(a{b=x}[{{.window}}]))",
                NotQuoted(13),
                "expected a quoted string at byte 13",
            ),
            ("sum(rate(a{b=\"x", Unterminated, "unterminated string"),
            ("sum(rate(a{b=", NoString, "expected a string"),
            (
                "sum by (1) (rate(a[{{.window}}]))",
                NoLabel,
                "expected a label name",
            ),
        ] {
            let err = selector(q).unwrap_err();
            assert_eq!((&err, err.to_string().as_str()), (&why, message), "{q}");
        }
        assert_eq!(selector(&"x".repeat(MAX_QUERY + 1)), Err(TooLong),);
        assert_eq!(TooLong.to_string(), "longer than 8192 bytes");
    }
}
