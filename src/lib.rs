//! Aftercare: follow patients' recovery after skin-needling treatments.

pub mod api;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod fhir;
pub mod local;
pub mod read_model;
pub mod services;
pub mod startup;
pub mod web;
pub mod workers;

/// The house's shape, kept by a test: few top-level modules, and no file too long to read whole.
#[cfg(test)]
mod house {
    use std::path::Path;

    /// Most top-level modules `src/` may have.
    const MAX_MODULES: usize = 15;
    /// Most lines of a source file under `src/` (vendored code aside).
    const MAX_LINES: usize = 600;

    #[test]
    fn few_top_level_modules() {
        let lib = include_str!("lib.rs");
        let modules = lib.lines().filter(|l| l.starts_with("pub mod ")).count();
        assert!(
            modules <= MAX_MODULES,
            "src/lib.rs has {modules} top-level modules, more than {MAX_MODULES}"
        );
    }

    #[test]
    fn no_source_file_is_too_long() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut long = vec![];
        walk(&src, &mut |path| {
            let code = ["rs", "js", "css", "html"]
                .iter()
                .any(|ext| path.extension().is_some_and(|e| e == *ext));
            if !code || path.starts_with(src.join("web/vendor")) {
                return;
            }
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let lines = text.lines().count();
            if lines > MAX_LINES {
                long.push(format!("{} ({lines} lines)", path.display()));
            }
        });
        assert!(
            long.is_empty(),
            "files over {MAX_LINES} lines: split each along a seam: {}",
            long.join(", ")
        );
    }

    fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, f);
            } else {
                f(&path);
            }
        }
    }
}
