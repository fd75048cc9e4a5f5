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
