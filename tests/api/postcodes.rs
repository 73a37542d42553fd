//! Postcodes: the ONS Postcode Directory loaded from the command line (broken rows
//! reported by line), searches from a postcode however it is typed, and CSV imports
//! placed by coordinates or by postcode.

use std::process::Command;

use serde_json::json;

use crate::helpers::{Backend, TestApp, code, fresh_database};
use crate::on_both_backends;

/// A few postcodes in the ONS Postcode Directory's format: live, terminated, without
/// coordinates, and a broken row (the browser tests load them too).
pub const ONSPD: &str = include_str!("../fixtures/onspd.csv");

pub async fn load_postcodes(app: &TestApp) {
    let report = assetmap::service::postcodes::import(
        &app.db,
        std::io::Cursor::new(ONSPD.as_bytes().to_vec()),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(report.loaded, 2, "{report:?}");
}

pub fn assetmap(args: &[&str], database_url: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_assetmap"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const NEARBY: &str = "query($near: LonLatInput!) { nearbyAssets(near: $near, radiusMeters: 500) { edges { distanceMeters node { name } } } }";

async fn postcodes_load_and_place_searches(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ONSPD.csv");
    std::fs::write(&file, ONSPD).unwrap();
    let database = fresh_database(backend).await;
    let (ok, err) = assetmap(
        &["postcodes", "import", "--quiet", file.to_str().unwrap()],
        &database.url,
    );
    assert!(ok, "{err}");
    assert!(
        err.contains("line 6: \"not a postcode\" is not a UK postcode"),
        "{err}"
    );
    assert!(
        err.contains("line 7: M3 3AA has coordinates that are not numbers"),
        "{err}"
    );
    assert!(
        err.contains(
            "loaded 2 postcodes from 6 rows (1 terminated, 1 without coordinates, 2 broken)"
        ),
        "{err}"
    );
    // loading again updates, never duplicates
    let (ok, err) = assetmap(
        &["postcodes", "import", "--quiet", file.to_str().unwrap()],
        &database.url,
    );
    assert!(ok && err.contains("loaded 2 postcodes"), "{err}");

    let app = TestApp::spawn_with(backend, database, false).await;
    app.create_asset(json!({"kind": "VENUE", "name": "Hall", "geometry": {"type": "Point", "coordinates": [-2.2426, 53.4818]}}))
        .await;
    for typed in ["M2 5DW", "m25dw", " m2  5dw "] {
        let data = app
            .data_as(None, NEARBY, json!({"near": {"postcode": typed}}))
            .await;
        let edges = data["nearbyAssets"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), 1, "{typed}");
        let d = edges[0]["distanceMeters"].as_f64().unwrap();
        assert!((d - 111.25).abs() < 1.0, "{typed}: {d}");
    }
    // the same answer from the coordinates
    let by_point = app
        .data_as(
            None,
            NEARBY,
            json!({"near": {"lon": -2.2426, "lat": 53.4808}}),
        )
        .await;
    assert_eq!(by_point["nearbyAssets"]["edges"][0]["node"]["name"], "Hall");
    for (near, expected, field) in [
        (json!({"postcode": "WN9 9ZZ"}), "NOT_FOUND", "postcode"),
        // terminated postcodes were not loaded
        (json!({"postcode": "M1 1AA"}), "NOT_FOUND", "postcode"),
        (
            json!({"postcode": "not a postcode"}),
            "INVALID_INPUT",
            "postcode",
        ),
        (
            json!({"postcode": "M2 5DW", "lon": -2.2, "lat": 53.4}),
            "INVALID_INPUT",
            "postcode",
        ),
        (json!({}), "INVALID_INPUT", "lon"),
        (json!({"lon": -2.2}), "INVALID_INPUT", "lat"),
    ] {
        let error = app.error_as(None, NEARBY, json!({"near": near})).await;
        assert_eq!(code(&error), expected, "{near}: {error}");
        assert_eq!(error["extensions"]["field"], field, "{near}: {error}");
    }
}

async fn a_broken_postcode_file_loads_nothing(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_database(backend).await;
    for (name, text, expected) in [
        (
            "no-lat.csv",
            "pcds,long\nM2 5DW,-2.2\n",
            "the header has no lat column",
        ),
        ("empty.csv", "", "the header has no postcode"),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let (ok, err) = assetmap(
            &["postcodes", "import", "--quiet", file.to_str().unwrap()],
            &database.url,
        );
        assert!(!ok, "{name}");
        assert!(
            err.contains(expected) && err.contains("nothing was loaded"),
            "{name}: {err}"
        );
    }
    let (ok, err) = assetmap(
        &["postcodes", "import", "--quiet", "/nonexistent.csv"],
        &database.url,
    );
    assert!(!ok && err.contains("opening /nonexistent.csv"), "{err}");
}

async fn csv_rows_are_placed_by_coordinates_or_postcode(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let onspd = dir.path().join("ONSPD.csv");
    std::fs::write(&onspd, ONSPD).unwrap();
    let database = fresh_database(backend).await;
    let (ok, err) = assetmap(
        &["postcodes", "import", "--quiet", onspd.to_str().unwrap()],
        &database.url,
    );
    assert!(ok, "{err}");
    let csv = dir.path().join("groups.csv");
    std::fs::write(
        &csv,
        "Name,Postcode,Longitude,Latitude,Phone,opening_hours,categories\n\
         Lunch club,,-2.30,53.45,0161 000 0000,Tu 12:00-14:00,lunch-clubs\n\
         Library,m2 5dw,,,,,libraries\n\
         \"Walk, talk\",WN1 1RG,,,,,walking\n\
         Nowhere group,WN9 9ZZ,,,,,\n\
         Bad postcode group,XYZ,,,,,\n",
    )
    .unwrap();
    let path = csv.to_str().unwrap();
    // --strict: one unplaceable row and nothing is written
    let (ok, err) = assetmap(
        &[
            "import",
            "--format",
            "csv",
            "--kind",
            "community_group",
            "--strict",
            "--quiet",
            path,
        ],
        &database.url,
    );
    assert!(!ok, "{err}");
    let (ok, err) = assetmap(
        &[
            "import",
            "--format",
            "csv",
            "--kind",
            "community_group",
            "--quiet",
            path,
        ],
        &database.url,
    );
    assert!(ok, "{err}");
    assert!(
        err.contains("rejected line 5 (Nowhere group): unknown postcode WN9 9ZZ"),
        "{err}"
    );
    assert!(
        err.contains("rejected line 6 (Bad postcode group): \"XYZ\" is not a UK postcode"),
        "{err}"
    );
    assert!(
        err.contains("imported 3 of 5 features (2 rejected"),
        "{err}"
    );

    let app = TestApp::spawn_with(backend, database, false).await;
    let data = app
        .data_as(
            None,
            "{ assetsInBBox(bbox: {minLon: -2.7, minLat: 53.4, maxLon: -2.2, maxLat: 53.6}, first: 10) { edges { node { name kind phone openingHours geometry categories { slug } } } } }",
            json!({}),
        )
        .await;
    let mut nodes: Vec<serde_json::Value> = data["assetsInBBox"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    nodes.sort_by_key(|n| n["name"].as_str().unwrap().to_owned());
    assert_eq!(nodes.len(), 3);
    assert_eq!(nodes[0]["name"], "Library");
    assert_eq!(
        nodes[0]["geometry"]["coordinates"],
        json!([-2.2426, 53.4808])
    );
    assert_eq!(nodes[1]["name"], "Lunch club");
    assert_eq!(nodes[1]["phone"], "0161 000 0000");
    assert_eq!(nodes[1]["openingHours"], "Tu 12:00-14:00");
    assert_eq!(nodes[1]["categories"][0]["slug"], "lunch-clubs");
    assert_eq!(nodes[2]["name"], "Walk, talk");
    assert_eq!(
        nodes[2]["geometry"]["coordinates"],
        json!([-2.6327, 53.5496])
    );
    assert_eq!(nodes[2]["kind"], "COMMUNITY_GROUP");
}

async fn a_csv_without_a_place_column_is_refused(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_database(backend).await;
    let csv = dir.path().join("no-place.csv");
    std::fs::write(&csv, "Name,Town\nLunch club,Wigan\n").unwrap();
    let (ok, err) = assetmap(
        &[
            "import",
            "--format",
            "csv",
            "--kind",
            "venue",
            "--quiet",
            csv.to_str().unwrap(),
        ],
        &database.url,
    );
    assert!(!ok);
    assert!(
        err.contains("neither longitude and latitude columns nor a postcode column"),
        "{err}"
    );
    let (ok, err) = assetmap(
        &[
            "import",
            "--format",
            "csv",
            "--kind",
            "venue",
            "--postcode-column",
            "Where",
            "--quiet",
            csv.to_str().unwrap(),
        ],
        &database.url,
    );
    assert!(!ok && err.contains("no \"Where\" column"), "{err}");
    let app = TestApp::spawn_with(backend, database, false).await;
    assert_eq!(app.count_assets().await, 0);
}

on_both_backends!(
    postcodes_load_and_place_searches,
    a_broken_postcode_file_loads_nothing,
    csv_rows_are_placed_by_coordinates_or_postcode,
    a_csv_without_a_place_column_is_refused,
);

/// A file with Windows line endings is reported by the same line numbers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crlf_files_are_reported_by_the_right_lines() {
    let dir = tempfile::tempdir().unwrap();
    let onspd = dir.path().join("ONSPD.csv");
    std::fs::write(&onspd, ONSPD.replace('\n', "\r\n")).unwrap();
    let database = fresh_database(Backend::Sqlite).await;
    let (ok, err) = assetmap(
        &["postcodes", "import", "--quiet", onspd.to_str().unwrap()],
        &database.url,
    );
    assert!(ok, "{err}");
    assert!(
        err.contains("line 6: \"not a postcode\" is not a UK postcode"),
        "{err}"
    );
    assert!(
        err.contains("line 7: M3 3AA has coordinates that are not numbers"),
        "{err}"
    );
    let csv = dir.path().join("groups.csv");
    std::fs::write(
        &csv,
        "Name,Postcode,Longitude,Latitude\r\nLunch club,,-2.30,53.45\r\nLibrary,m2 5dw,,\r\nNowhere group,WN9 9ZZ,,\r\n",
    )
    .unwrap();
    let (ok, err) = assetmap(
        &[
            "import",
            "--format",
            "csv",
            "--kind",
            "community_group",
            "--quiet",
            csv.to_str().unwrap(),
        ],
        &database.url,
    );
    assert!(ok, "{err}");
    assert!(
        err.contains("rejected line 4 (Nowhere group): unknown postcode WN9 9ZZ"),
        "{err}"
    );
}
