//! Values whose key is written apart from them (`columns.rs`): a CSV column under its
//! header (RFC 4180), an SQL value under its column list, an XML element's text, an
//! Erlang binary in a tuple; digits grouped with wide blanks; keys and words that name
//! a date of birth or a struct.

use super::test_text::{gone, left, redact};

#[test]
fn csv_columns_under_their_header() {
    // RFC 4180 §2: a header line, CRLF, a quoted field holding a comma and a doubled
    // quote, an empty field.
    let s = "id,login,passwd,birth_date,account_no,note\r\n\
             1,kim,\"pa,ss\"\"w0rd\",1984-03-05,110-234-567890,\"ok\"\r\n\
             2,lee,,1990-12-31,3333-01-2345678,\r\n";
    let out = redact(s);
    gone(
        &out,
        &[
            "pa,ss",
            "w0rd",
            "1984-03-05",
            "110-234-567890",
            "1990-12-31",
            "3333-01-2345678",
        ],
    );
    left(
        &out,
        &["id,login,passwd,birth_date", "1,kim,", "2,lee,,", "\"ok\""],
    );
    // Semicolons separate too; a date under a column that names no birth stays.
    let s = "id;order_date;amount\n1;1984-03-05;1200\n";
    assert_eq!(redact(s), s);
}

#[test]
fn sql_values_under_their_column_list() {
    let s = "INSERT INTO staff (id, \"api_key\", ssn, dl_number, note) VALUES \
             (1, 'q8Zr2LmX0vT4bN7cJ1wY5kP3', '536221948', '131234567890', 'it''s'), \
             (2, NULL, '536-22-1948', NULL, 'n/a');";
    let out = redact(s);
    gone(
        &out,
        &[
            "q8Zr2LmX0vT4bN7cJ1wY5kP3",
            "536221948",
            "131234567890",
            "536-22-1948",
        ],
    );
    left(
        &out,
        &[
            "(id, \"api_key\", ssn, dl_number, note)",
            "'it''s'",
            "(2, NULL,",
            "'n/a'",
        ],
    );
    let kept =
        "INSERT INTO events (id, created_at, ref_no) VALUES (1, '2024-01-02', '4820193847561');";
    assert_eq!(redact(kept), kept);
    // SQL keywords are case-insensitive (ISO/IEC 9075): the same statement in lower case
    // and in mixed case.
    for (insert, values) in [("insert into", "values"), ("Insert Into", "Values")] {
        let s = format!(
            "{insert} staff (id, api_key, passwd, note) {values} \
             (1, 'q8Zr2LmX0vT4bN7cJ1wY5kP3', 'Tiger1998.', 'ok')"
        );
        let out = redact(&s);
        gone(&out, &["q8Zr2LmX0vT4bN7cJ1wY5kP3", "Tiger1998."]);
        left(&out, &["(id, api_key, passwd, note)", "(1, '", "'ok')"]);
    }
}

#[test]
fn secrets_in_elements_and_erlang_binaries() {
    let s = "<soap:Body><Login><UserName>kim</UserName><Password>Tr0ub4dor!3</Password>\
             <ns:ApiKey>q8Zr2LmX0vT4bN7cJ1wY5kP3</ns:ApiKey>\
             <Field name=\"password\">x9!vQ2#m</Field><Note>hello</Note></Login></soap:Body>";
    let out = redact(s);
    gone(
        &out,
        &["Tr0ub4dor!3", "q8Zr2LmX0vT4bN7cJ1wY5kP3", "x9!vQ2#m"],
    );
    left(
        &out,
        &[
            "<UserName>kim</UserName>",
            "<Note>hello</Note>",
            "<Password>",
        ],
    );
    let e = "** Last message in was {login,[{user,<<\"kim\">>},{passwd,<<\"x9!vQ,2#m\">>}]}";
    let out = redact(e);
    gone(&out, &["x9!vQ,2#m"]);
    left(&out, &["{user,<<\"kim\">>}", "{passwd,<<\""]);
}

#[test]
fn cards_grouped_with_wide_blanks() {
    // A Luhn-valid test number grouped with U+00A0, U+202F and U+2009, as written and
    // percent-encoded (RFC 3986), in text and as a JSON value.
    for s in [
        "card=4111\u{a0}1111\u{a0}1111\u{a0}1111 ok",
        "card: 4111\u{202f}1111\u{202f}1111\u{202f}1111",
        "card 4111\u{2009}1111\u{2009}1111\u{2009}1111.",
        "GET /pay?cc=4111%C2%A01111%C2%A01111%C2%A01111&x=1",
        "GET /pay?cc=4111%E2%80%AF1111%E2%80%AF1111%E2%80%AF1111&x=1",
        "{\"cc\":\"4111\u{a0}1111\u{a0}1111\u{a0}1111\"}",
    ] {
        let out = redact(s);
        gone(&out, &["4111"]);
        // `[REDACTED:credit_card]`, percent-encoded where the number was.
        assert!(out.contains("REDACTED"), "{out}");
    }
    // A byte count grouped the same way is not a card.
    let kept = "wrote 8\u{a0}517\u{a0}934 bytes";
    assert_eq!(redact(kept), kept);
}

