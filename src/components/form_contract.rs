//! Test support: the contract between a feature's server code and its forms. `FormError` shows only
//! the messages a form lists (security review L9), so a message the server raises but the list lacks
//! reaches the buyer as "Something went wrong". These helpers read a feature's source and report
//! every `AppError::Invalid`/`Conflict` message that its list would hide.

use super::form_error_text;
use std::collections::HashMap;
use std::path::Path;

/// What one raise site in the source says.
#[derive(Debug, PartialEq, Eq)]
pub enum Raised {
    /// A message known at compile time (a literal, or a constant resolved to its text).
    Text(String),
    /// A `format!` message, with a sample value in each placeholder.
    Formatted(String),
    /// An expression the scanner cannot resolve (it must be made a constant or a literal).
    Unknown(String),
}

/// The messages raised in every `.rs` file under `dir` (test modules included: a test that builds an
/// error is harmless), with constants resolved from `const_files`.
pub fn raised_in(dir: &Path, const_files: &[&Path]) -> Vec<(String, Raised)> {
    let mut constants = HashMap::new();
    for file in const_files {
        let text = std::fs::read_to_string(file).expect("readable constants file");
        constants.extend(string_constants(&text));
    }
    let mut raised = Vec::new();
    for file in rust_files(dir) {
        let text = std::fs::read_to_string(&file).expect("readable source");
        constants.extend(string_constants(&text));
        for site in raise_sites(&text) {
            raised.push((file.display().to_string(), resolve(&site, &constants)));
        }
    }
    raised
}

/// The raised messages `listed` (plus the common ones and the known shapes) would not show.
pub fn hidden_messages(raised: &[(String, Raised)], listed: &[&str]) -> Vec<String> {
    raised
        .iter()
        .filter_map(|(file, raised)| match raised {
            Raised::Text(text) | Raised::Formatted(text) => {
                (form_error_text(text, listed) != *text).then(|| format!("{file}: {text:?}"))
            }
            Raised::Unknown(expr) => Some(format!("{file}: cannot resolve `{expr}`")),
        })
        .collect()
}

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)
        .expect("readable source dir")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// `pub const NAME: &str = "…";` (also split over lines) → NAME → text.
fn string_constants(text: &str) -> HashMap<String, String> {
    let mut constants = HashMap::new();
    for (at, _) in text.match_indices("const ") {
        let rest = &text[at + "const ".len()..];
        let Some((name, after)) = rest.split_once(':') else {
            continue;
        };
        let after = after.trim_start();
        let Some(value) = after
            .strip_prefix("&str")
            .map(str::trim_start)
            .and_then(|v| v.strip_prefix('='))
        else {
            continue;
        };
        if let Some(literal) = string_literal(value.trim_start()) {
            constants.insert(name.trim().to_owned(), literal);
        }
    }
    constants
}

/// The argument text of every `AppError::Invalid(` / `AppError::Conflict(`.
fn raise_sites(text: &str) -> Vec<String> {
    let mut sites = Vec::new();
    for marker in ["AppError::Invalid(", "AppError::Conflict("] {
        for (at, _) in text.match_indices(marker) {
            sites.push(text[at + marker.len()..].trim_start().to_owned());
        }
    }
    sites
}

fn resolve(site: &str, constants: &HashMap<String, String>) -> Raised {
    if let Some(literal) = string_literal(site) {
        return Raised::Text(literal);
    }
    if let Some(format) = site.strip_prefix("format!(") {
        return match string_literal(format.trim_start()) {
            Some(pattern) => Raised::Formatted(fill_placeholders(&pattern)),
            None => Raised::Unknown(first_line(site)),
        };
    }
    let name: String = site
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    match constants.get(&name) {
        Some(text) => Raised::Text(text.clone()),
        None => Raised::Unknown(first_line(site)),
    }
}

fn first_line(site: &str) -> String {
    site.lines().next().unwrap_or_default().trim().to_owned()
}

/// The text of the string literal `text` starts with (escapes `\"` and `\` line continuations).
fn string_literal(text: &str) -> Option<String> {
    let body = text.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                '\n' => {
                    while chars.peek().is_some_and(|c| c.is_whitespace()) {
                        chars.next();
                    }
                }
                'n' => out.push('\n'),
                other => out.push(other),
            },
            other => out.push(other),
        }
    }
    None
}

/// `"Sorry, only {left} left."` → `"Sorry, only 7 left."`: what a buyer would see.
fn fill_placeholders(pattern: &str) -> String {
    let mut out = String::new();
    let mut in_placeholder = false;
    for c in pattern.chars() {
        match (c, in_placeholder) {
            ('{', false) => in_placeholder = true,
            ('}', true) => {
                in_placeholder = false;
                out.push('7');
            }
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scanner itself: a listed constant, a literal, a known shape and an unknown expression.
    #[test]
    fn the_scanner_finds_what_a_form_would_hide() {
        let source = r#"
            pub const LISTED: &str = "Listed.";
            pub const NOT_LISTED: &str =
                "Not listed.";
            fn f() {
                let _ = AppError::Invalid(LISTED.into());
                let _ = AppError::Conflict(NOT_LISTED.into());
                let _ = AppError::Invalid("A literal.".into());
                let _ = AppError::Conflict(format!("Sorry, only {left} left."));
                let _ = AppError::Invalid(message);
            }
        "#;
        let constants = string_constants(source);
        let raised: Vec<(String, Raised)> = raise_sites(source)
            .iter()
            .map(|site| ("f.rs".to_owned(), resolve(site, &constants)))
            .collect();
        assert_eq!(raised.len(), 5);
        let hidden = hidden_messages(&raised, &["Listed."]);
        assert_eq!(
            hidden,
            vec![
                "f.rs: \"A literal.\"".to_owned(),
                "f.rs: cannot resolve `message);`".to_owned(),
                "f.rs: \"Not listed.\"".to_owned(),
            ]
        );
    }
}
