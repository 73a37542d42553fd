//! Vector tiles: the public map (people approximate, proposals and archived assets
//! never), filters, clusters at low zoom and in dense tiles, an ETag that answers 304
//! until something changes, and bad addresses refused with a JSON 400.

use std::collections::HashMap;

use assetmap::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, point, square};
use crate::on_both_backends;

const HOME: (f64, f64) = (-2.2426, 53.4808);
/// The zoom-14 tile holding HOME, and the zoom-8 one.
const Z14: (u8, u32, u32) = (14, 8089, 5300);
const Z8: (u8, u32, u32) = (8, 126, 82);

/// A protobuf field: a varint, or bytes.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn varint(b: &[u8], at: &mut usize) -> u64 {
    let mut v = 0_u64;
    let mut shift = 0;
    loop {
        let byte = b[*at];
        *at += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return v;
        }
        shift += 7;
    }
}

fn fields(b: &[u8]) -> Vec<(u64, Field<'_>)> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < b.len() {
        let key = varint(b, &mut at);
        let (number, wire) = (key >> 3, key & 7);
        match wire {
            0 => out.push((number, Field::Varint(varint(b, &mut at)))),
            2 => {
                let len = usize::try_from(varint(b, &mut at)).unwrap();
                out.push((number, Field::Bytes(&b[at..at + len])));
                at += len;
            }
            1 => at += 8,
            5 => at += 4,
            w => panic!("wire type {w}"),
        }
    }
    out
}

fn packed(b: &[u8]) -> Vec<u64> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < b.len() {
        out.push(varint(b, &mut at));
    }
    out
}

/// A decoded feature: its tags (as text), geometry type and first point.
#[derive(Debug)]
struct Feature {
    tags: HashMap<String, String>,
    kind: u64,
    first: (i64, i64),
}

fn decode(tile: &[u8]) -> Vec<Feature> {
    let mut out = Vec::new();
    for (n, layer) in fields(tile) {
        let Field::Bytes(layer) = layer else { continue };
        assert_eq!(n, 3, "layers only");
        let mut keys = Vec::new();
        let mut values = Vec::new();
        let mut features = Vec::new();
        for (n, f) in fields(layer) {
            match (n, f) {
                (1, Field::Bytes(name)) => assert_eq!(name, b"assets"),
                (2, Field::Bytes(feature)) => features.push(feature),
                (3, Field::Bytes(key)) => keys.push(String::from_utf8(key.to_vec()).unwrap()),
                (4, Field::Bytes(value)) => {
                    let text = match fields(value).pop() {
                        Some((1, Field::Bytes(s))) => String::from_utf8(s.to_vec()).unwrap(),
                        Some((5 | 4, Field::Varint(v))) => v.to_string(),
                        Some((7, Field::Varint(v))) => (v == 1).to_string(),
                        _ => String::new(),
                    };
                    values.push(text);
                }
                (5, Field::Varint(extent)) => assert_eq!(extent, 4096),
                _ => {}
            }
        }
        for feature in features {
            let mut tags = HashMap::new();
            let mut kind = 0;
            let mut first = (0, 0);
            for (n, f) in fields(feature) {
                match (n, f) {
                    (2, Field::Bytes(t)) => {
                        for pair in packed(t).chunks(2) {
                            tags.insert(
                                keys[usize::try_from(pair[0]).unwrap()].clone(),
                                values[usize::try_from(pair[1]).unwrap()].clone(),
                            );
                        }
                    }
                    (3, Field::Varint(k)) => kind = k,
                    (4, Field::Bytes(g)) => {
                        let g = packed(g);
                        let zigzag = |v: u64| {
                            let v = i64::try_from(v).unwrap();
                            (v >> 1) ^ -(v & 1)
                        };
                        first = (zigzag(g[1]), zigzag(g[2]));
                    }
                    _ => {}
                }
            }
            out.push(Feature { tags, kind, first });
        }
    }
    out
}

async fn fetch(
    app: &TestApp,
    (z, x, y): (u8, u32, u32),
    query: &str,
    etag: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client()
        .get(format!("{}/tiles/{z}/{x}/{y}.mvt{query}", app.base));
    if let Some(etag) = etag {
        request = request.header("if-none-match", etag);
    }
    request.send().await.unwrap()
}

async fn features(app: &TestApp, tile: (u8, u32, u32), query: &str) -> Vec<Feature> {
    let response = fetch(app, tile, query, None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.mapbox-vector-tile"
    );
    decode(&response.bytes().await.unwrap())
}

fn names(features: &[Feature]) -> Vec<String> {
    let mut names: Vec<String> = features
        .iter()
        .filter_map(|f| f.tags.get("name").cloned())
        .collect();
    names.sort();
    names
}

