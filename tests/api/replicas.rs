//! Live changes across processes: two server processes on one PostGIS database (a write
//! on one reaches a subscriber on the other within a second, and nothing is lost when
//! the listener's connection is killed), and `assetmap import` beside a running server
//! on the same SQLite file.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, fresh_database, point, serve, stop};
use crate::live::{Live, Said};

const SUBSCRIBE: &str = "subscription { assetChanged { position state node { id name } } }";

async fn create(client: &reqwest::Client, base: &str, token: &str, name: &str) -> Instant {
    let response: Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({
            "query": "mutation($i: CreateAssetInput!) { createAsset(input: $i) { id } }",
            "variables": {"i": {"kind": "COMMUNITY_GROUP", "name": name, "geometry": point(-2.24, 53.48)}}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(response["errors"].is_null(), "{response:#}");
    Instant::now()
}

/// The next change event's (position, name).
async fn event(live: &mut Live, within: Duration) -> Option<(i64, String)> {
    match live.next_within(within).await? {
        Said::Message(m) if m["type"] == "next" => {
            let change = &m["payload"]["data"]["assetChanged"];
            Some((
                change["position"].as_str().unwrap().parse().unwrap(),
                change["node"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_replica_reaches_subscribers_on_another() {
    let database = fresh_database(Backend::Postgres).await;
    let db = assetmap::app::connect_and_migrate(&database.url.parse().unwrap(), 2)
        .await
        .unwrap();
    let token =
        assetmap::service::tokens::create(&db, "replica test", assetmap::auth::Role::Admin, &[])
            .await
            .unwrap()
            .secret;
    let (a, a_base) = serve(&database.url, &["--rate-limit-per-second", "0"], "info").await;
    let (b, b_base) = serve(&database.url, &["--rate-limit-per-second", "0"], "info").await;
    let client = reqwest::Client::new();
    let mut on_b = Live::connect(&b_base, None).await;
    on_b.subscribe("s", SUBSCRIBE, json!({})).await;
    // B's subscription starts a moment after the message: write until it hears one
    let mut heard = None;
    for i in 0..50 {
        create(&client, &a_base, &token, &format!("probe {i}")).await;
        if let Some(e) = event(&mut on_b, Duration::from_millis(300)).await {
            heard = Some(e);
            break;
        }
    }
    let mut last = heard.expect("B hears A's writes").0;
    while let Some((p, _)) = event(&mut on_b, Duration::from_millis(500)).await {
        last = p;
    }

    // latency: each write on A is heard on B within a second
    let mut worst = Duration::ZERO;
    for i in 0..10 {
        let written = create(&client, &a_base, &token, &format!("timed {i}")).await;
        let (p, name) = event(&mut on_b, Duration::from_secs(5))
            .await
            .expect("heard");
        let took = written.elapsed();
        assert_eq!(name, format!("timed {i}"));
        assert!(p > last);
        last = p;
        worst = worst.max(took);
    }
    assert!(
        worst < Duration::from_secs(1),
        "a write took {worst:?} to reach the other replica"
    );

    // a stream of writes on A; B's listening connection is killed in the middle
    let b_pid = b.id().unwrap();
    let writer = {
        let (client, base, token) = (client.clone(), a_base.clone(), token.clone());
        tokio::spawn(async move {
            for i in 0..60 {
                create(&client, &base, &token, &format!("stream {i}")).await;
            }
        })
    };
    let killer = {
        let url = database.url.clone();
        tokio::spawn(async move {
            let admin = sea_orm::Database::connect(&url).await.unwrap();
            // once some of the stream has been written, cut B's listener off
            loop {
                let n = sea_orm::ConnectionTrait::query_one_raw(
                    &admin,
                    sea_orm::Statement::from_string(
                        sea_orm::DbBackend::Postgres,
                        "SELECT count(*)::bigint AS n FROM assets WHERE name LIKE 'stream %'",
                    ),
                )
                .await
                .unwrap()
                .unwrap()
                .try_get::<i64>("", "n")
                .unwrap();
                if n >= 20 {
                    break;
                }
                tokio::task::yield_now().await;
            }
            let killed = sea_orm::ConnectionTrait::query_one_raw(
                &admin,
                sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    format!(
                        "SELECT count(pg_terminate_backend(pid))::bigint AS n FROM pg_stat_activity \
                         WHERE application_name = 'assetmap-listener-{b_pid}'"
                    ),
                ),
            )
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
            assert_eq!(killed, 1, "B's listener was found and killed");
        })
    };
    let mut names = Vec::new();
    let mut positions = vec![last];
    while names.len() < 60 {
        let (p, name) = event(&mut on_b, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("B stopped hearing after {names:?}"));
        positions.push(p);
        names.push(name);
    }
    writer.await.unwrap();
    killer.await.unwrap();
    let expected: Vec<String> = (0..60).map(|i| format!("stream {i}")).collect();
    assert_eq!(names, expected, "every change once, in order");
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert!(
        event(&mut on_b, Duration::from_millis(500)).await.is_none(),
        "nothing twice"
    );
    println!(
        "replicas: worst latency A to B {worst:?}; 60 changes through a killed listener, none lost or repeated"
    );
    on_b.close().await;
    stop(a).await;
    stop(b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_by_another_process_reaches_subscribers_and_searches() {
    let database = fresh_database(Backend::Sqlite).await;
    let url = database.url.clone();
    let app = TestApp::spawn_with(Backend::Sqlite, database, false).await;
    let mut live = Live::connect(&app.base, None).await;
    live.subscribe("s", SUBSCRIBE, json!({})).await;
    tokio::time::timeout(Duration::from_secs(10), async {
        while app.state.changes.subscribers() < 1 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("groups.geojson");
    let features: Vec<Value> = (0..5)
        .map(|i| {
            json!({"type": "Feature", "geometry": point(-2.3, 53.4 + f64::from(i) * 0.001),
            "properties": {"name": format!("imported {i}"), "kind": "COMMUNITY_GROUP"}})
        })
        .collect();
    std::fs::write(
        &file,
        json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_assetmap"))
        .args(["import", file.to_str().unwrap(), "--quiet"])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let imported = Instant::now();
    // the server's search index follows the other process's writes too
    let nearby = "query { nearbyAssets(near: {lon: -2.3, lat: 53.402}, radiusMeters: 1000, first: 10) { edges { node { name } } } }";
    let searched = loop {
        let found = app.data(nearby, json!({})).await["nearbyAssets"]["edges"]
            .as_array()
            .unwrap()
            .len();
        if found == 5 {
            break imported.elapsed();
        }
        assert!(
            imported.elapsed() < Duration::from_secs(5),
            "the import never reached searches"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(
        searched < Duration::from_secs(1),
        "the import took {searched:?} to reach searches"
    );
    println!("sqlite: another process's import reached searches {searched:?} after it ended");
    let mut names = Vec::new();
    while names.len() < 5 {
        let (_, name) = event(&mut live, Duration::from_secs(5))
            .await
            .expect("heard");
        names.push(name);
    }
    let took = imported.elapsed();
    assert_eq!(
        names,
        (0..5).map(|i| format!("imported {i}")).collect::<Vec<_>>()
    );
    assert!(
        took < Duration::from_secs(1),
        "the import took {took:?} to reach subscribers"
    );
    println!("sqlite: another process's import reached subscribers {took:?} after it ended");
}
