//! The `assetmap` binary's commands: schema, migrate, import, export, token; and the demo
//! map.

use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, fresh_database, serve, stop};
use crate::on_both_backends;

fn assetmap(args: &[&str], database_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_assetmap"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn repo_file(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn schema_graphql_is_what_the_code_serves() {
    let committed = std::fs::read_to_string(repo_file("schema.graphql")).expect("schema.graphql");
    assert!(
        committed == assetmap::graphql::sdl(),
        "schema.graphql has drifted from the code: run `cargo run -- schema > schema.graphql` and review the diff"
    );
    let printed = assetmap(&["schema"], "sqlite::memory:");
    assert!(printed.status.success());
    assert_eq!(String::from_utf8_lossy(&printed.stdout), committed);
}

/// Three good features in the shapes publishers use, one broken ring, one nameless, one
/// with a category that does not exist.
fn messy_collection() -> Value {
    json!({"type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.43, 53.57]},
         "properties": {"Name": "BRASS Bolton", "Postcode": "BL3 2HP", "Contact": "admin@brass-bolton.org.uk"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.24, 53.48, 35.0]},
         "properties": {"name": "City food hub", "telephone": "0161 000 0000", "categories": ["lunch-clubs"]}},
        {"type": "Feature", "geometry": {"type": "MultiPoint", "coordinates": [[-2.30, 53.45], [-2.31, 53.46]]},
         "properties": {"site_name": "Trafford pantry (two sites)"}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[-2.3, 53.4], [-2.2, 53.4], [-2.2, 53.5]]]},
         "properties": {"name": "Broken ring"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.2, 53.4]},
         "properties": {"Opening times": "Mondays"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.2, 53.4]},
         "properties": {"name": "Mystery", "categories": "food, no-such-thing"}}
    ]})
}

async fn import_maps_properties_reports_rejections_and_is_all_or_nothing(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("food.geojson");
    std::fs::write(&file, messy_collection().to_string()).unwrap();
    let file = file.to_str().unwrap();

    // --strict with a rejected feature: nothing goes in
    let database = fresh_database(backend).await;
    let out = assetmap(
        &[
            "import",
            file,
            "--kind",
            "service",
            "--category",
            "food-banks",
            "--strict",
        ],
        &database.url,
    );
    assert!(!out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing was imported"),
        "{}",
        stderr(&out)
    );
    // an unknown category fails before anything is written
    let out = assetmap(
        &["import", file, "--kind", "service", "--category", "no-such"],
        &database.url,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no-such"), "{}", stderr(&out));
    let app = TestApp::spawn_with(backend, database, false).await;
    assert_eq!(app.count_assets().await, 0);
    let database = app.stop();

    let out = assetmap(
        &[
            "import",
            file,
            "--kind",
            "service",
            "--category",
            "food-banks",
        ],
        &database.url,
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("rejected feature 3 (Broken ring): invalid geometry at coordinates[0]"),
        "{err}"
    );
    assert!(err.contains("RING_TOO_SHORT"), "{err}");
    assert!(
        err.contains("rejected feature 4: the feature has no name property"),
        "{err}"
    );
    assert!(
        err.contains("rejected feature 5 (Mystery): there is no category \"no-such-thing\""),
        "{err}"
    );
    assert!(
        err.contains("imported 3 of 6 features (3 rejected"),
        "{err}"
    );

    let app = TestApp::spawn_with(backend, database, false).await;
    let found = app
        .data(
            "{ assetsInBBox(bbox: {minLon: -2.5, minLat: 53.3, maxLon: -2.1, maxLat: 53.7}, filter: {categories: [\"food\"]}) {
                 edges { node { name kind email phone postcode geometry categories { slug } } } } }",
            json!({}),
        )
        .await;
    let edges = found["assetsInBBox"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 3);
    let bolton = edges
        .iter()
        .find(|e| e["node"]["name"] == "BRASS Bolton")
        .unwrap();
    assert_eq!(bolton["node"]["email"], "admin@brass-bolton.org.uk");
    assert_eq!(bolton["node"]["postcode"], "BL3 2HP");
    let hub = edges
        .iter()
        .find(|e| e["node"]["name"] == "City food hub")
        .unwrap();
    assert_eq!(
        hub["node"]["geometry"]["coordinates"],
        json!([-2.24, 53.48]),
        "altitude dropped"
    );
    assert_eq!(hub["node"]["phone"], "0161 000 0000");
    assert_eq!(
        hub["node"]["categories"],
        json!([{"slug": "food-banks"}, {"slug": "lunch-clubs"}]),
        "its own categories too"
    );
}