/// Where a longitude/latitude falls in a tile, in tile units.
fn project((z, x, y): (u8, u32, u32), lon: f64, lat: f64) -> (i64, i64) {
    let scale = 4096.0 * f64::from(1_u32 << z);
    let lat = lat.to_radians();
    let px = (lon + 180.0) / 360.0 * scale - f64::from(x) * 4096.0;
    let py = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * scale
        - f64::from(y) * 4096.0;
    #[allow(clippy::cast_possible_truncation)]
    (px.round() as i64, py.round() as i64)
}

async fn tiles_show_the_public_map(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let create =
        "mutation($input: CreateAssetInput!) { createAsset(input: $input) { id version } }";
    app.data(create, json!({"input": {"kind": "COMMUNITY_GROUP", "name": "Walking group", "geometry": point(HOME.0, HOME.1), "categories": ["walking"]}}))
        .await;
    app.data(create, json!({"input": {"kind": "PARK", "name": "Square park", "geometry": square(HOME.0 - 0.005, HOME.1, 0.001), "categories": ["parks"]}}))
        .await;
    let org = app
        .data(
            r#"mutation { createOrganization(input: {name: "Champions", trusted: true}) { id } }"#,
            json!({}),
        )
        .await["createOrganization"]["id"]
        .clone();
    app.data(create, json!({"input": {"kind": "HEALTH_CHAMPION", "name": "Jo", "geometry": point(-2.24261, 53.48084), "organizationId": org}}))
        .await;
    let untrusted = app
        .data(
            r#"mutation { createOrganization(input: {name: "New group"}) { id } }"#,
            json!({}),
        )
        .await["createOrganization"]["id"]
        .clone();
    let editor = app
        .token(
            Role::Editor,
            &[untrusted.as_str().unwrap().parse().unwrap()],
        )
        .await;
    app.data_as(Some(&editor), create, json!({"input": {"kind": "VENUE", "name": "Proposed hall", "geometry": point(HOME.0, HOME.1 + 0.001), "organizationId": untrusted}}))
        .await;
    let closed = app
        .data(create, json!({"input": {"kind": "CHARITY", "name": "Closed charity", "geometry": point(HOME.0 + 0.001, HOME.1)}}))
        .await["createAsset"]
        .clone();
    app.data(
        "mutation($id: ID!, $v: Int!) { archiveAsset(id: $id, expectedVersion: $v) { id } }",
        json!({"id": closed["id"], "v": closed["version"]}),
    )
    .await;

    let drawn = features(&app, Z14, "").await;
    assert_eq!(names(&drawn), ["Jo", "Square park", "Walking group"]);
    let walk = drawn
        .iter()
        .find(|f| f.tags["name"] == "Walking group")
        .unwrap();
    assert_eq!(
        (
            walk.kind,
            walk.tags["kind"].as_str(),
            walk.tags["categories"].as_str()
        ),
        (1, "COMMUNITY_GROUP", "walking")
    );
    assert_eq!(walk.first, project(Z14, HOME.0, HOME.1));
    let park = drawn
        .iter()
        .find(|f| f.tags["name"] == "Square park")
        .unwrap();
    assert_eq!(park.kind, 3, "a polygon");
    // the person at the approximate point only
    let jo = drawn.iter().find(|f| f.tags["name"] == "Jo").unwrap();
    assert_eq!(jo.first, project(Z14, -2.2425, 53.485));
    assert_ne!(jo.first, project(Z14, -2.24261, 53.48084));

    // filters
    assert_eq!(
        names(&features(&app, Z14, "?kinds=PARK").await),
        ["Square park"]
    );
    assert_eq!(
        names(&features(&app, Z14, "?categories=physical-activity").await),
        ["Walking group"]
    );
    assert_eq!(
        names(&features(&app, Z14, "?kinds=park,community_group&categories=parks").await),
        ["Square park"]
    );

    // low zoom: clusters, counting every public asset once
    let clusters = features(&app, Z8, "").await;
    assert!(clusters.iter().all(|f| f.tags["cluster"] == "true"));
    let total: u64 = clusters
        .iter()
        .map(|f| f.tags["count"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 3);
}

async fn tiles_answer_304_until_something_changes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app
        .data(
            "mutation($input: CreateAssetInput!) { createAsset(input: $input) { id version } }",
            json!({"input": {"kind": "VENUE", "name": "Hall", "geometry": point(HOME.0, HOME.1)}}),
        )
        .await["createAsset"]
        .clone();
    let first = fetch(&app, Z14, "", None).await;
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(first.headers()["cache-control"], "no-cache");
    let again = fetch(&app, Z14, "", Some(&etag)).await;
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    // drawn once, served again from memory: the same bytes; a filter is its own tile
    let first = first.bytes().await.unwrap();
    assert_eq!(
        fetch(&app, Z14, "", None).await.bytes().await.unwrap(),
        first
    );
    for (query, expected) in [
        ("?kinds=PARK", vec![]),
        ("?kinds=VENUE", vec!["Hall"]),
        ("?kinds=PARK", vec![]),
        ("?kinds=VENUE,PARK", vec!["Hall"]),
        ("?kinds=PARK,VENUE", vec!["Hall"]),
    ] {
        assert_eq!(
            names(&features(&app, Z14, query).await),
            expected,
            "{query}"
        );
    }
    // an edit: the same validator now gets the new tile
    app.data(
        "mutation($id: ID!, $v: Int!) { updateAsset(id: $id, expectedVersion: $v, input: {name: \"Village hall\"}) { id } }",
        json!({"id": created["id"], "v": created["version"]}),
    )
    .await;
    let fresh = fetch(&app, Z14, "", Some(&etag)).await;
    assert_eq!(fresh.status(), 200);
    assert_ne!(fresh.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(
        names(&decode(&fresh.bytes().await.unwrap())),
        ["Village hall"]
    );
    assert_eq!(
        names(&features(&app, Z14, "?kinds=VENUE").await),
        ["Village hall"]
    );
}

/// With the tile cache turned off, every tile is drawn on request, the same as ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiles_without_the_cache() {
    let app = TestApp::spawn_configured(
        Backend::Sqlite,
        crate::helpers::fresh_database(Backend::Sqlite).await,
        |config| config.http.tile_cache_bytes = 0,
    )
    .await;
    app.create_asset(json!({"kind": "VENUE", "name": "Hall", "geometry": point(HOME.0, HOME.1)}))
        .await;
    assert_eq!(names(&features(&app, Z14, "").await), ["Hall"]);
    let first = fetch(&app, Z14, "", None).await.bytes().await.unwrap();
    assert_eq!(
        fetch(&app, Z14, "", None).await.bytes().await.unwrap(),
        first
    );
}

