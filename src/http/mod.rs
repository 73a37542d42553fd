//! The HTTP surface and its defences.
//!
//! - `POST /graphql`: GraphQL over HTTP, `application/json` bodies, one operation per
//!   request, answered as `application/json` or `application/graphql-response+json`
//! - `GET /graphql` and `GET /graphql/ws` with `Upgrade: websocket`: subscriptions over
//!   `graphql-transport-ws` (`live`); `GET /graphql` without it is GraphiQL
//! - `GET /feeds/assets`: the change log as an RPDE feed (`feed`)
//! - `GET /oruk/...`: the directory as an Open Referral UK 3.0 API (`oruk`)
//! - `GET /tiles/{z}/{x}/{y}.mvt`, `GET /tiles.json`: vector tiles (`tiles`)
//! - `GET /`: the web map; `GET /s/{code}`: a resident's shortlist; `GET /graphiql`
//!   and `GET /graphql`: GraphiQL (never executes anything); `GET /assets/{file}`: the
//!   pages' bundled files; `GET /config.json`: what the pages need to know;
//!   `GET /schema.graphql`: the SDL, unless introspection is off (`web`)
//! - `GET /health` (liveness), `GET /ready` (database reachable, migrations current),
//!   `GET /metrics` (Prometheus text format)
//!
//! Every request gets an `x-request-id` (kept if the client sent one), a tracing span,
//! a time limit and a body-size limit; GraphQL requests are rate limited per client IP;
//! a panic becomes an `INTERNAL` error and the server goes on. Every error response,
//! whatever layer produced it, is a GraphQL-shaped JSON body with `extensions.code`.

mod conditional;
mod errors;
mod feed;
mod graphql;
mod heavy;
mod live;
mod ops;
mod oruk;
mod serve;
mod tiles;
mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::routing::{get, post};
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::PeerIpKeyExtractor;
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use errors::error_response;
pub use feed::FeedConfig;
pub use live::LiveConfig;
pub use serve::{ConnectionTimeouts, serve};

use crate::config::defaults;
use crate::graphql::AppSchema;
use crate::state::AppState;
use crate::tasks::Tasks;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Limits and switches of the HTTP layer.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// The largest request body accepted (a ward boundary is about 20 KiB).
    pub max_body_bytes: usize,
    /// How long one request may take, start to finish.
    pub request_timeout: Duration,
    /// How long a client may take to send its request headers.
    pub header_read_timeout: Duration,
    /// How long a response (or a live message) may wait for the client's socket to take
    /// any of it before the connection is cut off.
    pub write_stall_timeout: Duration,
    /// Sustained GraphQL requests per second per client IP; 0 turns limiting off.
    pub rate_limit_per_second: u32,
    /// Requests a client may make at once before the sustained rate applies.
    pub rate_limit_burst: u32,
    /// Origins allowed to call the API from a browser; empty means same-origin only.
    pub cors_origins: Vec<HeaderValue>,
    /// Accept JWTs checked by this verifier, besides API tokens.
    pub jwt: Option<Arc<crate::jwt::JwtVerifier>>,
    /// Limits of live (WebSocket) connections.
    pub live: live::LiveConfig,
    /// What the RPDE feed says about itself.
    pub feed: feed::FeedConfig,
    /// The web map's basemap (a MapLibre style URL); none: the built-in boundaries.
    pub basemap_style: Option<String>,
    /// Bytes of rendered vector tiles kept in memory; 0 turns the cache off.
    pub tile_cache_bytes: u64,
    /// Requests that build a large response (geometry, feeds, tiles) served at once;
    /// more wait for a turn.
    pub heavy_requests: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: defaults::MAX_BODY_BYTES,
            request_timeout: Duration::from_secs(defaults::REQUEST_TIMEOUT_SECS),
            header_read_timeout: Duration::from_secs(defaults::HEADER_READ_TIMEOUT_SECS),
            write_stall_timeout: Duration::from_secs(defaults::WRITE_TIMEOUT_SECS),
            rate_limit_per_second: defaults::RATE_LIMIT_PER_SECOND,
            rate_limit_burst: defaults::RATE_LIMIT_BURST,
            cors_origins: Vec::new(),
            jwt: None,
            live: live::LiveConfig::default(),
            feed: feed::FeedConfig::default(),
            basemap_style: None,
            tile_cache_bytes: defaults::TILE_CACHE_MB * 1024 * 1024,
            heavy_requests: defaults::MAX_HEAVY_REQUESTS,
        }
    }
}

#[derive(Clone)]
struct HttpState {
    schema: AppSchema,
    /// The store, the search engine and the change follower.
    app: AppState,
    jwt: Option<Arc<crate::jwt::JwtVerifier>>,
    metrics: Arc<ops::Metrics>,
    live: live::LiveConfig,
    /// One permit per live connection this replica may hold.
    live_connections: Arc<tokio::sync::Semaphore>,
    feed: feed::FeedConfig,
    /// Cancelled when the server shuts down (live connections are told and closed).
    stop: tokio_util::sync::CancellationToken,
    /// Queries already parsed and within the limits, by their text.
    documents: Arc<graphql::Documents>,
    /// Vector tiles already drawn, by the change log's position.
    tiles: Arc<tiles::TileCache>,
    /// Permits of work that builds a large response.
    heavy: heavy::Heavy,
}

