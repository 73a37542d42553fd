//! The SQLite backend computes distances in Rust; PostGIS computes them with
//! `ST_Distance(geography)`. On a generated set of a few thousand mixed geometries both
//! must return the same assets in the same order, with distances within 0.1% or 0.5 m
//! (whichever is larger).

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

/// splitmix64: a fixed, dependency-free sequence, so every run tests the same set.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

const CENTER: (f64, f64) = (-2.2426, 53.4808);
const DEG_LAT_M: f64 = 111_250.0;

fn deg_lon_m() -> f64 {
    111_320.0 * CENTER.1.to_radians().cos()
}

/// 60% points, 25% star-shaped polygons (5-20 vertices, 50-400 m across), 15% lines
/// (3-30 vertices, 60-250 m steps), over about 20 x 22 km of Manchester.
fn generated(n: usize, seed: u64) -> Value {
    let mut rng = Rng(seed);
    let mut features = Vec::with_capacity(n);
    for i in 0..n {
        let lon = CENTER.0 + rng.range(-0.15, 0.15);
        let lat = CENTER.1 + rng.range(-0.10, 0.10);
        let roll = rng.range(0.0, 1.0);
        let (kind, geometry) = if roll < 0.60 {
            (
                "SERVICE",
                json!({"type": "Point", "coordinates": [lon, lat]}),
            )
        } else if roll < 0.85 {
            let vertices = 5 + (rng.next() % 16) as usize;
            let radius = rng.range(25.0, 200.0);
            let mut ring: Vec<Value> = (0..vertices)
                .map(|v| {
                    let angle =
                        (v as f64 + rng.range(0.1, 0.9)) / vertices as f64 * std::f64::consts::TAU;
                    let r = radius * rng.range(0.5, 1.0);
                    json!([
                        lon + r * angle.cos() / deg_lon_m(),
                        lat + r * angle.sin() / DEG_LAT_M
                    ])
                })
                .collect();
            ring.push(ring[0].clone());
            ("PARK", json!({"type": "Polygon", "coordinates": [ring]}))
        } else {
            let vertices = 3 + (rng.next() % 28) as usize;
            let mut heading = rng.range(0.0, std::f64::consts::TAU);
            let (mut x, mut y) = (lon, lat);
            let mut line = vec![json!([x, y])];
            for _ in 1..vertices {
                heading += rng.range(-0.6, 0.6);
                let step = rng.range(60.0, 250.0);
                x += step * heading.cos() / deg_lon_m();
                y += step * heading.sin() / DEG_LAT_M;
                line.push(json!([x, y]));
            }
            (
                "CYCLE_PATH",
                json!({"type": "LineString", "coordinates": line}),
            )
        };
        let category = match kind {
            "PARK" => "parks",
            "CYCLE_PATH" => "cycling",
            _ => ["food-banks", "befriending", "mental-wellbeing", "libraries"]
                [(rng.next() % 4) as usize],
        };
        features.push(json!({"type": "Feature", "geometry": geometry,
            "properties": {"name": format!("g{i:05}"), "kind": kind, "category": category}}));
    }
    json!({"type": "FeatureCollection", "features": features})
}

const NEARBY: &str = "query($near: LonLatInput!, $r: Float!, $after: String) {
  nearbyAssets(near: $near, radiusMeters: $r, first: 100, after: $after) {
    edges { distanceMeters node { name } } pageInfo { hasNextPage endCursor } } }";

const INTERSECTING: &str = "query($g: GeoJSON!, $buffer: Float, $after: String) {
  assetsIntersecting(geometry: $g, bufferMeters: $buffer, first: 100, after: $after) {
    edges { distanceMeters node { name } } pageInfo { hasNextPage endCursor } } }";

