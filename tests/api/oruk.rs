//! The Open Referral UK 3.0 view: every kind of response valid against the profile's
//! compiled schemas, every parameter, paging, CORS, people at their approximate point
//! only, proposals never published; and bad parameters answered with a 400 naming them.

use assetmap::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, point, square};
use crate::on_both_backends;
use crate::postcodes::load_postcodes;

const HOME: (f64, f64) = (-2.2426, 53.4808);

fn schema(name: &str) -> jsonschema::Validator {
    let path = format!(
        "{}/tests/fixtures/oruk/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

/// A taxonomy term as the service schema defines it (the profile compiles no schema
/// of its own for `/taxonomy_terms`).
fn term_schema() -> jsonschema::Validator {
    let path = format!(
        "{}/tests/fixtures/oruk/service.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let service: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let term = service["properties"]["attributes"]["items"]["properties"]["taxonomy_term"].clone();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&term)
        .unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, value: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} is not valid ORUK: {errors:#?}\n{value:#}"
    );
}

async fn get(app: &TestApp, path: &str) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = app
        .client()
        .get(format!("{}/oruk{path}", app.base))
        .header("origin", "https://lga-service-finder.example")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body, headers)
}

async fn ok(app: &TestApp, path: &str) -> Value {
    let (status, body, headers) = get(app, path).await;
    assert_eq!(status, 200, "{path}: {body:#}");
    assert_eq!(
        headers
            .get("access-control-allow-origin")
            .map(|h| h.to_str().unwrap()),
        Some("*"),
        "{path}: open to any site"
    );
    body
}

fn assert_envelope(page: &Value, number: u64, per_page: u64, total: u64) {
    let pages = total.div_ceil(per_page).max(1);
    let size = match number.cmp(&pages) {
        std::cmp::Ordering::Less => per_page,
        std::cmp::Ordering::Equal => total - (pages - 1) * per_page,
        std::cmp::Ordering::Greater => 0,
    };
    assert_eq!(page["total_items"], total, "{page:#}");
    assert_eq!(page["total_pages"], pages);
    assert_eq!(page["page_number"], number);
    assert_eq!(page["size"], size);
    assert_eq!(page["first_page"], number == 1);
    assert_eq!(page["last_page"], number >= pages);
    assert_eq!(page["empty"], size == 0);
    assert_eq!(page["contents"].as_array().unwrap().len() as u64, size);
}

async fn create(app: &TestApp, token: Option<&str>, input: Value) -> Value {
    app.data_as(
        token,
        "mutation($input: CreateAssetInput!) { createAsset(input: $input) { id version status } }",
        json!({"input": input}),
    )
    .await["createAsset"]
        .clone()
}

