//! Values in the shapes logs take outside JSON objects and `key=value` text: command-line
//! arguments and PEM lines as JSON array items, XML elements, query strings whose encoded
//! values sit beside others, and the identifiers whose published formats were read too
//! narrowly.

use super::test_text::redact;

#[test]
fn a_flag_in_an_argument_array_names_the_value_after_it() {
    let out = redact(r#"{"argv":["deploy","--db-password","Winter2024?x","-h","db.internal"]}"#);
    assert!(!out.contains("Winter2024?x"), "{out}");
    assert!(out.contains(r#""-h","db.internal""#), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["argv"].as_array().map(Vec::len), Some(5));
    // A flag that names nothing sensitive leaves its value alone.
    let plain = r#"{"argv":["serve","--port","8443","--log-level","debug"]}"#;
    assert_eq!(redact(plain), plain);
}

#[test]
fn pem_lines_split_over_an_array_are_the_keys() {
    // RFC 7468: a PKCS#8 block, one line per array element (as some loggers write it).
    let doc = r#"{"tls_key_lines":["-----BEGIN PRIVATE KEY-----","MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj","MZByx0GQn2K7uBVpdiaJM5CYl1rEvW7nwx8XCvnr6Rm9bGiY1e1SMFzUmFwSvqfA","-----END PRIVATE KEY-----"],"lines":["MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"]}"#;
    let out = redact(doc);
    for line in [
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
        "MZByx0GQn2K7uBVpdiaJM5CYl1rEvW7nwx8XCvnr6Rm9bGiY1e1SMFzUmFwSvqfA",
    ] {
        assert!(!out.contains(line), "{out}");
    }
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["tls_key_lines"].as_array().map(Vec::len), Some(4));
    assert_eq!(v["tls_key_lines"][3], "-----END PRIVATE KEY-----");
    // A base64 line in an array with no key block before it is not a key.
    assert_eq!(v["lines"][0], "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC");
}

#[test]
fn an_xml_element_is_the_key_of_its_text() {
    let out =
        redact("<CreateCustomer><TaxSsn>029356249</TaxSsn><Size>4096</Size></CreateCustomer>");
    assert!(!out.contains("029356249"), "{out}");
    assert!(out.contains("<Size>4096</Size>"), "{out}");
    let out = redact("<soap:Body><ns1:DriverLicense>117587016577</ns1:DriverLicense></soap:Body>");
    assert!(!out.contains("117587016577"), "{out}");
}

#[test]
fn a_match_in_an_encoded_query_value_ends_with_its_field() {
    let line = "GET /v1/verify?cookie=theme%3Ddark%3B%20sid%3Dabc123def456ghi789&spanId=23e6831ffe8ed8da HTTP/1.1";
    let out = redact(line);
    assert!(!out.contains("abc123def456ghi789"), "{out}");
    assert!(out.contains("&spanId=23e6831ffe8ed8da HTTP/1.1"), "{out}");
    // A Slack incoming webhook (percent-encoded) before another field.
    let line = "webhook_url=https%3A%2F%2Fhooks.slack.com%2Fservices%2FT00000000%2FB00000000%2FXXXXXXXXXXXXXXXXXXXXXXXX&endpoint=localhost%3A45616";
    let out = redact(line);
    assert!(!out.contains("XXXXXXXXXXXXXXXXXXXXXXXX"), "{out}");
    assert!(out.ends_with("&endpoint=localhost%3A45616"), "{out}");
}

#[test]
fn passports_of_every_kind_letter_and_rotating_slack_tokens() {
    // Korean passports: M, S (ordinary), R (residence), O/G (official), D (diplomatic).
    for p in ["G12345678", "M12345678", "D12345678"] {
        let out = redact(&format!("passport_no={p}"));
        assert!(!out.contains(p), "{out}");
    }
    // Slack token rotation: refresh tokens start `xoxe-`.
    let t = "xoxe-1-My0xLTIzNDU2Nzg5MDEyLTk4NzY1NDMyMTAtYWJjZGVm";
    let out = redact(&format!("rotated, new refresh {t}"));
    assert!(!out.contains(t), "{out}");
}

#[test]
fn slack_tokens_of_every_documented_family() {
    // Bot, user, legacy app and workspace, refresh, rotation, legacy session, the web
    // client's token (`xoxc-`: workspace, user and team numbers, then 64 hex digits)
    // and app-level tokens.
    let hex64 = "3f9a0c1d2e4b5a6978877665544332211ffeeddccbbaa00998877665544332211";
    let tokens = [
        "xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx".to_string(),
        "xoxp-1234567890123-1234567890123-1234567890123-0123456789abcdef0123456789abcdef"
            .to_string(),
        "xoxa-2-1234567890123-1234567890123-abcdef0123456789".to_string(),
        "xoxr-1234567890123-abcdef0123456789abcdef".to_string(),
        "xoxs-1234567890-1234567890-1234567890-abcdef0123".to_string(),
        format!("xoxc-123456789012-1234567890123-1234567890123-{hex64}"),
        "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef".to_string(),
    ];
    for t in &tokens {
        let out = redact(&format!("posting with {t}"));
        assert!(
            out.contains("slack_token") || out.contains("api_key"),
            "{out}"
        );
        for line in [
            format!("posting with {t}"),
            format!("token={t} ok"),
            format!(r#"{{"detail":"posting with {t}"}}"#),
        ] {
            let out = redact(&line);
            assert!(!out.contains(t.as_str()), "{out}");
        }
    }
    // The web client's `d` cookie: URL-encoded base64, taken to the cookie's end.
    let d = "xoxd-aBcD1234eFgH5678%2BiJkL9012mNoP%2FqRsT3456uVwX%3D";
    let out = redact(&format!("Cookie: d={d}; d-s=1700000000"));
    assert!(!out.contains("aBcD1234"), "{out}");
    assert!(!out.contains("uVwX"), "{out}");
    let out = redact(&format!("session cookie {d} sent"));
    assert!(!out.contains("uVwX"), "{out}");
    assert!(out.ends_with(" sent"), "{out}");
    // Words that start like a family are not tokens.
    let plain = "xoxo-hugs and xoxc-short";
    assert_eq!(redact(plain), plain);
}

#[test]
fn signatures_of_signed_urls_from_each_cloud() {
    let hex64 = "a3f1c2d4e5b60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
    // Cloud Storage V4 (GOOG4-RSA-SHA256 and GOOG4-HMAC-SHA256), S3 SigV4, Azure SAS,
    // CloudFront and version-2 signatures (`Signature`, base64 percent-encoded).
    let cases = [
        (
            format!(
                "https://storage.googleapis.com/b/o.tar.gz?X-Goog-Algorithm=GOOG4-HMAC-SHA256&X-Goog-Credential=GOOG1EXAMPLE%2F20261207%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20261207T101500Z&X-Goog-Expires=900&X-Goog-SignedHeaders=host&X-Goog-Signature={hex64}"
            ),
            vec![hex64, "GOOG1EXAMPLE"],
        ),
        (
            format!(
                "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=300&X-Amz-Signature={hex64}"
            ),
            vec![hex64],
        ),
        (
            "https://acct.blob.core.windows.net/c/b.bin?sv=2022-11-02&se=2026-12-08T00%3A00%3A00Z&sr=b&sp=r&sig=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA%3D%3D"
                .to_string(),
            vec!["Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA"],
        ),
        (
            "https://d111111abcdef8.cloudfront.net/i.jpg?Expires=1767225600&Signature=nitfHRCrtziwO2HwPfWw~yYDhUF5EwRunQA-j19DzZrvDh6hQ73lDx~-ar3UocvvRQVw6EkC~GdpGQyyOSKQim-TxAnW7d8F5Kkai9HVx0FIu-5jcQb0UEmatEXAMPLE3ReXySpLSMj0yCd3ZAB4UcBCAqEijkytL6f3fVYNGQI6&Key-Pair-Id=K2JCJMDEHXQW5F"
                .to_string(),
            vec!["nitfHRCrtziwO2HwPfWw", "EXAMPLE3ReXySpLSMj0yCd3ZAB4UcBCAqEijkytL6f3fVYNGQI6"],
        ),
    ];
    for (url, secrets) in &cases {
        let out = redact(&format!("GET {url} 200"));
        for s in secrets {
            assert!(!out.contains(s), "{out}");
        }
        assert!(out.ends_with(" 200"), "{out}");
    }
    // The parameters that say how a URL was signed stay.
    let out = redact(&cases[0].0);
    assert!(out.contains("X-Goog-Algorithm=GOOG4-HMAC-SHA256&"), "{out}");
    assert!(out.contains("X-Goog-Expires=900&"), "{out}");
    let out = redact(&cases[3].0);
    assert!(out.ends_with("&Key-Pair-Id=K2JCJMDEHXQW5F"), "{out}");
}

#[test]
fn a_signature_key_in_text_names_a_random_value() {
    let hex32 = "5d41402abc4b2a76b9719d911017c592";
    let hex64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    for line in [
        format!("signature={hex32}"),
        format!("Please check this: signature={hex64} - thanks"),
        format!("webhook_signature: {hex64}"),
        format!(r#"{{"log":"request_signature=\"{hex32}\" rejected"}}"#),
    ] {
        let out = redact(&line);
        assert!(!out.contains(hex32) && !out.contains(hex64), "{out}");
    }
    // A signature key over a word or a short setting is not a secret, nor a digest
    // under its own name.
    for line in [
        "signature=valid",
        "signature: none",
        "SignatureVersion=2",
        "signature_algorithm=RS256",
        "signatures=3",
        "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ] {
        assert_eq!(redact(line), line);
    }
}

#[test]
fn an_address_after_a_version_on_the_line_before_is_redacted() {
    // pino-pretty writes each field on its own indented line.
    let out = redact(
        "WARN (9247 on web-1): handler failed\n    version 2.10.3-beta.1\n    err: from 81.2.69.161",
    );
    assert!(!out.contains("81.2.69.161"), "{out}");
    assert!(out.contains("version 2.10.3-beta.1"), "{out}");
    let out = redact("version 2.4 deployed, client 81.2.69.160 connected");
    assert!(!out.contains("81.2.69.160"), "{out}");
    // A version the word marks stays, whatever its shape.
    for line in [
        "version 6.11.4.50",
        "build 10.0.19045.3803",
        "version: 6.11.4.50 (stable)",
    ] {
        assert_eq!(redact(line), line);
    }
}