/// Every (name, distance) of a search, paging to the end.
async fn all_pages(app: &TestApp, query: &str, field: &str, mut vars: Value) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    loop {
        let page = app.data(query, vars.clone()).await[field].clone();
        for e in page["edges"].as_array().unwrap() {
            out.push((
                e["node"]["name"].as_str().unwrap().to_owned(),
                e["distanceMeters"].as_f64().unwrap(),
            ));
        }
        if page["pageInfo"]["hasNextPage"] == false {
            return out;
        }
        vars["after"] = page["pageInfo"]["endCursor"].clone();
    }
}

struct Agreement {
    compared: usize,
    max_abs: f64,
    max_rel: f64,
}

fn compare(what: &str, lite: &[(String, f64)], pg: &[(String, f64)], agreement: &mut Agreement) {
    let lite_names: Vec<&str> = lite.iter().map(|(n, _)| n.as_str()).collect();
    let pg_names: Vec<&str> = pg.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        lite_names, pg_names,
        "{what}: the same assets in the same order"
    );
    for ((name, a), (_, b)) in lite.iter().zip(pg) {
        let diff = (a - b).abs();
        let tolerance = (0.001 * b).max(0.5);
        assert!(
            diff <= tolerance,
            "{what}: {name}: SQLite {a} m, PostGIS {b} m"
        );
        agreement.compared += 1;
        agreement.max_abs = agreement.max_abs.max(diff);
        if *b > 0.0 {
            agreement.max_rel = agreement.max_rel.max(diff / b);
        }
    }
}

