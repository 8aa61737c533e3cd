//! The HTTP and WebSocket endpoints, and what they share: the authenticated caller, request
//! bodies read under the size limit, and the two encodings of protocol messages.
//!
//! - [`ops`]: `/healthz`, `/readyz`, `/metrics`, `/.well-known/jwks.json`.
//! - [`pages`]: `/admin`, the admin web's pages embedded in the binary.
//! - [`v1`]: the versioned API: auth, sync (push, pull, bootstrap, live), admin, browser sessions.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lapak_core::protocol::Message;
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::auth::{Claims, Principal};
use crate::error::ApiError;

pub mod ops;
pub mod pages;
pub mod v1;

/// Every route.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(ops::router())
        .merge(pages::router().layer(compression()))
        .nest("/v1", v1::router())
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such endpoint: the API lives under /v1 (see docs/protocol.md)",
            )
        })
        .with_state(state)
}

/// Compresses answers (gzip) for clients that ask: the admin web's pages and its JSON. Not
/// the binary sync format (already compact, and devices do not ask) nor images.
#[must_use]
pub fn compression() -> tower_http::compression::CompressionLayer<
    tower_http::compression::predicate::And<
        tower_http::compression::DefaultPredicate,
        tower_http::compression::predicate::NotForContentType,
    >,
> {
    use tower_http::compression::predicate::{NotForContentType, Predicate};
    tower_http::compression::CompressionLayer::new().compress_when(
        tower_http::compression::DefaultPredicate::new().and(NotForContentType::const_new(BINARY)),
    )
}

/// The request's trace id: the trace of a W3C `traceparent` header, else a new one.
#[must_use]
pub fn trace_id(headers: &HeaderMap) -> String {
    headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split('-').nth(1))
        .filter(|t| t.len() == 32 && t.chars().all(|c| c.is_ascii_hexdigit()))
        .map_or_else(|| uuid::Uuid::now_v7().simple().to_string(), str::to_owned)
}

/// The media type of the binary wire format.
pub const BINARY: &str = "application/x-lapak";

/// How a protocol message is encoded in a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-lapak`: `LPK` + version + postcard.
    Binary,
    /// `application/json`: `{"v":1,"msg":{...}}`.
    Json,
}

fn media(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
}

/// The encoding of a request body, from its `Content-Type`.
///
/// # Errors
/// 415 for any other type.
pub fn request_encoding(headers: &HeaderMap) -> Result<Encoding, ApiError> {
    match media(headers, header::CONTENT_TYPE).as_deref() {
        Some(t) if t.starts_with(BINARY) || t.starts_with("application/octet-stream") => {
            Ok(Encoding::Binary)
        }
        Some(t) if t.starts_with("application/json") => Ok(Encoding::Json),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "Content-Type {} is not accepted: send {BINARY} (binary) or application/json",
                other.unwrap_or("(none)")
            ),
        )),
    }
}

/// The encoding of the answer: what `Accept` asks for, else the request's.
#[must_use]
pub fn response_encoding(headers: &HeaderMap, request: Encoding) -> Encoding {
    match media(headers, header::ACCEPT).as_deref() {
        Some(a) if a.contains(BINARY) => Encoding::Binary,
        Some(a) if a.contains("application/json") => Encoding::Json,
        _ => request,
    }
}

/// Encodes a protocol message as a response.
#[must_use]
pub fn message_response(msg: &Message, encoding: Encoding) -> Response {
    match encoding {
        Encoding::Binary => (
            [(header::CONTENT_TYPE, HeaderValue::from_static(BINARY))],
            msg.encode(),
        )
            .into_response(),
        Encoding::Json => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            msg.to_json(),
        )
            .into_response(),
    }
}

/// Reads a whole body, refusing more than `limit` bytes with a 413 that says so.
///
/// # Errors
/// 413 past the limit, 400 when the body cannot be read.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "the request body is larger than this server's limit of {limit} bytes: send smaller batches"
            ),
        )
    };
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && len > limit
    {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        if e.to_string().contains("length limit") {
            too_large()
        } else {
            ApiError::bad_request(
                "unreadable_body",
                format!("the request body could not be read: {e}"),
            )
        }
    })
}

/// A protocol message from a request body, in either encoding, with the encoding to answer in.
#[derive(Debug)]
pub struct ProtocolBody {
    /// The message.
    pub message: Message,
    /// How to encode the answer.
    pub answer: Encoding,
}

