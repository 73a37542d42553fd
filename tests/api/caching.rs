//! What caches and clients are told: `If-None-Match` compared as RFC 9110 says (weakly,
//! `*` included), gzip only when it is taken, and answers built from the request's
//! Host marked `Vary: Host`; and a few refusals that used to say nothing or the wrong
//! thing.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, TestApp, code, point};
use crate::on_both_backends;

async fn conditional_requests_and_what_caches_are_told(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_asset(json!({"kind": "PARK", "name": "Park", "geometry": point(-2.2426, 53.4808)}))
        .await;
    let get = |path: &str, header: Option<(&'static str, &'static str)>| {
        let mut request = app.client().get(format!("{}{path}", app.base));
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        request.send()
    };
    for path in ["/tiles/14/8089/5300.mvt", "/assets/app.js"] {
        let first = get(path, None).await.unwrap();
        assert_eq!(first.status(), StatusCode::OK, "{path}");
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        // the strong form of a weak tag is the same tag; * is any
        let strong = etag.trim_start_matches("W/").to_owned();
        for asked in [etag.clone(), strong, "*".to_owned()] {
            let again = app
                .client()
                .get(format!("{}{path}", app.base))
                .header("if-none-match", &asked)
                .send()
                .await
                .unwrap();
            assert_eq!(
                again.status(),
                StatusCode::NOT_MODIFIED,
                "{path} with {asked}"
            );
        }
    }
    // gzip refused by name stays refused whatever * says
    let plain = get(
        "/assets/app.js",
        Some(("accept-encoding", "gzip;q=0, *;q=1")),
    )
    .await
    .unwrap();
    assert!(
        plain.headers().get("content-encoding").is_none(),
        "{:?}",
        plain.headers()
    );
    let zipped = get("/assets/app.js", Some(("accept-encoding", "gzip")))
        .await
        .unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    // the feed's next and the TileJSON's URLs come from Host: caches must keep hosts apart
    for path in ["/feeds/assets", "/tiles.json"] {
        let response = get(path, None).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let vary = response.headers()["vary"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        assert!(vary.contains("host"), "{path}: Vary {vary}");
    }
}

async fn refusals_say_what_is_wrong(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app
        .create_asset(json!({"kind": "PARK", "name": "Park", "geometry": point(-2.24, 53.48)}))
        .await;
    // a history's page size is `last`, and the error says so
    let error = app
        .error(
            "query($id: ID!) { asset(id: $id) { history(last: 200) { version } } }",
            json!({"id": a["id"]}),
        )
        .await;
    assert_eq!(code(&error), "INVALID_INPUT", "{error:#}");
    assert_eq!(error["extensions"]["field"], "last", "{error:#}");
    assert!(
        error["message"].as_str().unwrap().starts_with("last "),
        "{error:#}"
    );
    // an ORUK time window that ends before it starts fits nothing: it is refused
    let response = app
        .client()
        .get(format!(
            "{}/oruk/services?start_time=14:00&end_time=10:00",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "start_time",
        "{body:#}"
    );
}

on_both_backends!(
    conditional_requests_and_what_caches_are_told,
    refusals_say_what_is_wrong
);
