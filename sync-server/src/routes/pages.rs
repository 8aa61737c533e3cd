//! `/admin`: the admin web's pages (`ui/admin`, built by Vite into `ui/admin/dist`), embedded in
//! the binary so a shop's single `lapak-server` serves them. Debug builds read them from disk
//! as they are now; release builds carry them inside. Built without them, the server answers a
//! page that says how to build them.
//!
//! Every answer carries a strict Content-Security-Policy (scripts, styles and connections from
//! this server only; no framing), `nosniff` and no referrer. Hashed assets (`/admin/assets/*`)
//! are cached for a year; the page itself is revalidated every time (by its ETag), so a new
//! server's pages take effect at once. Routes the page handles itself (`/admin/reports`) answer
//! the page.

use std::borrow::Cow;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::app::AppState;

/// The built pages.
#[derive(rust_embed::Embed)]
#[folder = "../ui/admin/dist/"]
#[allow_missing = true]
struct Built;

/// The Content-Security-Policy of every page answer.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; \
     manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `/admin`, `/admin/` and everything under it.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::permanent("/admin/") }))
        .route(
            "/admin/",
            get(|headers: HeaderMap| async move { page("", &headers) }),
        )
        .route(
            "/admin/{*path}",
            get(
                |Path(path): Path<String>, headers: HeaderMap| async move { page(&path, &headers) },
            ),
        )
}

/// One file of the pages: its bytes and a strong validator.
pub struct File {
    /// Contents.
    pub bytes: Cow<'static, [u8]>,
    /// SHA-256 of the contents.
    pub sha256: [u8; 32],
}

/// A file of the built pages, if they were built and hold it.
fn built(path: &str) -> Option<File> {
    Built::get(path).map(|f| File {
        sha256: f.metadata.sha256_hash(),
        bytes: f.data,
    })
}

fn page(path: &str, headers: &HeaderMap) -> Response {
    answer(path, headers, built)
}

/// The answer to `GET /admin/<path>`, from the files `lookup` finds.
pub fn answer(path: &str, headers: &HeaderMap, lookup: impl Fn(&str) -> Option<File>) -> Response {
    let asset = !path.is_empty() && lookup(path).is_some();
    let last_segment = path.rsplit('/').next().unwrap_or("");
    let (name, file) = if asset {
        (path, lookup(path))
    } else if last_segment.contains('.') {
        // A file the pages do not have (an old asset, a typo): not the page in its place.
        return secured(
            (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("the admin web has no file `{path}`: reload the page"),
            )
                .into_response(),
        );
    } else {
        ("index.html", lookup("index.html"))
    };
    let Some(file) = file else {
        return secured(not_built());
    };
    let etag = format!(
        "\"{}\"",
        file.sha256[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let cache = if name.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, content_type(name))],
            file.bytes.into_owned(),
        )
            .into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    secured(response)
}

/// The headers every page answer carries.
fn secured(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// The media type of a file of the pages, by its extension.
fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The page of a server built without the admin web.
const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Lapak admin: not built</title></head><body>\
<h1>The admin web was not built into this server</h1>\
<p>This <code>lapak-server</code> was compiled before the admin web's pages were built. \
Build them, then the server again:</p>\
<pre>cd ui &amp;&amp; npm ci &amp;&amp; npm run build\ncargo build --release -p lapak-server</pre>\
<p>or run <code>./scripts/run.sh</code>, which does both. The API under <code>/v1</code> works \
without them (see docs/admin-api.md).</p></body></html>";

fn not_built() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        NOT_BUILT,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(path: &str) -> Option<File> {
        let bytes: &'static [u8] = match path {
            "index.html" => b"<!doctype html><div id=root></div>",
            "assets/index-abc123.js" => b"console.log(1)",
            _ => return None,
        };
        Some(File {
            bytes: Cow::Borrowed(bytes),
            sha256: [7; 32],
        })
    }

    fn header(r: &Response, name: header::HeaderName) -> &str {
        r.headers().get(name).unwrap().to_str().unwrap()
    }

    #[test]
    fn hashed_assets_are_immutable_and_the_page_is_revalidated() {
        let r = answer("assets/index-abc123.js", &HeaderMap::new(), files);
        assert_eq!(r.status(), StatusCode::OK);
        assert!(header(&r, header::CACHE_CONTROL).contains("immutable"));
        assert!(header(&r, header::CONTENT_TYPE).starts_with("text/javascript"));
        let r = answer("reports", &HeaderMap::new(), files);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, header::CACHE_CONTROL), "no-cache");
        assert!(header(&r, header::CONTENT_TYPE).starts_with("text/html"));
        assert!(header(&r, header::CONTENT_SECURITY_POLICY).contains("script-src 'self'"));
    }

    #[test]
    fn a_known_etag_answers_not_modified() {
        let etag = header(&answer("", &HeaderMap::new(), files), header::ETAG).to_owned();
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&etag).unwrap());
        assert_eq!(answer("", &h, files).status(), StatusCode::NOT_MODIFIED);
    }

    #[test]
    fn a_missing_file_is_404_not_the_page() {
        let r = answer("assets/index-old.js", &HeaderMap::new(), files);
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn without_built_pages_the_answer_says_how_to_build_them() {
        let r = answer("", &HeaderMap::new(), |_| None);
        assert_eq!(r.status(), StatusCode::OK);
        assert!(header(&r, header::CONTENT_SECURITY_POLICY).contains("default-src 'none'"));
        assert!(NOT_BUILT.contains("npm run build") && NOT_BUILT.contains("scripts/run.sh"));
    }
}
