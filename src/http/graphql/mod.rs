//! `POST /graphql`: checks the request's shape before async-graphql sees it, runs it,
//! and gives every error a code.

use async_graphql::ErrorExtensionValues;
use async_graphql::parser::types::ExecutableDocument;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Response, StatusCode, header};
use axum::response::IntoResponse;

use super::errors::error_response;
use super::{HttpState, REQUEST_ID};
use crate::auth::Principal;
use crate::error::AppError;

pub(super) mod media;
mod shape;

use media::Media;

use shape::MAX_NESTING;

/// A request error found before async-graphql reads the document (a limit), answered
/// as a validation error is: coded, without `data`, with the status of the media type.
fn request_error(media: Media, message: &str, request_id: &str) -> Response<Body> {
    let mut error = async_graphql::ServerError::new(message, None);
    error.extensions = None;
    let mut response = async_graphql::Response::from_errors(vec![error]);
    code_errors(&mut response.errors, request_id);
    let body =
        serde_json::to_vec(&serde_json::json!({ "errors": response.errors })).unwrap_or_default();
    media.respond(body, true)
}

/// The request a body holds: JSON with one operation, nothing else; or the status and
/// message to refuse it with.
fn parse_body(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<async_graphql::Request, (StatusCode, &'static str)> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send GraphQL as a JSON body with Content-Type: application/json",
        ));
    }
    let bad = |message| Err((StatusCode::BAD_REQUEST, message));
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Array(_)) => {
            bad("batched requests are not supported: send one operation per request")
        }
        Ok(value) if !value.get("query").is_some_and(serde_json::Value::is_string) => {
            bad("the body must be a JSON object with a \"query\" string")
        }
        Ok(value) => serde_json::from_value(value).or_else(|_| {
            bad("the body must be a JSON object with \"query\" and optional \"variables\" and \"operationName\"")
        }),
        Err(_) => bad("the body is not valid JSON (or is nested too deeply)"),
    }
}

/// Parsed queries by their text. Clients send the same few queries over and over, and
/// parsing one costs more than the search it asks for; a query is cached only once it
/// has parsed and passed the limits. Bounded by the text's length.
pub struct Documents(quick_cache::sync::Cache<String, ExecutableDocument, QueryLength>);

#[derive(Clone)]
pub struct QueryLength;

impl quick_cache::Weighter<String, ExecutableDocument> for QueryLength {
    fn weight(&self, query: &String, _: &ExecutableDocument) -> u64 {
        crate::convert::to_u64(query.len()).max(1)
    }
}

impl Default for Documents {
    /// Up to 1 024 queries or 2 MiB of query text.
    fn default() -> Self {
        Self(quick_cache::sync::Cache::with_weighter(
            1_024,
            2 << 20,
            QueryLength,
        ))
    }
}

impl Documents {
    fn get(&self, query: &str) -> Option<ExecutableDocument> {
        self.0.get(query)
    }

    fn insert(&self, query: String, document: &ExecutableDocument) {
        self.0.insert(query, document.clone());
    }
}

/// Refuses a query too deep or too large before it runs, and names the operation on
/// the request's span. A syntax error is left for async-graphql to report, with its
/// position.
pub fn check_query(request: &mut async_graphql::Request) -> Result<(), String> {
    if shape::nesting_depth(&request.query) > MAX_NESTING {
        return Err(format!(
            "the query is nested more than {MAX_NESTING} levels deep"
        ));
    }
    let named = request
        .operation_name
        .clone()
        .or_else(|| leading_operation_name(&request.query));
    if let Ok(doc) = request.parsed_query() {
        shape::check(doc)?;
        if let Some(name) = named.or_else(|| first_operation_name(doc)) {
            tracing::Span::current().record("graphql.operation", name.as_str());
        }
    }
    Ok(())
}

/// Gives every error a code: errors before execution (syntax, validation, limits) and in
/// an argument's value are `INVALID_INPUT`; an uncoded error in a resolver is logged and
/// becomes `INTERNAL`, which also carries the request id.
pub fn code_errors(errors: &mut [async_graphql::ServerError], request_id: &str) {
    for error in errors {
        let extensions = error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default);
        let code = match extensions.get("code") {
            Some(async_graphql::Value::String(code)) => code.clone(),
            Some(_) => "INTERNAL".to_owned(),
            None if error.path.is_empty()
                || error.message.starts_with("Invalid value for argument")
                || error.message.starts_with("Expected input type")
                || error.message.starts_with("Failed to parse") =>
            {
                extensions.set("code", "INVALID_INPUT");
                "INVALID_INPUT".to_owned()
            }
            None => {
                tracing::error!(error.message = %error.message, "uncoded error in a resolver");
                "internal error".clone_into(&mut error.message);
                extensions.set("code", "INTERNAL");
                "INTERNAL".to_owned()
            }
        };
        if code == "INTERNAL" {
            extensions.set("requestId", request_id);
        }
        super::ops::Metrics::graphql_error(&code);
    }
}

