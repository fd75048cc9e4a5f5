//! `receivers.otlp.protocols.http.cors`: which browser origins may send to the OTLP/HTTP
//! receiver, with the OpenTelemetry Collector's keys and meaning (`allowed_origins`,
//! `allowed_headers`, `max_age`). The receiver side is `crate::receiver::cors`.

use crate::yaml::Node;
use crate::yaml::read::{Ctx, Fields};

/// `receivers.otlp.protocols.http.cors`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CorsConfig {
    /// `allowed_origins` (list, default empty): origins such as `https://app.example.com`;
    /// one `*` in an entry stands for any characters (`https://*.example.com`), `*` alone
    /// for any origin. Empty: CORS is off, no CORS header is ever sent.
    pub allowed_origins: Vec<String>,
    /// `allowed_headers` (list, default empty): request headers allowed beyond the CORS
    /// safelisted ones (`Accept`, `Accept-Language`, `Content-Language`, `Content-Type`)
    /// and `X-Requested-With`; `*` allows any header. Stored lowercase.
    pub allowed_headers: Vec<String>,
    /// `max_age` (seconds, default unset): sent as `Access-Control-Max-Age` on preflight
    /// answers so browsers may cache them; 0 or unset sends nothing.
    pub max_age: Option<u64>,
}

pub(super) fn decode(ctx: &mut Ctx<'_>, mut f: Fields<'_>) -> CorsConfig {
    let allowed_origins = f
        .opt(ctx, "allowed_origins", |ctx, node, path| {
            list(ctx, node, path, origin)
        })
        .unwrap_or_default();
    let allowed_headers = f
        .opt(ctx, "allowed_headers", |ctx, node, path| {
            list(ctx, node, path, header)
        })
        .unwrap_or_default();
    let max_age = f
        .opt(ctx, "max_age", |ctx, node, path| {
            ctx.parsed(node, path, |s| {
                s.trim().parse::<u64>().map_err(|_| {
                    format!("invalid number {s:?}, expected a whole number of seconds")
                })
            })
        })
        .filter(|&n| n > 0);
    f.finish(ctx);
    CorsConfig {
        allowed_origins,
        allowed_headers,
        max_age,
    }
}

fn list(
    ctx: &mut Ctx<'_>,
    node: &Node,
    path: &str,
    check: fn(&str) -> Result<String, CorsValueError>,
) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for (i, item) in ctx.seq(node, path)?.iter().enumerate() {
        let path = format!("{path}[{i}]");
        if let Some(v) = ctx.parsed(item, &path, check) {
            out.push(v);
        }
    }
    Some(out)
}

/// Why an item of `allowed_origins` or `allowed_headers` is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum CorsValueError {
    #[error("must not be empty")]
    Empty,
    #[error("{0:?} has more than one `*`: use one wildcard per origin")]
    Wildcards(String),
    #[error("{0:?} is not an origin (scheme://host[:port])")]
    NotOrigin(String),
    #[error("{0:?} is not a valid header name")]
    NotHeader(String),
}

fn origin(s: &str) -> Result<String, CorsValueError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(CorsValueError::Empty);
    }
    if s.matches('*').count() > 1 {
        return Err(CorsValueError::Wildcards(s.to_string()));
    }
    if s.bytes().any(|b| b.is_ascii_whitespace() || b == b',') {
        return Err(CorsValueError::NotOrigin(s.to_string()));
    }
    Ok(s.to_ascii_lowercase())
}

fn header(s: &str) -> Result<String, CorsValueError> {
    let s = s.trim();
    if s == "*" {
        return Ok(s.into());
    }
    http::HeaderName::from_bytes(s.as_bytes())
        .map(|h| h.as_str().to_string())
        .map_err(|_| CorsValueError::NotHeader(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::super::{SystemLookup, parse_explained};
    use super::*;

    const BASE: &str = "receivers:\n  otlp:\n    protocols:\n      http:\n        cors:\n";

    fn read(cors: &str) -> Result<Option<CorsConfig>, Vec<String>> {
        let text = format!("{BASE}{cors}exporters:\n  nop:\n");
        let (result, notes) = parse_explained(&text, "t.yaml", &SystemLookup);
        let refused = notes
            .iter()
            .any(|n| n.treatment == super::super::Treatment::Refused);
        assert!(!refused, "the collector's `cors` key is accepted");
        match result {
            Ok(c) => Ok(c.receiver.http.and_then(|h| h.cors)),
            Err(e) => Err(e.0.iter().map(|e| e.to_string()).collect()),
        }
    }

    #[test]
    fn the_collector_example_is_read_with_its_meaning() {
        // The example of the collector's confighttp documentation.
        let c = read(
            "          allowed_origins: [\"https://foo.bar.com\", \"https://*.test.com\"]\n\
             \x20         allowed_headers: [Example-Header]\n\
             \x20         max_age: 7200\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            c.allowed_origins,
            ["https://foo.bar.com", "https://*.test.com"]
        );
        assert_eq!(c.allowed_headers, ["example-header"]);
        assert_eq!(c.max_age, Some(7200));
    }

    #[test]
    fn each_refused_value_has_its_kind() {
        use CorsValueError::*;
        assert_eq!(origin(" "), Err(Empty));
        assert_eq!(
            origin("https://*.*.example.com"),
            Err(Wildcards("https://*.*.example.com".into()))
        );
        assert_eq!(
            origin("https://a.example.com, https://b.example.com"),
            Err(NotOrigin(
                "https://a.example.com, https://b.example.com".into()
            ))
        );
        assert_eq!(
            origin(" HTTPS://A.example.com "),
            Ok("https://a.example.com".into())
        );
        assert_eq!(header("bad header"), Err(NotHeader("bad header".into())));
        assert_eq!(header("X-Trace"), Ok("x-trace".into()));
    }

    #[test]
    fn an_empty_block_is_off_and_bad_entries_are_errors() {
        assert_eq!(read("").unwrap().unwrap_or_default(), CorsConfig::default());
        let c = read("          allowed_origins: []\n          max_age: 0\n").unwrap();
        assert_eq!(c, Some(CorsConfig::default()));
        let errors = read(
            "          allowed_origins: [\"https://*.*.example.com\", \"\"]\n\
             \x20         allowed_headers: [\"bad header\"]\n\
             \x20         max_age: soon\n\
             \x20         allow_credentials: true\n",
        )
        .unwrap_err();
        let all = errors.join("\n");
        for want in [
            "allowed_origins[0]: \"https://*.*.example.com\" has more than one `*`",
            "allowed_origins[1]: must not be empty",
            "allowed_headers[0]: \"bad header\" is not a valid header name",
            "max_age: invalid number \"soon\"",
            "allow_credentials",
        ] {
            assert!(all.contains(want), "{want} not in:\n{all}");
        }
    }
}
