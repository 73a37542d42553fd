//! The pages the binary serves (the map, the resident's shortlist, GraphiQL) as HTTP
//! sees them: their policy and headers, every file they name served from here, gzip and
//! ETags, the size budgets, and the hostile addresses. What the pages do is tested in a
//! real browser (web/test, run by scripts/browser/run).

use std::io::Read;

use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
};

use crate::helpers::{Backend, TestApp, code, fresh_database};
use crate::on_both_backends;

const PAGES: [&str; 5] = [
    "/",
    "/s/ABCD-EFGH",
    "/s/%3Cscript%3E",
    "/graphiql",
    "/graphql",
];

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.client().get(format!("{}{path}", app.base));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.send().await.unwrap()
}

fn header(response: &reqwest::Response, name: impl reqwest::header::AsHeaderName) -> &str {
    response
        .headers()
        .get(name)
        .map_or("", |v| v.to_str().unwrap())
}

/// The `src` and `href` addresses an HTML page names.
fn addresses(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for (i, _) in html.match_indices(attr) {
            let rest = &html[i + attr.len()..];
            out.push(rest[..rest.find('"').unwrap()].to_owned());
        }
    }
    out
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

async fn pages_are_self_contained_and_locked_down(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for page in PAGES {
        let response = get(&app, page, &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "{page}");
        assert!(
            header(&response, CONTENT_TYPE).starts_with("text/html"),
            "{page}"
        );
        let csp = header(&response, CONTENT_SECURITY_POLICY).to_owned();
        assert!(csp.contains("script-src 'self';"), "{page}: {csp}");
        assert!(csp.contains("connect-src 'self';"), "{page}: {csp}");
        assert!(csp.contains("object-src 'none'"), "{page}: {csp}");
        assert!(!csp.contains("http"), "nothing from elsewhere: {csp}");
        assert_eq!(header(&response, "x-frame-options"), "DENY");
        assert_eq!(header(&response, "referrer-policy"), "no-referrer");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        let html = response.text().await.unwrap();
        // no inline script: every <script> names its file
        for (i, _) in html.match_indices("<script") {
            let tag = &html[i..i + html[i..].find('>').unwrap()];
            assert!(tag.contains(" src=\"/assets/"), "{page}: {tag}");
        }
        // everything it names comes from this server
        for address in addresses(&html) {
            if address.starts_with("data:") || address.starts_with('#') {
                continue;
            }
            assert!(address.starts_with('/'), "{page} names {address}");
            let file = get(&app, &address, &[]).await;
            assert_eq!(file.status(), StatusCode::OK, "{page} names {address}");
        }
    }
}

async fn files_are_compressed_and_revalidated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (path, content_type) in [
        ("/assets/app.js", "text/javascript"),
        ("/assets/maplibre-gl-worker.mjs", "text/javascript"),
        ("/assets/app.css", "text/css"),
        ("/assets/base/wards.geojson", "application/geo+json"),
        ("/", "text/html"),
    ] {
        let plain = get(&app, path, &[]).await;
        assert!(
            header(&plain, CONTENT_TYPE).starts_with(content_type),
            "{path}"
        );
        assert_eq!(header(&plain, CONTENT_ENCODING), "", "{path}");
        let etag = header(&plain, ETAG).to_owned();
        let plain = plain.bytes().await.unwrap();
        let zipped = get(&app, path, &[("accept-encoding", "br, gzip;q=0.8")]).await;
        assert_eq!(header(&zipped, CONTENT_ENCODING), "gzip", "{path}");
        assert_eq!(header(&zipped, ETAG), etag);
        let zipped = zipped.bytes().await.unwrap();
        assert!(zipped.len() < plain.len(), "{path}");
        assert_eq!(gunzip(&zipped), plain, "{path}");
        // a browser that has it already gets 304 and no body
        let again = get(&app, path, &[(IF_NONE_MATCH.as_str(), &etag)]).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert!(again.bytes().await.unwrap().is_empty());
        // gzip refused: sent as is
        let refused = get(&app, path, &[(ACCEPT_ENCODING.as_str(), "gzip;q=0")]).await;
        assert_eq!(header(&refused, CONTENT_ENCODING), "", "{path}");
    }
}

