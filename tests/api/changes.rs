//! Sync: the change log as `assetChanges`, the RPDE feed and live subscriptions, on both
//! backends; every change delivered once, in order, deletions included.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use assetmap::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, TestApp, code, fresh_database, point};
use crate::live::{Live, Said};
use crate::on_both_backends;

const CHANGES: &str = "query($after: String, $first: Int, $filter: AssetChangeFilter) {
  assetChanges(after: $after, first: $first, filter: $filter) {
    edges { cursor position state changedAt node { id name kind version geometry }
            tombstone { id kind } }
    pageInfo { hasNextPage endCursor } } }";

/// Every entry after `after` for this filter, paging to the end, and the cursor to go on
/// from.
async fn all_changes(app: &TestApp, after: Option<&str>, filter: Value) -> (Vec<Value>, String) {
    let mut edges = Vec::new();
    let mut cursor = after.map(str::to_owned);
    loop {
        let data = app
            .data_as(
                None,
                CHANGES,
                json!({"after": cursor, "first": 100, "filter": filter}),
            )
            .await;
        let page = &data["assetChanges"];
        edges.extend(page["edges"].as_array().unwrap().iter().cloned());
        cursor = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        if page["pageInfo"]["hasNextPage"] == false {
            return (edges, cursor.unwrap_or_default());
        }
    }
}

fn states(edges: &[Value]) -> Vec<(String, String)> {
    edges
        .iter()
        .map(|e| {
            let id = e["node"]["id"]
                .as_str()
                .or_else(|| e["tombstone"]["id"].as_str())
                .unwrap()
                .to_owned();
            (e["state"].as_str().unwrap().to_owned(), id)
        })
        .collect()
}