async fn load(backend: Backend, collection: &Value) -> TestApp {
    let app = TestApp::spawn(backend).await;
    use assetmap::service::import::{ImportOptions, Rule, import};
    let rules = [
        "parks",
        "cycling",
        "food-banks",
        "befriending",
        "mental-wellbeing",
        "libraries",
    ]
    .iter()
    .map(|c| Rule {
        property: "category".into(),
        value: (*c).into(),
        kind: None,
        categories: vec![(*c).into()],
    })
    .collect();
    let options = ImportOptions {
        rules,
        ..ImportOptions::default()
    };
    let report = import(&app.db, collection, &options, &|_| {})
        .await
        .expect("import");
    assert!(report.rejected.is_empty(), "{:?}", report.rejected.first());
    // the write came from here, not through the API: let this replica catch up
    app.state.written().await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_distances_agree_with_postgis_on_generated_geometries() {
    let collection = generated(3_000, 20_261_121);
    let lite = load(Backend::Sqlite, &collection).await;
    let pg = load(Backend::Postgres, &collection).await;
    let mut agreement = Agreement {
        compared: 0,
        max_abs: 0.0,
        max_rel: 0.0,
    };

    let mut rng = Rng(7);
    for q in 0..40 {
        let near = json!({"lon": CENTER.0 + rng.range(-0.14, 0.14), "lat": CENTER.1 + rng.range(-0.09, 0.09)});
        let vars = json!({"near": near, "r": rng.range(300.0, 2_500.0)});
        let a = all_pages(&lite, NEARBY, "nearbyAssets", vars.clone()).await;
        let b = all_pages(&pg, NEARBY, "nearbyAssets", vars).await;
        compare(&format!("nearby #{q}"), &a, &b, &mut agreement);
    }

    // corridors along lines and areas: a polygon and a line with buffers
    let area = json!({"type": "Polygon", "coordinates": [[[-2.26, 53.47], [-2.22, 53.47], [-2.22, 53.49], [-2.26, 53.49], [-2.26, 53.47]]]});
    let route = json!({"type": "LineString", "coordinates": [[-2.35, 53.42], [-2.30, 53.45], [-2.24, 53.47], [-2.15, 53.52]]});
    for (what, g, buffer) in [
        ("area", &area, 0.0),
        ("area+300", &area, 300.0),
        ("route+150", &route, 150.0),
    ] {
        let vars = json!({"g": g, "buffer": buffer});
        let a = all_pages(&lite, INTERSECTING, "assetsIntersecting", vars.clone()).await;
        let b = all_pages(&pg, INTERSECTING, "assetsIntersecting", vars).await;
        assert!(!a.is_empty(), "{what} finds something");
        compare(what, &a, &b, &mut agreement);
    }

    assert!(
        agreement.compared > 1_000,
        "compared only {} results",
        agreement.compared
    );
    println!(
        "cross-backend agreement: {} results compared, max difference {:.6} m, max relative {:.2e}",
        agreement.compared, agreement.max_abs, agreement.max_rel
    );
}

/// Every search starts from the spatial index, with or without filters. On PostGIS the
/// plan uses a GiST index and never scans the assets table; on SQLite the search is
/// served from the in-memory index: once the shapes it needs are cached it runs no SQL
/// at all, and a text search runs one query against the full-text index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_search_uses_the_spatial_index() {
    use assetmap::domain::{AssetFilter, AssetKind, BBox, Buffer, LonLat, Radius, ValidGeometry};
    use assetmap::spatial::{Search, Shape, explain};
    use sea_orm::ConnectionTrait;
    use std::sync::atomic::Ordering;

    let collection = generated(3_000, 99);
    let area = ValidGeometry::parse(&json!({"type": "Polygon", "coordinates": [[[-2.26, 53.47], [-2.25, 53.47], [-2.25, 53.48], [-2.26, 53.47]]]})).unwrap();
    let filters = [
        AssetFilter::default(),
        AssetFilter::new(
            vec![AssetKind::Park],
            vec!["parks".into()],
            Some("g0".into()),
        )
        .unwrap(),
    ];
    let shapes = [
        Shape::Near {
            center: LonLat::new(-2.24, 53.48).unwrap(),
            radius: Radius::meters(1_000.0).unwrap(),
        },
        Shape::InBox(BBox::new(-2.25, 53.47, -2.23, 53.49).unwrap()),
        Shape::Around {
            geometry: &area,
            buffer: Buffer::meters(Some(200.0)).unwrap(),
        },
    ];
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = load(backend, &collection).await;
        if backend == Backend::Postgres {
            app.db.write.execute_unprepared("ANALYZE").await.unwrap();
        }
        for shape in shapes {
            for filter in &filters {
                let category_ids =
                    assetmap::service::categories::expand(&app.db.read, &filter.categories)
                        .await
                        .unwrap();
                let query = Search {
                    shape,
                    filter,
                    category_ids: &category_ids,
                    after: None,
                    limit: 21,
                };
                match backend {
                    Backend::Sqlite => {
                        let first = app.state.search.search(&app.db, query).await.unwrap();
                        // the change follower's background poll shares the counter:
                        // the fewest statements over three runs is the search's own
                        let mut ran = u64::MAX;
                        let mut again = Vec::new();
                        for _ in 0..3 {
                            let before = app.db.queries.load(Ordering::SeqCst);
                            again = app.state.search.search(&app.db, query).await.unwrap();
                            ran = ran.min(app.db.queries.load(Ordering::SeqCst) - before);
                        }
                        assert_eq!(
                            first.iter().map(|h| h.id).collect::<Vec<_>>(),
                            again.iter().map(|h| h.id).collect::<Vec<_>>(),
                            "{shape:?} {filter:?}"
                        );
                        let expected = u64::from(filter.text.is_some());
                        assert_eq!(ran, expected, "{shape:?} {filter:?}: SQL statements run");
                        if filter.text.is_none() {
                            assert!(!first.is_empty(), "{shape:?} finds something");
                        }
                    }
                    Backend::Postgres => {
                        let plan = explain(&app.db, query).await.unwrap();
                        assert!(
                            plan.contains("assets_public_geog")
                                || plan.contains("assets_public_geom"),
                            "{shape:?} {filter:?}:\n{plan}"
                        );
                        assert!(
                            !plan.contains("Seq Scan on assets"),
                            "{shape:?} {filter:?}:\n{plan}"
                        );
                    }
                }
            }
        }
    }
}
