//! The status page on the admin listener: one self-contained HTML document (its style and
//! script inline, no font, image or script from anywhere else) that renders
//! `GET /api/v1/slos` and, per SLO, the detail, history and definition endpoints.
//!
//! - `GET /`: every SLO and group, worst first, with filters and a search box.
//! - `GET /slo/{service}/{name}`: one SLO: charts of its history, the per-cluster and
//!   per-group breakdown, every window, its definition.
//!
//! Both answer the same document; its script picks the view from the path. The page shows
//! the API's numbers as they are (formatted, never recomputed; each cell keeps the API's
//! value in `data-value`). A `Content-Security-Policy` allows only the inline style and
//! script by hash and requests to the admin origin itself, so the page works offline and
//! cannot load anything from elsewhere.
//!
//! # Layout
//!
//! - `page.html`: the document, with `{{style}}` and `{{script}}` filled in once.
//! - `page.css`: the style (light and dark, narrow screens).
//! - `page.js`: the list and detail views and their SVG charts.

use std::sync::LazyLock;

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use sha2::Digest;

const HTML: &str = include_str!("page.html");
const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// The assembled document and its `Content-Security-Policy`.
struct Page {
    html: String,
    csp: String,
}

fn csp_hash(text: &str) -> String {
    let digest = sha2::Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

static PAGE: LazyLock<Page> = LazyLock::new(|| Page {
    html: HTML
        .replacen("{{style}}", STYLE, 1)
        .replacen("{{script}}", SCRIPT, 1),
    csp: format!(
        "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; \
         img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        csp_hash(SCRIPT),
        csp_hash(STYLE)
    ),
});

/// The page's size in bytes (served from the binary).
pub fn page_bytes() -> usize {
    PAGE.html.len()
}

async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, PAGE.csp.as_str()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        PAGE.html.as_str(),
    )
        .into_response()
}

/// The page's routes.
pub fn router() -> Router {
    Router::new()
        .route("/", get(page))
        .route("/slo/{service}/{name}", get(page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_is_self_contained_and_small() {
        // The SVG namespace is a name, not a request.
        let html = PAGE.html.replace("http://www.w3.org/2000/svg", "");
        assert!(!html.contains("{{"), "every placeholder filled");
        for external in ["http://", "https://", "//fonts", "@import", "src=\""] {
            assert!(!html.contains(external), "page refers to {external}");
        }
        assert!(page_bytes() < 40_000, "page is {} bytes", page_bytes());
        assert!(PAGE.csp.contains("default-src 'none'"));
        assert!(PAGE.csp.contains(&csp_hash(SCRIPT)));
    }
}
