//! Error responses: whatever fails (a layer, a limit, a panic), the client gets a
//! GraphQL-shaped JSON body with a stable `extensions.code` and the request id. An
//! application error answers through `AppError`'s own `IntoResponse` (its status and
//! body are `error::AppError`'s, the one mapping); what is here is for refusals of the
//! transport itself (a wrong media type or method, a layer's limit, a panic).

use std::any::Any;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use serde_json::json;
use tower_governor::GovernorError;

use super::REQUEST_ID;

/// The span every request runs in; the GraphQL handler records the operation name and
/// the caller's token id (never the secret).
pub fn request_span(request: &Request<Body>) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        http.method = %request.method(),
        http.path = request.uri().path(),
        request.id = request_id,
        graphql.operation = tracing::field::Empty,
        actor = tracing::field::Empty,
    )
}

/// A JSON error response: `{"errors": [{"message", "extensions": {"code", ...}}]}`.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let body = json!({"errors": [{"message": message, "extensions": {"code": code}}]});
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn code_for(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::NOT_FOUND => ("NOT_FOUND", "no such endpoint: the API is POST /graphql"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "INVALID_INPUT",
            "method not allowed: send GraphQL as POST /graphql",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("INVALID_INPUT", "the request body is too large"),
        StatusCode::REQUEST_TIMEOUT => ("TIMEOUT", "the request took too long"),
        StatusCode::TOO_MANY_REQUESTS => ("RATE_LIMITED", "too many requests; retry later"),
        s if s.is_client_error() => ("INVALID_INPUT", "bad request"),
        _ => ("INTERNAL", "internal error"),
    }
}

/// Replaces the plain-text bodies of error responses made by layers (body limit, timeout,
/// unknown route, wrong method) with the JSON error shape, keeping status and headers.
pub async fn json_error_bodies(request: Request, next: Next) -> Response<Body> {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("application/json") || v.ends_with("+json")
        });
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (code, message) = code_for(status);
    let (mut parts, _) = response.into_parts();
    let fresh = error_response(status, code, message);
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in fresh.headers() {
        parts.headers.insert(name, value.clone());
    }
    let (_, body) = fresh.into_parts();
    Response::from_parts(parts, body)
}

/// A panic while handling a request: logged, answered as `INTERNAL`, the server goes on.
#[expect(
    clippy::needless_pass_by_value,
    reason = "tower-http's CatchPanicLayer hands the panic over by value"
)]
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    tracing::error!(panic = %detail, "a request panicked");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        "internal error",
    )
}

/// The rate limiter's refusal, with `Retry-After` in seconds.
#[expect(
    clippy::needless_pass_by_value,
    reason = "tower_governor's error handler hands the error over by value"
)]
pub fn rate_limited(error: GovernorError) -> Response<Body> {
    match error {
        GovernorError::TooManyRequests { wait_time, .. } => {
            let mut response = error_response(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                "too many requests; retry after the number of seconds in Retry-After",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait_time.max(1)));
            response
        }
        GovernorError::UnableToExtractKey | GovernorError::Other { .. } => {
            tracing::error!(?error, "rate limiter failed");
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error",
            )
        }
    }
}
