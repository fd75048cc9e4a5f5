//! CORS for the OTLP/HTTP receiver, with the OpenTelemetry Collector's meaning of
//! `receivers.otlp.protocols.http.cors` (see [`CorsConfig`]).
//!
//! A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered
//! here with 204, before authentication (browsers send no credentials on preflights) and
//! without reading a body. Its allow headers are only sent when the origin is allowed,
//! the method is `POST` and every requested header is allowed; otherwise the browser
//! sees a preflight without them and stops. Other requests go through; a response to an
//! allowed origin carries `Access-Control-Allow-Origin` with that origin. Every answer
//! carries `Vary: Origin` so caches keep one answer per origin.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use crate::config::CorsConfig;

/// Request headers a browser may always send, plus `X-Requested-With` as in the collector.
const ALWAYS_ALLOWED: &[&str] = &[
    "accept",
    "accept-language",
    "content-language",
    "content-type",
    "x-requested-with",
    "origin",
];

/// The compiled `cors` settings.
#[derive(Debug)]
pub struct Cors {
    /// The allowed origins, lowercase.
    origins: Vec<Origin>,
    headers: Vec<String>,
    any_header: bool,
    max_age: Option<HeaderValue>,
}

#[derive(Debug)]
enum Origin {
    Exact(String),
    Wildcard { prefix: String, suffix: String },
}

impl Cors {
    /// `None` when no origin is allowed: CORS is off and no header is added.
    pub fn new(config: Option<&CorsConfig>) -> Option<Arc<Cors>> {
        let config = config.filter(|c| !c.allowed_origins.is_empty())?;
        let origins = config
            .allowed_origins
            .iter()
            .map(|o| match o.split_once('*') {
                Some((prefix, suffix)) => Origin::Wildcard {
                    prefix: prefix.to_ascii_lowercase(),
                    suffix: suffix.to_ascii_lowercase(),
                },
                None => Origin::Exact(o.to_ascii_lowercase()),
            })
            .collect();
        Some(Arc::new(Cors {
            origins,
            headers: config
                .allowed_headers
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            any_header: config.allowed_headers.iter().any(|h| h == "*"),
            max_age: config.max_age.map(HeaderValue::from),
        }))
    }

    fn allows_origin(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        self.origins.iter().any(|o| match o {
            Origin::Exact(e) => *e == origin,
            Origin::Wildcard { prefix, suffix } => {
                origin.len() >= prefix.len() + suffix.len()
                    && origin.starts_with(prefix.as_str())
                    && origin.ends_with(suffix.as_str())
            }
        })
    }

    /// Whether every header of an `Access-Control-Request-Headers` list is allowed.
    fn allows_headers(&self, requested: &str) -> bool {
        self.any_header
            || requested
                .split(',')
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .all(|h| ALWAYS_ALLOWED.contains(&h.as_str()) || self.headers.contains(&h))
    }

    fn preflight(&self, headers: &HeaderMap, origin: &HeaderValue) -> Response {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::NO_CONTENT;
        let out = resp.headers_mut();
        for vary in [
            "origin",
            "access-control-request-method",
            "access-control-request-headers",
        ] {
            out.append(header::VARY, HeaderValue::from_static(vary));
        }
        let method_ok = headers
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .is_some_and(|m| m.as_bytes() == b"POST");
        let requested = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS);
        let headers_ok = match requested.map(HeaderValue::to_str) {
            None => true,
            Some(Ok(list)) => self.allows_headers(list),
            Some(Err(_)) => false,
        };
        let origin_ok = origin.to_str().is_ok_and(|o| self.allows_origin(o));
        if !(origin_ok && method_ok && headers_ok) {
            return resp;
        }
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        out.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST"),
        );
        if let Some(list) = requested.filter(|v| !v.is_empty()) {
            out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, list.clone());
        }
        if let Some(age) = &self.max_age {
            out.insert(header::ACCESS_CONTROL_MAX_AGE, age.clone());
        }
        resp
    }
}

/// The middleware: answers preflights, marks responses to allowed origins.
pub async fn handle(State(cors): State<Arc<Cors>>, req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let Some(origin) = origin else {
        return next.run(req).await;
    };
    if req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return cors.preflight(req.headers(), &origin);
    }
    let allowed = origin.to_str().is_ok_and(|o| cors.allows_origin(o));
    let mut resp = next.run(req).await;
    let out = resp.headers_mut();
    out.append(header::VARY, HeaderValue::from_static("origin"));
    if allowed {
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(origins: &[&str], headers: &[&str]) -> Arc<Cors> {
        Cors::new(Some(&CorsConfig {
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            allowed_headers: headers.iter().map(|s| s.to_string()).collect(),
            max_age: None,
        }))
        .unwrap()
    }

    #[test]
    fn origins_exact_wildcard_and_any() {
        let c = cors(&["https://app.example.org", "https://*.example.com"], &[]);
        assert!(c.allows_origin("https://app.example.org"));
        assert!(c.allows_origin("HTTPS://APP.EXAMPLE.ORG"));
        assert!(!c.allows_origin("https://app.example.org:8443"));
        assert!(c.allows_origin("https://shop.example.com"));
        assert!(c.allows_origin("https://a.b.example.com"));
        assert!(!c.allows_origin("https://example.com"));
        assert!(!c.allows_origin("http://shop.example.com"));
        assert!(!c.allows_origin("https://shop.example.com.evil.net"));
        assert!(cors(&["*"], &[]).allows_origin("null"));
        assert!(Cors::new(Some(&CorsConfig::default())).is_none());
        assert!(Cors::new(None).is_none());
    }

    #[test]
    fn headers_safelisted_listed_and_any() {
        let c = cors(&["*"], &["Authorization"]);
        assert!(c.allows_headers("content-type, authorization"));
        assert!(c.allows_headers("X-Requested-With"));
        assert!(!c.allows_headers("content-type, content-encoding"));
        assert!(cors(&["*"], &["*"]).allows_headers("x-anything"));
    }
}