async fn a_dense_tile_is_clustered_not_cut(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // 3 000 points inside one zoom-14 tile (about 2.4 km across)
    let features_in: Vec<Value> = (0..3000)
        .map(|i| {
            json!({"type": "Feature", "geometry": point(HOME.0 - 0.012 + f64::from(i % 60) * 1.5e-4, HOME.1 - 0.004 + f64::from(i / 60) * 1.5e-4),
                   "properties": {"name": format!("site {i}")}})
        })
        .collect();
    let options = assetmap::service::import::ImportOptions {
        kind: Some(assetmap::domain::AssetKind::Venue),
        ..Default::default()
    };
    assetmap::service::import::import(
        &app.db,
        &json!({"type": "FeatureCollection", "features": features_in}),
        &options,
        &|_| {},
    )
    .await
    .unwrap();
    // the write came from here, not through the API: let this replica catch up
    app.state.written().await;
    let response = fetch(&app, Z14, "", None).await;
    let bytes = response.bytes().await.unwrap();
    let decoded = decode(&bytes);
    let total: u64 = decoded
        .iter()
        .map(|f| f.tags["count"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 3000, "every asset counted, none cut");
    assert!(decoded.len() < 3000 && decoded.iter().all(|f| f.tags["cluster"] == "true"));
    assert!(bytes.len() < 64 * 1024, "{} bytes", bytes.len());
    println!(
        "a zoom-14 tile over 3 000 assets: {} clusters, {} bytes",
        decoded.len(),
        bytes.len()
    );
}

async fn bad_tile_addresses_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (path, field) in [
        ("/tiles/23/0/0.mvt", "z"),
        ("/tiles/300/0/0.mvt", "z"),
        ("/tiles/-1/0/0.mvt", "z"),
        ("/tiles/2/4/0.mvt", "x"),
        ("/tiles/2/0/9.mvt", "x"),
        ("/tiles/2/0/1.5.mvt", "y"),
        ("/tiles/2/0/1.png", "y"),
        ("/tiles/2/a/1.mvt", "x"),
        ("/tiles/99999999999/0/0.mvt", "z"),
        ("/tiles/14/8089/5300.mvt?kinds=CASTLE", "kinds"),
        (
            "/tiles/14/8089/5300.mvt?categories=Not%20A%20Slug",
            "categories",
        ),
    ] {
        let response = app
            .client()
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "INVALID_INPUT",
            "{path}"
        );
        assert_eq!(
            body["errors"][0]["extensions"]["field"], field,
            "{path}: {body}"
        );
    }
    let tilejson: Value = app
        .client()
        .get(format!("{}/tiles.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tilejson["tilejson"], "3.0.0");
    assert!(
        tilejson["tiles"][0]
            .as_str()
            .unwrap()
            .ends_with("/tiles/{z}/{x}/{y}.mvt")
    );
    assert_eq!(tilejson["vector_layers"][0]["id"], "assets");
}

on_both_backends!(
    tiles_show_the_public_map,
    tiles_answer_304_until_something_changes,
    a_dense_tile_is_clustered_not_cut,
    bad_tile_addresses_are_refused,
);
