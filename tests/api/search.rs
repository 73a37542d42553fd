//! Nearby, viewport and corridor searches: order, distances, filters, paging, bad input.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, code, point, square};
use crate::on_both_backends;

const NEARBY: &str =
    "query($near: LonLatInput!, $r: Float!, $filter: AssetFilter, $first: Int, $after: String) {
  nearbyAssets(near: $near, radiusMeters: $r, filter: $filter, first: $first, after: $after) {
    edges { cursor distanceMeters node { id name kind } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  } }";

const BBOX: &str = "query($bbox: BBoxInput!, $filter: AssetFilter, $first: Int, $after: String) {
  assetsInBBox(bbox: $bbox, filter: $filter, first: $first, after: $after) {
    edges { cursor node { id name } }
    pageInfo { hasNextPage endCursor }
  } }";

const INTERSECTING: &str =
    "query($g: GeoJSON!, $buffer: Float, $filter: AssetFilter, $first: Int) {
  assetsIntersecting(geometry: $g, bufferMeters: $buffer, filter: $filter, first: $first) {
    edges { distanceMeters node { name } }
    pageInfo { hasNextPage }
  } }";

/// Old Trafford-ish: the query point of these tests.
const HOME: (f64, f64) = (-2.2900, 53.4600);
/// Metres per degree of latitude here, near enough for placing fixtures.
const M_PER_DEG_LAT: f64 = 111_250.0;

fn north(meters: f64) -> f64 {
    HOME.1 + meters / M_PER_DEG_LAT
}