#[test]
fn born_names_a_date_of_birth() {
    let out = redact("ValidationException: invalid input (born=1984/03/05, id=42)");
    gone(&out, &["1984/03/05"]);
}

#[test]
fn a_word_that_names_a_struct_does_not_mark_its_fields() {
    // `Accounts` names the module; the field's own key says what the number is.
    let s = "Processing %Shop.Accounts.Order{order_no: \"4820193847561\", total: 12}";
    assert_eq!(redact(s), s);
    // A marking word right before the value still marks it.
    let out = redact("account 4820193847561 frozen");
    gone(&out, &["4820193847561"]);
}

/// An Azure storage connection string (`AccountKey=` holds 64 random bytes in base64):
/// the key goes, the account's name and endpoint stay; an account key that is a number
/// (a table's surrogate key) is not a credential and stays.
#[test]
fn account_keys_of_connection_strings() {
    let key = "q8Zr2LmX0vT4bN7cJ1wY5kP3Hs6Gd9Fa0Qe2Rt4Yu6Io8Pa1Sd3Fg5Hj7Kl9Zx2Cv4Bn6Mq8Wr0Et2Yu4Ia6Oz8Pq==";
    let text = format!(
        "DefaultEndpointsProtocol=https;AccountName=prodlogs;AccountKey={key};EndpointSuffix=core.windows.net"
    );
    let out = redact(&text);
    gone(&out, &[&key[..20]]);
    left(
        &out,
        &[
            "AccountName=prodlogs;AccountKey=",
            ";EndpointSuffix=core.windows.net",
        ],
    );
    let out = redact(&format!("{{\"storage_account_key\":\"{key}\"}}"));
    gone(&out, &[&key[..20]]);
    let s = "account_key=48213 joined";
    assert_eq!(redact(s), s);
}

/// Hashes as Ruby (`inspect`, `=>`), Perl and PHP (`print_r`: `[key] => value`) print
/// them: the value of a password or token key goes, the arrow and the brackets stay.
#[test]
fn values_after_arrows() {
    for (text, secret, kept) in [
        (
            r#"{:user=>"kim", :Pwd => "Tr0ub4dor&3"}"#,
            "Tr0ub4dor",
            r#"{:user=>"kim", :Pwd => ""#,
        ),
        (
            r#"{"password" => "s3cr3t-value", "id" => 7}"#,
            "s3cr3t-value",
            r#""id" => 7}"#,
        ),
        (
            "Array\n(\n    [user] => kim\n    [password] => hunter2hunter2\n)",
            "hunter2",
            "[user] => kim",
        ),
        (
            "%args = (token => 'q8Zr2LmX0vT4bN7c');",
            "q8Zr2LmX0vT4bN7c",
            "%args = (token => '",
        ),
    ] {
        let out = redact(text);
        gone(&out, &[secret]);
        left(&out, &[kept]);
    }
}

#[test]
fn form_data_values_under_sensitive_names() {
    // RFC 7578: a `multipart/form-data` body (the boundary from RFC 7578 §4.1's example).
    let s = "POST /login HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=AaB03x\r\n\r\n\
             --AaB03x\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nkim\r\n\
             --AaB03x\r\nContent-Disposition: form-data; name=\"PASSWORD\"\r\n\r\nTiger1998.\r\n\
             --AaB03x\r\nContent-Disposition: form-data; name=\"비밀번호\"\r\n\r\nLotus1992+\r\n\
             --AaB03x\r\nContent-Disposition: form-data; name=\"duration\"\r\n\r\nPT54M16.302S\r\n\
             --AaB03x\r\nContent-Disposition: form-data; name=\"privateKey\"\r\n\r\n\
             -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\r\n\
             --AaB03x--\r\n";
    let out = redact(s);
    gone(
        &out,
        &[
            "Tiger1998.",
            "Lotus1992+",
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
            "BKcwggSjAgEAAoIBAQC7",
        ],
    );
    left(
        &out,
        &["\r\n\r\nkim\r\n", "\r\n\r\nPT54M16.302S\r\n", "--AaB03x--"],
    );
}