impl FromRequest<AppState> for ProtocolBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let encoding = request_encoding(&parts.headers)?;
        let bytes = read_body(&parts.headers, body, state.config.max_body_bytes).await?;
        let message = match encoding {
            Encoding::Binary => Message::decode(&bytes)?,
            Encoding::Json => {
                let text = std::str::from_utf8(&bytes).map_err(|_| {
                    ApiError::bad_request("malformed", "the JSON body is not valid UTF-8")
                })?;
                Message::from_json(text)?
            }
        };
        Ok(ProtocolBody {
            message,
            answer: response_encoding(&parts.headers, encoding),
        })
    }
}

/// A JSON body whose problems are answered in the API's error format, at most `LIMIT` bytes
/// (0: the server's body limit).
#[derive(Debug)]
pub struct JsonBody<T, const LIMIT: usize = 0>(pub T);

/// The body limit of unauthenticated endpoints (login, refresh).
pub const SMALL_BODY: usize = 64 * 1024;

impl<T: DeserializeOwned, const LIMIT: usize> FromRequest<AppState> for JsonBody<T, LIMIT> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        if !media(&parts.headers, header::CONTENT_TYPE)
            .is_some_and(|t| t.starts_with("application/json"))
        {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send a JSON body with Content-Type: application/json",
            ));
        }
        let limit = if LIMIT == 0 {
            state.config.max_body_bytes
        } else {
            LIMIT
        };
        let bytes = read_body(&parts.headers, body, limit).await?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            ApiError::bad_request("malformed", format!("the JSON body is not valid: {e}"))
        })
    }
}

/// The authenticated caller: a valid access token of a live session, within its rate limit.
#[derive(Debug, Clone)]
pub struct Authed {
    /// Who.
    pub principal: Principal,
    /// The token's claims.
    pub claims: Claims,
}

/// The cookie a browser session's access token travels in (`HttpOnly`: page scripts never
/// see it). Only [`WebAuthed`] routes read it.
pub const ACCESS_COOKIE: &str = "lapak_access";
/// The header a browser session sends its anti-forgery token in ([`Keys::csrf_token`]).
///
/// [`Keys::csrf_token`]: crate::auth::Keys::csrf_token
pub const CSRF_HEADER: &str = "x-lapak-csrf";

/// Where an access token came from.
enum Presented {
    /// `Authorization: Bearer <token>`.
    Header(String),
    /// `?access_token=<token>`, which only the live socket accepts.
    Query(String),
    /// The browser session's cookie, which only [`WebAuthed`] routes accept.
    Cookie(String),
    /// None of them.
    Missing,
}

/// Where a route takes an access token from, besides the `Authorization` header.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Accepts {
    /// The header only: device endpoints.
    Header,
    /// The header or `?access_token=`: the live socket.
    HeaderOrQuery,
    /// The header or the browser session's cookie: the back office.
    HeaderOrCookie,
}

/// The value of cookie `name` in the request's `Cookie` headers.
#[must_use]
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(k, v)| (k == name && !v.is_empty()).then_some(v))
}

fn presented(parts: &Parts) -> Presented {
    if let Some(v) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .map_or(Presented::Missing, |t| {
                Presented::Header(t.trim().to_owned())
            });
    }
    if let Some(t) = parts
        .uri
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("access_token=")))
    {
        return Presented::Query(t.to_owned());
    }
    cookie(&parts.headers, ACCESS_COOKIE)
        .map_or(Presented::Missing, |t| Presented::Cookie(t.to_owned()))
}

/// The caller's token, and whether it came from the browser's cookie. A token in the query
/// of any endpoint but the live socket is refused, since URLs end up in logs and histories.
fn bearer(parts: &Parts, accepts: Accepts) -> Result<(String, bool), ApiError> {
    match presented(parts) {
        Presented::Header(t) => Ok((t, false)),
        Presented::Query(t) if accepts == Accepts::HeaderOrQuery => Ok((t, false)),
        Presented::Query(_) => Err(ApiError::unauthorized(
            "token_in_query",
            "only /v1/sync/live takes the access token in the query: send it as `Authorization: Bearer <token>`",
        )),
        Presented::Cookie(t) if accepts == Accepts::HeaderOrCookie => Ok((t, true)),
        Presented::Cookie(_) | Presented::Missing => Err(ApiError::unauthorized(
            "unauthenticated",
            "no access token: log in with POST /v1/auth/login and send `Authorization: Bearer <token>`",
        )),
    }
}