async fn organization(app: &TestApp, name: &str, trusted: bool) -> String {
    app.data(
        "mutation($name: String!, $trusted: Boolean) { createOrganization(input: {name: $name, description: \"Volunteers in Wigan\", trusted: $trusted}) { id } }",
        json!({"name": name, "trusted": trusted}),
    )
    .await["createOrganization"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn names(page: &Value) -> Vec<String> {
    page["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s.get("service")
                .map_or(&s["name"], |service| &service["name"])
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// The demo of a directory: one service with every part, one with none, a park, a
/// person, a pending proposal and an archived listing.
struct Directory {
    full: String,
    bare: String,
    park: String,
    champion: String,
    pending: String,
    archived: String,
}

async fn directory(app: &TestApp) -> Directory {
    let org = organization(app, "Wigan Walkers", true).await;
    let full = create(
        app,
        Some(&app.admin_token),
        json!({"kind": "COMMUNITY_GROUP", "name": "Tuesday walking group", "geometry": point(HOME.0, HOME.1),
               "description": "A gentle walk round the park", "categories": ["walking"],
               "organizationId": org, "address": "Mesnes Park", "postcode": "WN1 1RG",
               "website": "https://walkers.example", "email": "walk@walkers.example", "phone": "01942 000000",
               "openingHours": "Tu 10:00-12:00; Th 14:00-15:30; PH off", "accessibility": ["STEP_FREE_ACCESS", "SEATING"],
               "free": false, "costNote": "£1 a walk", "minAge": 50, "maxAge": 99}),
    )
    .await;
    let full_id = full["id"].as_str().unwrap().to_owned();
    app.data(
        "mutation($id: ID!, $v: Int!) { verifyAsset(id: $id, expectedVersion: $v) { id } }",
        json!({"id": full_id, "v": full["version"]}),
    )
    .await;
    let bare = create(
        app,
        Some(&app.admin_token),
        json!({"kind": "VENUE", "name": "Bare hall", "geometry": point(HOME.0 + 0.001, HOME.1)}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let park = create(
        app,
        Some(&app.admin_token),
        json!({"kind": "PARK", "name": "Mesnes Park", "geometry": square(HOME.0 + 0.01, HOME.1, 0.002),
               "categories": ["parks"], "free": true, "openingHours": "Mo-Su 08:00-20:00"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let champion = create(
        app,
        Some(&app.admin_token),
        json!({"kind": "HEALTH_CHAMPION", "name": "Jo", "geometry": point(-2.24261, 53.48084), "organizationId": org,
               "website": "http://www.wigan.gov.uk/champions"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let untrusted = organization(app, "New group", false).await;
    let editor = app.token(Role::Editor, &[untrusted.parse().unwrap()]).await;
    let pending = create(
        app,
        Some(&editor),
        json!({"kind": "COMMUNITY_GROUP", "name": "Proposed club", "geometry": point(HOME.0, HOME.1 + 0.001),
               "organizationId": untrusted}),
    )
    .await;
    assert_eq!(pending["status"], "PENDING");
    let archived = create(
        app,
        Some(&app.admin_token),
        json!({"kind": "CHARITY", "name": "Closed charity", "geometry": point(HOME.0, HOME.1 + 0.002)}),
    )
    .await;
    app.data(
        "mutation($id: ID!, $v: Int!) { archiveAsset(id: $id, expectedVersion: $v) { id } }",
        json!({"id": archived["id"], "v": archived["version"]}),
    )
    .await;
    Directory {
        full: full_id,
        bare,
        park,
        champion,
        pending: pending["id"].as_str().unwrap().to_owned(),
        archived: archived["id"].as_str().unwrap().to_owned(),
    }
}

async fn every_response_is_valid_open_referral(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let d = directory(&app).await;
    let (service, service_list, sal, sal_list, term) = (
        schema("service"),
        schema("service_list"),
        schema("service_at_location"),
        schema("service_at_location_list"),
        term_schema(),
    );

    let root = ok(&app, "/").await;
    assert_eq!(root["version"], "3.0");
    assert!(
        root["openapi_url"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );

    // the list: published, active assets only, in name order
    let page = ok(&app, "/services").await;
    assert_envelope(&page, 1, 50, 4);
    assert_eq!(
        names(&page),
        ["Bare hall", "Jo", "Mesnes Park", "Tuesday walking group"]
    );
    for item in page["contents"].as_array().unwrap() {
        assert_valid(&service_list, item, "a listed service");
    }

    // every part of the full one
    let full = ok(&app, &format!("/services/{}", d.full)).await;
    assert_valid(&service, &full, "the full service");
    assert_eq!(full["status"], "active");
    assert_eq!(full["organization"]["name"], "Wigan Walkers");
    assert_eq!(full["url"], "https://walkers.example");
    assert_eq!(full["email"], "walk@walkers.example");
    assert_eq!(full["phones"][0]["number"], "01942 000000");
    assert_eq!(
        (full["minimum_age"].clone(), full["maximum_age"].clone()),
        (json!(50), json!(99))
    );
    assert_eq!(full["fees"], "£1 a walk");
    assert_eq!(full["cost_options"][0]["amount_description"], "£1 a walk");
    assert_eq!(full["assured_date"].as_str().unwrap().len(), 10);
    let schedules = full["schedules"].as_array().unwrap();
    assert_eq!(schedules.len(), 2);
    assert_eq!(
        (
            &schedules[0]["freq"],
            &schedules[0]["byday"],
            &schedules[0]["opens_at"],
            &schedules[0]["closes_at"]
        ),
        (
            &json!("WEEKLY"),
            &json!("TU"),
            &json!("10:00"),
            &json!("12:00")
        )
    );
    assert_eq!(schedules[1]["byday"], "TH");
    assert_eq!(schedules[1]["notes"], "Closed on bank holidays");
    let location = &full["service_at_locations"][0]["location"];
    assert_eq!(
        (location["longitude"].clone(), location["latitude"].clone()),
        (json!(HOME.0), json!(HOME.1))
    );
    assert_eq!(location["addresses"][0]["postal_code"], "WN1 1RG");
    assert_eq!(location["accessibility"].as_array().unwrap().len(), 2);
    let terms: Vec<&str> = full["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["taxonomy_term"]["term"].as_str().unwrap())
        .collect();
    assert_eq!(terms, ["COMMUNITY_GROUP", "walking"]);

    // and none of the bare one's
    let bare = ok(&app, &format!("/services/{}", d.bare)).await;
    assert_valid(&service, &bare, "the bare service");
    for absent in [
        "description",
        "url",
        "email",
        "fees",
        "minimum_age",
        "organization",
        "phones",
        "service_areas",
    ] {
        assert!(bare.get(absent).is_none(), "{absent}: {bare:#}");
    }
    assert_eq!(bare["schedules"], json!([]));
    assert_eq!(bare["cost_options"], json!([]));

    // a park is a point inside it, and its area as a GeoJSON extent
    let park = ok(&app, &format!("/services/{}", d.park)).await;
    assert_valid(&service, &park, "the park");
    assert_eq!(park["cost_options"][0]["amount"], 0);
    let area: Value =
        serde_json::from_str(park["service_areas"][0]["extent"].as_str().unwrap()).unwrap();
    assert_eq!(area["type"], "Polygon");
    let lon = park["service_at_locations"][0]["location"]["longitude"]
        .as_f64()
        .unwrap();
    assert!((lon - (HOME.0 + 0.01)).abs() < 0.002, "{lon}");

    // a person at the approximate point only
    let jo = ok(&app, &format!("/services/{}", d.champion)).await;
    let at = &jo["service_at_locations"][0]["location"];
    assert_eq!(
        (at["longitude"].clone(), at["latitude"].clone()),
        (json!(-2.2425), json!(53.485))
    );
    assert!(
        !jo.to_string().contains("-2.24261"),
        "the exact point never leaves"
    );
    assert_eq!(jo["url"], "http://www.wigan.gov.uk/champions");

    // a proposal is not published; an archived listing is inactive and unlisted
    let (status, body, _) = get(&app, &format!("/services/{}", d.pending)).await;
    assert_eq!(
        (status, body["errors"][0]["extensions"]["code"].clone()),
        (404, json!("NOT_FOUND"))
    );
    let archived = ok(&app, &format!("/services/{}", d.archived)).await;
    assert_eq!(archived["status"], "inactive");
    assert_valid(&service, &archived, "an archived service");

    // services at locations
    let sals = ok(&app, "/service_at_locations?per_page=2").await;
    assert_envelope(&sals, 1, 2, 4);
    for item in sals["contents"].as_array().unwrap() {
        assert_valid(&sal_list, item, "a listed service_at_location");
        let one = ok(
            &app,
            &format!("/service_at_locations/{}", item["id"].as_str().unwrap()),
        )
        .await;
        assert_valid(&sal, &one, "a service_at_location");
        assert_eq!(one["service"]["id"], item["service_id"]);
    }

    // taxonomies and their terms
    let taxonomies = ok(&app, "/taxonomies").await;
    assert_envelope(&taxonomies, 1, 50, 2);
    let terms = ok(&app, "/taxonomy_terms?per_page=500").await;
    let all = terms["contents"].as_array().unwrap();
    assert!(all.len() > 20, "categories and kinds");
    for t in all {
        assert_valid(&term, t, "a taxonomy term");
    }
    let walking = all.iter().find(|t| t["term"] == "walking").unwrap();
    let one = ok(
        &app,
        &format!("/taxonomy_terms/{}", walking["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(&one, walking);
    for t in taxonomies["contents"].as_array().unwrap() {
        let full = ok(&app, &format!("/taxonomies/{}", t["id"].as_str().unwrap())).await;
        assert!(full["name"].is_string() && full["description"].is_string());
        for term_value in full["taxonomy_terms"].as_array().unwrap() {
            assert_valid(&term, term_value, "a term of a taxonomy");
            assert_eq!(term_value["taxonomy_id"], t["id"]);
        }
    }
    for missing in [
        "/services/00000000-0000-7000-8000-000000000000",
        "/service_at_locations/00000000-0000-7000-8000-000000000000",
        "/taxonomies/00000000-0000-7000-8000-000000000000",
        "/taxonomy_terms/00000000-0000-7000-8000-000000000000",
    ] {
        let (status, body, _) = get(&app, missing).await;
        assert_eq!(
            (status, body["errors"][0]["extensions"]["code"].clone()),
            (404, json!("NOT_FOUND")),
            "{missing}"
        );
    }
}

async fn every_parameter_narrows_the_list(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let d = directory(&app).await;
    let listed = |body: &Value| names(body);
    assert_eq!(
        listed(&ok(&app, "/services?search=walk").await),
        ["Tuesday walking group"]
    );
    assert_eq!(
        listed(&ok(&app, "/services?search=MESNES%20park").await),
        ["Mesnes Park"]
    );
    // a category term (its children included) and a kind term
    let terms = ok(&app, "/taxonomy_terms?per_page=500").await;
    let term = |slug: &str| {
        terms["contents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["term"] == slug)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        listed(
            &ok(
                &app,
                &format!("/services?taxonomy_term_id={}", term("walking"))
            )
            .await
        ),
        ["Tuesday walking group"]
    );
    assert_eq!(
        listed(
            &ok(
                &app,
                &format!("/services?taxonomy_term_id={}", term("PARK"))
            )
            .await
        ),
        ["Mesnes Park"]
    );
    assert_eq!(
        listed(
            &ok(
                &app,
                "/services?taxonomy_term_id=00000000-0000-7000-8000-000000000000"
            )
            .await
        ),
        Vec::<String>::new()
    );
    // ages: a minimum of at least, a maximum of at most
    assert_eq!(
        listed(&ok(&app, "/services?minimum_age=18").await),
        ["Tuesday walking group"]
    );
    assert_eq!(
        listed(&ok(&app, "/services?minimum_age=60").await),
        Vec::<String>::new()
    );
    assert_eq!(
        listed(&ok(&app, "/services?maximum_age=100").await),
        ["Tuesday walking group"]
    );
    // day and times against the schedules
    assert_eq!(
        listed(&ok(&app, "/services?day=TU").await),
        ["Mesnes Park", "Tuesday walking group"]
    );
    assert_eq!(
        listed(
            &ok(
                &app,
                "/services?day=thursday&start_time=13:00&end_time=16:00"
            )
            .await
        ),
        ["Tuesday walking group"]
    );
    assert_eq!(
        listed(&ok(&app, "/services?day=TU&start_time=09:00&end_time=11:00").await),
        Vec::<String>::new()
    );
    // modified after: everything is new; nothing after tomorrow
    assert_eq!(
        ok(&app, "/services?modified_after=2020-01-01").await["total_items"],
        4
    );
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    assert_eq!(
        ok(
            &app,
            &format!("/services?modified_after={}", tomorrow.replace('+', "%2B"))
        )
        .await["total_items"],
        0
    );
    // paging walks through everything, with its metadata right on every page
    let mut seen = Vec::new();
    for number in 1..=4 {
        let page = ok(&app, &format!("/services?per_page=1&page={number}")).await;
        assert_envelope(&page, number, 1, 4);
        seen.extend(listed(&page));
    }
    assert_eq!(
        seen,
        ["Bare hall", "Jo", "Mesnes Park", "Tuesday walking group"]
    );
    assert_envelope(&ok(&app, "/services?per_page=3&page=9").await, 9, 3, 4);

    // from a postcode, nearest first, within the proximity
    load_postcodes(&app).await;
    let near = ok(
        &app,
        "/service_at_locations?postcode=m2%205dw&proximity=200",
    )
    .await;
    assert_eq!(listed(&near), ["Tuesday walking group", "Bare hall"]);
    let wide = ok(
        &app,
        "/services?postcode=M25DW&proximity=5000&per_page=2&page=2",
    )
    .await;
    assert_envelope(&wide, 2, 2, 4);
    assert_eq!(listed(&wide), ["Jo", "Mesnes Park"]);
    let _ = (&d.full, &d.park);
}

async fn bad_parameters_are_refused_by_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    load_postcodes(&app).await;
    for (query, field) in [
        ("page=0", "page"),
        ("page=two", "page"),
        ("per_page=100000", "per_page"),
        ("per_page=-1", "per_page"),
        ("minimum_age=old", "minimum_age"),
        ("maximum_age=12.5", "maximum_age"),
        ("day=someday", "day"),
        ("start_time=25:00", "start_time"),
        ("end_time=noon", "end_time"),
        ("taxonomy_term_id=walking", "taxonomy_term_id"),
        ("taxonomy_id=1", "taxonomy_id"),
        ("modified_after=yesterday", "modified_after"),
        ("postcode=NOT%20A%20POSTCODE", "postcode"),
        ("postcode=M25DW&proximity=far", "proximity"),
        ("postcode=M25DW&proximity=-5", "proximity"),
        ("postcode=M25DW&proximity=1e9", "proximity"),
        ("proximity=100", "proximity"),
        (&format!("search={}", "x".repeat(300)), "search"),
    ] {
        let (status, body, _) = get(&app, &format!("/services?{query}")).await;
        assert_eq!(status, 400, "{query}: {body:#}");
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "INVALID_INPUT", "{query}");
        assert_eq!(error["extensions"]["field"], field, "{query}: {body:#}");
    }
    let (status, body, _) = get(&app, "/services?postcode=WN9%209ZZ").await;
    assert_eq!(status, 404);
    assert_eq!(body["errors"][0]["extensions"]["field"], "postcode");
    let (status, body, _) = get(&app, "/services/not-a-uuid").await;
    assert_eq!(
        (status, body["errors"][0]["extensions"]["field"].clone()),
        (400, json!("id"))
    );
}

on_both_backends!(
    every_response_is_valid_open_referral,
    every_parameter_narrows_the_list,
    bad_parameters_are_refused_by_name,
);

/// What the public sees of every listed asset, by name, through GraphQL.
async fn public_assets(app: &TestApp) -> Vec<Value> {
    let data = app
        .data_as(
            None,
            "{ assetsInBBox(bbox: {minLon: -2.4, minLat: 53.4, maxLon: -2.1, maxLat: 53.6}, first: 100) { edges { node {
                name kind description geometry address postcode website email phone openingHours accessibility
                free costNote minAge maxAge categories { slug } organization { name } } } } }",
            json!({}),
        )
        .await;
    let mut nodes: Vec<Value> = data["assetsInBBox"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    nodes.sort_by_key(|n| n["name"].as_str().unwrap().to_owned());
    nodes
}

async fn an_oruk_feed_round_trips(backend: Backend) {
    use crate::helpers::fresh_database;
    use crate::postcodes::assetmap;
    let published = TestApp::spawn(backend).await;
    let d = directory(&published).await;
    let feed = format!("{}/oruk", published.base);
    let copy = fresh_database(backend).await;
    let (ok, err) = assetmap(&["import", "--format", "oruk", "--quiet", &feed], &copy.url);
    assert!(ok, "{err}");
    assert!(
        err.contains("imported 4 of 4 features (0 rejected, 0 with a field left out, 1 organizations created)"),
        "{err}"
    );
    // the same feed again: nothing new, nothing changed
    let (ok, err) = assetmap(&["import", "--format", "oruk", "--quiet", &feed], &copy.url);
    assert!(ok, "{err}");
    assert!(
        err.contains("imported 0 of 4") && err.contains("0 updated, 4 unchanged"),
        "{err}"
    );
    // an edit at the source comes through as a new version of the same asset
    let walk = published
        .data(
            "query($id: ID!) { asset(id: $id) { version } }",
            json!({"id": d.full}),
        )
        .await;
    published
        .data(
            "mutation($id: ID!, $v: Int!) { updateAsset(id: $id, expectedVersion: $v, input: {name: \"Tuesday walk\", openingHours: \"Tu,Fr 10:00-12:00\"}) { id } }",
            json!({"id": d.full, "v": walk["asset"]["version"]}),
        )
        .await;
    let (ok, err) = assetmap(&["import", "--format", "oruk", "--quiet", &feed], &copy.url);
    assert!(ok, "{err}");
    assert!(err.contains("1 updated, 3 unchanged"), "{err}");

    let copied = TestApp::spawn_with(backend, copy, false).await;
    let (theirs, ours) = (
        public_assets(&published).await,
        public_assets(&copied).await,
    );
    assert_eq!(ours.len(), 4);
    assert_eq!(theirs, ours, "the same assets after a round trip");
    let _ = (&d.bare, &d.park, &d.champion, &d.pending, &d.archived);
}

async fn a_malformed_feed_writes_nothing(backend: Backend) {
    use crate::helpers::fresh_database;
    use crate::postcodes::assetmap;
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_database(backend).await;
    let good = json!({"id": "1", "name": "Lunch club", "status": "active",
        "service_at_locations": [{"id": "l", "location": {"id": "m", "location_type": "physical", "latitude": 53.5, "longitude": -2.6}}]});
    for (name, doc, expected) in [
        (
            "wrong-type.json",
            json!({"contents": [good.clone(), {"id": "2", "name": "Cafe", "minimum_age": "ten"}]}),
            "minimum_age is not a number",
        ),
        (
            "no-name.json",
            json!({"contents": [good.clone(), {"id": "3"}]}),
            "service 3 has no name",
        ),
        (
            "no-id.json",
            json!([good.clone(), {"name": "Anonymous"}]),
            "a service has no id",
        ),
        (
            "not-a-page.json",
            json!({"items": []}),
            "not an Open Referral page",
        ),
        (
            "contents.json",
            json!({"contents": "everything"}),
            "contents is not a list",
        ),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, doc.to_string()).unwrap();
        let (ok, err) = assetmap(
            &[
                "import",
                "--format",
                "oruk",
                "--quiet",
                file.to_str().unwrap(),
            ],
            &database.url,
        );
        assert!(!ok, "{name}: {err}");
        assert!(
            err.contains(expected) && err.contains("nothing was imported"),
            "{name}: {err}"
        );
    }
    // over 50 MB: refused before it is read
    let big = dir.path().join("big.json");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(51 * 1024 * 1024).unwrap();
    let (ok, err) = assetmap(
        &[
            "import",
            "--format",
            "oruk",
            "--quiet",
            big.to_str().unwrap(),
        ],
        &database.url,
    );
    assert!(!ok && err.contains("larger than 50 MB"), "{err}");
    // a mapping file that names a kind we do not have
    let mapping = dir.path().join("mapping.json");
    std::fs::write(&mapping, r#"{"default_kind": "CASTLE"}"#).unwrap();
    let page = dir.path().join("page.json");
    std::fs::write(&page, json!({"contents": [good]}).to_string()).unwrap();
    let (ok, err) = assetmap(
        &[
            "import",
            "--format",
            "oruk",
            "--quiet",
            "--mapping",
            mapping.to_str().unwrap(),
            page.to_str().unwrap(),
        ],
        &database.url,
    );
    assert!(!ok && err.contains("unknown kind \"CASTLE\""), "{err}");

    // a feed that pages round in a loop, and one that answers with too much
    let looping = feed_server(|page| {
        let _ = page;
        json!({"total_items": 3, "total_pages": 3, "page_number": 1, "size": 1, "first_page": true,
               "last_page": false, "empty": false, "contents": [{"id": "1", "name": "Loop", "service_at_locations": []}]})
        .to_string()
    })
    .await;
    let (ok, err) = assetmap(
        &["import", "--format", "oruk", "--quiet", &looping],
        &database.url,
    );
    assert!(!ok && err.contains("pages in a loop"), "{err}");
    let repeating = feed_server(|page| {
        json!({"total_items": 3, "total_pages": 3, "page_number": page, "contents": [{"id": "1", "name": "Loop", "service_at_locations": []}]})
        .to_string()
    })
    .await;
    let (ok, err) = assetmap(
        &["import", "--format", "oruk", "--quiet", &repeating],
        &database.url,
    );
    assert!(!ok && err.contains("only services already read"), "{err}");
    let huge =
        feed_server(|_| format!("{{\"contents\": [\"{}\"]}}", "x".repeat(51 * 1024 * 1024))).await;
    let (ok, err) = assetmap(
        &["import", "--format", "oruk", "--quiet", &huge],
        &database.url,
    );
    assert!(!ok && err.contains("larger than 50 MB"), "{err}");
    let app = TestApp::spawn_with(backend, database, false).await;
    assert_eq!(app.count_assets().await, 0);
}

/// An HTTP server on loopback answering `/services?page=N` with `page(N)`.
async fn feed_server(page: fn(u64) -> String) -> String {
    use axum::extract::Query;
    use std::collections::HashMap;
    let router = axum::Router::new().route(
        "/services",
        axum::routing::get(move |Query(q): Query<HashMap<String, String>>| async move {
            let n = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
            ([("content-type", "application/json")], page(n))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

on_both_backends!(an_oruk_feed_round_trips, a_malformed_feed_writes_nothing);
