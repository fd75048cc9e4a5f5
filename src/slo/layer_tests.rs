//! The SLO inputs import each other one way (see the module doc of `slo`): a module of
//! [`LAYERS`] never imports one after it. Read from the source, so a new file is checked
//! as soon as it exists; test modules (`tests.rs`, `*_tests.rs`, inline `mod tests`) may
//! check a module against the ones above it and are left out.

use std::path::{Path, PathBuf};

/// Lowest first: conditions, the SLO files that hold them, the span facts the conditions
/// run on (their schema made from a set of SLOs), the engine that records them.
const LAYERS: [&str; 4] = ["ottl", "spec", "facts", "engine"];

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn is_test_file(path: &Path) -> bool {
    let name = path.file_name().unwrap().to_string_lossy();
    name == "tests.rs" || name.ends_with("_tests.rs")
}

/// The code of a file without comments and without its inline test module.
fn library_code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod ") && next.ends_with('{'))
        {
            break;
        }
        let code = line.split("//").next().unwrap_or("");
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// The `slo` modules `code` names: `slo::x`, `slo::{x, y::z}`, `super::super::x` (from a
/// file one folder below `slo/`).
fn slo_modules_named(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for prefix in ["slo::", "super::super::"] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            rest = &rest[at + prefix.len()..];
            let after = rest.trim_start();
            if let Some(group) = after.strip_prefix('{') {
                // The first name of every entry of the group, at brace depth 0.
                let mut depth = 0;
                let mut start = true;
                let mut name = String::new();
                for c in group.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            start = true;
                            continue;
                        }
                        _ => {}
                    }
                    if depth == 0 && start {
                        if c.is_alphanumeric() || c == '_' {
                            name.push(c);
                        } else if !name.is_empty() {
                            found.push(std::mem::take(&mut name));
                            start = false;
                        }
                    }
                }
                if !name.is_empty() {
                    found.push(name);
                }
            } else {
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                found.push(name);
            }
        }
    }
    found
}

/// `(file, module)` for every import of a later layer by a file of an earlier one.
fn violations(slo_dir: &Path) -> (Vec<(String, String)>, usize) {
    let mut bad = Vec::new();
    let mut checked = 0;
    for (rank, layer) in LAYERS.iter().enumerate() {
        let mut files = Vec::new();
        rust_files(&slo_dir.join(layer), &mut files);
        for file in files.iter().filter(|f| !is_test_file(f)) {
            checked += 1;
            let text = std::fs::read_to_string(file).unwrap();
            for module in slo_modules_named(&library_code(&text)) {
                if LAYERS[rank + 1..].contains(&module.as_str()) {
                    let shown = file.strip_prefix(slo_dir).unwrap().display().to_string();
                    bad.push((shown, module));
                }
            }
        }
    }
    (bad, checked)
}

#[test]
fn inputs_import_one_way() {
    let slo_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/slo");
    let (bad, checked) = violations(&slo_dir);
    assert!(checked >= 20, "only {checked} files read");
    assert!(
        bad.is_empty(),
        "a lower SLO module imports a higher one (order {LAYERS:?}): {bad:?}"
    );
}

#[test]
fn the_check_sees_every_form_of_import() {
    let code = library_code(
        "use crate::slo::spec::AttrRef;\n\
         use crate::slo::{ottl::Use, engine::window};\n\
         fn f() -> super::super::facts::SpanFacts { todo!() }\n\
         // crate::slo::merged in a comment\n\
         #[cfg(test)]\n\
         mod tests {\n\
             use crate::slo::history;\n\
         }\n",
    );
    assert_eq!(
        slo_modules_named(&code),
        ["spec", "ottl", "engine", "facts"]
    );
}
