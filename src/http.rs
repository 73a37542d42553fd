//! The HTTP surface: `POST /graphql` runs GraphQL, `GET /` and `GET /graphql` serve
//! GraphiQL, `GET /health` answers liveness. Layers bound the body size and the time a
//! request may take.

use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::graphql::AppSchema;

/// The largest request body accepted: a ward boundary is about 20 KiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub fn router(schema: AppSchema) -> Router {
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/", get(graphiql))
        .route("/health", get(|| async { "ok" }))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(schema)
}

async fn graphiql() -> impl IntoResponse {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

async fn graphql(State(schema): State<AppSchema>, request: GraphQLRequest) -> GraphQLResponse {
    let mut response = schema.execute(request.into_inner()).await;
    // Errors raised before execution (syntax, unknown fields, wrong argument types,
    // limits) carry no code of their own: they are all the client's input.
    for error in &mut response.errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if !has_code {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", "INVALID_INPUT");
        }
    }
    response.into()
}