/// What a browser downloads, compressed as sent: the map's first load under 1 MB of
/// JavaScript, the resident's page (HTML, script, style) under 100 KB.
async fn pages_stay_within_their_budgets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut sizes = std::collections::HashMap::new();
    for file in [
        "/assets/app.js",
        "/assets/maplibre-gl-worker.mjs",
        "/s/ABCD",
        "/assets/shortlist.js",
        "/assets/shortlist.css",
    ] {
        let response = get(&app, file, &[("accept-encoding", "gzip")]).await;
        sizes.insert(file, response.bytes().await.unwrap().len());
    }
    let map_js = sizes["/assets/app.js"] + sizes["/assets/maplibre-gl-worker.mjs"];
    assert!(map_js < 1_000_000, "the map's JavaScript: {map_js} bytes");
    let resident =
        sizes["/s/ABCD"] + sizes["/assets/shortlist.js"] + sizes["/assets/shortlist.css"];
    assert!(resident < 100_000, "the resident's page: {resident} bytes");
}

async fn hostile_addresses_get_json_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in [
        "/assets/nope.js",
        "/assets/../Cargo.toml",
        "/assets/%2e%2e/%2e%2e/etc/passwd",
        "/assets/..%2F..%2FCargo.toml",
        "/assets/index.html",
        "/assets/base/",
        "/assets/app.js%00.html",
        "/assets/APP.JS",
    ] {
        let response = get(&app, path, &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            header(&response, CONTENT_TYPE).starts_with("application/json"),
            "{path}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(code(&body["errors"][0]), "NOT_FOUND", "{path}");
    }
    // a shortlist code of any shape is the page's to read: it asks the API, which
    // answers null for one that does not exist
    let long = format!("/s/{}", "A".repeat(4000));
    let response = get(&app, &long, &[]).await;
    assert!(response.status() == StatusCode::OK || response.status().is_client_error());
    let config: serde_json::Value = get(&app, "/config.json", &[]).await.json().await.unwrap();
    assert_eq!(config, serde_json::json!({"basemapStyle": null}));
}

on_both_backends!(
    pages_are_self_contained_and_locked_down,
    files_are_compressed_and_revalidated,
    pages_stay_within_their_budgets,
    hostile_addresses_get_json_errors,
);

/// A council's basemap: the map is told where it is, and the policy lets its tiles in
/// (over https) while scripts still come from this server only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_basemap_opens_the_policy_to_its_tiles_only() {
    let style = "https://tiles.example.gov.uk/styles/light.json";
    let app = TestApp::spawn_configured(
        Backend::Sqlite,
        fresh_database(Backend::Sqlite).await,
        |config| config.http.basemap_style = Some(style.to_owned()),
    )
    .await;
    let config: serde_json::Value = get(&app, "/config.json", &[]).await.json().await.unwrap();
    assert_eq!(config["basemapStyle"], style);
    let page = get(&app, "/", &[]).await;
    let csp = header(&page, CONTENT_SECURITY_POLICY);
    assert!(
        csp.contains("connect-src 'self' https://tiles.example.gov.uk https:;"),
        "{csp}"
    );
    assert!(csp.contains("script-src 'self';"), "{csp}");
}

/// GraphiQL reads the schema from /schema.graphql; a locked-down API publishes neither
/// that nor introspection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_is_published_only_with_introspection() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let sdl = get(&app, "/schema.graphql", &[])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(sdl.trim(), include_str!("../../schema.graphql").trim());
    let locked = TestApp::spawn_configured(
        Backend::Sqlite,
        fresh_database(Backend::Sqlite).await,
        |config| config.introspection = false,
    )
    .await;
    let response = get(&locked, "/schema.graphql", &[]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(code(&body["errors"][0]), "NOT_FOUND");
}