fn names(result: &Value) -> Vec<String> {
    result["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
        .collect()
}

/// A small neighbourhood: points at known distances north of HOME, a park around HOME,
/// a long cycle path passing 300 m south, and a far-away library.
async fn neighbourhood(app: &TestApp) {
    let fixtures = [
        json!({"kind": "COMMUNITY_GROUP", "name": "Lunch club 200m", "geometry": point(HOME.0, north(200.0)), "categories": ["lunch-clubs"], "description": "Hot meals on Tuesdays"}),
        json!({"kind": "SERVICE", "name": "Food bank 400m", "geometry": point(HOME.0, north(400.0)), "categories": ["food-banks"]}),
        json!({"kind": "CHARITY", "name": "Befriending 600m", "geometry": point(HOME.0, north(600.0)), "categories": ["befriending"], "description": "Phone calls for 50% of members"}),
        json!({"kind": "PARK", "name": "Home park", "geometry": square(HOME.0, HOME.1, 0.001), "categories": ["parks"]}),
        json!({"kind": "CYCLE_PATH", "name": "Canal towpath", "categories": ["cycling"],
               "geometry": {"type": "LineString", "coordinates": [[HOME.0 - 0.08, north(-300.0)], [HOME.0 + 0.08, north(-300.0)]]}}),
        json!({"kind": "VENUE", "name": "Far library", "geometry": point(HOME.0, north(5_000.0)), "categories": ["libraries"]}),
    ];
    for f in fixtures {
        app.create_asset(f).await;
    }
}

async fn nearby_is_nearest_first_with_true_distances(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    neighbourhood(&app).await;
    let r = app
        .data(
            NEARBY,
            json!({"near": {"lon": HOME.0, "lat": HOME.1}, "r": 1000.0}),
        )
        .await["nearbyAssets"]
        .clone();
    assert_eq!(
        names(&r),
        [
            "Home park",
            "Lunch club 200m",
            "Canal towpath",
            "Food bank 400m",
            "Befriending 600m"
        ]
    );
    let d: Vec<f64> = r["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["distanceMeters"].as_f64().unwrap())
        .collect();
    assert_eq!(d[0], 0.0, "inside the park is 0 m");
    // a 16 km path whose middle is right here is 300 m away, not kilometres
    assert!((d[2] - 300.0).abs() < 3.0, "{d:?}");
    assert!(
        (d[1] - 200.0).abs() < 2.0 && (d[3] - 400.0).abs() < 3.0,
        "{d:?}"
    );
    assert!(d.windows(2).all(|w| w[0] <= w[1]), "sorted: {d:?}");

    // the radius is inclusive: ask for exactly the food bank's distance
    let exact = app
        .data(
            NEARBY,
            json!({"near": {"lon": HOME.0, "lat": HOME.1}, "r": d[3]}),
        )
        .await["nearbyAssets"]
        .clone();
    assert_eq!(
        names(&exact).last().map(String::as_str),
        Some("Food bank 400m"),
        "{exact:#} {d:?}"
    );
}

async fn filters_by_kind_category_and_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    neighbourhood(&app).await;
    let near = json!({"lon": HOME.0, "lat": HOME.1});
    let search = |filter: Value| {
        let app = &app;
        let near = near.clone();
        async move {
            names(
                &app.data(
                    NEARBY,
                    json!({"near": near, "r": 10_000.0, "filter": filter}),
                )
                .await["nearbyAssets"],
            )
        }
    };
    assert_eq!(
        search(json!({"kinds": ["PARK", "VENUE"]})).await,
        ["Home park", "Far library"]
    );
    // social-connection is the parent of lunch-clubs and befriending
    assert_eq!(
        search(json!({"categories": ["social-connection"]})).await,
        ["Lunch club 200m", "Befriending 600m"]
    );
    assert_eq!(
        search(json!({"categories": ["food-banks", "cycling"]})).await,
        ["Canal towpath", "Food bank 400m"]
    );
    assert_eq!(
        search(json!({"text": "HOT MEALS"})).await,
        ["Lunch club 200m"]
    );
    assert_eq!(
        search(json!({"text": "50%"})).await,
        ["Befriending 600m"],
        "% is literal"
    );
    assert_eq!(
        search(
            json!({"text": "towpath", "kinds": ["CYCLE_PATH"], "categories": ["physical-activity"]})
        )
        .await,
        ["Canal towpath"]
    );
    assert!(
        search(json!({"text": "towpath", "kinds": ["PARK"]}))
            .await
            .is_empty()
    );
    let err = app
        .error(
            NEARBY,
            json!({"near": near, "r": 100.0, "filter": {"categories": ["no-such"]}}),
        )
        .await;
    assert_eq!(code(&err), "INVALID_INPUT");
}

async fn pages_are_stable_while_assets_are_added(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for i in 0..7 {
        app.create_asset(json!({"kind": "VENUE", "name": format!("Venue {i}"), "geometry": point(HOME.0, north(100.0 * f64::from(i + 1)))}))
            .await;
    }
    let near = json!({"lon": HOME.0, "lat": HOME.1});
    let first = app
        .data(NEARBY, json!({"near": near, "r": 2000.0, "first": 3}))
        .await["nearbyAssets"]
        .clone();
    assert_eq!(names(&first), ["Venue 0", "Venue 1", "Venue 2"]);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(first["pageInfo"]["endCursor"], first["edges"][2]["cursor"]);

    // someone adds an asset nearer than the page boundary, and one further out
    app.create_asset(
        json!({"kind": "VENUE", "name": "New near", "geometry": point(HOME.0, north(50.0))}),
    )
    .await;
    app.create_asset(
        json!({"kind": "VENUE", "name": "New far", "geometry": point(HOME.0, north(750.0))}),
    )
    .await;

    let mut seen: Vec<String> = names(&first);
    let mut after = first["pageInfo"]["endCursor"].clone();
    loop {
        let page = app
            .data(
                NEARBY,
                json!({"near": near, "r": 2000.0, "first": 3, "after": after}),
            )
            .await["nearbyAssets"]
            .clone();
        assert_eq!(page["pageInfo"]["hasPreviousPage"], true);
        seen.extend(names(&page));
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    // nothing repeated, nothing skipped; the later insert beyond the cursor shows up
    assert_eq!(
        seen,
        [
            "Venue 0", "Venue 1", "Venue 2", "Venue 3", "Venue 4", "Venue 5", "Venue 6", "New far"
        ]
    );
}

async fn viewport_returns_what_intersects_the_box(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    neighbourhood(&app).await;
    // a box north of HOME from 150 m to 450 m: two points; the park and path lie outside
    let bbox = json!({"minLon": HOME.0 - 0.01, "minLat": north(150.0), "maxLon": HOME.0 + 0.01, "maxLat": north(450.0)});
    let r = app.data(BBOX, json!({"bbox": bbox})).await["assetsInBBox"].clone();
    let mut got = names(&r);
    got.sort();
    assert_eq!(got, ["Food bank 400m", "Lunch club 200m"]);
    // a box that clips the park's corner and the path's middle, but holds none of their vertices
    let clip = json!({"minLon": HOME.0 + 0.0005, "minLat": north(-320.0), "maxLon": HOME.0 + 0.003, "maxLat": HOME.1 - 0.0005});
    let mut got = names(&app.data(BBOX, json!({"bbox": clip})).await["assetsInBBox"]);
    got.sort();
    assert_eq!(got, ["Canal towpath", "Home park"]);

    // paging through a viewport visits every asset once
    let all = json!({"minLon": HOME.0 - 0.1, "minLat": HOME.1 - 0.1, "maxLon": HOME.0 + 0.1, "maxLat": HOME.1 + 0.1});
    let mut seen = HashSet::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .data(BBOX, json!({"bbox": all, "first": 4, "after": after}))
            .await["assetsInBBox"]
            .clone();
        for n in names(&page) {
            assert!(seen.insert(n.clone()), "{n} seen twice");
        }
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), 6);
    let libraries = app
        .data(
            BBOX,
            json!({"bbox": all, "filter": {"categories": ["learning"]}}),
        )
        .await;
    assert_eq!(names(&libraries["assetsInBBox"]), ["Far library"]);
}

