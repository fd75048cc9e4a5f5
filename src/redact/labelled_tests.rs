//! Values named by a key written apart from them in shapes read by their own modules:
//! Markdown table rows (`markdown.rs`), CEF custom fields under their labels (`cef.rs`),
//! Erlang map associations (`erlang.rs`); card numbers grouped with zero-width format
//! characters, and digit groups that only part of reads as a card; JWE compact
//! serialisations; vendor keys known by their marker.

use super::test_text::{gone, left, redact};

#[test]
fn markdown_table_rows_key_their_second_cell() {
    let s = "## Config\n\n| setting | value |\n|---|---|\n| region | eu-west-1 |\n\
             | client_secret | Wm9vbGFuZGVyLXNlY3JldA |\n| x-api-key | `Zx81hQw2Lm0PqRt5Vb7Nc3Kd` |\n";
    let out = redact(s);
    gone(
        &out,
        &["Wm9vbGFuZGVyLXNlY3JldA", "Zx81hQw2Lm0PqRt5Vb7Nc3Kd"],
    );
    left(
        &out,
        &[
            "| region | eu-west-1 |",
            "| client_secret |",
            "| x-api-key |",
        ],
    );
    // Under a header that names the column.
    let s = "| user | password |\n|:--|:--|\n| kim | correct horse |\n";
    let out = redact(s);
    gone(&out, &["correct horse"]);
    left(&out, &["| kim |"]);
}

#[test]
fn cef_custom_fields_are_keyed_by_their_labels() {
    let s = "CEF:0|Vendor|Product|1.0|100|Login|5|suser=kim cs1Label=adminPassword \
             cs1=Tr0ub4dor&3 cs2Label=birth_date cs2=1984-03-05 cn1Label=retries cn1=3";
    let out = redact(s);
    gone(&out, &["Tr0ub4dor&3", "1984-03-05"]);
    left(
        &out,
        &["cs1Label=adminPassword", "cs2Label=birth_date", "cn1=3"],
    );
    // A label that names nothing sensitive leaves its value.
    let s = "CEF:0|V|P|1|1|n|1|cs3Label=latency cs3=1984-03-05";
    assert_eq!(redact(s), s);
}

#[test]
fn erlang_map_binaries_under_sensitive_keys() {
    let s = "=INFO REPORT==== params: #{<<\"user\">> => <<\"kim\">>,<<\"passwd\">> => \
             <<\"x9!vQ,2#m\">>, api_token => <<\"Zx81hQw2Lm0PqRt5Vb7Nc3Kd\">>}";
    let out = redact(s);
    gone(&out, &["x9!vQ,2#m", "Zx81hQw2Lm0PqRt5Vb7Nc3Kd"]);
    left(
        &out,
        &["<<\"user\">> => <<\"kim\">>", "<<\"passwd\">> => <<\""],
    );
}

#[test]
fn cards_grouped_with_zero_width_characters() {
    // A Luhn-valid test number; U+200B, U+200C, U+200D, U+2060, U+FEFF between groups.
    for zw in ["\u{200b}", "\u{200c}", "\u{200d}", "\u{2060}", "\u{feff}"] {
        let s = format!("x-card: 5555{zw}5555{zw}5555{zw}4444");
        let out = redact(&s);
        gone(&out, &["5555"]);
        assert!(out.contains("REDACTED"), "{out}");
    }
}

#[test]
fn a_card_inside_a_longer_run_of_groups_is_not_a_card() {
    // 22-digit USPS-style numbers in groups of four: from the second group on, 16
    // digits pass Luhn with a Mastercard prefix (5555 5555 5555 4444).
    for s in [
        "parcel 9400 5555 5555 5555 4444 12",
        "parcel 9400-5555-5555-5555-4444-12",
    ] {
        assert_eq!(redact(s), s);
    }
    // Alone, or with a security code or expiry date after it, the number is a card.
    for s in [
        "card 5555 5555 5555 4444 ok",
        "card 5555 5555 5555 4444 123",
        "card 5555 5555 5555 4444 12/28",
    ] {
        gone(&redact(s), &["5555"]);
    }
}

#[test]
fn jwe_compact_serialisations_are_jwts() {
    // RFC 7516 appendix A.3's JWE (A128KW, A128CBC-HS256), and with an empty
    // encrypted key (`dir`).
    let jwe = "eyJhbGciOiJBMTI4S1ciLCJlbmMiOiJBMTI4Q0JDLUhTMjU2In0.\
               6KB707dM9YTIgHtLvtgWQ8mKwboJW3of9locizkDTHzBC2IlrT1oOQ.\
               AxY8DCtDaGlsbGljb3RoZQ.\
               KDlTtXchhZTGufMYmOYGS4HffxPSUrfmqCHXaI9wOGY.\
               U0m_YmjN04DJvceFICbCVQ";
    let out = redact(&format!("token={jwe} ok"));
    gone(&out, &["6KB707dM9YTIgHtLvtgWQ8m", "U0m_YmjN04DJvceFICbCVQ"]);
    let dir =
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMTI4R0NNIn0..AxY8DCtDaGlsbGlj.KDlTtXchhZTGuf.U0m_YmjN04DJvceF";
    let out = redact(&format!("v={dir}"));
    gone(&out, &["KDlTtXchhZTGuf"]);
}

#[test]
fn signed_cookie_percent_encoded_under_its_name() {
    let s = "{\"connect.sid\": \"s%3Aq8Xk2LmN0pRt5Vb7Nc3Kd9Wz.Hf4Jd8Ks%2FLq6Mz0Pw3Rt7Yv1Bx5Cn9\"}";
    gone(&redact(s), &["q8Xk2LmN0pRt5Vb7Nc3Kd9Wz"]);
}

#[test]
fn legacy_openai_key_with_one_digit() {
    let s = "{\"note\": \"sk-abcdEfghijKlmnopQrstT3BlbkFJuvwxYzabcdEfghijKlmn\"}";
    gone(&redact(s), &["T3BlbkFJ"]);
}
