//! The layers of `src/`, held by a test: every `crate::` path of a
//! top-level module (outside its unit tests) names a module of a lower
//! layer, so imports run one way — vocabulary at the bottom, then profile,
//! records, report, renderers, output, the invoice path, runs on top — and
//! no cycle can form. The binary (`main.rs`, `cli/`) uses the library by
//! its name, never `crate::`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::root;

/// Layers from the bottom up; a module may import only lower layers.
const LAYERS: &[&[&str]] = &[
    &["error", "money", "column", "hash", "fault", "csv_field"],
    &["level"],
    &["locale"],
    &["profile"],
    &["records"],
    &["invoice", "gen", "output"],
    &["report", "sample"],
    &["render"],
    &["manifest"],
    &["pipeline"],
    &["run", "rerender", "compare"],
    &["serve"],
];

/// Imports a lower layer may not make either: renderers walk the resolved
/// document (`report`) and never see the profile or the records.
const FORBIDDEN: &[(&str, &[&str])] = &[("render", &["profile", "records", "invoice"])];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The top-level module a file of `src/` belongs to.
fn module_of(relative: &Path) -> String {
    let first = relative.components().next().unwrap().as_os_str();
    first.to_string_lossy().trim_end_matches(".rs").to_string()
}

/// The modules named as `crate::NAME` in a file, before its unit tests.
fn imports(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap();
    let mut found = Vec::new();
    let name = |text: &str| -> String {
        text.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + 7..];
        // `use crate::{a::X, b}` names several modules at once.
        let names: Vec<String> = match rest.strip_prefix('{') {
            Some(group) => group[..group.find('}').unwrap_or(group.len())]
                .split(',')
                .map(name)
                .collect(),
            None => vec![name(rest)],
        };
        for n in names {
            if !n.is_empty() && !found.contains(&n) {
                found.push(n);
            }
        }
    }
    found
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn imports_run_one_way_down_the_layers() {
    let src = root().join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut modules = BTreeMap::new();
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let module = module_of(relative);
        if module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        if module == "main" || module == "cli" {
            if text.contains("crate::") {
                wrong.push(format!("{}: the binary names crate::", relative.display()));
            }
            continue;
        }
        let Some(layer) = layer_of(&module) else {
            wrong.push(format!(
                "{}: module {module} has no layer in tests/integration/architecture.rs",
                relative.display()
            ));
            continue;
        };
        modules.insert(module.clone(), layer);
        for import in imports(&text) {
            if import == module {
                continue;
            }
            let forbidden = FORBIDDEN
                .iter()
                .any(|(m, banned)| *m == module && banned.contains(&import.as_str()));
            match layer_of(&import) {
                Some(l) if l < layer && !forbidden => {}
                _ => wrong.push(format!(
                    "{}: {module} imports crate::{import}, which is not below it",
                    relative.display()
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point up or sideways:\n{}",
        wrong.join("\n")
    );
    // Every layered module exists (a renamed module updates this test).
    for name in LAYERS.iter().flat_map(|l| l.iter()) {
        assert!(modules.contains_key(*name), "no module {name} in src/");
    }
}

#[test]
fn the_rule_reader_finds_imports() {
    let text = "use crate::report::Level;\nfn f() { crate::output::sync_dir(p); }\nuse crate::{money::Decimal, level};\n#[cfg(test)]\nmod tests { use crate::run; }";
    assert_eq!(imports(text), ["report", "output", "money", "level"]);
}
