//! Creating, reading, changing and archiving assets through the API.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, code, point};
use crate::on_both_backends;

const ASSET_FIELDS: &str =
    "id kind name description geometry version status createdAt updatedAt archivedAt
    address postcode website email phone categories { slug } organization { id name }";

async fn get_asset(app: &TestApp, id: &str) -> Value {
    let q = format!("query($id: ID!) {{ asset(id: $id) {{ {ASSET_FIELDS} }} }}");
    app.data(&q, json!({"id": id})).await["asset"].clone()
}

async fn creates_an_asset_and_reads_it_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app
        .data(
            r#"mutation { createOrganization(input: {name: "Friends of Longford Park", email: "hello@longford.example"}) { id name email } }"#,
            json!({}),
        )
        .await["createOrganization"]
        .clone();
    // a clockwise ring: south-west, north-west, north-east, south-east
    let (w, e, s, n) = (-2.2916, -2.2876, 53.4454, 53.4494);
    let clockwise =
        json!({"type": "Polygon", "coordinates": [[[w, s], [w, n], [e, n], [e, s], [w, s]]]});
    let created = app
        .data(
            &format!("mutation($input: CreateAssetInput!) {{ createAsset(input: $input) {{ {ASSET_FIELDS} }} }}"),
            json!({"input": {
                "kind": "PARK", "name": "  Longford Park ", "description": "Victorian park with a walled garden",
                "geometry": clockwise,
                "categories": ["parks", "walking", "parks"],
                "organizationId": org["id"], "postcode": "M32 8DA", "website": "https://www.trafford.gov.uk",
                "email": "parks@trafford.example", "phone": "0161 912 2000", "address": "Edge Lane, Stretford"
            }}),
        )
        .await["createAsset"]
        .clone();
    assert_eq!(created["name"], "Longford Park", "names are trimmed");
    assert_eq!(created["version"], 1);
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(created["kind"], "PARK");
    assert_eq!(created["createdAt"], created["updatedAt"]);
    assert_eq!(created["archivedAt"], Value::Null);
    assert_eq!(created["organization"]["name"], "Friends of Longford Park");
    assert_eq!(
        created["categories"],
        json!([{"slug": "parks"}, {"slug": "walking"}])
    );
    assert_eq!(created["geometry"]["type"], "Polygon");
    // stored with the exterior ring counter-clockwise, as RFC 7946 asks
    assert_eq!(
        created["geometry"]["coordinates"][0],
        json!([[w, s], [e, s], [e, n], [w, n], [w, s]])
    );

    let read = get_asset(&app, created["id"].as_str().unwrap()).await;
    assert_eq!(read, created, "what is read back is what was created");
}

async fn updates_only_from_the_current_version(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app
        .create_asset(json!({"kind": "SERVICE", "name": "Stretford Food Bank", "geometry": point(-2.31, 53.445),
                             "categories": ["food-banks"], "phone": "0161 000 0000"}))
        .await;
    let id = a["id"].as_str().unwrap();
    let update = format!(
        "mutation($id: ID!, $v: Int!, $input: UpdateAssetInput!) {{ updateAsset(id: $id, expectedVersion: $v, input: $input) {{ {ASSET_FIELDS} }} }}"
    );
    let updated = app
        .data(&update, json!({"id": id, "v": 1, "input": {"name": "Stretford Foodbank", "phone": null, "categories": ["food", "lunch-clubs"]}}))
        .await["updateAsset"]
        .clone();
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["name"], "Stretford Foodbank");
    assert_eq!(updated["phone"], Value::Null, "null clears a field");
    assert_eq!(
        updated["categories"],
        json!([{"slug": "food"}, {"slug": "lunch-clubs"}])
    );
    assert_eq!(
        updated["geometry"],
        point(-2.31, 53.445),
        "omitted fields stay"
    );
    assert_ne!(updated["updatedAt"], updated["createdAt"]);

    // a second editor still holding version 1 is refused, and nothing changes
    let err = app
        .error(
            &update,
            json!({"id": id, "v": 1, "input": {"name": "Overwritten"}}),
        )
        .await;
    assert_eq!(code(&err), "CONFLICT");
    assert_eq!(err["extensions"]["currentVersion"], 2);
    assert_eq!(get_asset(&app, id).await, updated);

    // moving a service onto a line breaks the kind's geometry rule
    let err = app
        .error(&update, json!({"id": id, "v": 2, "input": {"geometry": {"type": "LineString", "coordinates": [[-2.31, 53.445], [-2.30, 53.446]]}}}))
        .await;
    assert_eq!(code(&err), "INVALID_GEOMETRY");
    assert_eq!(err["extensions"]["reason"], "TYPE_NOT_ALLOWED_FOR_KIND");
    // ... and so does changing the kind alone
    let err = app
        .error(
            &update,
            json!({"id": id, "v": 2, "input": {"kind": "CYCLE_PATH"}}),
        )
        .await;
    assert_eq!(err["extensions"]["reason"], "TYPE_NOT_ALLOWED_FOR_KIND");
    assert_eq!(get_asset(&app, id).await, updated);
}

