//! What a link worker searches by: opening hours (bank holidays, past midnight, two
//! sessions, no hours), accessibility, cost, age, freshness; and people's locations,
//! which never reach anonymous readers exactly.

use assetmap::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, code, point};
use crate::on_both_backends;

const HOME: (f64, f64) = (-2.2426, 53.4808);

async fn create(app: &TestApp, input: Value) -> String {
    let data = app
        .data(
            "mutation($input: CreateAssetInput!) { createAsset(input: $input) { id } }",
            json!({"input": input}),
        )
        .await;
    data["createAsset"]["id"].as_str().unwrap().to_owned()
}

fn near(i: u32) -> Value {
    point(HOME.0 + f64::from(i) * 1e-4, HOME.1)
}

async fn names(app: &TestApp, filter: Value) -> Vec<String> {
    let data = app
        .data_as(
            None,
            "query($f: AssetFilter) { nearbyAssets(near: {lon: -2.2426, lat: 53.4808}, radiusMeters: 2000, filter: $f, first: 50) { edges { node { name } } } }",
            json!({"f": filter}),
        )
        .await;
    data["nearbyAssets"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn opening_hours_answer_open_closed_or_unknown(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create(
        &app,
        json!({"kind": "VENUE", "name": "Library", "geometry": near(1),
        "openingHours": "Mo-Fr 09:30-12:00,13:30-16:00; PH off"}),
    )
    .await;
    create(
        &app,
        json!({"kind": "VENUE", "name": "Night shelter", "geometry": near(2),
        "openingHours": "Fr-Sa 20:00-02:00"}),
    )
    .await;
    create(
        &app,
        json!({"kind": "COMMUNITY_GROUP", "name": "Walking group", "geometry": near(3)}),
    )
    .await;

    // Monday 23 November 2026, 10:00 in London (GMT): the library's morning session
    let monday_morning = "2026-11-23T10:00:00Z";
    assert_eq!(
        names(&app, json!({"openAt": monday_morning})).await,
        ["Library"]
    );
    // between its two sessions
    assert!(
        names(&app, json!({"openAt": "2026-11-23T12:30:00Z"}))
            .await
            .is_empty()
    );
    // the summer bank holiday, 31 August 2026 at 10:00 BST: closed
    assert!(
        names(&app, json!({"openAt": "2026-08-31T09:00:00Z"}))
            .await
            .is_empty()
    );
    // 01:30 on a Saturday: the shelter, open since Friday 20:00
    assert_eq!(
        names(&app, json!({"openAt": "2026-11-28T01:30:00Z"})).await,
        ["Night shelter"]
    );
    // assets with no hours are neither: left out, unless asked for
    assert_eq!(
        names(
            &app,
            json!({"openAt": monday_morning, "includeUnknownHours": true})
        )
        .await,
        ["Library", "Walking group"]
    );
    let bad = app
        .error_as(None, "{ nearbyAssets(near: {lon: 0, lat: 0}, radiusMeters: 10, filter: {openNow: true, openAt: \"2026-01-01T00:00:00Z\"}) { edges { cursor } } }", json!({}))
        .await;
    assert_eq!(code(&bad), "INVALID_INPUT");
    // times far outside the holiday calendar are refused, not evaluated
    for query in [
        "{ nearbyAssets(near: {lon: 0, lat: 0}, radiusMeters: 10, filter: {openAt: \"+262142-12-31T23:59:59Z\"}) { edges { cursor } } }",
        "{ nearbyAssets(near: {lon: -2.2426, lat: 53.4808}, radiusMeters: 2000) { edges { node { isOpen(at: \"9999-12-31T23:59:59Z\") } } } }",
        "{ nearbyAssets(near: {lon: -2.2426, lat: 53.4808}, radiusMeters: 2000) { edges { node { nextOpen(after: \"1066-10-14T09:00:00Z\") } } } }",
    ] {
        let response = app.gql_as(None, query, json!({})).await;
        assert_eq!(code(&response["errors"][0]), "INVALID_INPUT", "{response}");
    }

    let each = app
        .data_as(
            None,
            "{ nearbyAssets(near: {lon: -2.2426, lat: 53.4808}, radiusMeters: 2000) { edges { node { name openingHours isOpen(at: \"2026-08-31T09:00:00Z\") nextOpen(after: \"2026-08-31T09:00:00Z\") } } } }",
            json!({}),
        )
        .await;
    let nodes: Vec<Value> = each["nearbyAssets"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(nodes[0]["isOpen"], false);
    // the day after the bank holiday, 09:30 BST
    assert_eq!(nodes[0]["nextOpen"], "2026-09-01T08:30:00+00:00");
    assert_eq!(nodes[1]["nextOpen"], "2026-09-04T19:00:00+00:00");
    assert_eq!(nodes[2]["isOpen"], Value::Null);
    assert_eq!(nodes[2]["nextOpen"], Value::Null);

    // invalid syntax is refused with the reason
    let error = app
        .error(
            "mutation($input: CreateAssetInput!) { createAsset(input: $input) { id } }",
            json!({"input": {"kind": "VENUE", "name": "x", "geometry": near(4), "openingHours": "Mondays 9 till 5"}}),
        )
        .await;
    assert_eq!(code(&error), "INVALID_INPUT");
    assert_eq!(error["extensions"]["field"], "openingHours");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("opening_hours syntax")
    );
}

async fn filters_by_accessibility_cost_age_and_freshness(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cafe = create(
        &app,
        json!({"kind": "VENUE", "name": "Dementia cafe", "geometry": near(1),
        "accessibility": ["STEP_FREE_ACCESS", "DEMENTIA_FRIENDLY", "ACCESSIBLE_TOILET"],
        "free": true, "minAge": 50}),
    )
    .await;
    create(
        &app,
        json!({"kind": "VENUE", "name": "Swimming pool", "geometry": near(2),
        "accessibility": ["STEP_FREE_ACCESS", "CHANGING_PLACES"], "free": false,
        "costNote": "£3.50, carers free"}),
    )
    .await;
    create(
        &app,
        json!({"kind": "COMMUNITY_GROUP", "name": "Youth club", "geometry": near(3),
        "minAge": 11, "maxAge": 18, "free": true}),
    )
    .await;

    assert_eq!(
        names(&app, json!({"accessibility": ["STEP_FREE_ACCESS"]})).await,
        ["Dementia cafe", "Swimming pool"]
    );
    assert_eq!(
        names(
            &app,
            json!({"accessibility": ["STEP_FREE_ACCESS", "DEMENTIA_FRIENDLY"]})
        )
        .await,
        ["Dementia cafe"]
    );
    assert_eq!(
        names(&app, json!({"free": true})).await,
        ["Dementia cafe", "Youth club"]
    );
    assert_eq!(names(&app, json!({"free": false})).await, ["Swimming pool"]);
    assert_eq!(
        names(&app, json!({"age": 15})).await,
        ["Swimming pool", "Youth club"]
    );
    assert_eq!(
        names(&app, json!({"age": 72, "free": true})).await,
        ["Dementia cafe"]
    );
    let bad = app
        .error_as(None, "{ nearbyAssets(near: {lon: 0, lat: 0}, radiusMeters: 10, filter: {age: -3}) { edges { cursor } } }", json!({}))
        .await;
    assert_eq!(code(&bad), "INVALID_INPUT");

    // nothing verified yet; then the cafe is
    assert!(
        names(&app, json!({"verifiedWithinDays": 30}))
            .await
            .is_empty()
    );
    app.data(
        "mutation($id: ID!) { verifyAsset(id: $id, expectedVersion: 1) { version } }",
        json!({"id": cafe}),
    )
    .await;
    assert_eq!(
        names(&app, json!({"verifiedWithinDays": 30})).await,
        ["Dementia cafe"]
    );

    // the details read back, and an update changes them
    let updated = app
        .data(
            "mutation($id: ID!) { updateAsset(id: $id, expectedVersion: 1, input: {accessibility: [HEARING_LOOP], free: null, maxAge: 120}) { accessibility free minAge maxAge } }",
            json!({"id": cafe}),
        )
        .await;
    assert_eq!(
        updated["updateAsset"],
        json!({"accessibility": ["HEARING_LOOP"], "free": null, "minAge": 50, "maxAge": 120})
    );
    let backwards = app
        .error(
            "mutation($id: ID!) { updateAsset(id: $id, expectedVersion: 2, input: {maxAge: 20}) { version } }",
            json!({"id": cafe}),
        )
        .await;
    assert_eq!(code(&backwards), "INVALID_INPUT");
}

/// A health champion's exact point never reaches an anonymous reader: not as geometry,
/// not through a distance, not by a tight box around where they are.
async fn people_are_shown_only_approximately(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app
        .data(r#"mutation { createOrganization(input: {name: "Health champions", trusted: true}) { id } }"#, json!({}))
        .await["createOrganization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let exact = (-2.24261, 53.48084);
    let approx = (-2.2425, 53.485);
    let id = create(
        &app,
        json!({"kind": "HEALTH_CHAMPION", "name": "Jo", "geometry": point(exact.0, exact.1),
        "organizationId": org}),
    )
    .await;
    let editor = app.token(Role::Editor, &[org.parse().unwrap()]).await;
    let other_org = app
        .data(
            r#"mutation { createOrganization(input: {name: "Other group"}) { id } }"#,
            json!({}),
        )
        .await["createOrganization"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let outsider = app.token(Role::Editor, &[other_org]).await;
    let get = "query($id: ID!) { asset(id: $id) { geometry } }";
    let public = app.data_as(None, get, json!({"id": id})).await["asset"]["geometry"].clone();
    assert_eq!(public["coordinates"], json!([approx.0, approx.1]));
    let theirs =
        app.data_as(Some(&outsider), get, json!({"id": id})).await["asset"]["geometry"].clone();
    assert_eq!(theirs["coordinates"], json!([approx.0, approx.1]));
    let own = app.data_as(Some(&editor), get, json!({"id": id})).await["asset"]["geometry"].clone();
    assert_eq!(own["coordinates"], json!([exact.0, exact.1]));

    // searches: geometry approximate, distance from the approximate point
    let nearby = app
        .data_as(
            None,
            &format!("{{ nearbyAssets(near: {{lon: {}, lat: {}}}, radiusMeters: 5000) {{ edges {{ distanceMeters node {{ geometry }} }} }} }}", exact.0, exact.1),
            json!({}),
        )
        .await;
    let edge = &nearby["nearbyAssets"]["edges"][0];
    assert_eq!(
        edge["node"]["geometry"]["coordinates"],
        json!([approx.0, approx.1])
    );
    let d = edge["distanceMeters"].as_f64().unwrap();
    assert!(
        d > 400.0 && d < 500.0,
        "distance {d} m is from the exact point"
    );
    // a tiny circle or box around the exact point finds nothing
    let tight = app
        .data_as(
            None,
            &format!("{{ nearbyAssets(near: {{lon: {}, lat: {}}}, radiusMeters: 50) {{ edges {{ cursor }} }} assetsInBBox(bbox: {{minLon: {}, minLat: {}, maxLon: {}, maxLat: {}}}) {{ edges {{ cursor }} }} assetsIntersecting(geometry: {{type: \"Point\", coordinates: [{}, {}]}}, bufferMeters: 50) {{ edges {{ cursor }} }} }}",
                exact.0, exact.1, exact.0 - 1e-4, exact.1 - 1e-4, exact.0 + 1e-4, exact.1 + 1e-4, exact.0, exact.1),
            json!({}),
        )
        .await;
    for field in ["nearbyAssets", "assetsInBBox", "assetsIntersecting"] {
        assert_eq!(
            tight[field]["edges"],
            json!([]),
            "{field} found the exact point"
        );
    }
    let around = app
        .data_as(
            None,
            &format!("{{ assetsInBBox(bbox: {{minLon: {}, minLat: {}, maxLon: {}, maxLat: {}}}) {{ edges {{ node {{ geometry }} }} }} assetsIntersecting(geometry: {{type: \"Point\", coordinates: [{}, {}]}}, bufferMeters: 10) {{ edges {{ distanceMeters node {{ geometry }} }} }} }}",
                approx.0 - 1e-3, approx.1 - 1e-3, approx.0 + 1e-3, approx.1 + 1e-3, approx.0, approx.1),
            json!({}),
        )
        .await;
    assert_eq!(
        around["assetsInBBox"]["edges"][0]["node"]["geometry"]["coordinates"],
        json!([approx.0, approx.1])
    );
    assert_eq!(
        around["assetsIntersecting"]["edges"][0]["distanceMeters"],
        0.0
    );
    assert_eq!(
        around["assetsIntersecting"]["edges"][0]["node"]["geometry"]["coordinates"],
        json!([approx.0, approx.1])
    );
    // a shortlist opened by anyone shows the approximate point
    let worker = app.token(Role::LinkWorker, &[]).await;
    let made = app
        .data_as(
            Some(&worker),
            "mutation($ids: [ID!]!) { createShortlist(assetIds: $ids) { code } }",
            json!({"ids": [id]}),
        )
        .await;
    let opened = app
        .data_as(
            None,
            "query($c: String!) { shortlist(code: $c) { items { asset { geometry } } } }",
            json!({"c": made["createShortlist"]["code"]}),
        )
        .await;
    assert_eq!(
        opened["shortlist"]["items"][0]["asset"]["geometry"]["coordinates"],
        json!([approx.0, approx.1])
    );
    // the export (open data) carries the approximate point only
    let mut out = Vec::new();
    assetmap::service::export::export(&app.db, &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        !text.contains("53.48084") && text.contains("53.485"),
        "{text}"
    );
    // moving them keeps both right
    app.data_as(
        Some(&editor),
        "mutation($id: ID!) { updateAsset(id: $id, expectedVersion: 1, input: {geometry: {type: \"Point\", coordinates: [-2.2301, 53.4899]}}) { version } }",
        json!({"id": id}),
    )
    .await;
    let moved = app.data_as(None, get, json!({"id": id})).await["asset"]["geometry"].clone();
    assert_eq!(moved["coordinates"], json!([-2.2275, 53.485]));
}

/// Words are found through each backend's own text index, in names, descriptions and
/// categories, with stemming, combined with the spatial search and the other filters; each
/// result says why it matched.
async fn full_text_with_reasons(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create(&app, json!({"kind": "COMMUNITY_GROUP", "name": "Tuesday walkers", "geometry": near(1),
        "description": "Gentle walks around the canal for beginners", "categories": ["walking"], "free": true}))
    .await;
    create(
        &app,
        json!({"kind": "SERVICE", "name": "Trussell food bank", "geometry": near(5),
        "description": "Emergency food parcels", "categories": ["food-banks"]}),
    )
    .await;
    create(
        &app,
        json!({"kind": "VENUE", "name": "Canal museum", "geometry": point(-2.5, 53.6),
        "description": "Walking tours of the canal"}),
    )
    .await;
    assert_eq!(
        names(&app, json!({"text": "walking"})).await,
        ["Tuesday walkers"]
    );
    assert_eq!(
        names(&app, json!({"text": "canal walk"})).await,
        ["Tuesday walkers"]
    );
    assert_eq!(
        names(&app, json!({"text": "FOOD parcels"})).await,
        ["Trussell food bank"]
    );
    // the category's words count: "banks" from food-banks, and a prefix
    assert_eq!(
        names(&app, json!({"text": "bank"})).await,
        ["Trussell food bank"]
    );
    assert_eq!(
        names(&app, json!({"text": "foo"})).await,
        ["Trussell food bank"]
    );
    assert!(names(&app, json!({"text": "swimming"})).await.is_empty());
    let bad = app
        .error_as(None, "{ nearbyAssets(near: {lon: 0, lat: 0}, radiusMeters: 10, filter: {text: \"!!\"}) { edges { cursor } } }", json!({}))
        .await;
    assert_eq!(code(&bad), "INVALID_INPUT");

    let data = app
        .data_as(
            None,
            "{ nearbyAssets(near: {lon: -2.2426, lat: 53.4808}, radiusMeters: 2000, filter: {categories: [\"physical-activity\"], text: \"walks\", free: true}) { edges { node { name } reasons { kind detail } } } }",
            json!({}),
        )
        .await;
    let edge = &data["nearbyAssets"]["edges"][0];
    assert_eq!(edge["node"]["name"], "Tuesday walkers");
    assert_eq!(
        edge["reasons"],
        json!([
            {"kind": "DISTANCE", "detail": "10 m away"},
            {"kind": "CATEGORY", "detail": "Walking"},
            {"kind": "FREE", "detail": "free"},
            {"kind": "TEXT", "detail": "mentions walks"}
        ])
    );
}

/// A link worker's shortlist opens by its code without signing in, shows each asset as
/// it is now (or that it was archived), holds no personal data, and expires.
async fn shortlists_by_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = create(
        &app,
        json!({"kind": "COMMUNITY_GROUP", "name": "Lunch club", "geometry": near(1)}),
    )
    .await;
    let b = create(
        &app,
        json!({"kind": "VENUE", "name": "Library", "geometry": near(2)}),
    )
    .await;
    let worker = app.token(Role::LinkWorker, &[]).await;
    let make = "mutation($ids: [ID!]!, $note: String) { createShortlist(assetIds: $ids, note: $note) { code note expiresAt items { asset { name } archived } } }";
    let anonymous = app.gql_as(None, make, json!({"ids": [a]})).await;
    assert_eq!(code(&anonymous["errors"][0]), "UNAUTHENTICATED");
    for (note, why) in [
        ("NHS number 943 476 5919", "NHS"),
        ("ring 07700 900123", "phone"),
        ("she lives at OL16 1AB", "postcode"),
    ] {
        let error = app
            .error_as(Some(&worker), make, json!({"ids": [a], "note": note}))
            .await;
        assert_eq!(code(&error), "INVALID_INPUT", "{why}");
        assert_eq!(error["extensions"]["field"], "note");
    }
    let made = app
        .data_as(
            Some(&worker),
            make,
            json!({"ids": [b, a, b], "note": "Try the lunch club on Tuesday"}),
        )
        .await["createShortlist"]
        .clone();
    let short = made["code"].as_str().unwrap().to_owned();
    assert_eq!(short.len(), 12);
    assert_eq!(
        made["items"],
        json!([{"asset": {"name": "Library"}, "archived": false}, {"asset": {"name": "Lunch club"}, "archived": false}])
    );

    // the asset changes and is archived: the shortlist shows it as it is now
    app.data("mutation($id: ID!) { updateAsset(id: $id, expectedVersion: 1, input: {name: \"Central library\"}) { version } }", json!({"id": b})).await;
    app.data(
        "mutation($id: ID!) { archiveAsset(id: $id, expectedVersion: 1) { version } }",
        json!({"id": a}),
    )
    .await;
    let open = "query($code: String!) { shortlist(code: $code) { note items { asset { name status } archived } } }";
    let typed = format!("{}-{}", short[..6].to_uppercase(), &short[6..]);
    let opened = app.data_as(None, open, json!({"code": typed})).await["shortlist"].clone();
    assert_eq!(opened["note"], "Try the lunch club on Tuesday");
    assert_eq!(
        opened["items"],
        json!([{"asset": {"name": "Central library", "status": "ACTIVE"}, "archived": false},
               {"asset": {"name": "Lunch club", "status": "ARCHIVED"}, "archived": true}])
    );
    assert!(
        app.data_as(None, open, json!({"code": "0000000000zz"}))
            .await["shortlist"]
            .is_null()
    );
    // expired: nobody can open it
    let past = assetmap::service::now() - chrono::Duration::days(1);
    let stmt = sea_orm::Statement::from_sql_and_values(
        app.db.write.get_database_backend(),
        match backend {
            Backend::Sqlite => "UPDATE shortlists SET expires_at = ?",
            Backend::Postgres => "UPDATE shortlists SET expires_at = $1",
        },
        [past.into()],
    );
    sea_orm::ConnectionTrait::execute_raw(&app.db.write, stmt)
        .await
        .unwrap();
    assert!(app.data_as(None, open, json!({"code": short})).await["shortlist"].is_null());
    // an archived asset cannot go on a new shortlist
    let error = app.error_as(Some(&worker), make, json!({"ids": [a]})).await;
    assert_eq!(code(&error), "INVALID_INPUT");
}

/// Moderators find listings nobody has confirmed lately, nearest first; admins add
/// taxonomy terms, which filter like the seeded ones.
async fn stale_listings_and_new_terms(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let fresh = create(
        &app,
        json!({"kind": "VENUE", "name": "Fresh", "geometry": near(1)}),
    )
    .await;
    create(
        &app,
        json!({"kind": "VENUE", "name": "Stale far", "geometry": near(9)}),
    )
    .await;
    create(
        &app,
        json!({"kind": "VENUE", "name": "Stale near", "geometry": near(4)}),
    )
    .await;
    app.data(
        "mutation($id: ID!) { verifyAsset(id: $id, expectedVersion: 1) { version } }",
        json!({"id": fresh}),
    )
    .await;
    let stale = "{ staleAssets(near: {lon: -2.2426, lat: 53.4808}, radiusMeters: 1000, olderThanDays: 30) { edges { node { name } } } }";
    let data = app.data(stale, json!({})).await;
    let found: Vec<&str> = data["staleAssets"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(found, ["Stale near", "Stale far"]);
    let editor_org = app
        .data(
            r#"mutation { createOrganization(input: {name: "G"}) { id } }"#,
            json!({}),
        )
        .await["createOrganization"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let editor = app.token(Role::Editor, &[editor_org]).await;
    assert_eq!(
        code(&app.error_as(Some(&editor), stale, json!({})).await),
        "FORBIDDEN"
    );

    let add = "mutation { createCategory(slug: \"chair-yoga\", name: \"Chair yoga\", parentSlug: \"physical-activity\") { slug parent { slug } } }";
    assert_eq!(
        code(&app.error_as(Some(&editor), add, json!({})).await),
        "FORBIDDEN"
    );
    let moderator = app.token(Role::Moderator, &[]).await;
    assert_eq!(
        code(&app.error_as(Some(&moderator), add, json!({})).await),
        "FORBIDDEN"
    );
    let added = app.data(add, json!({})).await;
    assert_eq!(
        added["createCategory"],
        json!({"slug": "chair-yoga", "parent": {"slug": "physical-activity"}})
    );
    assert_eq!(code(&app.error(add, json!({})).await), "INVALID_INPUT");
    create(&app, json!({"kind": "ACTIVITY", "name": "Seated exercise", "geometry": near(2), "categories": ["chair-yoga"]})).await;
    assert_eq!(
        names(&app, json!({"categories": ["physical-activity"]})).await,
        ["Seated exercise"]
    );
}

/// Imported OpenStreetMap-style tags become searchable details, and the export carries
/// them back out.
async fn import_and_export_carry_the_details(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let collection = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": near(1), "properties": {"name": "Community centre", "kind": "VENUE",
            "opening_hours": "Mo-Fr 09:00-17:00; PH off", "wheelchair": "yes", "fee": "no"}},
        {"type": "Feature", "geometry": near(2), "properties": {"name": "Food bank", "kind": "SERVICE",
            "opening_hours": "Wednesday 10am - 4pm"}}
    ]});
    let report = assetmap::service::import::import(
        &app.db,
        &collection,
        &assetmap::service::import::ImportOptions::default(),
        &|_| {},
    )
    .await
    .unwrap();
    // the write came from here, not through the API: let this replica catch up
    app.state.written().await;
    assert_eq!(report.imported, 2);
    assert_eq!(
        names(&app, json!({"openAt": "2026-11-23T10:00:00Z", "accessibility": ["STEP_FREE_ACCESS"], "free": true})).await,
        ["Community centre"]
    );
    let mut out = Vec::new();
    assetmap::service::export::export(&app.db, &mut out)
        .await
        .unwrap();
    let exported: Value = serde_json::from_slice(&out).unwrap();
    let centre = exported["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["name"] == "Community centre")
        .unwrap();
    assert_eq!(
        centre["properties"]["opening_hours"],
        "Mo-Fr 09:00-17:00; PH off"
    );
    assert_eq!(
        centre["properties"]["accessibility"],
        json!(["STEP_FREE_ACCESS"])
    );
    assert_eq!(centre["properties"]["free"], true);
}

on_both_backends!(
    import_and_export_carry_the_details,
    full_text_with_reasons,
    shortlists_by_code,
    stale_listings_and_new_terms,
    opening_hours_answer_open_closed_or_unknown,
    filters_by_accessibility_cost_age_and_freshness,
    people_are_shown_only_approximately,
);