async fn organization(app: &TestApp, name: &str, trusted: bool) -> Uuid {
    let data = app
        .data(
            "mutation($n: String!, $t: Boolean) { createOrganization(input: {name: $n, trusted: $t}) { id } }",
            json!({"n": name, "t": trusted}),
        )
        .await;
    data["createOrganization"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn create(app: &TestApp, token: Option<&str>, input: Value) -> (String, i64) {
    let data = app
        .data_as(
            token.or(Some(&app.admin_token)),
            "mutation($i: CreateAssetInput!) { createAsset(input: $i) { id version } }",
            json!({"i": input}),
        )
        .await;
    (
        data["createAsset"]["id"].as_str().unwrap().to_owned(),
        data["createAsset"]["version"].as_i64().unwrap(),
    )
}

async fn mutate(app: &TestApp, token: Option<&str>, mutation: &str, vars: Value) -> Value {
    app.data_as(token.or(Some(&app.admin_token)), mutation, vars)
        .await
}

const UPDATE: &str = "mutation($id: ID!, $v: Int!, $i: UpdateAssetInput!) { updateAsset(id: $id, expectedVersion: $v, input: $i) { version } }";
const ARCHIVE: &str =
    "mutation($id: ID!, $v: Int!) { archiveAsset(id: $id, expectedVersion: $v) { version } }";

/// Published creates, updates, archives, restores, verifications, take-downs and
/// approvals each appear; proposals, rejections and what only editors see never do.
async fn the_log_holds_what_the_public_sees(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, start) = all_changes(&app, None, json!(null)).await;
    let (park, v) = create(
        &app,
        None,
        json!({"kind": "PARK", "name": "Longford Park", "geometry": point(-2.29, 53.44)}),
    )
    .await;
    let v = mutate(
        &app,
        None,
        UPDATE,
        json!({"id": park, "v": v, "i": {"name": "Longford Park, Stretford"}}),
    )
    .await["updateAsset"]["version"]
        .as_i64()
        .unwrap();
    let v =
        mutate(&app, None, ARCHIVE, json!({"id": park, "v": v})).await["archiveAsset"]["version"]
            .as_i64()
            .unwrap();
    let v = mutate(
        &app,
        None,
        "mutation($id: ID!, $v: Int!) { restoreAsset(id: $id, expectedVersion: $v, toVersion: 2) { version } }",
        json!({"id": park, "v": v}),
    )
    .await["restoreAsset"]["version"].as_i64().unwrap();
    mutate(
        &app,
        None,
        "mutation($id: ID!, $v: Int!) { verifyAsset(id: $id, expectedVersion: $v) { version } }",
        json!({"id": park, "v": v}),
    )
    .await;
    let taken = mutate(
        &app,
        None,
        "mutation($id: ID!, $v: Int!) { takeDownAsset(id: $id, expectedVersion: $v) { version status } }",
        json!({"id": park, "v": v}),
    )
    .await;
    assert_eq!(taken["takeDownAsset"]["status"], "PENDING");

    // an untrusted organization's editor: proposals are not public
    let org = organization(&app, "Friends of the canal", false).await;
    let editor = app.token(Role::Editor, &[org]).await;
    let (group, _) = create(
        &app,
        Some(&editor),
        json!({"kind": "COMMUNITY_GROUP", "name": "Canal clean-up", "geometry": point(-2.30, 53.45),
               "organizationId": org.to_string()}),
    )
    .await;
    let (rejected, _) = create(
        &app,
        Some(&editor),
        json!({"kind": "COMMUNITY_GROUP", "name": "Never published", "geometry": point(-2.31, 53.45),
               "organizationId": org.to_string()}),
    )
    .await;
    let pending = app
        .data(
            "{ pendingChanges(first: 50) { edges { node { id asset { id } } } } }",
            json!({}),
        )
        .await;
    let change_of = |asset: &str| {
        pending["pendingChanges"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["asset"]["id"] == asset)
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let (for_group, for_rejected, for_park) =
        (change_of(&group), change_of(&rejected), change_of(&park));
    let (mid, _) = all_changes(&app, Some(&start), json!(null)).await;
    assert!(
        !states(&mid)
            .iter()
            .any(|(_, id)| *id == group || *id == rejected),
        "proposals are not in the log: {mid:#?}"
    );
    mutate(
        &app,
        None,
        "mutation($id: ID!) { approveChange(id: $id) { status } }",
        json!({"id": for_group}),
    )
    .await;
    mutate(
        &app,
        None,
        "mutation($id: ID!) { rejectChange(id: $id, reason: \"duplicate\") { status } }",
        json!({"id": for_rejected}),
    )
    .await;
    mutate(
        &app,
        None,
        "mutation($id: ID!) { approveChange(id: $id) { status } }",
        json!({"id": for_park}),
    )
    .await;
    // a proposed update by the untrusted editor: nothing public changes
    mutate(
        &app,
        Some(&editor),
        UPDATE,
        json!({"id": group, "v": 2, "i": {"name": "Proposed name"}}),
    )
    .await;

    let (edges, _) = all_changes(&app, Some(&start), json!(null)).await;
    // every entry is delivered with the asset as it is now
    let expected = [
        ("UPDATED", &park),  // created
        ("UPDATED", &park),  // renamed
        ("UPDATED", &park),  // archived: superseded by the restore, so it reads as there now
        ("UPDATED", &park),  // restored
        ("UPDATED", &park),  // verified
        ("UPDATED", &park),  // taken down: republished since
        ("UPDATED", &group), // approved
        ("UPDATED", &park),  // approved again
    ];
    let got = states(&edges);
    assert_eq!(
        got,
        expected
            .iter()
            .map(|(s, id)| ((*s).to_owned(), (*id).clone()))
            .collect::<Vec<_>>(),
        "{edges:#?}"
    );
    let positions: Vec<i64> = edges
        .iter()
        .map(|e| e["position"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    // an archive read while it stands is a tombstone with the asset's id and kind
    let (_, before_archive) = all_changes(&app, None, json!(null)).await;
    let v = app
        .data(
            "query($id: ID!) { asset(id: $id) { version } }",
            json!({"id": park}),
        )
        .await["asset"]["version"]
        .as_i64()
        .unwrap();
    mutate(&app, None, ARCHIVE, json!({"id": park, "v": v})).await;
    let (archived, _) = all_changes(&app, Some(&before_archive), json!(null)).await;
    assert_eq!(archived.len(), 1, "{archived:#?}");
    assert_eq!(archived[0]["state"], "DELETED");
    assert_eq!(archived[0]["node"], Value::Null);
    assert_eq!(
        archived[0]["tombstone"],
        json!({"id": park, "kind": "PARK"})
    );
}

/// People appear at their approximate point only, and a move the public cannot see
/// (within the same grid cell) is not in the log.
async fn health_champions_are_approximate_in_the_log(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, start) = all_changes(&app, None, json!(null)).await;
    let exact = (-2.24261, 53.48084);
    let (champion, v) = create(
        &app,
        None,
        json!({"kind": "HEALTH_CHAMPION", "name": "Sam", "geometry": point(exact.0, exact.1)}),
    )
    .await;
    let tight = json!({"bbox": {"minLon": exact.0 - 0.0005, "minLat": exact.1 - 0.0005,
                                "maxLon": exact.0 + 0.0005, "maxLat": exact.1 + 0.0005}});
    let (near_exact, _) = all_changes(&app, Some(&start), tight).await;
    assert!(near_exact.is_empty(), "{near_exact:#?}");
    let (edges, after_create) = all_changes(&app, Some(&start), json!(null)).await;
    assert_eq!(edges.len(), 1);
    assert_eq!(
        edges[0]["node"]["geometry"]["coordinates"],
        json!([-2.2425, 53.485]),
        "the admin reading the log sees the public point too"
    );
    // within the same cell: the public sees nothing new
    mutate(
        &app,
        None,
        UPDATE,
        json!({"id": champion, "v": v, "i": {"geometry": point(exact.0 + 0.001, exact.1)}}),
    )
    .await;
    let (none, _) = all_changes(&app, Some(&after_create), json!(null)).await;
    assert!(none.is_empty(), "{none:#?}");
}

/// A client's filter: an asset that leaves its box, kind or categories is deleted for
/// it; assets it never saw never appear.
async fn leaving_a_filter_is_a_deletion(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, start) = all_changes(&app, None, json!(null)).await;
    let boxed =
        json!({"bbox": {"minLon": -2.30, "minLat": 53.40, "maxLon": -2.20, "maxLat": 53.50}});
    let (inside, v) = create(
        &app,
        None,
        json!({"kind": "VENUE", "name": "Inside", "geometry": point(-2.25, 53.45), "categories": ["libraries"]}),
    )
    .await;
    create(
        &app,
        None,
        json!({"kind": "VENUE", "name": "Far away", "geometry": point(-2.0, 53.45)}),
    )
    .await;
    let (seen, cursor) = all_changes(&app, Some(&start), boxed.clone()).await;
    assert_eq!(states(&seen), vec![("UPDATED".to_owned(), inside.clone())]);

    let v = mutate(
        &app,
        None,
        UPDATE,
        json!({"id": inside, "v": v, "i": {"geometry": point(-2.0, 53.46)}}),
    )
    .await["updateAsset"]["version"]
        .as_i64()
        .unwrap();
    let (moved_out, cursor) = all_changes(&app, Some(&cursor), boxed.clone()).await;
    assert_eq!(
        states(&moved_out),
        vec![("DELETED".to_owned(), inside.clone())]
    );
    assert_eq!(moved_out[0]["tombstone"]["kind"], "VENUE");
    // moving about outside the box does not concern this client
    let v = mutate(
        &app,
        None,
        UPDATE,
        json!({"id": inside, "v": v, "i": {"geometry": point(-2.01, 53.46)}}),
    )
    .await["updateAsset"]["version"]
        .as_i64()
        .unwrap();
    let (quiet, _) = all_changes(&app, Some(&cursor), boxed).await;
    assert!(quiet.is_empty(), "{quiet:#?}");

    // kind and category filters (a parent category matches its children)
    let kinds = json!({"kinds": ["VENUE"], "categories": ["learning"]});
    let (_, k_cursor) = all_changes(&app, Some(&start), kinds.clone()).await;
    mutate(
        &app,
        None,
        UPDATE,
        json!({"id": inside, "v": v, "i": {"kind": "SERVICE"}}),
    )
    .await;
    let (kind_changed, _) = all_changes(&app, Some(&k_cursor), kinds).await;
    assert_eq!(
        states(&kind_changed),
        vec![("DELETED".to_owned(), inside.clone())]
    );
    let bad = app
        .error_as(
            None,
            CHANGES,
            json!({"filter": {"categories": ["no-such-term"]}}),
        )
        .await;
    assert_eq!(code(&bad), "INVALID_INPUT");
}

/// Deletions are kept for the retention window; a cursor from before what was pruned
/// is CURSOR_EXPIRED, a made-up or foreign one INVALID_INPUT, and the log read from the
/// start still holds every listed asset.
async fn retention_and_bad_cursors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (kept, v) = create(
        &app,
        None,
        json!({"kind": "PARK", "name": "Kept", "geometry": point(-2.2, 53.4)}),
    )
    .await;
    let (_, start) = all_changes(&app, None, json!(null)).await;
    mutate(
        &app,
        None,
        UPDATE,
        json!({"id": kept, "v": v, "i": {"name": "Kept, renamed"}}),
    )
    .await;
    let (gone, v) = create(
        &app,
        None,
        json!({"kind": "PARK", "name": "Gone", "geometry": point(-2.3, 53.4)}),
    )
    .await;
    mutate(&app, None, ARCHIVE, json!({"id": gone, "v": v})).await;
    let (_, old_cursor) = all_changes(&app, Some(&start), json!(null)).await;
    let (latest, _) = create(
        &app,
        None,
        json!({"kind": "PARK", "name": "Latest", "geometry": point(-2.25, 53.4)}),
    )
    .await;

    // a week from now, nothing has gone yet; eight days on, the archive and the
    // superseded create have
    let week = chrono::Duration::days(7);
    let now = assetmap::service::now();
    let pruned = assetmap::service::changes::prune(&app.db, now + chrono::Duration::days(6), week)
        .await
        .unwrap();
    assert_eq!(pruned, 0);
    let pruned = assetmap::service::changes::prune(&app.db, now + chrono::Duration::days(8), week)
        .await
        .unwrap();
    assert!(pruned >= 3, "pruned {pruned}");
    let expired = app.error_as(None, CHANGES, json!({"after": start})).await;
    assert_eq!(code(&expired), "CURSOR_EXPIRED", "{expired:#?}");
    // a cursor taken after the last pruned entry still works
    let (after_old, _) = all_changes(&app, Some(&old_cursor), json!(null)).await;
    assert_eq!(
        states(&after_old),
        vec![("UPDATED".to_owned(), latest.clone())]
    );
    // from the start: every listed asset, once each; the archived one is gone
    let (from_start, _) = all_changes(&app, None, json!(null)).await;
    let ids: Vec<String> = states(&from_start).into_iter().map(|(_, id)| id).collect();
    assert!(
        ids.contains(&kept) && ids.contains(&latest) && !ids.contains(&gone),
        "{ids:?}"
    );
    assert_eq!(ids.len(), ids.iter().collect::<HashSet<_>>().len());

    for bad in ["not-a-cursor", "Y2hhbmdlczotMQ", "YWJj", ""] {
        let error = app.error_as(None, CHANGES, json!({"after": bad})).await;
        assert_eq!(code(&error), "INVALID_INPUT", "{bad}: {error:#?}");
    }
    // a search cursor is not a change cursor
    let ahead = app
        .error_as(None, CHANGES, json!({"after": "Y2hhbmdlczo5OTk5OTk5OTk"}))
        .await;
    assert_eq!(
        code(&ahead),
        "CURSOR_EXPIRED",
        "a cursor ahead of the log: {ahead:#?}"
    );
    for first in [0, 101, -5] {
        let error = app.error_as(None, CHANGES, json!({"first": first})).await;
        assert_eq!(code(&error), "INVALID_INPUT");
    }
}

/// Many writers at once and a reader paging as fast as it can: every entry delivered
/// exactly once, in order, none skipped (positions become visible in the order taken).
async fn concurrent_writers_and_a_reader_lose_nothing(backend: Backend) {
    let database = fresh_database(backend).await;
    let app = TestApp::spawn_configured(backend, database, |c| c.db_max_connections = 16).await;
    let app = std::sync::Arc::new(app);
    let (_, start) = all_changes(&app, None, json!(null)).await;
    const WRITERS: usize = 12;
    const EACH: usize = 15;
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let app = app.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..EACH {
                let lon = -2.5 + (w as f64) * 0.01 + (i as f64) * 0.0001;
                create(&app, None, json!({"kind": "COMMUNITY_GROUP", "name": format!("w{w} #{i}"), "geometry": point(lon, 53.5)})).await;
            }
        }));
    }
    let reader = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut seen: Vec<i64> = Vec::new();
            let mut cursor = start;
            let deadline = Instant::now() + Duration::from_mins(2);
            while seen.len() < WRITERS * EACH && Instant::now() < deadline {
                let data = app
                    .data_as(None, CHANGES, json!({"after": cursor, "first": 100}))
                    .await;
                let page = &data["assetChanges"];
                for edge in page["edges"].as_array().unwrap() {
                    seen.push(edge["position"].as_str().unwrap().parse().unwrap());
                }
                page["pageInfo"]["endCursor"]
                    .as_str()
                    .unwrap()
                    .clone_into(&mut cursor);
            }
            seen
        })
    };
    for w in writers {
        w.await.unwrap();
    }
    let seen = reader.await.unwrap();
    assert_eq!(
        seen.len(),
        WRITERS * EACH,
        "every change delivered: {seen:?}"
    );
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "in order, once each: {seen:?}"
    );
    let in_log: Vec<i64> = {
        use sea_orm::{EntityTrait, QueryOrder};
        entity::asset_change::Entity::find()
            .order_by_asc(entity::asset_change::Column::Position)
            .all(&app.db.read)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.position)
            .collect()
    };
    assert_eq!(seen, in_log, "the reader saw exactly what the log holds");
    println!(
        "[{backend:?}] {} concurrent changes read once each, in order",
        seen.len()
    );
}