async fn concurrent_edits_of_one_version_have_one_winner(backend: Backend) {
    let app = std::sync::Arc::new(TestApp::spawn(backend).await);
    let a = app
        .create_asset(json!({"kind": "COMMUNITY_GROUP", "name": "Walking group", "geometry": point(-2.3, 53.45)}))
        .await;
    let id = a["id"].as_str().unwrap().to_owned();
    let editors = 12;
    let mut tasks = Vec::new();
    for n in 0..editors {
        let app = app.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            app.gql(
                "mutation($id: ID!, $name: String!) { updateAsset(id: $id, expectedVersion: 1, input: {name: $name}) { version name } }",
                json!({"id": id, "name": format!("Walking group {n}")}),
            )
            .await
        }));
    }
    let mut winners = Vec::new();
    let mut conflicts = 0;
    for t in tasks {
        let response = t.await.unwrap();
        if response.get("errors").is_none() {
            winners.push(response["data"]["updateAsset"]["name"].clone());
        } else {
            assert_eq!(code(&response["errors"][0]), "CONFLICT", "{response:#}");
            conflicts += 1;
        }
    }
    assert_eq!(winners.len(), 1, "exactly one edit wins");
    assert_eq!(conflicts, editors - 1);
    let stored = get_asset(&app, &id).await;
    assert_eq!(stored["version"], 2);
    assert_eq!(
        stored["name"], winners[0],
        "the winner's edit is the one stored"
    );
}

async fn archiving_hides_an_asset_from_searches_but_not_from_its_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app
        .create_asset(
            json!({"kind": "VENUE", "name": "Old library", "geometry": point(-2.3, 53.45)}),
        )
        .await;
    let id = a["id"].as_str().unwrap();
    let archive = "mutation($id: ID!, $v: Int!) { archiveAsset(id: $id, expectedVersion: $v) { status version archivedAt } }";
    let err = app.error(archive, json!({"id": id, "v": 7})).await;
    assert_eq!(code(&err), "CONFLICT");
    let archived = app.data(archive, json!({"id": id, "v": 1})).await["archiveAsset"].clone();
    assert_eq!(archived["status"], "ARCHIVED");
    assert_eq!(archived["version"], 2);
    assert!(archived["archivedAt"].is_string());

    let found = app
        .data(
            "{ nearbyAssets(near: {lon: -2.3, lat: 53.45}, radiusMeters: 1000) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(found["nearbyAssets"]["edges"], json!([]));
    assert_eq!(get_asset(&app, id).await["status"], "ARCHIVED");
    // an archived asset takes no more edits
    let err = app
        .error(
            "mutation($id: ID!) { updateAsset(id: $id, expectedVersion: 2, input: {name: \"x\"}) { id } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(code(&err), "CONFLICT");
}

async fn unknown_and_malformed_ids(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let missing = uuid::Uuid::now_v7().to_string();
    let data = app
        .data(
            "query($id: ID!) { asset(id: $id) { id } }",
            json!({"id": missing}),
        )
        .await;
    assert_eq!(data["asset"], Value::Null);
    let err = app
        .error(
            "query($id: ID!) { asset(id: $id) { id } }",
            json!({"id": "nope"}),
        )
        .await;
    assert_eq!(code(&err), "INVALID_INPUT");
    let err = app
        .error(
            "mutation($id: ID!) { updateAsset(id: $id, expectedVersion: 1, input: {name: \"x\"}) { id } }",
            json!({"id": missing}),
        )
        .await;
    assert_eq!(code(&err), "NOT_FOUND");
    let err = app
        .error(
            "mutation($id: ID!) { archiveAsset(id: $id, expectedVersion: 1) { id } }",
            json!({"id": missing}),
        )
        .await;
    assert_eq!(code(&err), "NOT_FOUND");
}

async fn bad_input_is_refused_with_a_code_and_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let create = "mutation($input: CreateAssetInput!) { createAsset(input: $input) { id } }";
    let base = json!({"kind": "PARK", "name": "Park", "geometry": point(-2.3, 53.45)});
    let with = |patch: Value| {
        let mut input = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            input[k] = v.clone();
        }
        json!({"input": input})
    };
    let many: Vec<Value> = (0..6000)
        .map(|i| json!([-2.3 + f64::from(i) * 1e-6, 53.45]))
        .collect();
    let geometry_cases = [
        (
            json!({"type": "Point", "coordinates": [53.45, -200.0]}),
            "OUT_OF_RANGE",
        ),
        (
            json!({"type": "Point", "coordinates": [-2.3]}),
            "BAD_POSITION",
        ),
        (
            json!({"type": "Polygon", "coordinates": [[[-2.3, 53.45], [-2.29, 53.45], [-2.29, 53.46], [-2.3, 53.46]]]}),
            "RING_NOT_CLOSED",
        ),
        (
            json!({"type": "Polygon", "coordinates": [[[-2.3, 53.45], [-2.29, 53.46], [-2.29, 53.45], [-2.3, 53.46], [-2.3, 53.45]]]}),
            "INVALID_POLYGON",
        ),
        (
            json!({"type": "LineString", "coordinates": [[-2.3, 53.45], [-2.29, 53.46]]}),
            "TYPE_NOT_ALLOWED_FOR_KIND",
        ),
        (
            json!({"type": "GeometryCollection", "geometries": []}),
            "UNSUPPORTED_TYPE",
        ),
        (json!({"type": "MultiPolygon", "coordinates": []}), "EMPTY"),
        (
            json!({"type": "MultiPoint", "coordinates": many}),
            "TOO_MANY_VERTICES",
        ),
        (json!("not json at all {"), "INVALID_INPUT"),
    ];
    for (geometry, reason) in geometry_cases {
        let err = app.error(create, with(json!({"geometry": geometry}))).await;
        if reason == "INVALID_INPUT" {
            assert_eq!(code(&err), "INVALID_INPUT", "{err:#}");
        } else {
            assert_eq!(code(&err), "INVALID_GEOMETRY", "{err:#}");
            assert_eq!(err["extensions"]["reason"], reason, "{err:#}");
        }
    }
    let input_cases = [
        json!({"name": "   "}),
        json!({"name": "x".repeat(201)}),
        json!({"categories": ["no-such-category"]}),
        json!({"categories": ["Not A Slug"]}),
        json!({"organizationId": uuid::Uuid::now_v7().to_string()}),
        json!({"organizationId": "42"}),
        json!({"email": "not-an-email"}),
        json!({"kind": "CASTLE"}),
    ];
    for patch in input_cases {
        let err = app.error(create, with(patch.clone())).await;
        assert_eq!(code(&err), "INVALID_INPUT", "{patch}: {err:#}");
    }
    assert_eq!(app.count_assets().await, 0, "no rejected input was written");
}

