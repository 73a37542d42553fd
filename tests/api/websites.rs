//! Websites lead only to web pages: the API takes `http`/`https` addresses only, and
//! websites stored before the rule are fixed or cleared once, as revisions.

use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{Backend, TestApp, code, point};
use crate::on_both_backends;

async fn only_web_addresses_are_taken(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let create =
        "mutation($input: CreateAssetInput!) { createAsset(input: $input) { id version website } }";
    for bad in [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "www.example.org",
        "ftp://example.org",
        "https://",
    ] {
        let error = app
            .error(create, json!({"input": {"kind": "VENUE", "name": "Hall", "geometry": point(-2.3, 53.45), "website": bad}}))
            .await;
        assert_eq!(code(&error), "INVALID_INPUT", "{bad}");
        assert_eq!(error["extensions"]["field"], "website", "{bad}");
    }
    let created = app
        .data(create, json!({"input": {"kind": "VENUE", "name": "Hall", "geometry": point(-2.3, 53.45), "website": "https://hall.example/about"}}))
        .await["createAsset"]
        .clone();
    assert_eq!(created["website"], "https://hall.example/about");
    let error = app
        .error(
            "mutation($id: ID!, $v: Int!) { updateAsset(id: $id, expectedVersion: $v, input: {website: \"javascript:alert(1)\"}) { id } }",
            json!({"id": created["id"], "v": created["version"]}),
        )
        .await;
    assert_eq!(
        (code(&error), error["extensions"]["field"].clone()),
        ("INVALID_INPUT", json!("website"))
    );
    let error = app
        .error(r#"mutation { createOrganization(input: {name: "Group", website: "javascript:alert(1)"}) { id } }"#, json!({}))
        .await;
    assert_eq!(code(&error), "INVALID_INPUT");
}

/// Rows from before the rule: a `javascript:` website is cleared and one without its
/// scheme completed, each as a new version with a revision by "website check".
async fn stored_websites_are_checked_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let create = "mutation($input: CreateAssetInput!) { createAsset(input: $input) { id } }";
    let mut ids = Vec::new();
    for name in ["Bad link", "Bare host", "Good link"] {
        let id = app
            .data(create, json!({"input": {"kind": "VENUE", "name": name, "geometry": point(-2.3, 53.45), "website": "https://ok.example"}}))
            .await["createAsset"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        ids.push(id);
    }
    // as an older version would have stored them
    for (id, website) in [
        (&ids[0], "javascript:alert(1)"),
        (&ids[1], "www.wigan.gov.uk/parks"),
    ] {
        let uuid: uuid::Uuid = id.parse().unwrap();
        let sql = match backend {
            Backend::Sqlite => format!(
                "UPDATE assets SET website = '{website}' WHERE id = x'{}'",
                uuid.simple()
            ),
            Backend::Postgres => {
                format!("UPDATE assets SET website = '{website}' WHERE id = '{uuid}'")
            }
        };
        app.db.write.execute_unprepared(&sql).await.unwrap();
    }
    app.db
        .write
        .execute_unprepared("UPDATE app_meta SET value = 'check' WHERE key = 'websites'")
        .await
        .unwrap();
    assert_eq!(
        assetmap::service::asset_version::check_websites(&app.db)
            .await
            .unwrap(),
        2
    );
    // once: a second start-up changes nothing
    assert_eq!(
        assetmap::service::asset_version::check_websites(&app.db)
            .await
            .unwrap(),
        0
    );
    let get = "query($id: ID!) { asset(id: $id) { website version history(last: 5) { actor action changes { field before after } } } }";
    let bad = app.data(get, json!({"id": ids[0]})).await["asset"].clone();
    assert_eq!(bad["website"], serde_json::Value::Null);
    assert_eq!(bad["version"], 2);
    let last = &bad["history"][0];
    assert_eq!(last["actor"], "website check", "{bad:#}");
    assert_eq!(last["changes"][0]["field"], "website");
    let bare = app.data(get, json!({"id": ids[1]})).await["asset"].clone();
    assert_eq!(bare["website"], "http://www.wigan.gov.uk/parks");
    let good = app.data(get, json!({"id": ids[2]})).await["asset"].clone();
    assert_eq!(
        (good["website"].clone(), good["version"].clone()),
        (json!("https://ok.example"), json!(1))
    );
}

on_both_backends!(
    only_web_addresses_are_taken,
    stored_websites_are_checked_once
);