async fn intersecting_a_ward_or_a_corridor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    neighbourhood(&app).await;
    // a "ward" covering HOME to 450 m north
    let ward = json!({"type": "Polygon", "coordinates": [[
        [HOME.0 - 0.01, HOME.1], [HOME.0 + 0.01, HOME.1], [HOME.0 + 0.01, north(450.0)],
        [HOME.0 - 0.01, north(450.0)], [HOME.0 - 0.01, HOME.1]]]});
    let r = app.data(INTERSECTING, json!({"g": ward})).await["assetsIntersecting"].clone();
    assert_eq!(
        names(&r),
        ["Lunch club 200m", "Food bank 400m", "Home park"],
        "all at 0 m, then by id (creation order)"
    );
    assert!(
        r["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["distanceMeters"] == 0.0)
    );

    // a route running north from 1 km east of HOME; a 700 m corridor reaches nothing but
    // the towpath it crosses, a 1100 m one reaches the points too
    let route = json!({"type": "LineString", "coordinates": [[HOME.0 + 0.015, north(-1000.0)], [HOME.0 + 0.015, north(1000.0)]]});
    let narrow = app
        .data(INTERSECTING, json!({"g": route, "buffer": 700.0}))
        .await["assetsIntersecting"]
        .clone();
    assert_eq!(names(&narrow), ["Canal towpath"]);
    let wide = app
        .data(INTERSECTING, json!({"g": route, "buffer": 1100.0}))
        .await["assetsIntersecting"]
        .clone();
    let wide_names = names(&wide);
    assert_eq!(wide_names[0], "Canal towpath");
    assert!(wide_names.contains(&"Lunch club 200m".to_owned()));
    let d: Vec<f64> = wide["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["distanceMeters"].as_f64().unwrap())
        .collect();
    assert!(
        d.iter().all(|d| *d <= 1100.0) && d.windows(2).all(|w| w[0] <= w[1]),
        "{d:?}"
    );
    // the park's east edge is 0.014 degrees of longitude from the route: about 930 m
    let park = wide["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["name"] == "Home park")
        .unwrap();
    let park_d = park["distanceMeters"].as_f64().unwrap();
    assert!(
        (park_d - 0.014 * 111_320.0 * HOME.1.to_radians().cos()).abs() < 5.0,
        "{park_d}"
    );
}

async fn search_input_is_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let near = json!({"lon": HOME.0, "lat": HOME.1});
    let bad_nearby = [
        json!({"near": near, "r": 0.0}),
        json!({"near": near, "r": -5.0}),
        json!({"near": near, "r": 60_000.0}),
        json!({"near": {"lon": 190.0, "lat": 0.0}, "r": 10.0}),
        json!({"near": {"lon": 0.0, "lat": -91.0}, "r": 10.0}),
        json!({"near": near, "r": 10.0, "first": 0}),
        json!({"near": near, "r": 10.0, "first": 101}),
        json!({"near": near, "r": 10.0, "after": "garbage"}),
        json!({"near": near, "r": 10.0, "filter": {"text": "x".repeat(201)}}),
        json!({"near": near, "r": "ten"}),
    ];
    for vars in bad_nearby {
        let err = app.error(NEARBY, vars.clone()).await;
        assert_eq!(code(&err), "INVALID_INPUT", "{vars}: {err:#}");
    }
    let bad_boxes = [
        json!({"minLon": 1.0, "minLat": 0.0, "maxLon": 0.0, "maxLat": 1.0}),
        json!({"minLon": -10.0, "minLat": 50.0, "maxLon": 10.0, "maxLat": 60.0}),
        json!({"minLon": -181.0, "minLat": 0.0, "maxLon": 0.0, "maxLat": 1.0}),
    ];
    for bbox in bad_boxes {
        let err = app.error(BBOX, json!({"bbox": bbox})).await;
        assert_eq!(code(&err), "INVALID_INPUT", "{bbox}: {err:#}");
    }
    let err = app
        .error(INTERSECTING, json!({"g": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}}))
        .await;
    assert_eq!(code(&err), "INVALID_GEOMETRY");
    assert_eq!(err["extensions"]["reason"], "INVALID_POLYGON");
    let err = app
        .error(INTERSECTING, json!({"g": point(0.0, 0.0), "buffer": -1.0}))
        .await;
    assert_eq!(code(&err), "INVALID_INPUT");
    // syntax errors and unknown fields carry a code too
    let err = app.error("{ nearbyAssets(", json!({})).await;
    assert_eq!(code(&err), "INVALID_INPUT");
    let err = app.error("{ nope }", json!({})).await;
    assert_eq!(code(&err), "INVALID_INPUT");
}