async fn import_and_export_real_open_data(backend: Backend) {
    let database = fresh_database(backend).await;
    let libraries = repo_file("data/gm/gm_libraries.geojson");
    let out = assetmap(
        &[
            "import",
            &libraries,
            "--kind",
            "venue",
            "--category",
            "libraries",
        ],
        &database.url,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("imported 141 of 141 features"),
        "{}",
        stderr(&out)
    );

    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("export.geojson");
    let out = assetmap(
        &["export", "--output", target.to_str().unwrap()],
        &database.url,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let exported: Value = serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
    assert_eq!(exported["type"], "FeatureCollection");
    let features = exported["features"].as_array().unwrap();
    assert_eq!(features.len(), 141);
    let blackrod = features
        .iter()
        .find(|f| f["properties"]["name"] == "Blackrod Library")
        .unwrap();
    assert_eq!(blackrod["geometry"]["type"], "Point");
    assert_eq!(blackrod["properties"]["kind"], "VENUE");
    assert_eq!(blackrod["properties"]["categories"], json!(["libraries"]));
    assert_eq!(blackrod["properties"]["postcode"], "BL6 5EQ");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");

    // the export is itself importable: a round trip keeps every feature
    let copy = fresh_database(backend).await;
    let out = assetmap(&["import", target.to_str().unwrap()], &copy.url);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("imported 141 of 141"),
        "{}",
        stderr(&out)
    );

    // and to stdout
    let out = assetmap(&["export"], &database.url);
    let streamed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(streamed["features"].as_array().unwrap().len(), 141);
}

async fn migrate_then_demo_map_loads_once(backend: Backend) {
    let database = fresh_database(backend).await;
    let out = assetmap(&["migrate"], &database.url);
    assert!(out.status.success(), "{}", stderr(&out));
    let app = TestApp::spawn_with(backend, database, true).await;
    let loaded = app.count_assets().await;
    assert_eq!(
        loaded, 1858,
        "every feature of the eight demo files but the 82 sports facilities for private use"
    );
    // a library in Bolton, found near its own postcode's neighbourhood
    let near = app
        .data(
            "{ nearbyAssets(near: {lon: -2.5836, lat: 53.5921}, radiusMeters: 1500, filter: {categories: [\"learning\"]}) { edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert!(
        near["nearbyAssets"]["edges"]
            .as_array()
            .is_some_and(|e| !e.is_empty()),
        "{near}"
    );
    let again = TestApp::spawn_with(backend, app.stop(), true).await;
    assert_eq!(
        again.count_assets().await,
        loaded,
        "starting again does not load it twice"
    );
}

/// The real binary, JSON logs on: each request's log line names its GraphQL operation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_name_the_operation() {
    let database = fresh_database(Backend::Sqlite).await;
    let (server, base) = serve(&database.url, &["--log-format", "json"], "info").await;
    let response = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .header("x-request-id", "log-me-7")
        .json(&json!({"query": "query NearbyForResident { categories { slug } }"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let log = stop(server).await;
    let line = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l.to_string().contains("log-me-7"))
        .unwrap_or_else(|| panic!("no JSON log line for the request in:\n{log}"));
    assert_eq!(
        line["span"]["graphql.operation"], "NearbyForResident",
        "{line:#}"
    );
    assert_eq!(line["span"]["http.path"], "/graphql");
    assert!(!log.contains("postgres://") && !log.contains("password"));
}

/// A database password never reaches the log: not when serving with every debug line on,
/// not from the CLI, not when the connection fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_password_never_reaches_the_log() {
    const SECRET: &str = "S3cretPassw0rd";
    let database = fresh_database(Backend::Postgres).await;
    // the test server trusts local connections, so any password gets in
    let with_password = database.url.replacen(
        "postgres://postgres@",
        &format!("postgres://postgres:{SECRET}@"),
        1,
    );
    assert!(with_password.contains(SECRET), "{with_password}");

    let (server, base) = serve(&with_password, &[], "debug").await;
    let response = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({"query": "{ categories { slug } }"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let log = stop(server).await;
    assert!(
        log.contains("postgres:REDACTED@"),
        "the URL is logged, redacted:\n{log}"
    );
    assert!(!log.contains(SECRET), "{log}");

    let migrated = assetmap(&["migrate"], &with_password);
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    assert!(!stderr(&migrated).contains(SECRET));

    for unreachable in [
        format!("postgres://postgres:{SECRET}@127.0.0.1:1/nowhere"),
        format!("postgres://postgres@127.0.0.1:1/nowhere?password={SECRET}"),
        format!("mysql://root:{SECRET}@127.0.0.1/x"),
    ] {
        let failed = assetmap(&["migrate"], &unreachable);
        assert!(!failed.status.success());
        let said = stderr(&failed);
        assert!(!said.is_empty() && !said.contains(SECRET), "{said}");
    }
}

/// A file cut short after 600 good features (more than one write batch) leaves nothing.
async fn a_file_cut_short_imports_nothing(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cut.geojson");
    let features: Vec<String> = (0..600)
        .map(|i| json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.3, 53.4 + f64::from(i) * 1e-5]}, "properties": {"name": format!("site {i}")}}).to_string())
        .collect();
    let text = format!(
        "{{\"type\": \"FeatureCollection\", \"features\": [{}, {{\"type\": \"Feat",
        features.join(",")
    );
    std::fs::write(&file, text).unwrap();
    let database = fresh_database(backend).await;
    let out = assetmap(
        &["import", file.to_str().unwrap(), "--kind", "venue"],
        &database.url,
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("nothing was imported"),
        "{}",
        stderr(&out)
    );
    let app = TestApp::spawn_with(backend, database, false).await;
    assert_eq!(app.count_assets().await, 0);
}

