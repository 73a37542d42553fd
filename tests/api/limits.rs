//! What one anonymous client can make the server do is bounded by construction: a
//! document's cost is counted with its fragments expanded, pages end at a byte budget,
//! and a live client that stops reading is cut loose with what was held for it.

use std::fmt::Write as _;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{Backend, TestApp, code, fresh_database};
use crate::live::Live;
use crate::on_both_backends;

/// `{ ...F0 }` and `count` fragments, each spreading the next `times` times.
fn spreads(times: usize, count: usize) -> String {
    let mut q = String::from("{ ...F0 } ");
    for i in 0..count {
        let next = if i + 1 < count {
            vec![format!("...F{}", i + 1); times].join(" ")
        } else {
            String::new()
        };
        write!(q, "fragment F{i} on Query {{ __typename {next} }} ").unwrap();
    }
    q
}

async fn post(app: &TestApp, query: &str, accept: &str) -> (StatusCode, Value) {
    let response = app
        .client()
        .post(format!("{}/graphql", app.base))
        .header("accept", accept)
        .json(&json!({"query": query}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// The 1.1 KB query that used to take 14 s of CPU, and a 6 KB one that never ended,
/// are refused before validation, over HTTP and over the live endpoint; a fragment used
/// a few times still runs.
async fn fragment_spreads_count_as_executed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (times, count) in [(30, 6), (250, 5)] {
        let bomb = spreads(times, count);
        // refused as a document that does not validate is, in either media type
        let (status, body) = post(&app, &bomb, "application/json").await;
        assert_eq!(status, StatusCode::OK, "{body:#}");
        assert_eq!(code(&body["errors"][0]), "INVALID_INPUT", "{body:#}");
        let (status, body) = post(&app, &bomb, "application/graphql-response+json").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:#}");
        assert!(body.get("data").is_none(), "{body:#}");
        let error = &body["errors"][0];
        assert_eq!(code(error), "INVALID_INPUT", "{body:#}");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("each place it is spread"),
            "{body:#}"
        );
    }
    let (status, body) = post(&app, &spreads(3, 4), "application/graphql-response+json").await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["data"]["__typename"], "Query", "{body:#}");

    let mut live = Live::connect(&app.base, None).await;
    let subscription = format!(
        "subscription {{ assetChanged {{ ...F0 }} }} {}",
        (0..5)
            .map(|i| {
                let next = if i < 4 {
                    vec![format!("...F{}", i + 1); 30].join(" ")
                } else {
                    String::new()
                };
                format!("fragment F{i} on AssetChangeEdge {{ position {next} }}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    );
    live.subscribe("bomb", &subscription, json!({})).await;
    let refused = live.error("bomb").await;
    assert_eq!(code(&refused["errors"][0]), "INVALID_INPUT", "{refused:#}");
    // the connection goes on
    live.subscribe(
        "ok",
        "subscription { assetChanged { position } }",
        json!({}),
    )
    .await;
    live.close().await;
}

/// A walking route of 5 000 positions, about 110 KB as stored.
fn long_route(n: usize) -> Value {
    let (mut lon, mut lat) = (-2.2500 + n as f64 * 0.0003, 53.4500);
    let coordinates: Vec<Value> = (0..5_000)
        .map(|i| {
            let heading = f64::from(i) * 0.003 + n as f64;
            lon += 0.000_02 * heading.cos();
            lat += 0.000_012 * heading.sin();
            json!([(lon * 1e6).round() / 1e6, (lat * 1e6).round() / 1e6])
        })
        .collect();
    json!({"type": "LineString", "coordinates": coordinates})
}

const ROUTES: usize = 45;

/// Every page of a connection, following `endCursor`: the ids in order and each page's
/// size.
async fn every_page(app: &TestApp, query: &str, field: &str) -> (Vec<String>, Vec<usize>) {
    let (mut ids, mut sizes, mut after) = (Vec::new(), Vec::new(), Value::Null);
    loop {
        let data = app.data(query, json!({"after": after})).await;
        let page = &data[field];
        let edges = page["edges"].as_array().unwrap();
        sizes.push(edges.len());
        ids.extend(
            edges
                .iter()
                .filter_map(|e| e["node"]["id"].as_str().map(str::to_owned)),
        );
        if page["pageInfo"]["hasNextPage"] != true {
            return (ids, sizes);
        }
        assert!(sizes.len() < 100, "paging ends");
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// 45 routes of 110 KB: a page with geometry ends at 1 MB of it (and says a next page
/// follows), the RPDE feed's at 2 MB, and paging reaches every route once; without
/// geometry a page holds them all. A response that would hold more geometry than any
/// page (aliases of large assets) gets TOO_LARGE for the fields past the bound.
async fn pages_end_at_their_byte_budget(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut made = Vec::new();
    for n in 0..ROUTES {
        let asset = app
            .create_asset(
                json!({"kind": "WALKING_ROUTE", "name": format!("Long route {n:02}"),
                "geometry": long_route(n)}),
            )
            .await;
        made.push(asset["id"].as_str().unwrap().to_owned());
    }
    made.sort();

    let viewport = "query($after: String) { assetsInBBox(bbox: {minLon: -2.3, minLat: 53.4, \
        maxLon: -2.1, maxLat: 53.5}, first: 100, after: $after) { edges { node { id geometry } } \
        pageInfo { hasNextPage endCursor } } }";
    let (mut ids, sizes) = every_page(&app, viewport, "assetsInBBox").await;
    assert!(
        sizes.len() > 1 && sizes.iter().all(|s| *s <= 10),
        "{sizes:?}"
    );
    ids.sort();
    assert_eq!(ids, made, "every route once, pages of {sizes:?}");
    let light = "query($after: String) { assetsInBBox(bbox: {minLon: -2.3, minLat: 53.4, \
        maxLon: -2.1, maxLat: 53.5}, first: 100, after: $after) { edges { node { id name } } \
        pageInfo { hasNextPage endCursor } } }";
    let (_, sizes) = every_page(&app, light, "assetsInBBox").await;
    assert_eq!(sizes, vec![ROUTES], "without geometry a page is not cut");

    let nearby = "query($after: String) { nearbyAssets(near: {lon: -2.25, lat: 53.45}, \
        radiusMeters: 20000, first: 100, after: $after) { edges { node { id geometry } } \
        pageInfo { hasNextPage endCursor } } }";
    let (ids, sizes) = every_page(&app, nearby, "nearbyAssets").await;
    assert!(
        sizes.len() > 1 && sizes.iter().all(|s| *s <= 10),
        "{sizes:?}"
    );
    assert_eq!(ids.len(), ROUTES, "{sizes:?}");

    let sync = "query($after: String) { assetChanges(first: 100, after: $after) { edges { \
        node { id geometry } } pageInfo { hasNextPage endCursor } } }";
    let (mut ids, sizes) = every_page(&app, sync, "assetChanges").await;
    assert!(sizes.iter().all(|s| *s <= 10), "{sizes:?}");
    ids.sort();
    assert_eq!(ids, made, "the log through pages of {sizes:?}");

    // the RPDE feed: pages of at most 2 MB of data, every route once, to the end
    let mut url = format!("{}/feeds/assets", app.base);
    let (mut seen, mut pages) = (Vec::new(), Vec::new());
    loop {
        let response = app.client().get(&url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let text = response.text().await.unwrap();
        let page: Value = serde_json::from_str(&text).unwrap();
        let items = page["items"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        pages.push((items.len(), text.len()));
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        page["next"].as_str().unwrap().clone_into(&mut url);
        assert!(pages.len() < 10, "{pages:?}");
    }
    assert!(pages.len() > 1, "the first page was cut: {pages:?}");
    assert!(
        pages.iter().all(|(_, bytes)| *bytes < 3 * 1024 * 1024),
        "{pages:?}"
    );
    seen.sort();
    assert_eq!(seen, made, "{pages:?}");

    // 25 large assets by alias: the response stops at its bound, field by field
    let mut aliases = String::new();
    for (i, id) in made.iter().take(25).enumerate() {
        write!(aliases, "a{i}: asset(id: \"{id}\") {{ id geometry }} ").unwrap();
    }
    let response = app.gql(&format!("{{ {aliases} }}"), json!({})).await;
    let errors = response["errors"].as_array().expect("some fields refused");
    assert!(errors.iter().all(|e| code(e) == "TOO_LARGE"), "{errors:#?}");
    let answered = (0..25)
        .filter(|i| response["data"][format!("a{i}")]["geometry"].is_object())
        .count();
    assert!((5..25).contains(&answered), "{answered} of 25 answered");
}

/// A park of 4 900 vertices: each change to it is about 110 KB on the wire.
fn big_park() -> Value {
    let ring: Vec<Value> = (0..=4_900)
        .map(|i| {
            let a = f64::from(i % 4_900) / 4_900.0 * std::f64::consts::TAU;
            json!([
                ((-2.35 + 0.012 * a.cos()) * 1e6).round() / 1e6,
                ((53.43 + 0.007 * a.sin()) * 1e6).round() / 1e6
            ])
        })
        .collect();
    json!({"type": "Polygon", "coordinates": [ring]})
}

/// A subscriber whose socket takes 4 KB and who never reads is closed once a message
/// has waited for it longer than the send timeout; its slot and everything queued for
/// it are released, and the queue never held more than its byte bound meanwhile.
async fn a_stalled_subscriber_is_cut_loose(backend: Backend) {
    const BOUND: usize = 1024 * 1024;
    let database = fresh_database(backend).await;
    let app = TestApp::spawn_configured(backend, database, |c| {
        c.subscriber_buffer_bytes = BOUND;
        c.http.live.send_timeout = Duration::from_secs(1);
    })
    .await;
    let park = app
        .create_asset(json!({"kind": "PARK", "name": "Big park", "geometry": big_park()}))
        .await;
    let id = park["id"].as_str().unwrap().to_owned();

    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket
        .connect(app.base.trim_start_matches("http://").parse().unwrap())
        .await
        .unwrap();
    let url = format!("{}/graphql/ws", app.base.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();
    let send = |m: Value| Message::Text(m.to_string().into());
    ws.send(send(json!({"type": "connection_init", "payload": {}})))
        .await
        .unwrap();
    let ack = ws.next().await.unwrap().unwrap();
    assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack:?}");
    ws.send(send(json!({"type": "subscribe", "id": "1",
        "payload": {"query": "subscription { assetChanged { node { name geometry } } }"}})))
        .await
        .unwrap();
    while app.state.changes.subscribers() < 1 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // changes until the server lets the subscriber go (a hang is the harness's timeout)
    let mut version = park["version"].as_i64().unwrap();
    let mut most_waiting = 0;
    let mut updates = 0;
    while app.state.changes.subscribers() > 0 {
        let data = app
            .data(
                "mutation($id: ID!, $v: Int!, $n: String!) { updateAsset(id: $id, \
                 expectedVersion: $v, input: {name: $n}) { version } }",
                json!({"id": id, "v": version, "n": format!("Big park {updates}")}),
            )
            .await;
        version = data["updateAsset"]["version"].as_i64().unwrap();
        updates += 1;
        most_waiting = most_waiting.max(app.state.changes.waiting().1);
    }
    println!("limits: a stalled subscriber let go after {updates} changes");
    assert!(
        most_waiting <= BOUND + 200 * 1024,
        "{most_waiting} bytes waited for it"
    );
    assert_eq!(app.state.changes.waiting(), (0, 0), "its queue was freed");

    // what reached the client ends with the server's close (4429) or a reset
    let mut ended = None;
    while ended.is_none() {
        match ws.next().await {
            Some(Ok(Message::Close(frame))) => {
                ended = Some(frame.map_or(1005, |f| u16::from(f.code)));
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => ended = Some(1006),
        }
    }
    assert!(matches!(ended, Some(4429 | 1006)), "{ended:?}");

    // and the server goes on
    let mut live = Live::connect(&app.base, None).await;
    live.subscribe(
        "2",
        "subscription { assetChanged { node { name } } }",
        json!({}),
    )
    .await;
    while app.state.changes.subscribers() < 1 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.data(
        "mutation($id: ID!, $v: Int!) { updateAsset(id: $id, expectedVersion: $v, \
         input: {name: \"Big park again\"}) { version } }",
        json!({"id": id, "v": version}),
    )
    .await;
    let event = live.event("2").await;
    assert_eq!(
        event["data"]["assetChanged"]["node"]["name"], "Big park again",
        "{event:#}"
    );
    live.close().await;
}

on_both_backends!(
    fragment_spreads_count_as_executed,
    pages_end_at_their_byte_budget,
    a_stalled_subscriber_is_cut_loose
);