on_both_backends!(
    nearby_is_nearest_first_with_true_distances,
    filters_by_kind_category_and_text,
    pages_are_stable_while_assets_are_added,
    viewport_returns_what_intersects_the_box,
    intersecting_a_ward_or_a_corridor,
    search_input_is_checked,
);

/// A page of assets with their categories (and their parents) and organizations costs the
/// same handful of queries whether it holds 10 assets or 100: relations come through
/// DataLoaders, filled for the whole page at once, never one query per asset.
async fn a_page_costs_a_fixed_number_of_queries(backend: Backend) {
    use std::sync::atomic::Ordering;
    let app = TestApp::spawn(backend).await;
    let features: Vec<Value> = (0..120)
        .map(|i| {
            json!({"type": "Feature", "geometry": point(HOME.0 + f64::from(i % 12) * 1e-4, HOME.1 + f64::from(i / 12) * 1e-4),
                   "properties": {"name": format!("venue {i}"), "managed": format!("group {}", i % 7),
                                  "categories": ["libraries", "befriending"]}})
        })
        .collect();
    let options = assetmap::service::import::ImportOptions {
        kind: Some(assetmap::domain::AssetKind::Venue),
        organization_property: Some("managed".into()),
        ..Default::default()
    };
    assetmap::service::import::import(
        &app.db,
        &json!({"type": "FeatureCollection", "features": features}),
        &options,
        &|_| {},
    )
    .await
    .unwrap();
    // the write came from here, not through the API: let this replica catch up
    app.state.written().await;
    let query = "query($first: Int!) { assetsInBBox(bbox: {minLon: -2.3, minLat: 53.45, maxLon: -2.28, maxLat: 53.47}, first: $first) {
        edges { node { id name categories { slug parent { slug } } organization { name } } } } }";
    let mut counts = Vec::new();
    for first in [10, 100] {
        // the change follower polls the log in the background on the same counter, so
        // a poll may land inside one request: the fewest of three runs is the page's cost
        let mut fewest = u64::MAX;
        let mut data = Value::Null;
        for _ in 0..3 {
            let before = app.db.queries.load(Ordering::SeqCst);
            data = app.data(query, json!({"first": first})).await;
            fewest = fewest.min(app.db.queries.load(Ordering::SeqCst) - before);
        }
        counts.push(fewest);
        let edges = data["assetsInBBox"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), usize::try_from(first).unwrap());
        assert_eq!(
            edges[0]["node"]["categories"][1]["parent"]["slug"],
            "learning"
        );
        assert!(
            edges[0]["node"]["organization"]["name"]
                .as_str()
                .unwrap()
                .starts_with("group")
        );
    }
    // the search resolver loads the page's relations in one query each, so the count
    // does not grow with the page, nor with how busy the executor is
    assert_eq!(counts[0], counts[1], "pages of 10 and 100 cost {counts:?}");
    assert!(counts[1] <= 6, "a page of 100 took {} queries", counts[1]);
    println!(
        "queries for a page of 10 and of 100 assets with categories, parents, organizations: {counts:?}"
    );
}

