//! Values keyed by a name written beside them rather than before a `=` or `:`: HTML
//! form controls (`name` and `value` attributes), header dumps of `'name', 'value'`
//! lines, `[name, value]` arrays; and the shapes that look like keyed PII but are not
//! (ISSNs, certificate fingerprints).

use super::test_text::{gone, left, redact};

#[test]
fn a_form_controls_value_is_keyed_by_its_name() {
    // HTML Living Standard: attributes in any order, quoted with `"` or `'` or not.
    let s = "<form method=\"post\">\n\
             <input type=\"hidden\" name=\"dob\" value=\"1962-11-12\">\n\
             <input value='110-234-567890' type='hidden' name='acct_no'>\n\
             <input type=hidden name=brn value=2208145672>\n\
             <input type=\"password\" name=\"passwd\" value=\"Tr0ub4dor&amp;3\">\n\
             <input name=\"version\" value=\"10.0.19045.3803\">\n\
             <input name=\"issn\" value=\"0317-8471\">\n\
             <input name=\"order_date\" value=\"1962-11-12\"></form>";
    let out = redact(s);
    gone(
        &out,
        &[
            "\"1962-11-12\">\n",
            "110-234-567890",
            "2208145672",
            "Tr0ub4dor",
        ],
    );
    left(
        &out,
        &[
            "name=\"dob\" value=\"",
            "10.0.19045.3803",
            "0317-8471",
            "name=\"order_date\" value=\"1962-11-12\"",
        ],
    );
}

#[test]
fn a_header_dump_line_keys_its_value_by_its_name() {
    // Envoy's debug dump of a header map: one `'name', 'value'` per line.
    let s = "[debug][http] request headers complete (end_stream=false):\n\
             ':authority', 'api.example.com'\n\
             'pwd', 'correct-horse-battery-staple'\n\
             'x-api-key', 'q8Zr2LmX0vT4bN7cJ1wY5kP3'\n\
             'ssn', '536221948'\n\
             'x-request-id', '9e8dbd86-33c3-4a04-8037-acf8fc8ae3ad'";
    let out = redact(s);
    gone(
        &out,
        &[
            "correct-horse-battery-staple",
            "q8Zr2LmX0vT4bN7cJ1wY5kP3",
            "536221948",
        ],
    );
    left(
        &out,
        &[
            "'api.example.com'",
            "'pwd', '",
            "9e8dbd86-33c3-4a04-8037-acf8fc8ae3ad",
        ],
    );
}

#[test]
fn a_two_element_array_keys_its_second_by_its_first() {
    // Sentry's event payload: request headers as `[name, value]` pairs.
    let doc = r#"{"request":{"headers":[["Content-Type","application/json"],["date_of_birth","12.11.1962"],["brn", "2208145672"],["Password","Tr0ub4dor&3"]]},"dob":["primary","1939-10-05"],"tags":[["release","1939-10-05"]]}"#;
    let out = redact(doc);
    gone(
        &out,
        &[
            "12.11.1962",
            "2208145672",
            "Tr0ub4dor",
            "\"primary\",\"1939-10-05\"",
        ],
    );
    left(
        &out,
        &[
            "[\"Content-Type\",\"application/json\"]",
            "[\"release\",\"1939-10-05\"]",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["request"]["headers"].as_array().map(Vec::len), Some(4));
}

#[test]
fn a_webhook_url_in_a_header_list_ends_where_the_next_header_starts() {
    // kcat's `-f '%h'`: headers as `name=value` joined by `,`.
    let s = "headers webhook_url=https://hooks.slack.com/services/T0AB1CD2E/B0FG3HI4J/\
             x7Kq2LmZ9vT4bN8cJ1wY5kPa,content-type=application/json,routing_number=021000021";
    let out = redact(s);
    gone(&out, &["x7Kq2LmZ9vT4bN8cJ1wY5kPa"]);
    left(
        &out,
        &[",content-type=application/json,routing_number=021000021"],
    );
    // The URL first, with no name of its own.
    let s = "headers https://discord.com/api/webhooks/112233445566778899/\
             Zq3x-Lm9_vT4bN8cJ1wY5kPaQ2rS7uV0wX3yZ6aB9cD2eF5gH8iJ1kL4mN7oP0qR3s,\
             content-type=application/json,revision=0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";
    let out = redact(s);
    gone(&out, &["Zq3x-Lm9_vT4bN8cJ1wY5kPa"]);
    left(&out, &["revision=0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"]);
}

#[test]
fn an_issn_is_not_a_social_security_number() {
    // ISO 3297: eight digits, the last a mod-11 check (`X` for 10).
    for s in [
        r#"{"issn": "0317-8471", "eissn": "2049-3630"}"#,
        "journal issn=0317-8471 eISSN: 1050-124X",
        "{\"journal\": {\"printIssn\": \"0317-8471\"}}",
    ] {
        assert_eq!(redact(s), s);
    }
    gone(
        &redact(r#"{"ssn": "536-22-1948", "user_ssn": "536221948"}"#),
        &["536-22-1948", "536221948"],
    );
}

#[test]
fn a_certificate_fingerprint_is_not_an_address() {
    // `openssl x509 -fingerprint`: SHA-256 (32 bytes) and SHA-1 (20), `:`-joined.
    let sha256 = "2F:4A:91:0C:7D:E3:58:B6:11:9A:C4:5E:02:7B:D8:63:AF:30:E9:14:6C:85:B2:4D:\
                  97:1E:F0:3A:C8:56:0B:E7";
    let sha1 = "a1:3f:5c:09:e2:7d:44:b8:1f:90:6e:c3:25:da:78:0b:9f:e1:36:4c";
    for s in [
        format!("SHA256 Fingerprint={sha256}"),
        format!("{{\"fingerprint_sha1\": \"{sha1}\"}}"),
    ] {
        assert_eq!(redact(&s), s);
    }
    // An address stays found, alone, in brackets with a port, and full.
    // So does one with its port after it unbracketed, as Java's `InetSocketAddress`
    // writes it.
    let out = redact(
        "from 2001:db8:85a3::8a2e:370:7334 via [2001:db8::17]:443 and 2001:0db8:0:0:1:0:0:1 \
         peer /2001:db8:85a3:0:0:8a2e:370:7334:8443",
    );
    gone(
        &out,
        &[
            "2001:db8:85a3::8a2e:370:7334",
            "2001:db8::17",
            "2001:0db8:0:0:1:0:0:1",
            "8a2e:370:7334:8443",
        ],
    );
}
