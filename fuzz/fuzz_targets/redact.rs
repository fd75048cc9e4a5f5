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

fn containers(v: &Value) -> (usize, usize) {
    match v {
        Value::Array(a) => a.iter().map(containers).fold((1, 0), |x, y| (x.0 + y.0, x.1 + y.1)),
        Value::Object(o) => o.values().map(containers).fold((0, 1), |x, y| (x.0 + y.0, x.1 + y.1)),
        _ => (0, 0),
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let out = redactor().session().redact_str(&text);
    if let Ok(before) = serde_json::from_str::<Value>(&text)
        && (before.is_object() || before.is_array())
    {
        let out = out.unwrap_or_else(|| text.to_string());
        let after: Value = match serde_json::from_str(&out) {
            Ok(v) => v,
            Err(e) => panic!("valid JSON in, invalid out ({e})"),
        };
        assert_eq!(containers(&before), containers(&after));
    }
});