on_both_backends!(a_page_costs_a_fixed_number_of_queries);

/// Moving a path moves it in the spatial index: found at its new place, not its old one.
async fn a_moved_path_is_found_where_it_now_is(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let line = |lat: f64| json!({"type": "LineString", "coordinates": (0..=30).map(|i| json!([HOME.0 - 0.05 + f64::from(i) * 0.003, lat])).collect::<Vec<_>>()});
    let a = app
        .create_asset(
            json!({"kind": "CYCLE_PATH", "name": "Moving path", "geometry": line(HOME.1)}),
        )
        .await;
    let near = |lat: f64| json!({"near": {"lon": HOME.0, "lat": lat}, "r": 200.0});
    assert_eq!(
        names(&app.data(NEARBY, near(HOME.1)).await["nearbyAssets"]),
        ["Moving path"]
    );
    app.data(
        "mutation($id: ID!, $g: GeoJSON!) { updateAsset(id: $id, expectedVersion: 1, input: {geometry: $g}) { version } }",
        json!({"id": a["id"], "g": line(HOME.1 + 0.05)}),
    )
    .await;
    assert!(names(&app.data(NEARBY, near(HOME.1)).await["nearbyAssets"]).is_empty());
    assert_eq!(
        names(&app.data(NEARBY, near(HOME.1 + 0.05)).await["nearbyAssets"]),
        ["Moving path"]
    );
}

on_both_backends!(a_moved_path_is_found_where_it_now_is);

/// Every write is in the index before its mutation returns: a changed kind, changed
/// categories, an archive and a restore are each seen by the very next search.
async fn a_search_sees_each_write_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app
        .create_asset(json!({"kind": "COMMUNITY_GROUP", "name": "Walking group", "geometry": point(HOME.0, north(100.0)), "categories": ["walking"]}))
        .await;
    let id = a["id"].clone();
    let find = |filter: Value| json!({"near": {"lon": HOME.0, "lat": HOME.1}, "r": 500.0, "filter": filter});
    let found = |r: &Value| names(&r["nearbyAssets"]) == ["Walking group"];
    assert!(found(
        &app.data(NEARBY, find(json!({"kinds": ["COMMUNITY_GROUP"]})))
            .await
    ));

    let update = "mutation($id: ID!, $v: Int!, $input: UpdateAssetInput!) { updateAsset(id: $id, expectedVersion: $v, input: $input) { version } }";
    app.data(
        update,
        json!({"id": id, "v": 1, "input": {"kind": "CHARITY", "categories": ["befriending"]}}),
    )
    .await;
    assert!(!found(
        &app.data(NEARBY, find(json!({"kinds": ["COMMUNITY_GROUP"]})))
            .await
    ));
    assert!(!found(
        &app.data(NEARBY, find(json!({"categories": ["walking"]})))
            .await
    ));
    assert!(found(
        &app.data(
            NEARBY,
            find(json!({"kinds": ["CHARITY"], "categories": ["befriending"]}))
        )
        .await
    ));

    app.data(
        "mutation($id: ID!) { archiveAsset(id: $id, expectedVersion: 2) { version } }",
        json!({"id": id}),
    )
    .await;
    assert!(!found(&app.data(NEARBY, find(json!({}))).await));
    app.data(
        "mutation($id: ID!) { restoreAsset(id: $id, expectedVersion: 3, toVersion: 2) { version } }",
        json!({"id": id}),
    )
    .await;
    assert!(found(
        &app.data(NEARBY, find(json!({"kinds": ["CHARITY"]}))).await
    ));
}

on_both_backends!(a_search_sees_each_write_at_once);