/// Refuses a request a browser sent on another site's behalf: when it says where it comes
/// from (`Origin`, which browsers send with every request that changes state, or
/// `Sec-Fetch-Site`), that must be this server itself.
///
/// # Errors
/// 403 `cross_site` otherwise.
pub fn same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let refused = || {
        ApiError::forbidden(
            "cross_site",
            "this request came from another site: the admin web only accepts requests from its own pages",
        )
    };
    if text(header::HeaderName::from_static("sec-fetch-site")) == Some("cross-site") {
        return Err(refused());
    }
    let hosts = [
        text(header::HeaderName::from_static("x-forwarded-host")),
        text(header::HOST),
    ];
    // Every `Origin` must name this server (a browser sends one; more is not a browser).
    for origin in headers.get_all(header::ORIGIN) {
        let origin = origin.to_str().map_err(|_| refused())?;
        let origin_host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .ok_or_else(refused)?;
        if !hosts
            .iter()
            .flatten()
            .any(|h| h.eq_ignore_ascii_case(origin_host))
        {
            return Err(refused());
        }
    }
    Ok(())
}

/// Whether two strings are equal, in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A request authenticated by the browser's cookie that changes state must come from this
/// server's own pages: same origin, and with the session's anti-forgery token in
/// [`CSRF_HEADER`] (no other site can read it, nor send a custom header without asking).
fn check_forgery(parts: &Parts, state: &AppState, claims: &Claims) -> Result<(), ApiError> {
    use axum::http::Method;
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    same_origin(&parts.headers)?;
    let expected = state.keys.csrf_token(claims.dev, claims.session);
    let mut sent = parts.headers.get_all(CSRF_HEADER).iter();
    let only = match (sent.next(), sent.next()) {
        (Some(v), None) => v.to_str().unwrap_or(""),
        _ => "",
    };
    if same_secret(only, &expected) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "csrf",
            "this request lacks the session's anti-forgery token (X-Lapak-CSRF): reload the admin web and try again",
        ))
    }
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(parts, state, Accepts::Header).await
    }
}

/// The authenticated caller of the live socket, whose token may also come as
/// `?access_token=`.
#[derive(Debug, Clone)]
pub struct LiveAuthed(pub Authed);

impl FromRequestParts<AppState> for LiveAuthed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(parts, state, Accepts::HeaderOrQuery)
            .await
            .map(LiveAuthed)
    }
}

/// A back-office caller: a bearer token (scripts, `curl`) or the admin web's session cookie,
/// checked against cross-site forgery when the request changes state.
#[derive(Debug, Clone)]
pub struct WebAuthed(pub Authed);

impl FromRequestParts<AppState> for WebAuthed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(parts, state, Accepts::HeaderOrCookie)
            .await
            .map(WebAuthed)
    }
}

async fn authenticate(
    parts: &Parts,
    state: &AppState,
    accepts: Accepts,
) -> Result<Authed, ApiError> {
    let (token, from_cookie) = bearer(parts, accepts)?;
    let claims = state
        .keys
        .verify(&token)
        .map_err(|m| ApiError::unauthorized("invalid_token", m))?;
    let session = state
        .storage
        .session(&claims.sub, claims.dev)
        .await?
        .ok_or_else(|| {
            ApiError::unauthorized(
                "invalid_token",
                "the token's user or device no longer exists: log in again",
            )
        })?;
    if session.blocked {
        return Err(ApiError::forbidden(
            "revoked",
            "this device or user was revoked or disabled by an administrator",
        ));
    }
    if session.generation != claims.session {
        return Err(ApiError::unauthorized(
            "session_revoked",
            "this session was revoked (logged out, or a refresh token was used twice): log in again",
        ));
    }
    if from_cookie {
        check_forgery(parts, state, &claims)?;
    }
    if let Err(wait) = state.limiter.check(claims.dev) {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "this device sends too many requests: wait {wait} s and batch changes into fewer pushes"
            ),
        );
        e.retry_after = Some(wait);
        return Err(e);
    }
    Ok(Authed {
        principal: session.principal,
        claims,
    })
}
