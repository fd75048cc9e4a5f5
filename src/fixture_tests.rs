//! The fixture runner of both YAML decoders' tests (the config's and the SLO files'): each
//! `.yaml` file of a folder carries `# expect: ` lines, the errors decoding it must give,
//! in order.

use std::path::{Path, PathBuf};

/// Checks every `.yaml` file in `dir`, at least `min` of them: the lines `errors` gives
/// for its text and file name must equal its `# expect: ` lines, and there must be some.
/// Panics listing every file that differs, with what it gave.
pub(crate) fn check_fixtures(dir: &Path, min: usize, errors: impl Fn(&str, &str) -> Vec<String>) {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= min, "only {} fixtures", paths.len());
    let mut failures = Vec::new();
    for path in &paths {
        let name = path.file_name().unwrap().to_str().unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        let expected: Vec<&str> = text
            .lines()
            .filter_map(|line| line.strip_prefix("# expect: "))
            .collect();
        let actual = errors(&text, name);
        if actual != expected || expected.is_empty() {
            failures.push(format!(
                "{name}\n  expected:\n    {}\n  actual:\n# expect: {}",
                expected.join("\n    "),
                actual.join("\n# expect: ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
