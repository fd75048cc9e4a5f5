//! `service.admin.auth`: the SLO status API (`/api/v1/…`) asks for
//! `Authorization: Bearer <token>`, since it names tenants, services and clusters. The
//! status page's document holds no data and stays open: it asks for the token when the API
//! answers 401 and keeps it for the browser tab (session storage). Probes stay open
//! (kubelets); `/metrics` too (scrapers) unless `service.admin.auth.metrics` is set.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The token, compared in constant time.
#[derive(Clone)]
pub struct AdminToken(Arc<[u8]>);

impl AdminToken {
    pub fn new(token: &str) -> Self {
        Self(Arc::from(token.as_bytes()))
    }

    /// Whether an `Authorization` header value carries the token (`Bearer`, any case).
    fn admits(&self, authorization: Option<&HeaderValue>) -> bool {
        let Some(value) = authorization.map(HeaderValue::as_bytes) else {
            return false;
        };
        let Some((scheme, given)) = value.split_at_checked(7) else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case(b"bearer ") {
            return false;
        }
        let want = &self.0;
        // Every byte is looked at whatever the first difference; only the length shows.
        given.len() == want.len()
            && given
                .iter()
                .zip(want.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// Refuses requests without the token with 401 and a JSON error.
pub async fn require(State(token): State<AdminToken>, request: Request, next: Next) -> Response {
    if token.admits(request.headers().get(header::AUTHORIZATION)) {
        return next.run(request).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::WWW_AUTHENTICATE, "Bearer realm=\"slotel admin\""),
            (header::CONTENT_TYPE, "application/json"),
        ],
        "{\"error\":\"this API needs Authorization: Bearer <service.admin.auth.token>\"}",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_is_admitted() {
        let t = AdminToken::new("0123456789abcdef");
        let h = |s: &str| HeaderValue::from_str(s).ok();
        assert!(t.admits(h("Bearer 0123456789abcdef").as_ref()));
        assert!(t.admits(h("bearer 0123456789abcdef").as_ref()));
        assert!(!t.admits(None));
        assert!(!t.admits(h("Bearer 0123456789abcdeF").as_ref()));
        assert!(!t.admits(h("Bearer 0123456789abcde").as_ref()));
        assert!(!t.admits(h("Bearer 0123456789abcdef0").as_ref()));
        assert!(!t.admits(h("Basic 0123456789abcdef").as_ref()));
        assert!(!t.admits(h("Bearer").as_ref()));
        assert!(!t.admits(h("").as_ref()));
    }
}