pub async fn execute(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let Some(media) = Media::negotiate(&headers) else {
        return error_response(
            StatusCode::NOT_ACCEPTABLE,
            "INVALID_INPUT",
            "accept application/graphql-response+json or application/json",
        );
    };
    let mut request = match parse_body(&headers, &body) {
        Ok(request) => request,
        Err((status, message)) => return error_response(status, "INVALID_INPUT", message),
    };
    let request_id = headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let known = state.documents.get(&request.query);
    let fresh = known.is_none();
    if let Some(document) = known {
        request.set_parsed_query(document);
    }
    if let Err(message) = check_query(&mut request) {
        return request_error(media, &message, &request_id);
    }
    if fresh {
        let query = request.query.clone();
        if let Ok(document) = request.parsed_query() {
            state.documents.insert(query, document);
        }
    }
    let principal = match authenticate(&state, &headers).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let heavy = request.parsed_query().is_ok_and(shape::is_heavy);
    let operation = request.operation_name.clone();
    let writes = request
        .parsed_query()
        .is_ok_and(|doc| shape::is_mutation(doc, operation.as_deref()));
    let request = crate::graphql::loaders::for_request(request, &state.app.db)
        .data(principal)
        .data(crate::graphql::budget::ResponseBudget::default());
    let permit = if heavy {
        Some(state.heavy.permit().await)
    } else {
        None
    };
    let mut response = state.schema.execute(request).await;
    if writes {
        // this replica's searches and subscribers hear of the write before its answer
        state.app.written().await;
    }
    code_errors(&mut response.errors, &request_id);
    let request_error = media::is_request_error(&response);
    let response = match media::body(&response, media, request_error) {
        Ok(body) => media.respond(body, request_error),
        Err(e) => AppError::Internal(e.into()).into_response(),
    };
    match permit {
        Some(permit) => permit.hold(response),
        None => response,
    }
}

/// The caller: anonymous without an `Authorization` header, else the holder of the
/// bearer token, which must be valid (a bad token is refused, not taken as anonymous).
async fn authenticate(state: &HttpState, headers: &HeaderMap) -> Result<Principal, Response<Body>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(Principal::anonymous());
    };
    let checked = match value.to_str() {
        Ok(value) => authenticate_bearer(state, value).await,
        Err(_) => Err(AppError::Unauthenticated(BEARER_FORM.to_owned())),
    };
    match checked {
        Ok(principal) => Ok(principal),
        Err(e) => Err(e.into_response()),
    }
}

const BEARER_FORM: &str = "the Authorization header must be `Bearer <API token>`";

/// The holder of a `Bearer <token>` credential (an API token, or a JWT when the server
/// accepts them): `UNAUTHENTICATED` when it is malformed, unknown, revoked or expired.
pub async fn authenticate_bearer(state: &HttpState, value: &str) -> Result<Principal, AppError> {
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AppError::Unauthenticated(BEARER_FORM.to_owned()))?;
    let actor = match &state.jwt {
        Some(jwt) if !token.starts_with(crate::service::tokens::PREFIX) => jwt.actor(token),
        _ => crate::service::tokens::authenticate(&state.app.db, token).await,
    }?;
    tracing::Span::current().record("actor", actor.id.as_str());
    Ok(Principal::actor(actor))
}

fn first_operation_name(doc: &ExecutableDocument) -> Option<String> {
    doc.operations
        .iter()
        .find_map(|(name, _)| name.map(std::string::ToString::to_string))
}

/// The name of an operation written first in the document (`query Nearby { ... }`).
fn leading_operation_name(query: &str) -> Option<String> {
    let text = query.trim_start();
    let rest = ["query", "mutation", "subscription"]
        .iter()
        .find_map(|k| text.strip_prefix(k))?
        .trim_start();
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(100)
        .collect();
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit())).then_some(name)
}
