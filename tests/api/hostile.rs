//! Anyone can send anything: every hostile request gets a clear error with a code, the
//! process stays up, and nothing internal leaks. Timings are printed (run with
//! `--nocapture`), never asserted.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{Backend, TestApp, code, fresh_database, point};
use crate::on_both_backends;

async fn post_raw(
    app: &TestApp,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, Value) {
    let response = app
        .client()
        .post(format!("{}/graphql", app.base))
        .header("content-type", content_type)
        // the media type in which a request error is a 400 (in application/json it is a
        // 200 with errors, as the GraphQL over HTTP spec asks)
        .header("accept", "application/graphql-response+json")
        .body(body)
        .send()
        .await
        .expect("sent");
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn assert_alive(app: &TestApp) {
    let data = app.data("{ categories { slug } }", json!({})).await;
    assert!(data["categories"].as_array().is_some_and(|c| !c.is_empty()));
}

/// Sends a request, prints how long the answer took, returns the first error.
async fn timed_error(app: &TestApp, what: &str, query: &str, variables: Value) -> Value {
    let started = Instant::now();
    let response = app.gql(query, variables).await;
    println!("hostile: {what}: {:?}", started.elapsed());
    let error = response["errors"][0].clone();
    assert!(
        error.is_object(),
        "{what}: expected an error, got {response:#}"
    );
    error
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nesting_of_every_kind_thousands_deep_is_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let depth = 5_000;

    let selections = format!("{}{}", "{ a ".repeat(depth), "}".repeat(depth));
    let (status, body) = post_raw(
        &app,
        "application/json",
        json!({"query": selections}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body["errors"][0]), "INVALID_INPUT");

    let mut fragments = String::from("query { ...F0 }\n");
    for i in 0..depth {
        writeln!(fragments, "fragment F{i} on Query {{ ...F{} }}", i + 1).unwrap();
    }
    writeln!(
        fragments,
        "fragment F{depth} on Query {{ categories {{ slug }} }}"
    )
    .unwrap();
    let err = timed_error(&app, "5000 chained fragments", &fragments, json!({})).await;
    assert_eq!(code(&err), "INVALID_INPUT", "{err:#}");

    let list = format!("{}\"x\"{}", "[".repeat(depth), "]".repeat(depth));
    let args = format!(
        "{{ nearbyAssets(near: {{lon: 0, lat: 0}}, radiusMeters: 1, filter: {{categories: {list}}}) {{ edges {{ cursor }} }} }}"
    );
    let (status, body) =
        post_raw(&app, "application/json", json!({"query": args}).to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body["errors"][0]), "INVALID_INPUT");

    let deep_json = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    let body = format!(
        r#"{{"query": "query($g: GeoJSON!) {{ assetsIntersecting(geometry: $g) {{ edges {{ cursor }} }} }}", "variables": {{"g": {deep_json}}}}}"#
    );
    let (status, body) = post_raw(&app, "application/json", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body["errors"][0]), "INVALID_INPUT");

    // variables nested just under the JSON limit reach the geometry gate, which refuses them
    let g = json!({"type": "Point", "coordinates": serde_json::from_str::<Value>(&format!("{}1{}", "[".repeat(100), "]".repeat(100))).unwrap()});
    let err = timed_error(
        &app,
        "100-deep coordinates",
        "query($g: GeoJSON!) { assetsIntersecting(geometry: $g) { edges { cursor } } }",
        json!({"g": g}),
    )
    .await;
    assert_eq!(code(&err), "INVALID_GEOMETRY");

    assert_alive(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_cost_limits() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let aliases: String = (0..60)
        .map(|i| format!("a{i}: categories {{ slug }} "))
        .collect::<Vec<_>>()
        .concat();
    let err = app.error(&format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(code(&err), "INVALID_INPUT");
    assert!(
        err["message"].as_str().unwrap().contains("aliases"),
        "{err:#}"
    );

    let directives = "{ categories @include(if: true) @include(if: true) @include(if: true) @include(if: true) @include(if: true) @include(if: true) { slug } }";
    let err = app.error(directives, json!({})).await;
    assert_eq!(code(&err), "INVALID_INPUT", "{err:#}");

    // 13 levels of category parents: deeper than the depth limit
    let deep = format!(
        "{{ categories {{ {} slug {} }} }}",
        "parent { ".repeat(12),
        "} ".repeat(12)
    );
    let err = app.error(&deep, json!({})).await;
    assert_eq!(code(&err), "INVALID_INPUT", "{err:#}");

    // a page of 100 results, each asking for a lot, costs more than a query may
    let costly = "{ nearbyAssets(near: {lon: 0, lat: 0}, radiusMeters: 10, first: 100) { edges { node {
        a: categories { parent { parent { slug name id } slug name id } slug name id }
        organization { id name description website email phone createdAt updatedAt }
        id kind name description geometry address postcode website email phone status version createdAt updatedAt archivedAt
      } cursor distanceMeters } } }";
    let err = app.error(costly, json!({})).await;
    assert_eq!(code(&err), "INVALID_INPUT", "{err:#}");
    assert!(
        err["message"].as_str().unwrap().contains("omplex"),
        "{err:#}"
    );

    // no "did you mean" hints that describe the schema
    let err = app.error("{ categorie { slug } }", json!({})).await;
    assert!(
        !err["message"].as_str().unwrap().contains("Did you mean"),
        "{err:#}"
    );
    assert_alive(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_can_be_turned_off() {
    let introspect = "{ __schema { queryType { name } } }";
    let open = TestApp::spawn(Backend::Sqlite).await;
    assert_eq!(
        open.data(introspect, json!({})).await["__schema"]["queryType"]["name"],
        "Query"
    );
    let closed = TestApp::spawn_configured(
        Backend::Sqlite,
        fresh_database(Backend::Sqlite).await,
        |c| {
            c.introspection = false;
        },
    )
    .await;
    let response = closed.gql(introspect, json!({})).await;
    assert!(
        response["errors"].is_array() || response["data"]["__schema"].is_null(),
        "{response:#}"
    );
    assert_alive(&closed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_json_posts_execute() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let create = r#"mutation { createAsset(input: {kind: PARK, name: "via GET", geometry: {type: "Point", coordinates: [0, 0]}}) { id } }"#;

    // GET serves GraphiQL and runs nothing, mutations included: a GET with a query is
    // told to POST it
    let response = app
        .client()
        .get(format!("{}/graphql", app.base))
        .query(&[("query", create)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST");
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body["errors"][0]), "INVALID_INPUT", "{body:#}");
    let page = app
        .client()
        .get(format!("{}/graphql", app.base))
        .send()
        .await
        .unwrap();
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(app.count_assets().await, 0);

    // a cross-site form post (text/plain) is refused
    let (status, body) = post_raw(&app, "text/plain", json!({"query": create}).to_string()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(code(&body["errors"][0]), "INVALID_INPUT");
    assert_eq!(app.count_assets().await, 0);

    let batch = json!([{"query": "{ categories { slug } }"}, {"query": "{ categories { slug } }"}]);
    let (status, body) = post_raw(&app, "application/json", batch.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("batch")
    );

    let (status, body) = post_raw(&app, "application/json", "{not json").await;
    assert_eq!(
        (status, code(&body["errors"][0])),
        (StatusCode::BAD_REQUEST, "INVALID_INPUT")
    );
    let (status, body) = post_raw(&app, "application/json", r#"{"nope": 1}"#).await;
    assert_eq!(
        (status, code(&body["errors"][0])),
        (StatusCode::BAD_REQUEST, "INVALID_INPUT")
    );

    // announce a 2 MiB body: the answer comes before any of it is sent (a client that
    // sends it anyway may find the connection closed under it)
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw))
        .await
        .unwrap()
        .unwrap();
    let raw = String::from_utf8_lossy(&raw);
    assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");
    let body: Value =
        serde_json::from_str(raw.split("\r\n\r\n").nth(1).unwrap_or_default()).unwrap();
    assert_eq!(code(&body["errors"][0]), "INVALID_INPUT");

    let response = app
        .client()
        .put(format!("{}/graphql", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        code(&response.json::<Value>().await.unwrap()["errors"][0]),
        "INVALID_INPUT"
    );
    let response = app
        .client()
        .get(format!("{}/wp-admin", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        code(&response.json::<Value>().await.unwrap()["errors"][0]),
        "NOT_FOUND"
    );
    assert_alive(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_over_their_rate_are_told_when_to_retry() {
    let app = TestApp::spawn_configured(
        Backend::Sqlite,
        fresh_database(Backend::Sqlite).await,
        |c| {
            c.http.rate_limit_per_second = 1;
            c.http.rate_limit_burst = 3;
        },
    )
    .await;
    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let response = app
            .client()
            .post(format!("{}/graphql", app.base))
            .json(&json!({"query": "{ categories { slug } }"}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
        last = Some(response);
    }
    assert_eq!(&statuses[..3], &[StatusCode::OK; 3]);
    assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS);
    let last = last.unwrap();
    let retry_after: u64 = last.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_eq!(
        code(&last.json::<Value>().await.unwrap()["errors"][0]),
        "RATE_LIMITED"
    );
    // health checks are never rate limited
    let health = app
        .client()
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allows_only_listed_origins() {
    let app = TestApp::spawn_configured(
        Backend::Sqlite,
        fresh_database(Backend::Sqlite).await,
        |c| {
            c.http.cors_origins = vec!["https://map.example.org".parse().unwrap()];
        },
    )
    .await;
    let preflight = |origin: &'static str| {
        app.client()
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("https://map.example.org").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://map.example.org"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trickling_headers_is_cut_off() {
    let app = TestApp::spawn_configured(
        Backend::Sqlite,
        fresh_database(Backend::Sqlite).await,
        |c| {
            c.http.header_read_timeout = Duration::from_millis(500);
        },
    )
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server kept a silent connection open");
    println!(
        "hostile: trickled headers cut off after {:?}",
        started.elapsed()
    );
    assert_alive(&app).await;
}

/// The production layers and server around routes that misbehave on purpose.
async fn serve_layers(
    routes: Router,
    config: assetmap::http::HttpConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> (String, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = assetmap::http::with_layers(routes, &config);
    let server = tokio::spawn(assetmap::http::serve(
        listener,
        router,
        assetmap::http::ConnectionTimeouts {
            header_read: config.header_read_timeout,
            write_stall: config.write_stall_timeout,
        },
        shutdown,
    ));
    (format!("http://{addr}"), server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_or_a_slow_request_is_answered_and_the_server_goes_on() {
    async fn boom() -> &'static str {
        panic!("a bug in a handler at /srv/assetmap/src/secret.rs")
    }
    async fn slow() -> &'static str {
        tokio::time::sleep(Duration::from_secs(5)).await;
        "late"
    }
    let config = assetmap::http::HttpConfig {
        request_timeout: Duration::from_millis(300),
        ..assetmap::http::HttpConfig::default()
    };
    let routes = Router::new()
        .route("/boom", get(boom))
        .route("/slow", get(slow))
        .route("/ok", get(|| async { "ok" }));
    let (base, _server) = serve_layers(routes, config, std::future::pending()).await;
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let response = client.get(format!("{base}/boom")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().contains_key("x-request-id"));
        let text = response.text().await.unwrap();
        assert!(!text.contains("secret") && !text.contains("/srv"), "{text}");
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(code(&body["errors"][0]), "INTERNAL");
    }
    let response = client.get(format!("{base}/slow")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(
        code(&response.json::<Value>().await.unwrap()["errors"][0]),
        "TIMEOUT"
    );
    assert_eq!(
        client
            .get(format!("{base}/ok"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
}

async fn internal_errors_leak_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.create_asset(json!({"kind": "PARK", "name": "Park", "geometry": point(-2.3, 53.45), "categories": ["parks"]})).await;
    // break the database under the running server
    app.db
        .write
        .execute_unprepared("DROP TABLE asset_categories")
        .await
        .unwrap();
    let response = app
        .client()
        .post(format!("{}/graphql", app.base))
        .header("x-request-id", "trace-me-42")
        .json(&json!({"query": "query($id: ID!) { asset(id: $id) { name categories { slug } } }", "variables": {"id": a["id"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["x-request-id"],
        "trace-me-42",
        "a client's request id is kept"
    );
    let text = response.text().await.unwrap();
    for secret in [
        "asset_categories",
        "SELECT",
        "sqlite",
        "postgres",
        "relation",
        "/tmp",
        "127.0.0.1",
    ] {
        assert!(
            !text.to_lowercase().contains(&secret.to_lowercase()),
            "{secret} leaked: {text}"
        );
    }
    let body: Value = serde_json::from_str(&text).unwrap();
    let error = &body["errors"][0];
    assert_eq!(code(error), "INTERNAL", "{body:#}");
    assert_eq!(error["message"], "internal error");
    assert_eq!(error["extensions"]["requestId"], "trace-me-42");
    assert_eq!(
        body["data"]["asset"]["name"], "Park",
        "what could be answered still is"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let get = |path: &'static str| app.client().get(format!("{}{path}", app.base)).send();
    let health = get("/health").await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = get("/ready").await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");
    app.gql("{ nope }", json!({})).await;
    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    for name in [
        "assetmap_http_requests_total",
        "assetmap_http_request_duration_seconds_bucket",
        "assetmap_graphql_errors_total{code=\"INVALID_INPUT\"}",
        "assetmap_db_pool_connections",
    ] {
        assert!(metrics.contains(name), "{name} missing from:\n{metrics}");
    }
    // a database that is gone makes the service unready, not dead
    let url = app.database.url.clone();
    app.db.read.close_by_ref().await.ok();
    let unready = get("/ready").await.unwrap();
    assert_eq!(unready.status(), StatusCode::SERVICE_UNAVAILABLE, "{url}");
    assert_eq!(get("/health").await.unwrap().status(), StatusCode::OK);
}

/// Polls until nothing listens at `base` any more: the server has begun shutting down.
async fn until_not_listening(base: &str) {
    let addr = base.trim_start_matches("http://").to_owned();
    tokio::time::timeout(Duration::from_secs(10), async {
        while tokio::net::TcpStream::connect(&addr).await.is_ok() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the server stops listening");
}

/// Requests held inside the real app by a table lock are in flight when shutdown is
/// asked for: each of them is answered, the rest are refused, and the server stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_requests_in_flight() {
    use assetmap::app::{App, AppConfig};
    let database = fresh_database(Backend::Postgres).await;
    let app = App::build(&AppConfig {
        db_max_connections: 4,
        ..AppConfig::new(database.url.parse().unwrap())
    })
    .await
    .unwrap();
    let base = format!("http://{}", app.local_addr().unwrap());
    // a reader of organizations waits on this lock, inside its request
    let blocker = sea_orm::Database::connect(&database.url).await.unwrap();
    let lock = sea_orm::TransactionTrait::begin(&blocker).await.unwrap();
    lock.execute_unprepared("LOCK TABLE organizations IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let mut requests = Vec::new();
    for _ in 0..20 {
        let client = client.clone();
        let base = base.clone();
        requests.push(tokio::spawn(async move {
            client
                .post(format!("{base}/graphql"))
                .json(&json!({"query": "{ organizations(first: 5) { edges { cursor } } }"}))
                .send()
                .await
        }));
    }
    // wait until requests are provably inside the app: waiting on the lock
    let waiting_sql = "SELECT count(*)::bigint AS n FROM pg_stat_activity \
        WHERE datname = current_database() AND wait_event_type = 'Lock' \
        AND query LIKE '%organizations%'";
    let in_flight = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let row = blocker
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    waiting_sql,
                ))
                .await
                .unwrap()
                .unwrap();
            let n: i64 = row.try_get("", "n").unwrap();
            if n > 0 {
                break n;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("requests reach the database");
    stop.send(()).unwrap();
    until_not_listening(&base).await;
    lock.commit().await.unwrap();
    let mut answered = 0;
    for r in requests {
        if let Ok(Ok(response)) = r.await {
            assert_eq!(response.status(), StatusCode::OK);
            answered += 1;
        }
    }
    assert!(
        answered >= in_flight,
        "{in_flight} requests were in flight, {answered} answered"
    );
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stops")
        .unwrap()
        .unwrap();
    println!(
        "shutdown: {answered} of 20 requests answered ({in_flight} seen in flight), the rest refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_at_shutdown_is_answered() {
    let started = std::sync::Arc::new(tokio::sync::Notify::new());
    let release = std::sync::Arc::new(tokio::sync::Notify::new());
    let handler = {
        let (started, release) = (started.clone(), release.clone());
        move || async move {
            started.notify_one();
            release.notified().await;
            "finished"
        }
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (base, server) = serve_layers(
        Router::new().route("/slow", get(handler)),
        assetmap::http::HttpConfig::default(),
        async {
            let _ = stopped.await;
        },
    )
    .await;
    let in_flight = tokio::spawn(reqwest::get(format!("{base}/slow")));
    started.notified().await;
    stop.send(()).unwrap();
    until_not_listening(&base).await;
    release.notify_one();
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.text().await.unwrap(), "finished");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stops")
        .unwrap()
        .unwrap();
}

on_both_backends!(internal_errors_leak_nothing);

/// Geometry built to hurt: each gets its documented answer (the times are printed, never
/// asserted; a hang is the harness's per-test timeout), and the largest legal shapes
/// and searches at the edges of the Earth answer what they should.
async fn geometry_bombs(backend: Backend) {
    let app = TestApp::spawn_with(backend, fresh_database(backend).await, true).await;
    let search = "query($g: GeoJSON!, $b: Float) { assetsIntersecting(geometry: $g, bufferMeters: $b, first: 5) { edges { distanceMeters } } }";
    let create = "mutation($g: GeoJSON!) { createAsset(input: {kind: PARK, name: \"bomb\", geometry: $g}) { id } }";
    let circle = |n: usize, r: f64| -> Vec<Value> {
        let mut ring: Vec<Value> = (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                json!([-2.3 + r * a.cos(), 53.45 + r * 0.6 * a.sin()])
            })
            .collect();
        ring.push(ring[0].clone());
        ring
    };
    let zigzag: Vec<Value> = {
        let mut ring: Vec<Value> = (0..4_998)
            .map(|i| {
                json!([
                    -2.3 + f64::from(i) * 1e-5,
                    53.45 + if i % 2 == 0 { 0.0 } else { 0.01 }
                ])
            })
            .collect();
        ring.push(json!([-2.3 + 2e-5, 53.44]));
        ring.push(ring[0].clone());
        ring
    };
    let many_points: Vec<Value> = (0..40_000)
        .map(|i| json!([-2.3, 53.45 + f64::from(i) * 1e-7]))
        .collect();
    let many_parts: Vec<Value> = (0..600)
        .map(|i| {
            json!([[
                [-2.3 + f64::from(i) * 1e-3, 53.45],
                [-2.2995 + f64::from(i) * 1e-3, 53.45],
                [-2.2995 + f64::from(i) * 1e-3, 53.4505],
                [-2.3 + f64::from(i) * 1e-3, 53.45]
            ]])
        })
        .collect();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "40 000 positions",
            json!({"type": "MultiPoint", "coordinates": many_points}),
            "TOO_MANY_VERTICES",
        ),
        (
            "600 polygons",
            json!({"type": "MultiPolygon", "coordinates": many_parts}),
            "TOO_MANY_PARTS",
        ),
        (
            "self-crossing 5 000-vertex ring",
            json!({"type": "Polygon", "coordinates": [zigzag]}),
            "INVALID_POLYGON",
        ),
        (
            "NaN as text",
            json!({"type": "Point", "coordinates": ["NaN", 53.0]}),
            "BAD_POSITION",
        ),
        (
            "latitude 91",
            json!({"type": "Point", "coordinates": [0.0, 91.0]}),
            "OUT_OF_RANGE",
        ),
        (
            "4 numbers",
            json!({"type": "Point", "coordinates": [0.0, 1.0, 2.0, 3.0]}),
            "BAD_POSITION",
        ),
        (
            "unclosed ring",
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}),
            "RING_NOT_CLOSED",
        ),
        (
            "empty point",
            json!({"type": "Point", "coordinates": []}),
            "BAD_POSITION",
        ),
        (
            "empty line",
            json!({"type": "LineString", "coordinates": []}),
            "EMPTY",
        ),
        (
            "empty ring",
            json!({"type": "Polygon", "coordinates": [[]]}),
            "EMPTY",
        ),
        (
            "empty collection",
            json!({"type": "GeometryCollection", "geometries": []}),
            "UNSUPPORTED_TYPE",
        ),
    ];
    for (what, g, reason) in cases {
        let err = timed_error(&app, what, search, json!({"g": g})).await;
        assert_eq!(code(&err), "INVALID_GEOMETRY", "{what}: {err:#}");
        assert_eq!(err["extensions"]["reason"], reason, "{what}: {err:#}");
        let err = app.error(create, json!({"g": g})).await;
        assert_eq!(
            err["extensions"]["reason"], reason,
            "{what} as a new asset: {err:#}"
        );
    }
    // numbers JSON cannot hold are refused as input, before any geometry code runs
    let (status, body) = post_raw(&app, "application/json",
        r#"{"query": "query($g: GeoJSON!) { assetsIntersecting(geometry: $g) { edges { cursor } } }", "variables": {"g": {"type": "Point", "coordinates": [1e400, 0]}}}"#).await;
    assert_eq!(
        (status, code(&body["errors"][0])),
        (StatusCode::BAD_REQUEST, "INVALID_INPUT")
    );
    // in a GraphQL literal, NaN is an enum value, not a number
    let err = app.error("{ assetsIntersecting(geometry: {type: \"Point\", coordinates: [NaN, 0]}) { edges { cursor } } }", json!({})).await;
    assert_eq!(err["extensions"]["reason"], "BAD_POSITION", "{err:#}");

    // the largest valid polygon, over the whole demo map, with a corridor
    let started = Instant::now();
    let big = app
        .data(
            search,
            json!({"g": {"type": "Polygon", "coordinates": [circle(4_999, 0.3)]}, "b": 1000.0}),
        )
        .await;
    println!(
        "hostile: 5 000-vertex polygon + 1 km buffer over the demo map: {:?}",
        started.elapsed()
    );
    assert_eq!(
        big["assetsIntersecting"]["edges"].as_array().unwrap().len(),
        5
    );
    // 3D positions are accepted, altitude dropped: the same answer as in 2D
    let with_altitude = app
        .data(
            search,
            json!({"g": {"type": "Point", "coordinates": [-2.3, 53.45, 12.5]}, "b": 500.0}),
        )
        .await;
    let flat = app
        .data(
            search,
            json!({"g": {"type": "Point", "coordinates": [-2.3, 53.45]}, "b": 500.0}),
        )
        .await;
    assert_eq!(with_altitude, flat);
    assert!(
        !flat["assetsIntersecting"]["edges"]
            .as_array()
            .unwrap()
            .is_empty(),
        "the demo map has assets within 500 m: {flat:#}"
    );

    let nearby = "query($lon: Float!, $lat: Float!, $r: Float!) { nearbyAssets(near: {lon: $lon, lat: $lat}, radiusMeters: $r) { edges { distanceMeters } } }";
    for (what, lon, lat, r) in [
        ("radius 0", -2.3, 53.45, 0.0),
        ("negative radius", -2.3, 53.45, -1.0),
        ("the whole Earth", -2.3, 53.45, 20_037_508.0),
    ] {
        let err = timed_error(&app, what, nearby, json!({"lon": lon, "lat": lat, "r": r})).await;
        assert_eq!(code(&err), "INVALID_INPUT", "{what}");
    }
    for (what, lon, lat) in [
        ("at the antimeridian", 179.999, -17.0),
        ("at the north pole", 0.0, 90.0),
        ("at the south pole", 0.0, -90.0),
    ] {
        let started = Instant::now();
        let far = app
            .data(nearby, json!({"lon": lon, "lat": lat, "r": 50_000.0}))
            .await;
        println!("hostile: 50 km search {what}: {:?}", started.elapsed());
        // the demo map is all in Greater Manchester
        assert_eq!(far["nearbyAssets"]["edges"], json!([]), "{what}");
    }
    let started = Instant::now();
    let max_radius = app
        .data(nearby, json!({"lon": -2.3, "lat": 53.45, "r": 50_000.0}))
        .await;
    println!(
        "hostile: 50 km search over the whole demo map: {:?}",
        started.elapsed()
    );
    assert_eq!(
        max_radius["nearbyAssets"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        20
    );
    let bbox = "query($b: BBoxInput!) { assetsInBBox(bbox: $b) { edges { cursor } } }";
    let err = app
        .error(
            bbox,
            json!({"b": {"minLon": 170.0, "minLat": -20.0, "maxLon": -170.0, "maxLat": -10.0}}),
        )
        .await;
    assert_eq!(
        code(&err),
        "INVALID_INPUT",
        "a box across the antimeridian is asked as two boxes"
    );
    assert_alive(&app).await;
}

on_both_backends!(geometry_bombs);
