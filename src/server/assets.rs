//! The browser bundle under `/pkg` (docs/BENCHMARKS.md, issue 20). A release build
//! (`cargo leptos build --release --precompress`, with `hash-files`) names the wasm, JS and CSS by
//! their content's hash and writes `.br` and `.gz` beside each file; `hash.txt` in the site root
//! says which names are current. Such names never change content, so they are served with a year's
//! `immutable` lifetime and the pre-compressed bytes a browser accepts; a build without hashes (a
//! developer's `cargo leptos build`) keeps fixed names, which browsers must revalidate.

use axum::Router;
use axum::http::{HeaderValue, header};
use std::path::PathBuf;
use std::sync::Arc;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// The output name the leptos build gives the bundle (Cargo.toml, `[package.metadata.leptos]`).
const OUTPUT_NAME: &str = "storefront";
/// Where cargo-leptos writes the hashes (Cargo.toml: `hash-file-name`, relative to the server
/// binary's directory, which resolves to the site root for `target/<profile>/storefront`).
const HASH_FILE: &str = "hash.txt";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The bundle's file names for this start, read once from the site root.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The hash file, when the build wrote one (`LeptosOptions::hash_file` wants its path).
    pub hash_file: Option<PathBuf>,
    /// The stylesheet's path as pages link it.
    pub stylesheet: Arc<str>,
    pkg_dir: PathBuf,
}

impl Bundle {
    pub fn of_site(site_root: &str) -> Self {
        // Absolute: leptos joins the hash file's path to the binary's directory.
        let site_root = std::path::absolute(site_root).unwrap_or_else(|_| PathBuf::from(site_root));
        let hash_file = site_root.join(HASH_FILE);
        let css_hash = std::fs::read_to_string(&hash_file)
            .ok()
            .and_then(|hashes| hash_of(&hashes, "css"));
        let stylesheet = match &css_hash {
            Some(hash) => format!("/pkg/{OUTPUT_NAME}.{hash}.css"),
            None => format!("/pkg/{OUTPUT_NAME}.css"),
        };
        Self {
            hash_file: css_hash.is_some().then_some(hash_file),
            stylesheet: stylesheet.into(),
            pkg_dir: site_root.join("pkg"),
        }
    }

    /// `/pkg/*` from disk: a file's `.br` or `.gz` when the browser accepts it and the build wrote
    /// it, with the lifetime its naming allows.
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let lifetime = if self.hash_file.is_some() {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        let files = ServeDir::new(&self.pkg_dir)
            .precompressed_br()
            .precompressed_gzip();
        Router::new()
            .nest_service("/pkg", files)
            .layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static(lifetime),
            ))
            // The answer depends on Accept-Encoding (ServeDir picks the .br or .gz but does not
            // say so), which caches between us and the browser must know.
            .layer(SetResponseHeaderLayer::if_not_present(
                header::VARY,
                HeaderValue::from_static("accept-encoding"),
            ))
    }
}

/// The hash on the line `kind: hash` of cargo-leptos' hash file.
fn hash_of(hashes: &str, kind: &str) -> Option<String> {
    hashes.lines().find_map(|line| {
        let (name, hash) = line.split_once(':')?;
        let hash = hash.trim();
        (name.trim() == kind && !hash.is_empty()).then(|| hash.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_file_names_each_kind() {
        let hashes = "js: Ab-1\nwasm: Cd_2\ncss: Ef3\n";
        assert_eq!(hash_of(hashes, "css").as_deref(), Some("Ef3"));
        assert_eq!(hash_of(hashes, "wasm").as_deref(), Some("Cd_2"));
        assert_eq!(hash_of(hashes, "manifest"), None);
    }

    #[test]
    fn without_a_hash_file_the_fixed_names_are_used() {
        let bundle = Bundle::of_site("nonexistent/site");
        assert_eq!(&*bundle.stylesheet, "/pkg/storefront.css");
        assert!(bundle.hash_file.is_none());
        // leptos reads the hash file relative to the binary's directory unless the path is absolute.
        assert!(bundle.pkg_dir.is_absolute(), "{:?}", bundle.pkg_dir);
    }
}