async fn organizations_and_categories(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for name in [
        "Age UK Trafford",
        "Trafford Carers Centre",
        "Sale Sharks Community Trust",
    ] {
        app.data(
            "mutation($name: String!) { createOrganization(input: {name: $name}) { id } }",
            json!({"name": name}),
        )
        .await;
    }
    for bad in [
        json!({"name": " "}),
        json!({"name": "Ok", "email": "nope"}),
        json!({"name": "x".repeat(201)}),
    ] {
        let err = app
            .error("mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }", json!({"input": bad}))
            .await;
        assert_eq!(code(&err), "INVALID_INPUT", "{bad}: {err:#}");
    }
    let page = "query($after: String) { organizations(first: 2, after: $after) { edges { node { id name } } pageInfo { hasNextPage endCursor } } }";
    let first = app.data(page, json!({})).await["organizations"].clone();
    assert_eq!(first["edges"].as_array().unwrap().len(), 2);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let second = app
        .data(page, json!({"after": first["pageInfo"]["endCursor"]}))
        .await["organizations"]
        .clone();
    assert_eq!(
        second["edges"][0]["node"]["name"],
        "Sale Sharks Community Trust"
    );
    assert_eq!(second["pageInfo"]["hasNextPage"], false);
    let id = second["edges"][0]["node"]["id"].clone();
    let one = app
        .data(
            "query($id: ID!) { organization(id: $id) { name } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(one["organization"]["name"], "Sale Sharks Community Trust");

    let cats = app
        .data("{ categories { slug name parent { slug } } }", json!({}))
        .await;
    let cats = cats["categories"].as_array().unwrap();
    let walking = cats
        .iter()
        .find(|c| c["slug"] == "walking")
        .expect("walking is seeded");
    assert_eq!(walking["parent"]["slug"], "physical-activity");
    assert!(cats.iter().any(|c| c["slug"] == "mental-wellbeing"));
}

on_both_backends!(
    creates_an_asset_and_reads_it_back,
    updates_only_from_the_current_version,
    concurrent_edits_of_one_version_have_one_winner,
    archiving_hides_an_asset_from_searches_but_not_from_its_id,
    unknown_and_malformed_ids,
    bad_input_is_refused_with_a_code_and_writes_nothing,
    organizations_and_categories,
);

/// A write refused with CONFLICT leaves SQLite's one writer connection clean and in the
/// pool: its rollback is waited for, not taken for a connection left in a transaction
/// and thrown away (a temporary table lives as long as its connection).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_writes_keep_the_writer_connection() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn(Backend::Sqlite).await;
    let a = app
        .create_asset(json!({"kind": "COMMUNITY_GROUP", "name": "Walking group", "geometry": point(-2.3, 53.45)}))
        .await;
    app.db
        .write
        .execute_unprepared("CREATE TEMP TABLE this_connection (x INTEGER)")
        .await
        .unwrap();
    for n in 0..20 {
        let response = app
            .gql(
                "mutation($id: ID!, $name: String!) { updateAsset(id: $id, expectedVersion: 7, input: {name: $name}) { version } }",
                json!({"id": a["id"], "name": format!("Walking group {n}")}),
            )
            .await;
        assert_eq!(code(&response["errors"][0]), "CONFLICT", "{response:#}");
    }
    app.db
        .write
        .execute_unprepared("SELECT x FROM temp.this_connection")
        .await
        .expect("the same writer connection, kept through 20 refused writes");
}