/// A council's own columns through a mapping file: the NHS pharmacies' weekday columns
/// become opening hours; a mapping that names what we do not have writes nothing.
async fn a_mapping_file_maps_a_publishers_columns(backend: Backend) {
    let database = fresh_database(backend).await;
    let file = repo_file("data/gm/gm_pharmacies.geojson");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"kind": "SERVICE", "weekly_hours": {"Monday": "opening_hours_monday"}}"#,
    )
    .unwrap();
    let out = assetmap(
        &[
            "import",
            &file,
            "--quiet",
            "--mapping",
            bad.to_str().unwrap(),
        ],
        &database.url,
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("\"Monday\" is not a day"),
        "{}",
        stderr(&out)
    );
    let mapping = repo_file("data/gm/mappings/gm_pharmacies.json");
    let out = assetmap(
        &["import", &file, "--quiet", "--mapping", &mapping],
        &database.url,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("imported 631 of 631 features"),
        "{}",
        stderr(&out)
    );
    let app = TestApp::spawn_with(backend, database, false).await;
    let data = app
        .data(
            "{ nearbyAssets(near: {lon: -2.394879, lat: 53.570812}, radiusMeters: 50, filter: {categories: [\"pharmacies\"]}) { edges { node { name openingHours } } } }",
            json!({}),
        )
        .await;
    let first = &data["nearbyAssets"]["edges"][0]["node"];
    assert_eq!(first["name"], "A1 Pharmacy", "{data}");
    assert_eq!(
        first["openingHours"], "Mo-Fr 08:30-13:00,14:00-17:30; Sa 09:00-12:30",
        "{data}"
    );
}

on_both_backends!(
    a_mapping_file_maps_a_publishers_columns,
    a_file_cut_short_imports_nothing,
    import_maps_properties_reports_rejections_and_is_all_or_nothing,
    import_and_export_real_open_data,
    migrate_then_demo_map_loads_once,
    tokens_are_issued_listed_and_revoked_from_the_cli,
);

/// An administrator issues a token from the command line, the API accepts it, `token
/// list` shows it without its secret, and `token revoke` stops it at once.
async fn tokens_are_issued_listed_and_revoked_from_the_cli(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let url = app.database.url.clone();
    let org = app
        .data(
            r#"mutation { createOrganization(input: {name: "Bury Carers"}) { id } }"#,
            json!({}),
        )
        .await["createOrganization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = assetmap(
        &["token", "create", "--role", "editor", "--name", "Ann"],
        &url,
    );
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--org"), "{}", stderr(&refused));

    let issued = assetmap(
        &[
            "token",
            "create",
            "--role",
            "editor",
            "--org",
            &org,
            "--name",
            "Ann, Bury Carers",
        ],
        &url,
    );
    assert!(issued.status.success(), "{}", stderr(&issued));
    let secret = String::from_utf8_lossy(&issued.stdout).trim().to_owned();
    assert!(secret.starts_with("amt_"), "{secret}");
    let me = "{ viewer { name role organizations { id } } }";
    assert_eq!(
        app.data_as(Some(&secret), me, json!({})).await["viewer"],
        json!({"name": "Ann, Bury Carers", "role": "EDITOR", "organizations": [{"id": org}]})
    );

    let listed = assetmap(&["token", "list"], &url);
    let listing = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listing.contains("Ann, Bury Carers") && listing.contains(&org),
        "{listing}"
    );
    assert!(!listing.contains(&secret[4..]), "the secret was listed");
    let id = listing
        .lines()
        .find(|l| l.contains("Ann, Bury Carers"))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_owned();
    let revoked = assetmap(&["token", "revoke", &id], &url);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    let body = app.gql_as(Some(&secret), me, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert!(
        String::from_utf8_lossy(&assetmap(&["token", "list"], &url).stdout).contains("revoked")
    );
}