async fn get_feed(
    app: &TestApp,
    query: &str,
) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
    let response = app
        .client()
        .get(format!("{}/feeds/assets{query}", app.base))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (
        status,
        headers,
        response.json().await.unwrap_or(Value::Null),
    )
}

/// The RPDE feed: each asset once at its latest change, deletions as `deleted`, `next`
/// from the last item, the last page empty and pointing at itself; bad parameters are a
/// 400 with a JSON body naming the parameter.
async fn the_rpde_feed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (a, v) = create(
        &app,
        None,
        json!({"kind": "PARK", "name": "A", "geometry": point(-2.2, 53.4)}),
    )
    .await;
    let (b, vb) = create(
        &app,
        None,
        json!({"kind": "VENUE", "name": "B", "geometry": point(-2.3, 53.4)}),
    )
    .await;
    mutate(
        &app,
        None,
        UPDATE,
        json!({"id": a, "v": v, "i": {"name": "A, renamed"}}),
    )
    .await;
    mutate(&app, None, ARCHIVE, json!({"id": b, "v": vb})).await;

    let (status, headers, page) = get_feed(&app, "").await;
    assert_eq!(status, 200);
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(headers["cache-control"], "public, max-age=3600");
    assert!(page["license"].as_str().unwrap().starts_with("https://"));
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{page:#}");
    // each asset once, at its latest change: A's rename, then B's archiving
    assert_eq!(items[0]["id"], a);
    assert_eq!(items[0]["state"], "updated");
    assert_eq!(items[0]["kind"], "CommunityAsset");
    assert_eq!(items[0]["data"]["properties"]["name"], "A, renamed");
    assert_eq!(items[1]["id"], b);
    assert_eq!(items[1]["state"], "deleted");
    assert!(items[1].get("data").is_none());
    assert!(items[0]["modified"].as_i64().unwrap() < items[1]["modified"].as_i64().unwrap());
    let next = page["next"].as_str().unwrap();
    assert_eq!(
        next,
        format!(
            "{}/feeds/assets?afterChangeNumber={}",
            app.base, items[1]["modified"]
        )
    );
    let (_, headers, last) = get_feed(
        &app,
        &format!("?afterChangeNumber={}", items[1]["modified"]),
    )
    .await;
    assert_eq!(last["items"], json!([]));
    assert_eq!(last["next"], next, "the last page points at itself");
    assert_eq!(headers["cache-control"], "public, max-age=8");
    let (status, _, beyond) = get_feed(&app, "?afterChangeNumber=9007199254740991").await;
    assert_eq!(status, 200);
    assert_eq!(beyond["items"], json!([]));

    for bad in [
        "?afterChangeNumber=abc",
        "?afterChangeNumber=-1",
        "?afterChangeNumber=99999999999999999999999",
        "?afterTimestamp=1&afterId=x",
    ] {
        let (status, _, body) = get_feed(&app, bad).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(code(&body["errors"][0]), "INVALID_INPUT", "{bad}: {body:#}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("afterChangeNumber"), "{bad}: {message}");
    }
}

on_both_backends!(
    the_log_holds_what_the_public_sees,
    health_champions_are_approximate_in_the_log,
    leaving_a_filter_is_a_deletion,
    retention_and_bad_cursors,
    concurrent_writers_and_a_reader_lose_nothing,
    the_rpde_feed,
);

/// Waits until `n` subscriptions listen on this replica (a subscription starts listening
/// once the server has run its resolver, a moment after the subscribe message).
async fn until_subscribers(app: &TestApp, n: usize) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while app.state.changes.subscribers() < n {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the subscriptions start listening");
}

const SUBSCRIBE: &str = "subscription($filter: AssetChangeFilter) {
  assetChanged(filter: $filter) { position state node { id name } tombstone { id kind } } }";

