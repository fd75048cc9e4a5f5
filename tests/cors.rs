//! CORS on the OTLP/HTTP receiver, against the real binary: a browser's preflight
//! (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) from an allowed origin,
//! exact or matched by a `*` pattern, gets the allow headers before any authentication;
//! other origins, methods or headers get none; POSTs from allowed origins are accepted and
//! marked readable; without `cors` nothing changes.

mod common;

use std::net::SocketAddr;

use common::*;

const SPAN: &str = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
   {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"GET /","kind":2,
    "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000010000000"}]}]}]}"#;

struct Slotel {
    _child: KillOnDrop,
    http: SocketAddr,
    _dir: tempfile::TempDir,
}

/// `slotel run` with a token and the collector's `cors` block from its documentation.
async fn spawn_with_cors() -> Slotel {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("slotel.yaml");
    let (child, ports) = run_on_free_ports(&cfg, None, &[], |p| {
        format!(
            "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:{}\n\
             \x20       cors:\n          allowed_origins: [\"https://app.example.org\", \"https://*.example.com\"]\n\
             \x20         allowed_headers: [Authorization, Content-Encoding]\n          max_age: 7200\n\
             \x20   auth:\n      tokens:\n        - {{token: good-token, tenant: team-a}}\n\
             exporters:\n  nop:\n\
             service:\n  admin: {{endpoint: 127.0.0.1:{}}}\n",
            p.http, p.admin
        )
    })
    .await
    .unwrap();
    Slotel {
        _child: child,
        http: ports.addr(ports.http),
        _dir: dir,
    }
}

fn header<'a>(r: &'a HttpResp, name: &str) -> Option<&'a str> {
    r.headers.get(name).map(|v| v.to_str().unwrap())
}

fn varies_on_origin(r: &HttpResp) -> bool {
    r.headers
        .get_all("vary")
        .iter()
        .any(|v| v.to_str().unwrap().to_ascii_lowercase().contains("origin"))
}

async fn preflight(url: &str, origin: &str, method: &str, headers: &str) -> HttpResp {
    http_send(
        "OPTIONS",
        url,
        &[
            ("origin", origin),
            ("access-control-request-method", method),
            ("access-control-request-headers", headers),
        ],
        Vec::new(),
    )
    .await
}

#[tokio::test]
async fn preflights_and_posts_from_allowed_origins_only() {
    let s = spawn_with_cors().await;
    let url = format!("http://{}/v1/traces", s.http);

    // Exact and wildcard origins: answered without credentials, before authentication.
    for origin in ["https://app.example.org", "https://shop.example.com"] {
        let r = preflight(&url, origin, "POST", "content-type,authorization").await;
        assert!(r.status == 204 || r.status == 200, "{origin}: {}", r.status);
        assert_eq!(header(&r, "access-control-allow-origin"), Some(origin));
        assert_eq!(header(&r, "access-control-allow-methods"), Some("POST"));
        let allowed = header(&r, "access-control-allow-headers")
            .unwrap()
            .to_ascii_lowercase();
        assert!(allowed.contains("content-type") && allowed.contains("authorization"));
        assert_eq!(header(&r, "access-control-max-age"), Some("7200"));
        assert!(varies_on_origin(&r));
        assert!(r.body.is_empty());
    }

    // Not allowed: another origin, a look-alike, a method, an unlisted header.
    for (origin, method, headers) in [
        ("https://evil.example.net", "POST", "content-type"),
        ("https://example.com.evil.net", "POST", "content-type"),
        ("http://shop.example.com", "POST", "content-type"),
        ("https://app.example.org", "DELETE", "content-type"),
        ("https://app.example.org", "POST", "content-type,x-secret"),
    ] {
        let r = preflight(&url, origin, method, headers).await;
        let what = format!("{origin} {method} {headers}");
        assert_eq!(header(&r, "access-control-allow-origin"), None, "{what}");
        assert_eq!(header(&r, "access-control-allow-methods"), None, "{what}");
        assert_eq!(header(&r, "access-control-allow-headers"), None, "{what}");
    }

    // The POST itself: accepted, readable by the allowed origin only.
    let post = |origin: &'static str, token: Option<&'static str>| {
        let url = url.clone();
        async move {
            let mut h = vec![("content-type", "application/json"), ("origin", origin)];
            if let Some(t) = token {
                h.push(("authorization", t));
            }
            http_send("POST", &url, &h, SPAN).await
        }
    };
    let r = post("https://shop.example.com", Some("Bearer good-token")).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        header(&r, "access-control-allow-origin"),
        Some("https://shop.example.com")
    );
    assert!(varies_on_origin(&r));
    let r = post("https://evil.example.net", Some("Bearer good-token")).await;
    assert_eq!(r.status, 200);
    assert_eq!(header(&r, "access-control-allow-origin"), None);
    assert!(varies_on_origin(&r));
    // A refusal is readable too, so the page can tell what went wrong.
    let r = post("https://app.example.org", None).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        header(&r, "access-control-allow-origin"),
        Some("https://app.example.org")
    );
}

#[tokio::test]
async fn without_cors_no_header_is_sent() {
    let p = spawn_binary("  nop:\n", "").await;
    let url = format!("http://{}/v1/traces", p.http);
    let r = preflight(&url, "https://app.example.org", "POST", "content-type").await;
    assert_eq!(r.status, 405);
    assert_eq!(header(&r, "access-control-allow-origin"), None);
    let r = http_send(
        "POST",
        &url,
        &[
            ("content-type", "application/json"),
            ("origin", "https://app.example.org"),
        ],
        SPAN,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(header(&r, "access-control-allow-origin"), None);
    let mut child = p.child;
    let _ = child.kill();
    let _ = child.wait();
}
