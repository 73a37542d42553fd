//! One error boundary: every HTTP surface answers a failure with the status its code
//! has and the same JSON body (`errors[0].message`, `extensions.code`), and an internal
//! failure with `INTERNAL` and an error id, never its cause.

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, code, fresh_database, point};
use crate::on_both_backends;

async fn get(app: &TestApp, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let response = app
        .client()
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

/// The one body: a JSON object with one coded error.
fn coded(status: StatusCode, headers: &reqwest::header::HeaderMap, text: &str) -> Value {
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{status} {headers:?}"
    );
    let body: Value = serde_json::from_str(text).unwrap_or_else(|_| panic!("JSON: {text}"));
    assert!(body["errors"][0]["message"].is_string(), "{body:#}");
    assert!(
        body["errors"][0]["extensions"]["code"].is_string(),
        "{body:#}"
    );
    body
}

const SURFACES: [&str; 4] = [
    "/tiles/14/8089/5300.mvt",
    "/feeds/assets",
    "/oruk/services",
    "/oruk/service_at_locations",
];

/// Bad input and missing things, on every surface: the status of the code, the body.
async fn each_surface_answers_its_errors_alike(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (path, status, field) in [
        ("/tiles/99/0/0.mvt", StatusCode::BAD_REQUEST, Some("z")),
        ("/tiles/1/5/0.mvt", StatusCode::BAD_REQUEST, Some("x")),
        (
            "/feeds/assets?afterChangeNumber=-1",
            StatusCode::BAD_REQUEST,
            Some("afterChangeNumber"),
        ),
        (
            "/feeds/assets?afterTimestamp=1",
            StatusCode::BAD_REQUEST,
            Some("afterChangeNumber"),
        ),
        (
            "/oruk/services?per_page=0",
            StatusCode::BAD_REQUEST,
            Some("per_page"),
        ),
        (
            "/oruk/services?day=someday",
            StatusCode::BAD_REQUEST,
            Some("day"),
        ),
        (
            "/oruk/services/not-a-uuid",
            StatusCode::BAD_REQUEST,
            Some("id"),
        ),
        (
            "/oruk/services/0190a5b6-0000-7000-8000-000000000000",
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            "/oruk/taxonomies/0190a5b6-0000-7000-8000-000000000000",
            StatusCode::NOT_FOUND,
            None,
        ),
        ("/assets/nothing-here.js", StatusCode::NOT_FOUND, None),
        ("/no/such/page", StatusCode::NOT_FOUND, None),
    ] {
        let (got, headers, text) = get(&app, path).await;
        assert_eq!(got, status, "{path}: {text}");
        let body = coded(got, &headers, &text);
        let expected = if status == StatusCode::NOT_FOUND {
            "NOT_FOUND"
        } else {
            "INVALID_INPUT"
        };
        assert_eq!(code(&body["errors"][0]), expected, "{path}: {body:#}");
        if let Some(field) = field {
            assert_eq!(
                body["errors"][0]["extensions"]["field"], field,
                "{path}: {body:#}"
            );
        }
    }
    // GraphQL: a field the caller may not use is FORBIDDEN, inside a 200
    let link_worker = app.token(assetmap::auth::Role::LinkWorker, &[]).await;
    let response = app
        .gql_as(
            Some(&link_worker),
            "mutation { createCategory(slug: \"x\", name: \"X\") { slug } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&response["errors"][0]), "FORBIDDEN", "{response:#}");
    // a bad token is UNAUTHENTICATED with 401 and a challenge
    let response = app
        .client()
        .post(format!("{}/graphql", app.base))
        .bearer_auth("amt_not-a-token")
        .json(&json!({"query": "{ __typename }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body["errors"][0]), "UNAUTHENTICATED", "{body:#}");
}

/// Over the rate limit, every surface says so the same way, with when to retry.
async fn each_surface_is_rate_limited_alike(backend: Backend) {
    let database = fresh_database(backend).await;
    let app = TestApp::spawn_configured(backend, database, |c| {
        c.http.rate_limit_per_second = 1;
        c.http.rate_limit_burst = 1;
    })
    .await;
    for path in SURFACES {
        // the first may pass; the next within the second is refused
        let _ = get(&app, path).await;
        let (status, headers, text) = get(&app, path).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{path}: {text}");
        assert!(headers.contains_key("retry-after"), "{path}: {headers:?}");
        let body = coded(status, &headers, &text);
        assert_eq!(code(&body["errors"][0]), "RATE_LIMITED", "{path}: {body:#}");
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    }
}

/// The database broken under the running server: every surface answers INTERNAL with
/// an error id and none of the cause.
async fn each_surface_hides_an_internal_failure(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_asset(
        json!({"kind": "PARK", "name": "Park", "geometry": point(-2.2426, 53.4808),
        "categories": ["parks"]}),
    )
    .await;
    app.db
        .write
        .execute_unprepared("DROP TABLE asset_categories")
        .await
        .unwrap();
    for path in SURFACES {
        let (status, headers, text) = get(&app, path).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}: {text}");
        let body = coded(status, &headers, &text);
        let error = &body["errors"][0];
        assert_eq!(code(error), "INTERNAL", "{path}: {body:#}");
        assert_eq!(error["message"], "internal error", "{path}");
        assert!(
            error["extensions"]["errorId"].is_string(),
            "{path}: {body:#}"
        );
        for secret in [
            "asset_categories",
            "SELECT",
            "sqlite",
            "postgres",
            "relation",
            "/tmp",
        ] {
            assert!(
                !text.to_lowercase().contains(&secret.to_lowercase()),
                "{path}: {secret} leaked: {text}"
            );
        }
    }
}

on_both_backends!(
    each_surface_answers_its_errors_alike,
    each_surface_is_rate_limited_alike,
    each_surface_hides_an_internal_failure
);
