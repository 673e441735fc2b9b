//! Helpers for the request being handled, shared by pages and server functions: response status,
//! redirects, and what kind of client is asking. Pages run only on the server in islands mode; in
//! the browser build these are no-ops so the components still compile.

#[cfg(feature = "ssr")]
use leptos::prelude::use_context;

/// True when the client asked for HTML: a browser (a plain form post or a page load), not a script.
pub fn accepts_html() -> bool {
    #[cfg(feature = "ssr")]
    {
        request_parts().is_some_and(|parts| {
            parts
                .headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
        })
    }
    #[cfg(not(feature = "ssr"))]
    {
        false
    }
}

/// Sets the HTTP status of the response being rendered.
pub fn set_status(status: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(response), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::StatusCode::from_u16(status),
    ) {
        response.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
}

/// Redirects with 302 Found (a script calling a server function gets server_fn's redirect header
/// instead). The account forms answer this way. Every redirect of the app goes through here: a
/// target that is not a valid header value (which would make leptos_axum panic) goes to `/` instead.
/// Targets taken from a request are checked before they get here (`LocalPath`, id newtypes).
pub fn redirect(path: &str) {
    #[cfg(feature = "ssr")]
    {
        let path = if axum::http::HeaderValue::from_str(path).is_ok() {
            path
        } else {
            tracing::warn!("redirect target is not a valid header value; sent to / instead");
            "/"
        };
        leptos_axum::redirect(path);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = path;
}

/// Like `redirect`, but a browser's form post gets 303 See Other, which says plainly that the browser
/// follows with a GET: for posts whose result lives elsewhere (Checkout, the portal, sign-in).
pub fn see_other(path: &str) {
    #[cfg(feature = "ssr")]
    {
        redirect(path);
        let is_post = request_parts().is_some_and(|p| p.method == axum::http::Method::POST);
        if is_post && accepts_html() {
            set_status(303);
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = path;
}

/// The sign-in page, coming back to `next` afterwards.
pub fn login_path(next: &str) -> String {
    format!("/login?next={}", urlencode(next))
}

/// Percent-encodes a path for use as a query value (keeps `/` readable).
pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The client's address as the server resolved it: the TCP peer, or behind a trusted proxy the
/// forwarded address (`server::client_ip`). In every request's extensions.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub std::net::IpAddr);

#[cfg(feature = "ssr")]
pub fn client_ip() -> Option<std::net::IpAddr> {
    request_parts()?
        .extensions
        .get::<ClientIp>()
        .map(|client| client.0)
}

/// The cookie that carries a form's non-secret fields back to its page after an error (issue 21:
/// without JavaScript the page is rendered anew, and the e-mail typed would be lost). Short-lived,
/// HttpOnly, and read only by a page that shows an error.
#[cfg(feature = "ssr")]
const KEPT_FIELDS_COOKIE: &str = "storefront_form";
#[cfg(feature = "ssr")]
const KEPT_FIELDS_MAX_BYTES: usize = 1024;

/// Runs a form's server function; when it fails, the named field values go back to the page with
/// the error (`kept_field`). Only for what may be shown again: never a password or a token.
#[cfg(feature = "ssr")]
pub async fn keeping_fields<T, E>(
    fields: &[(&str, &str)],
    body: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let result = body.await;
    if result.is_err()
        && accepts_html()
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        let value: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        if value.len() <= KEPT_FIELDS_MAX_BYTES
            && let Ok(header) = axum::http::HeaderValue::from_str(&format!(
                "{KEPT_FIELDS_COOKIE}={value}; Path=/; Max-Age=120; HttpOnly; SameSite=Strict"
            ))
        {
            response.append_header(axum::http::header::SET_COOKIE, header);
        }
    }
    result
}

/// A field value a form's failed submission kept (`keeping_fields`). The page calls it only while it
/// shows that error, and the cookie is cleared by the response.
pub fn kept_field(name: &str) -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        let parts = request_parts()?;
        let value = parts
            .headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|header| header.to_str().ok())
            .flat_map(|header| header.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(cookie, _)| *cookie == KEPT_FIELDS_COOKIE)
            .map(|(_, value)| value.to_owned())?;
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
            && let Ok(clear) = axum::http::HeaderValue::from_str(&format!(
                "{KEPT_FIELDS_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
            ))
        {
            response.append_header(axum::http::header::SET_COOKIE, clear);
        }
        url::form_urlencoded::parse(value.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = name;
        None
    }
}

/// The value of a query parameter of the page being rendered.
pub fn query_flag(name: &str) -> bool {
    #[cfg(feature = "ssr")]
    {
        request_parts()
            .and_then(|parts| parts.uri.query().map(str::to_owned))
            .is_some_and(|query| {
                url::form_urlencoded::parse(query.as_bytes()).any(|(key, _)| key == name)
            })
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = name;
        false
    }
}

#[cfg(feature = "ssr")]
fn request_parts() -> Option<axum::http::request::Parts> {
    use_context::<axum::http::request::Parts>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_paths_are_encoded_as_one_query_value() {
        assert_eq!(
            login_path("/billing/success?session_id=cs_1&x=y"),
            "/login?next=/billing/success%3Fsession_id%3Dcs_1%26x%3Dy"
        );
        assert_eq!(login_path("/dashboard"), "/login?next=/dashboard");
    }
}
