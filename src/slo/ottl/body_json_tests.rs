//! Numbers in JSON bodies are stepped over eight bytes at a time, the last ones in the eight
//! bytes that end the body: every number form, of every length, ending at every place of
//! the text, reads as the whole-document parse reads it.

use super::BodyPaths;
use super::log_tests::agrees_with_whole_parse;

#[test]
fn numbers_read_the_same_wherever_they_end() {
    let mut paths = BodyPaths::default();
    for p in [&["n"][..], &["k"]] {
        paths.add(&p.iter().map(|k| k.to_string()).collect::<Vec<_>>());
    }
    let mut parsed = 0;
    for len in 1..26 {
        let digits: String = (0..len)
            .map(|i| char::from(b'0' + (i * 7 % 10) as u8))
            .collect();
        let ones = "1".repeat(len);
        for number in [
            ones.clone(),
            format!("9{}", &digits[1..]),
            format!("-{ones}"),
            format!("{ones}.{digits}"),
            format!("{ones}e{}", len % 5),
            format!("{ones}E-{len}"),
            format!("0{ones}"),
            format!("{ones}."),
            format!("{ones}x"),
            format!("{ones}:"),
            format!("-0.{digits}"),
        ] {
            for pad in 0..10 {
                let space = " ".repeat(pad);
                for body in [
                    format!(r#"{{"n":{number}}}{space}"#),
                    format!(r#"{{"n":{number}{space}}}"#),
                    format!(r#"{{"k":{number},"n":"{space}"}}"#),
                    format!(r#"{{"k":[{number},{number}{space}]}}"#),
                    format!(r#"{{"n":{number}"#),
                ] {
                    parsed += usize::from(agrees_with_whole_parse(&body, &paths));
                }
            }
        }
    }
    assert!(parsed > 5_000, "{parsed}");
}
