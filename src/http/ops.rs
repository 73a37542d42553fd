//! Operability: liveness, readiness, Prometheus metrics and the middleware that records
//! them.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Response, StatusCode, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use migration::{Migrator, MigratorTrait};
use sea_orm::ConnectionTrait;
use serde_json::json;

use super::HttpState;

/// The process's Prometheus recorder (one per process, however many apps it builds).
pub struct Metrics {
    handle: Option<PrometheusHandle>,
}

impl Metrics {
    pub fn install() -> Arc<Self> {
        static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
        let handle = HANDLE
            .get_or_init(|| {
                PrometheusBuilder::new()
                    .set_buckets(&[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                        10.0,
                    ])
                    .ok()?
                    .install_recorder()
                    .map_err(|e| tracing::warn!(error = %e, "metrics recorder not installed"))
                    .ok()
            })
            .clone();
        Arc::new(Self { handle })
    }

    pub fn graphql_error(code: &str) {
        metrics::counter!("assetmap_graphql_errors_total", "code" => code.to_owned()).increment(1);
    }
}

/// Records every request's count and latency by route and status.
pub async fn record(request: Request, next: Next) -> Response<Body> {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("assetmap_http_requests_total", "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("assetmap_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

pub async fn health() -> impl IntoResponse {
    (StatusCode::OK, axum::Json(json!({"status": "ok"})))
}

/// Ready when the database answers and no migration is pending.
pub async fn ready(State(state): State<HttpState>) -> Response<Body> {
    let db = &state.app.db;
    let ping = db
        .read
        .execute_unprepared("SELECT 1")
        .await
        .map_err(|e| tracing::warn!(error = %e, "readiness: database unreachable"));
    if ping.is_err() {
        return not_ready("the database is unreachable");
    }
    match Migrator::get_pending_migrations(&db.write).await {
        Ok(pending) if pending.is_empty() => {
            (StatusCode::OK, axum::Json(json!({"status": "ready"}))).into_response()
        }
        Ok(_) => not_ready("database migrations are pending"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: migrations unreadable");
            not_ready("the database is unreachable")
        }
    }
}

fn not_ready(reason: &str) -> Response<Body> {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({"status": "unavailable", "reason": reason})),
    )
        .into_response()
}

/// Prometheus text format, with the connection pools' state read at scrape time.
pub async fn metrics(State(state): State<HttpState>) -> Response<Body> {
    metrics::gauge!("assetmap_live_subscriptions").set(state.app.changes.subscribers() as f64);
    let (events, bytes) = state.app.changes.waiting();
    metrics::gauge!("assetmap_live_waiting_events").set(events as f64);
    metrics::gauge!("assetmap_live_waiting_bytes").set(bytes as f64);
    metrics::gauge!("assetmap_heavy_in_use").set(state.heavy.in_use() as f64);
    metrics::gauge!("assetmap_live_connections")
        .set((state.live.max_connections - state.live_connections.available_permits()) as f64);
    let pools = state.app.db.pool_state();
    for (name, size, idle) in pools {
        metrics::gauge!("assetmap_db_pool_connections", "pool" => name, "state" => "idle")
            .set(idle as f64);
        metrics::gauge!("assetmap_db_pool_connections", "pool" => name, "state" => "in_use")
            .set(f64::from(size) - idle as f64);
    }
    let body = state
        .metrics
        .handle
        .as_ref()
        .map(PrometheusHandle::render)
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