/// Exporting to something that is not a file (a pipe, a device such as /dev/null) writes
/// to it as it is, and it stays what it was; through a symbolic link the linked file is
/// replaced and the link stays. (Renaming the finished export over its target once
/// turned a machine's /dev/null into a plain file.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_to_a_pipe_or_through_a_link() {
    use std::os::unix::fs::FileTypeExt;
    let database = fresh_database(Backend::Sqlite).await;
    let libraries = repo_file("data/gm/gm_libraries.geojson");
    let out = assetmap(&["import", &libraries, "--kind", "venue"], &database.url);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = tempfile::tempdir().unwrap();

    // a named pipe, read by another thread while the export writes to it
    let fifo = dir.path().join("pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = assetmap(
        &["export", "--output", fifo.to_str().unwrap()],
        &database.url,
    );
    if !out.status.success() {
        // let the reader go before failing
        drop(std::fs::OpenOptions::new().write(true).open(&fifo));
        panic!("{}", stderr(&out));
    }
    // checked before waiting on the reader, which would wait for ever on a lost pipe
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo(),
        "the pipe is still a pipe"
    );
    let piped: Value = serde_json::from_str(&reader.join().unwrap()).unwrap();
    assert_eq!(piped["features"].as_array().unwrap().len(), 141);

    // a link to a file: the file is replaced, the link stays
    let file = dir.path().join("real.geojson");
    std::fs::write(&file, "old").unwrap();
    let link = dir.path().join("link.geojson");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let out = assetmap(
        &["export", "--output", link.to_str().unwrap()],
        &database.url,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let linked: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(linked["features"].as_array().unwrap().len(), 141);
    // the pipe, the file and the link; no temporary file left behind
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

/// A bad server setting is refused at start with the flag's name, never replaced.
#[test]
fn a_bad_setting_is_refused_with_its_flag() {
    for (flag, value) in [
        ("--max-live-connections", "0"),
        ("--subscriber-buffer", "0"),
        ("--max-heavy-requests", "2000"),
        ("--request-timeout-secs", "0"),
        ("--rate-limit-burst", "lots"),
    ] {
        let out = assetmap(&["serve", flag, value], "sqlite::memory:");
        assert!(!out.status.success(), "{flag} {value} was taken");
        assert!(stderr(&out).contains(flag), "{flag}: {}", stderr(&out));
    }
}

/// An export that fails tells the operator why, with the cause, not Rust's debug text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_export_says_why() {
    let database = fresh_database(Backend::Sqlite).await;
    let libraries = repo_file("data/gm/gm_libraries.geojson");
    let out = assetmap(&["import", &libraries, "--kind", "venue"], &database.url);
    assert!(out.status.success(), "{}", stderr(&out));
    // /dev/full takes nothing: every write fails with "no space left on device"
    let out = assetmap(&["export", "--output", "/dev/full"], &database.url);
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(said.contains("export failed"), "{said}");
    assert!(said.contains("No space left on device"), "{said}");
    assert!(!said.contains("Internal("), "{said}");
}

/// An import says what it left out of a record it kept: a `javascript:` website, a
/// malformed email, opening times not in the OpenStreetMap syntax.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_says_what_it_left_out() {
    let database = fresh_database(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hall.geojson");
    let collection = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.3, 53.45]},
         "properties": {"name": "Hall", "website": "javascript:alert(1)", "email": "not-an-email",
                        "opening_hours": "Tuesdays 10 till 2"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.31, 53.45]},
         "properties": {"name": "Library", "website": "https://library.example"}}
    ]});
    std::fs::write(&file, collection.to_string()).unwrap();
    let out = assetmap(
        &["import", file.to_str().unwrap(), "--kind", "venue"],
        &database.url,
    );
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("(Hall) without a field: its website \"javascript:alert(1)\""),
        "{said}"
    );
    assert!(said.contains("its email \"not-an-email\""), "{said}");
    assert!(
        said.contains("its opening hours \"Tuesdays 10 till 2\""),
        "{said}"
    );
    assert!(
        said.contains("imported 2 of 2 features (0 rejected, 1 with a field left out"),
        "{said}"
    );
}
