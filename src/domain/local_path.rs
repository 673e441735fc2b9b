//! A path on this site: what a `next=` parameter may name, and safe to put into a `Location` header.

/// Longest `next` path accepted; our own paths are far shorter.
const MAX_LOCAL_PATH: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPath(String);

impl LocalPath {
    /// Accepts only visible ASCII starting with exactly one `/`. Browsers drop TAB/CR/LF from a URL
    /// before parsing it and read `\` as `/`, so `/\t/evil.example` or `/\evil.example` would lead
    /// off-site; a scheme cannot appear before the leading `/`; control bytes would not be a valid
    /// header value. Percent-encoded bytes stay encoded in a `Location`, so they cannot change the host.
    pub fn parse(raw: &str) -> Option<Self> {
        let on_site = raw.starts_with('/') && !raw.starts_with("//");
        let clean =
            raw.len() <= MAX_LOCAL_PATH && raw.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
        (on_site && clean).then(|| Self(raw.to_owned()))
    }

    /// `raw` when it is a path on this site, `default` otherwise.
    pub fn or(raw: Option<&str>, default: &str) -> Self {
        raw.and_then(Self::parse)
            .unwrap_or_else(|| Self(default.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::LocalPath;

    #[test]
    fn only_paths_on_this_site_are_accepted() {
        for ok in [
            "/dashboard",
            "/pricing?interval=year",
            "/%2F%2Fevil.example",
            "/a/.//b",
        ] {
            assert_eq!(
                LocalPath::parse(ok).map(|p| p.as_str().to_owned()),
                Some(ok.to_owned())
            );
        }
        for bad in [
            "",
            "dashboard",
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "/ /evil.example",
            "/\u{7f}",
            "/\u{0}",
            "/é",
        ] {
            assert!(LocalPath::parse(bad).is_none(), "{bad:?}");
        }
        assert_eq!(
            LocalPath::or(Some("//x"), "/dashboard").as_str(),
            "/dashboard"
        );
        assert_eq!(LocalPath::or(None, "/dashboard").as_str(), "/dashboard");
    }
}
