//! The JSON walker and every detector on arbitrary input: never panics, and valid JSON
//! (an object or an array) comes out as valid JSON with as many objects and arrays.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use slotel::config::RedactionConfig;
use slotel::redact::Redactor;

fn redactor() -> &'static Redactor {
    static R: OnceLock<Redactor> = OnceLock::new();
    R.get_or_init(|| match Redactor::new(&RedactionConfig::default()) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    })
}

/// (arrays, objects) in a valid JSON text, counted on the text: keys that redaction made
/// equal (or that were equal already) would be folded by a `Value`.
fn containers(text: &str) -> (usize, usize) {
    let (mut arrays, mut objects) = (0, 0);
    let (mut in_string, mut escaped) = (false, false);
    for b in text.bytes() {
        match (in_string, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') => in_string = false,
            (true, false, _) => {}
            (false, _, b'"') => in_string = true,
            (false, _, b'[') => arrays += 1,
            (false, _, b'{') => objects += 1,
            _ => {}
        }
    }
    (arrays, objects)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let out = redactor().session().redact_str(&text);
    if let Ok(before) = serde_json::from_str::<Value>(&text)
        && (before.is_object() || before.is_array())
    {
        let out = out.unwrap_or_else(|| text.to_string());
        if let Err(e) = serde_json::from_str::<Value>(&out) {
            panic!("valid JSON in, invalid out ({e})");
        }
        assert_eq!(containers(&text), containers(&out));
    }
});
