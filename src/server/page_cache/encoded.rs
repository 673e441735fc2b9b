//! A kept page in every encoding it is sent in: compressed once when it is kept, then served as
//! bytes (issue 20: compressing each response was 20–40 times the cost of the page itself). A page's
//! bytes are the same for every response (no per-response nonce: csp.rs), which is what makes this
//! possible.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use std::io::Write;

/// brotli's quality for kept pages. Each version is compressed once, but versions are many: a
/// signed-in user's pages are new whenever any user's rows change, the shop's whenever stock moves.
/// On our 6–7 KB pages quality 5 takes about 0.3 ms; 9 is no smaller and takes 4–6 ms; 11 is 11%
/// (about 200 B) smaller and takes 10–17 ms (measured on the shop and pricing pages, issue 20).
const BROTLI_QUALITY: u32 = 5;
const BROTLI_WINDOW: u32 = 22;

/// What a response is encoded with, by the client's `Accept-Encoding` and our preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    /// brotli if accepted, else gzip, else none; an encoding with `q=0` is refused, and `*` stands
    /// for every encoding not named.
    pub fn preferred(headers: &HeaderMap) -> Self {
        let (mut brotli, mut gzip, mut any) = (None, None, None);
        for value in headers.get_all(header::ACCEPT_ENCODING) {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split(',') {
                let mut parts = item.split(';');
                let name = parts.next().unwrap_or_default().trim();
                let accepted = !parts.any(|param| is_zero_quality(param.trim()));
                match name.to_ascii_lowercase().as_str() {
                    "br" => brotli = Some(accepted),
                    "gzip" | "x-gzip" => gzip = Some(accepted),
                    "*" => any = Some(accepted),
                    _ => {}
                }
            }
        }
        let any = any.unwrap_or(false);
        if brotli.unwrap_or(any) {
            Self::Brotli
        } else if gzip.unwrap_or(any) {
            Self::Gzip
        } else {
            Self::Identity
        }
    }

    fn header_value(self) -> Option<HeaderValue> {
        match self {
            Self::Brotli => Some(HeaderValue::from_static("br")),
            Self::Gzip => Some(HeaderValue::from_static("gzip")),
            Self::Identity => None,
        }
    }
}

/// `q=0`, `q=0.0`, … (a quality of zero means "not acceptable").
fn is_zero_quality(param: &str) -> bool {
    let Some(quality) = param.strip_prefix("q=") else {
        return false;
    };
    match quality.trim().split_once('.') {
        None => quality.trim() == "0",
        Some((whole, fraction)) => whole == "0" && fraction.chars().all(|c| c == '0'),
    }
}

/// A page's body in each encoding, each with the complete headers of its responses (built once:
/// a response is then two clones).
pub struct EncodedPage {
    identity: EncodedBody,
    brotli: EncodedBody,
    gzip: EncodedBody,
}

struct EncodedBody {
    bytes: Bytes,
    headers: HeaderMap,
}

impl EncodedBody {
    fn new(bytes: Bytes, page_headers: &HeaderMap, encoding: Encoding) -> Self {
        let mut headers = page_headers.clone();
        if let Some(value) = encoding.header_value() {
            headers.insert(header::CONTENT_ENCODING, value);
        }
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        Self { bytes, headers }
    }
}

impl EncodedPage {
    /// Compresses `body` both ways. CPU-bound for a few milliseconds at most: callers run it off the
    /// async workers (`tokio::task::spawn_blocking`).
    pub fn compress(mut headers: HeaderMap, identity: Bytes) -> std::io::Result<Self> {
        headers.remove(header::CONTENT_LENGTH);
        headers.remove(header::CONTENT_ENCODING);
        let mut brotli = Vec::with_capacity(identity.len() / 3);
        {
            let mut writer =
                brotli::CompressorWriter::new(&mut brotli, 4096, BROTLI_QUALITY, BROTLI_WINDOW);
            writer.write_all(&identity)?;
            writer.flush()?;
        }
        let mut gzip = flate2::write::GzEncoder::new(
            Vec::with_capacity(identity.len() / 3),
            flate2::Compression::best(),
        );
        gzip.write_all(&identity)?;
        let gzip = gzip.finish()?;
        Ok(Self {
            identity: EncodedBody::new(identity, &headers, Encoding::Identity),
            brotli: EncodedBody::new(brotli.into(), &headers, Encoding::Brotli),
            gzip: EncodedBody::new(gzip.into(), &headers, Encoding::Gzip),
        })
    }

    pub fn respond(&self, encoding: Encoding) -> Response {
        let body = match encoding {
            Encoding::Brotli => &self.brotli,
            Encoding::Gzip => &self.gzip,
            Encoding::Identity => &self.identity,
        };
        let mut response = Response::new(Body::from(body.bytes.clone()));
        *response.headers_mut() = body.headers.clone();
        response
    }

    /// Bytes held in memory (the three bodies).
    #[cfg(test)]
    fn sizes(&self) -> (usize, usize, usize) {
        (
            self.identity.bytes.len(),
            self.brotli.bytes.len(),
            self.gzip.bytes.len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn accept(value: &str) -> Encoding {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).expect("a header"),
        );
        Encoding::preferred(&headers)
    }

    #[test]
    fn browsers_get_brotli_older_clients_gzip_and_refusals_are_honoured() {
        assert_eq!(accept("gzip, deflate, br, zstd"), Encoding::Brotli);
        assert_eq!(accept("gzip"), Encoding::Gzip);
        assert_eq!(accept("br;q=0, gzip;q=0.5"), Encoding::Gzip);
        assert_eq!(accept("br;q=0.0, gzip;q=0"), Encoding::Identity);
        assert_eq!(accept("identity"), Encoding::Identity);
        assert_eq!(accept("*"), Encoding::Brotli);
        assert_eq!(accept("*;q=0, gzip"), Encoding::Gzip);
        assert_eq!(accept("BR;q=0.8"), Encoding::Brotli);
        assert_eq!(Encoding::preferred(&HeaderMap::new()), Encoding::Identity);
    }

    #[test]
    fn each_encoding_decodes_to_the_page_and_says_what_it_is() {
        let page = Bytes::from("<p>a page</p>".repeat(200));
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        let encoded = EncodedPage::compress(headers, page.clone()).expect("compressed");
        let (identity, brotli, gzip) = encoded.sizes();
        assert!(
            brotli < identity / 10 && gzip < identity / 10,
            "{brotli} {gzip}"
        );

        let response = encoded.respond(Encoding::Brotli);
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(response.headers()[header::VARY], "accept-encoding");
        assert_eq!(
            response.headers()[header::CONTENT_LENGTH],
            brotli.to_string()
        );
        let mut decoded = Vec::new();
        brotli::Decompressor::new(&encoded.brotli.bytes[..], 4096)
            .read_to_end(&mut decoded)
            .expect("brotli");
        assert_eq!(decoded, page);

        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&encoded.gzip.bytes[..])
            .read_to_end(&mut decoded)
            .expect("gzip");
        assert_eq!(decoded, page);

        let response = encoded.respond(Encoding::Identity);
        assert!(!response.headers().contains_key(header::CONTENT_ENCODING));
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/html");
    }
}