/// Live: anonymous subscribers hear of public changes as they happen; a filter narrows
/// them; a bad token is refused; a revoked token ends its subscription at the next event.
async fn subscriptions_carry_the_log_live(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut anyone = Live::connect(&app.base, None).await;
    anyone.subscribe("all", SUBSCRIBE, json!({})).await;
    anyone
        .subscribe("parks", SUBSCRIBE, json!({"filter": {"kinds": ["PARK"]}}))
        .await;
    let editor = app.token(Role::Moderator, &[]).await;
    let mut member = Live::connect(&app.base, Some(&editor)).await;
    member.subscribe("m", SUBSCRIBE, json!({})).await;
    until_subscribers(&app, 3).await;

    let (venue, v) = create(
        &app,
        None,
        json!({"kind": "VENUE", "name": "Library", "geometry": point(-2.2, 53.4)}),
    )
    .await;
    let heard = anyone.event("all").await;
    assert_eq!(
        heard["data"]["assetChanged"]["state"], "UPDATED",
        "{heard:#}"
    );
    assert_eq!(heard["data"]["assetChanged"]["node"]["id"], venue);
    assert_eq!(
        member.event("m").await["data"]["assetChanged"]["node"]["name"],
        "Library"
    );
    mutate(&app, None, ARCHIVE, json!({"id": venue, "v": v})).await;
    let gone = anyone.event("all").await;
    assert_eq!(gone["data"]["assetChanged"]["state"], "DELETED");
    assert_eq!(gone["data"]["assetChanged"]["tombstone"]["id"], venue);
    let (park, _) = create(
        &app,
        None,
        json!({"kind": "PARK", "name": "Park", "geometry": point(-2.2, 53.4)}),
    )
    .await;
    // the park filter heard nothing of the venue, then the park
    let mut parks_heard = None;
    for _ in 0..2 {
        match anyone.next().await {
            Said::Message(m) if m["id"] == "parks" => parks_heard = Some(m),
            Said::Message(m) if m["id"] == "all" => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        parks_heard.unwrap()["payload"]["data"]["assetChanged"]["node"]["id"],
        park
    );

    // the moderator's token is revoked: the next event ends the subscription
    for _ in 0..2 {
        assert!(matches!(member.next().await, Said::Message(m) if m["id"] == "m"));
    }
    let token_id = assetmap::service::tokens::list(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|(t, _)| t.role == assetmap::auth::Role::Moderator)
        .unwrap()
        .0
        .id;
    assetmap::service::tokens::revoke(&app.db, token_id)
        .await
        .unwrap();
    create(
        &app,
        None,
        json!({"kind": "PARK", "name": "After revocation", "geometry": point(-2.2, 53.4)}),
    )
    .await;
    let refused = member.event("m").await;
    assert_eq!(
        code(&refused["errors"][0]),
        "UNAUTHENTICATED",
        "{refused:#}"
    );
    assert!(matches!(member.next().await, Said::Message(m) if m["type"] == "complete"));

    // a bad token is refused at connection_init
    let mut bad = Live::open(&app.base).await;
    bad.init(Some("amt_not-a-real-token")).await;
    assert!(matches!(bad.next().await, Said::Closed(4403, reason) if reason.contains("Forbidden")));
    anyone.close().await;
}

/// The limits: subscriptions per connection, a connection_init deadline, queries and
/// malformed messages refused, a subscriber too slow to keep up cut off with a code.
async fn live_connections_are_bounded(backend: Backend) {
    let database = fresh_database(backend).await;
    let app = TestApp::spawn_configured(backend, database, |c| {
        c.subscriber_buffer = 2;
        c.http.live.max_subscriptions = 2;
        c.http.live.init_timeout = Duration::from_millis(300);
    })
    .await;
    let mut live = Live::connect(&app.base, None).await;
    for id in ["1", "2", "3"] {
        live.subscribe(id, SUBSCRIBE, json!({})).await;
    }
    // one of the three (whichever the server started last) is refused
    let refused = match live.next().await {
        Said::Message(m) if m["type"] == "next" => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        code(&refused["payload"]["errors"][0]),
        "RATE_LIMITED",
        "{refused:#}"
    );
    live.subscribe("q", "{ categories { slug } }", json!({}))
        .await;
    let query = live.error("q").await;
    assert_eq!(code(&query["errors"][0]), "INVALID_INPUT", "{query:#}");
    live.subscribe(
        "bad",
        "subscription { assetChanged(filter: {kinds: [CASTLE]}) { position } }",
        json!({}),
    )
    .await;
    let invalid = live.error("bad").await;
    assert_eq!(code(&invalid["errors"][0]), "INVALID_INPUT", "{invalid:#}");
    let typed = "subscription($f: AssetChangeFilter) { assetChanged(filter: $f) { position } }";
    live.subscribe("wrong type", typed, json!({"f": -1})).await;
    let wrong = live.event("wrong type").await;
    assert_eq!(code(&wrong["errors"][0]), "INVALID_INPUT", "{wrong:#}");
    for (id, nested) in [(
        "deep",
        format!(
            "subscription {{ assetChanged {{ node {{ {} }} }} }}",
            "organization { ".repeat(70)
        ),
    )] {
        live.subscribe(id, &nested, json!({})).await;
        let e = live.error(id).await;
        assert_eq!(code(&e["errors"][0]), "INVALID_INPUT");
    }
    // a burst the buffer of 2 cannot hold
    until_subscribers(&app, 2).await;
    let mut features = Vec::new();
    for i in 0..300 {
        features.push(
            json!({"type": "Feature", "geometry": point(-2.2 + f64::from(i) * 0.0001, 53.4),
            "properties": {"name": format!("Burst {i}"), "kind": "PARK"}}),
        );
    }
    assetmap::service::import::import(
        &app.db,
        &json!({"type": "FeatureCollection", "features": features}),
        &assetmap::service::import::ImportOptions::default(),
        &|_| {},
    )
    .await
    .unwrap();
    app.state.written().await;
    // a subscription that falls behind is told why, and its connection closed (its client
    // must catch up with assetChanges before anything live helps)
    let mut cut_off = 0;
    let mut events = 0;
    let closed = loop {
        match live.next_within(Duration::from_secs(5)).await {
            Some(Said::Message(m)) if m["type"] == "next" && m["payload"]["errors"].is_array() => {
                assert_eq!(code(&m["payload"]["errors"][0]), "RATE_LIMITED", "{m:#}");
                cut_off += 1;
            }
            Some(Said::Message(m)) if m["type"] == "next" => events += 1,
            Some(Said::Message(m)) if m["type"] == "complete" => {}
            Some(Said::Closed(code, reason)) => break (code, reason),
            other => panic!("{other:?}"),
        }
    };
    assert!(
        cut_off >= 1,
        "a subscription fell behind ({events} events first)"
    );
    assert_eq!(closed.0, 4429, "{closed:?}");
    assert!(closed.1.contains("assetChanges"), "{closed:?}");

    // a connection that never sends connection_init is closed
    let mut silent = Live::open(&app.base).await;
    assert!(matches!(silent.next().await, Said::Closed(4408, _)));
    // garbage is a protocol error, and the server goes on
    let mut rude = Live::open(&app.base).await;
    rude.send_raw(tokio_tungstenite::tungstenite::Message::Text(
        "{not json".into(),
    ))
    .await
    .unwrap();
    assert!(matches!(rude.next().await, Said::Closed(code, _) if code >= 1000));
    let response = app
        .client()
        .get(format!("{}/graphql/ws", app.base))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    let body: Value = response.json().await.unwrap();
    assert!(
        body["errors"][0]["extensions"]["code"].is_string(),
        "{body:#}"
    );
    let _ = Live::connect(&app.base, None).await;
}

on_both_backends!(
    subscriptions_carry_the_log_live,
    live_connections_are_bounded
);

/// More live connections than the replica holds are refused before the upgrade.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_holds_a_bounded_number_of_live_connections() {
    let database = fresh_database(Backend::Sqlite).await;
    let app = TestApp::spawn_configured(Backend::Sqlite, database, |c| {
        c.http.live.max_connections = 2;
    })
    .await;
    let one = Live::connect(&app.base, None).await;
    let _two = Live::connect(&app.base, None).await;
    let url = format!("{}/graphql/ws", app.base.replacen("http://", "ws://", 1));
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url)
            .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
        }
        other => panic!(
            "a third connection was not refused: {:?}",
            other.map(|_| ())
        ),
    }
    one.close().await;
}