/// The application's router with every layer applied; its housekeeping runs in `tasks`.
/// With `introspection`, the schema's SDL is served at `GET /schema.graphql` too (for
/// GraphiQL and code generators).
// long on purpose: the route table and the layers around it, in the order they apply
pub fn router(
    schema: AppSchema,
    app: AppState,
    config: &HttpConfig,
    tasks: &Tasks,
    introspection: bool,
) -> Router {
    let state = HttpState {
        schema,
        app,
        jwt: config.jwt.clone(),
        metrics: ops::Metrics::install(),
        live: config.live.clone(),
        live_connections: Arc::new(tokio::sync::Semaphore::new(config.live.max_connections)),
        feed: config.feed.clone(),
        stop: tasks.stop_token(),
        documents: Arc::new(graphql::Documents::default()),
        tiles: Arc::new(tiles::TileCache::new(config.tile_cache_bytes)),
        heavy: heavy::Heavy::new(config.heavy_requests),
    };
    let mut graphql_route = post(graphql::execute).get(live::graphql_get);
    let mut live_route = get(live::upgrade);
    let mut feed_route = get(feed::assets);
    let mut tile_route = get(tiles::tile);
    // the API stub answers with and without its trailing slash
    let mut oruk_routes = Router::new()
        .nest("/oruk", oruk::routes())
        .route("/oruk/", get(oruk::root));
    if config.rate_limit_per_second > 0 {
        let limiter = rate_limit(config, tasks);
        graphql_route = graphql_route.layer(limiter.clone());
        live_route = live_route.layer(limiter.clone());
        feed_route = feed_route.layer(limiter.clone());
        tile_route = tile_route.layer(limiter.clone());
        oruk_routes = oruk_routes.layer(limiter);
    }
    // open data: any site may read the directory
    let oruk_routes = oruk_routes.layer(
        CorsLayer::new()
            .allow_origin(tower_http::cors::Any)
            .allow_methods([Method::GET]),
    );
    // open data: any site may read the feed and the tiles
    let open = CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET])
        .allow_headers([header::IF_NONE_MATCH])
        .expose_headers([header::ETAG]);
    let feed_route = feed_route.layer(open.clone());
    let tile_route = tile_route.layer(open.clone());
    let routes = Router::new()
        .route("/graphql", graphql_route)
        .route("/graphql/ws", live_route)
        .route("/feeds/assets", feed_route)
        .route("/tiles/{z}/{x}/{tile}", tile_route)
        .route("/tiles.json", get(tiles::tilejson).layer(open))
        .merge(oruk_routes)
        .merge(web::routes(
            config.basemap_style.as_deref(),
            introspection.then(|| state.schema.sdl()),
        ))
        .route("/health", get(ops::health))
        .route("/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(middleware::from_fn(ops::record))
        .layer(middleware::from_fn_with_state(
            web::policy(config.basemap_style.as_deref()),
            web::security_headers,
        ))
        .with_state(state);
    with_layers(routes, config)
}

/// The layers every route gets. Public so that tests can wrap their own
/// routes (one that panics, say) in exactly the production stack.
pub fn with_layers(routes: Router, config: &HttpConfig) -> Router {
    // Router::layer wraps what is already there: the last layer added runs first.
    routes
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(cors(config))
        .layer(CatchPanicLayer::custom(errors::panic_response))
        .layer(middleware::from_fn(errors::json_error_bodies))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(errors::request_span)
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Micros),
                ),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

fn cors(config: &HttpConfig) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(config.cors_origins.clone()))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .max_age(Duration::from_hours(1))
}

fn rate_limit(
    config: &HttpConfig,
    tasks: &Tasks,
) -> GovernorLayer<PeerIpKeyExtractor, governor::middleware::NoOpMiddleware, axum::body::Body> {
    let per_request =
        Duration::from_nanos(1_000_000_000 / u64::from(config.rate_limit_per_second.max(1)));
    let governor = GovernorConfigBuilder::default()
        .period(per_request)
        .burst_size(config.rate_limit_burst.max(1))
        .finish()
        .map(Arc::new);
    let governor = match governor {
        Some(g) => g,
        // finish() refuses only a zero period or burst, which the max(1)s rule out
        None => Arc::new(
            GovernorConfigBuilder::default()
                .finish()
                .unwrap_or_default(),
        ),
    };
    // forget clients that have been quiet, so the table of clients stays small
    let limiter = governor.limiter().clone();
    tasks.spawn("rate limiter cleanup", move |stop| async move {
        let mut tick = tokio::time::interval(Duration::from_mins(1));
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = tick.tick() => limiter.retain_recent(),
            }
        }
    });
    GovernorLayer::new(governor).error_handler(errors::rate_limited)
}

/// The address a request came from, for rate limiting and logs.
pub type PeerAddr = axum::extract::ConnectInfo<SocketAddr>;
