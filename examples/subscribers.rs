//! Load for the benchmark's subscription run (`scripts/bench/run.py --subscriptions`):
//! opens N graphql-transport-ws subscriptions to one replica, prints `subscribed N`,
//! waits for a line on stdin, then writes W assets through another replica, one every
//! `--every-ms`, and prints one JSON line: delivery latency from each write's request to
//! its arrival at each subscriber (p50, p99, max), and how many deliveries arrived.
//!
//!     subscribers <ws url of B> <graphql url of A> <admin token> <N> <W> <every ms>

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark tool stops at the first surprise"
)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Arrivals = Arc<Mutex<Vec<(String, Instant)>>>;

async fn subscriber(url: String, arrivals: Arrivals, ready: tokio::sync::mpsc::Sender<()>) {
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connected");
    ws.send(Message::Text(
        json!({"type": "connection_init"}).to_string().into(),
    ))
    .await
    .unwrap();
    let _ack = ws.next().await;
    ws.send(Message::Text(
        json!({"type": "subscribe", "id": "1", "payload": {
            "query": "subscription { assetChanged { position node { name } } }"}})
        .to_string()
        .into(),
    ))
    .await
    .unwrap();
    ready.send(()).await.unwrap();
    while let Some(Ok(message)) = ws.next().await {
        if let Message::Text(text) = message {
            let at = Instant::now();
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if let Some(name) = v["payload"]["data"]["assetChanged"]["node"]["name"].as_str() {
                arrivals.lock().unwrap().push((name.to_owned(), at));
            }
        }
    }
}

/// The `per_mille`th of a thousand sorted latencies, in milliseconds.
fn percentile(sorted: &[Duration], per_mille: usize) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = (sorted.len() - 1) * per_mille / 1000;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (ws_url, gql_url, token) = (args[1].clone(), args[2].clone(), args[3].clone());
    let n: usize = args[4].parse().unwrap();
    let writes: usize = args[5].parse().unwrap();
    let every = Duration::from_millis(args[6].parse().unwrap());
    let arrivals: Arrivals = Arc::default();
    let (ready_tx, mut ready) = tokio::sync::mpsc::channel(n.max(1));
    for i in 0..n {
        tokio::spawn(subscriber(
            ws_url.clone(),
            arrivals.clone(),
            ready_tx.clone(),
        ));
        if i % 50 == 49 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    for _ in 0..n {
        ready.recv().await.unwrap();
    }
    println!("subscribed {n}");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    let client = reqwest::Client::new();
    let mut sent: HashMap<String, Instant> = HashMap::new();
    let mut tick = tokio::time::interval(every);
    for i in 0..writes {
        tick.tick().await;
        let name = format!("bench write {i}");
        sent.insert(name.clone(), Instant::now());
        let body = json!({"query": "mutation($i: CreateAssetInput!) { createAsset(input: $i) { id } }",
            "variables": {"i": {"kind": "COMMUNITY_GROUP", "name": name,
                "geometry": {"type": "Point", "coordinates": [-2.24, 53.48]}}}});
        let r: Value = client
            .post(&gql_url)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(r["errors"].is_null(), "{r}");
    }
    // let the last writes arrive
    let expected = n * writes;
    let deadline = Instant::now() + Duration::from_secs(30);
    while arrivals.lock().unwrap().len() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let arrived = arrivals.lock().unwrap().clone();
    let mut latencies: Vec<Duration> = arrived
        .iter()
        .filter_map(|(name, at)| sent.get(name).map(|s| at.saturating_duration_since(*s)))
        .collect();
    latencies.sort();
    println!(
        "{}",
        json!({"subscribers": n, "writes": writes, "expected": expected, "delivered": arrived.len(),
               "p50_ms": percentile(&latencies, 500), "p99_ms": percentile(&latencies, 990),
               "max_ms": percentile(&latencies, 1000)})
    );
    std::process::exit(0);
}
