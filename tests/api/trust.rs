//! Trust: who may write what, moderation, history, no lost updates, idempotent creates,
//! verification. Every refusal is checked twice: the error code, and the stored rows,
//! which must not have changed.

use std::sync::Arc;

use assetmap::auth::Role;
use entity::{asset, pending_change};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, TestApp, code, point};
use crate::on_both_backends;

const HOME: (f64, f64) = (-2.2426, 53.4808);

async fn organization(app: &TestApp, name: &str, trusted: bool) -> Uuid {
    let data = app
        .data(
            "mutation($name: String!, $trusted: Boolean) { createOrganization(input: {name: $name, trusted: $trusted}) { id } }",
            json!({"name": name, "trusted": trusted}),
        )
        .await;
    data["createOrganization"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn asset_of(app: &TestApp, org: Uuid, name: &str) -> Uuid {
    let created = app
        .create_asset(json!({"kind": "COMMUNITY_GROUP", "name": name,
            "geometry": point(HOME.0, HOME.1), "organizationId": org.to_string()}))
        .await;
    created["id"].as_str().unwrap().parse().unwrap()
}

async fn row(app: &TestApp, id: Uuid) -> asset::Model {
    asset::Entity::find_by_id(id)
        .one(&app.db.read)
        .await
        .unwrap()
        .unwrap()
}

async fn change_row(app: &TestApp, id: Uuid) -> pending_change::Model {
    pending_change::Entity::find_by_id(id)
        .one(&app.db.read)
        .await
        .unwrap()
        .unwrap()
}

async fn set_trusted(app: &TestApp, org: Uuid, trusted: bool) {
    app.data(
        "mutation($id: ID!, $t: Boolean!) { setOrganizationTrusted(id: $id, trusted: $t) { trusted } }",
        json!({"id": org.to_string(), "t": trusted}),
    )
    .await;
}

/// A change an editor of `org` proposes (the organization untrusted for the moment).
async fn proposed_change(app: &TestApp, org: Uuid, proposer: &str) -> Uuid {
    let asset = asset_of(app, org, "Tuesday walking group").await;
    set_trusted(app, org, false).await;
    app.data_as(
        Some(proposer),
        "mutation($id: ID!) { updateAsset(id: $id, expectedVersion: 1, input: {name: \"Wednesday walking group\"}) { version } }",
        json!({"id": asset.to_string()}),
    )
    .await;
    set_trusted(app, org, true).await;
    let changes = app
        .data(
            "{ pendingChanges(first: 100) { edges { node { id asset { id } } } } }",
            json!({}),
        )
        .await;
    let edge = changes["pendingChanges"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["asset"]["id"] == asset.to_string())
        .unwrap()
        .clone();
    edge["node"]["id"].as_str().unwrap().parse().unwrap()
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Anonymous,
    LinkWorker,
    Editor,
    Moderator,
    Admin,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Own,
    Other,
}

#[derive(Clone, Copy, Debug)]
enum Mutation {
    Create,
    Update,
    Move,
    Archive,
    Verify,
    Restore,
    Approve,
    Reject,
    CreateOrganization,
    SetTrusted,
    CreateShortlist,
    CreateCategory,
}

const MUTATIONS: [Mutation; 12] = [
    Mutation::Create,
    Mutation::Update,
    Mutation::Move,
    Mutation::Archive,
    Mutation::Verify,
    Mutation::Restore,
    Mutation::Approve,
    Mutation::Reject,
    Mutation::CreateOrganization,
    Mutation::SetTrusted,
    Mutation::CreateShortlist,
    Mutation::CreateCategory,
];

/// What the rules say: `None` for allowed, else the error code.
fn expected(m: Mutation, who: Who, target: Target) -> Option<&'static str> {
    match (who, m) {
        (Who::Anonymous, _) => Some("UNAUTHENTICATED"),
        (_, Mutation::CreateShortlist) | (Who::Admin, _) => None,
        (_, Mutation::CreateCategory) => Some("FORBIDDEN"),
        (Who::Moderator, _) => None,
        (
            Who::Editor,
            Mutation::Create | Mutation::Update | Mutation::Archive | Mutation::Verify,
        ) if target == Target::Own => None,
        (Who::Editor | Who::LinkWorker, _) => Some("FORBIDDEN"),
    }
}

/// Every mutation, as every role, on its own organization's data and another's: the
/// error (or success) the rules say, and on refusal, stored rows exactly as they were.
async fn authorization_matrix(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let own = organization(&app, "Wigan Food Bank", true).await;
    let other = organization(&app, "Bolton Lads and Girls Club", true).await;
    let editor = app.token(Role::Editor, &[own]).await;
    let moderator = app.token(Role::Moderator, &[]).await;
    let admin = app.token(Role::Admin, &[]).await;
    let link_worker = app.token(Role::LinkWorker, &[]).await;
    let own_proposer = app.token(Role::Editor, &[own]).await;
    let other_proposer = app.token(Role::Editor, &[other]).await;
    let (mut cases, mut allowed) = (0, 0);
    for m in MUTATIONS {
        for who in [
            Who::Anonymous,
            Who::LinkWorker,
            Who::Editor,
            Who::Moderator,
            Who::Admin,
        ] {
            for target in [Target::Own, Target::Other] {
                let org = if target == Target::Own { own } else { other };
                let token = match who {
                    Who::Anonymous => None,
                    Who::LinkWorker => Some(link_worker.as_str()),
                    Who::Editor => Some(editor.as_str()),
                    Who::Moderator => Some(moderator.as_str()),
                    Who::Admin => Some(admin.as_str()),
                };
                let asset = asset_of(&app, org, "Community pantry").await;
                // version 2, so a restore has somewhere to go back to
                app.data(
                    "mutation($id: ID!) { updateAsset(id: $id, expectedVersion: 1, input: {name: \"Community pantry (Tuesdays)\"}) { version } }",
                    json!({"id": asset.to_string()}),
                )
                .await;
                let change = match m {
                    Mutation::Approve | Mutation::Reject => Some(
                        proposed_change(
                            &app,
                            org,
                            if target == Target::Own {
                                &own_proposer
                            } else {
                                &other_proposer
                            },
                        )
                        .await,
                    ),
                    _ => None,
                };
                let asset_before = row(&app, asset).await;
                let change_before = match change {
                    Some(c) => Some(change_row(&app, c).await),
                    None => None,
                };
                let assets_before = app.count_assets().await;
                let org_before = entity::organization::Entity::find_by_id(org)
                    .one(&app.db.read)
                    .await
                    .unwrap();
                let orgs_before = entity::organization::Entity::find()
                    .all(&app.db.read)
                    .await
                    .unwrap()
                    .len();
                let shortlists_before = entity::shortlist::Entity::find()
                    .all(&app.db.read)
                    .await
                    .unwrap()
                    .len();
                let categories_before = entity::category::Entity::find()
                    .all(&app.db.read)
                    .await
                    .unwrap()
                    .len();

                let (query, vars) = match m {
                    Mutation::Create => (
                        "mutation($input: CreateAssetInput!) { createAsset(input: $input) { id } }",
                        json!({"input": {"kind": "CHARITY", "name": "Warm space", "geometry": point(HOME.0, HOME.1), "organizationId": org.to_string()}}),
                    ),
                    Mutation::Update => (
                        "mutation($id: ID!) { updateAsset(id: $id, expectedVersion: 2, input: {name: \"Renamed\"}) { id } }",
                        json!({"id": asset.to_string()}),
                    ),
                    Mutation::Move => (
                        "mutation($id: ID!, $org: ID!) { updateAsset(id: $id, expectedVersion: 1, input: {organizationId: $org}) { id } }",
                        // own asset to the other organization; another's asset to one's own
                        json!({"id": asset_of(&app, if target == Target::Own { own } else { other }, "Moving").await.to_string(),
                               "org": if target == Target::Own { other } else { own }.to_string()}),
                    ),
                    Mutation::Archive => (
                        "mutation($id: ID!) { archiveAsset(id: $id, expectedVersion: 2) { id } }",
                        json!({"id": asset.to_string()}),
                    ),
                    Mutation::Verify => (
                        "mutation($id: ID!) { verifyAsset(id: $id, expectedVersion: 2) { id } }",
                        json!({"id": asset.to_string()}),
                    ),
                    Mutation::Restore => (
                        "mutation($id: ID!) { restoreAsset(id: $id, expectedVersion: 2, toVersion: 1) { id } }",
                        json!({"id": asset.to_string()}),
                    ),
                    Mutation::Approve => (
                        "mutation($id: ID!) { approveChange(id: $id) { status } }",
                        json!({"id": change.unwrap().to_string()}),
                    ),
                    Mutation::Reject => (
                        "mutation($id: ID!) { rejectChange(id: $id, reason: \"Please add the opening times\") { status } }",
                        json!({"id": change.unwrap().to_string()}),
                    ),
                    Mutation::CreateOrganization => (
                        "mutation { createOrganization(input: {name: \"New group\"}) { id } }",
                        json!({}),
                    ),
                    Mutation::SetTrusted => (
                        "mutation($id: ID!) { setOrganizationTrusted(id: $id, trusted: false) { id } }",
                        json!({"id": org.to_string()}),
                    ),
                    Mutation::CreateShortlist => (
                        "mutation($ids: [ID!]!) { createShortlist(assetIds: $ids, note: \"Tuesdays\") { code } }",
                        json!({"ids": [asset.to_string()]}),
                    ),
                    Mutation::CreateCategory => (
                        "mutation($slug: String!) { createCategory(slug: $slug, name: \"New term\") { slug } }",
                        json!({"slug": format!("term-{cases}")}),
                    ),
                };
                // the Move case made its own asset: count from here
                let assets_before = if matches!(m, Mutation::Move) {
                    assets_before + 1
                } else {
                    assets_before
                };
                let move_asset: Option<Uuid> = vars
                    .get("org")
                    .map(|_| vars["id"].as_str().unwrap().parse().unwrap());
                let move_before = match move_asset {
                    Some(id) => Some(row(&app, id).await),
                    None => None,
                };
                let response = app.gql_as(token, query, vars.clone()).await;
                let want = expected(m, who, target);
                cases += 1;
                match want {
                    None => {
                        allowed += 1;
                        assert!(
                            response.get("errors").is_none(),
                            "[{backend:?}] {m:?} as {who:?} on {target:?}: expected success, got {response}"
                        );
                    }
                    Some(want) => {
                        let error = &response["errors"][0];
                        assert_eq!(
                            code(error),
                            want,
                            "[{backend:?}] {m:?} as {who:?} on {target:?}: {response}"
                        );
                        assert!(response["data"].is_null(), "{response}");
                        assert_eq!(
                            row(&app, asset).await,
                            asset_before,
                            "{m:?} {who:?} {target:?}: asset changed"
                        );
                        if let (Some(id), Some(before)) = (move_asset, &move_before) {
                            assert_eq!(&row(&app, id).await, before, "moved asset changed");
                        }
                        if let (Some(c), Some(before)) = (change, &change_before) {
                            assert_eq!(
                                &change_row(&app, c).await,
                                before,
                                "pending change changed"
                            );
                        }
                        assert_eq!(
                            app.count_assets().await,
                            assets_before,
                            "{m:?} {who:?}: an asset was created"
                        );
                        let orgs_after = entity::organization::Entity::find()
                            .all(&app.db.read)
                            .await
                            .unwrap();
                        assert_eq!(orgs_after.len(), orgs_before, "an organization was created");
                        let shortlists = entity::shortlist::Entity::find()
                            .all(&app.db.read)
                            .await
                            .unwrap();
                        assert_eq!(shortlists.len(), shortlists_before, "a shortlist was made");
                        let categories = entity::category::Entity::find()
                            .all(&app.db.read)
                            .await
                            .unwrap();
                        assert_eq!(categories.len(), categories_before, "a category was added");
                        assert_eq!(
                            entity::organization::Entity::find_by_id(org)
                                .one(&app.db.read)
                                .await
                                .unwrap(),
                            org_before,
                            "the organization changed"
                        );
                    }
                }
                if matches!(m, Mutation::SetTrusted) && want.is_none() {
                    set_trusted(&app, org, true).await;
                }
            }
        }
    }
    println!(
        "[{backend:?}] authorization matrix: {cases} cases ({} mutations x 5 roles x 2 organizations), {allowed} allowed, {} refused with rows unchanged",
        MUTATIONS.len(),
        cases - allowed
    );
}

/// The write itself carries the rule: an editor's UPDATE names their organizations in its
/// WHERE, so even a caller that skipped every check before it writes nothing to another
/// organization's asset.
async fn the_write_itself_enforces_ownership(backend: Backend) {
    use sea_orm::TransactionTrait;
    let app = TestApp::spawn(backend).await;
    let theirs = organization(&app, "Theirs", true).await;
    let mine = organization(&app, "Mine", true).await;
    let id = asset_of(&app, theirs, "Their group").await;
    let before = row(&app, id).await;
    let actor = assetmap::auth::Actor {
        id: "token:test".into(),
        name: "intruder".into(),
        role: Role::Editor,
        organizations: vec![mine],
    };
    use assetmap::service::asset_version::{self, Guard, Made, row};
    let txn = app.db.write.begin().await.unwrap();
    let content = row::read(&txn, &before).await.unwrap();
    let defaced = assetmap::domain::AssetContent {
        name: assetmap::domain::Text::parse("name", "defaced", 200).unwrap(),
        ..content.clone()
    };
    let result = asset_version::write(
        &txn,
        &Guard::published(
            &actor,
            assetmap::domain::AtVersion {
                id,
                version: before.version,
            },
        ),
        &content,
        &defaced,
        &Made::by(entity::asset_revision::Action::Update, &actor),
    )
    .await;
    let error = async_graphql::Error::from(result.expect_err("the write was refused"));
    assert_eq!(
        error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .map(ToString::to_string),
        Some("\"FORBIDDEN\"".to_owned())
    );
    txn.commit().await.unwrap();
    assert_eq!(row(&app, id).await, before);
}

/// Bad credentials are refused outright, before any GraphQL runs; a revoked token stops
/// working at once.
async fn bad_and_revoked_tokens_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let issued = assetmap::service::tokens::create(&app.db, "Sam", Role::Moderator, &[])
        .await
        .unwrap();
    let me = "{ viewer { name role organizations { id } } }";
    let data = app.data_as(Some(&issued.secret), me, json!({})).await;
    assert_eq!(
        data["viewer"],
        json!({"name": "Sam", "role": "MODERATOR", "organizations": []})
    );
    assert!(app.data_as(None, me, json!({})).await["viewer"].is_null());

    // only a hash is stored
    let stored = entity::api_token::Entity::find_by_id(issued.token.id)
        .one(&app.db.read)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored.secret_hash, issued.secret);
    assert!(!stored.secret_hash.contains(&issued.secret[4..]));

    for header in [
        "Bearer amt_not-a-real-token".to_owned(),
        "Basic dXNlcjpwYXNz".to_owned(),
        "Bearer ".to_owned(),
        format!("Bearer {}x", issued.secret),
    ] {
        let response = app
            .client()
            .post(format!("{}/graphql", app.base))
            .header("authorization", header.as_str())
            .json(&json!({"query": me}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{header}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            code(&body["errors"][0]),
            "UNAUTHENTICATED",
            "{header}: {body}"
        );
    }

    assetmap::service::tokens::revoke(&app.db, issued.token.id)
        .await
        .unwrap();
    let body = app.gql_as(Some(&issued.secret), me, json!({})).await;
    assert_eq!(code(&body["errors"][0]), "UNAUTHENTICATED");
}

/// An untrusted organization's editor proposes; the public sees nothing until a
/// moderator approves; a rejection keeps the asset as it was and tells the editor why.
async fn untrusted_edits_wait_for_a_moderator(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = organization(&app, "Leigh Lunch Club", false).await;
    let editor = app.token(Role::Editor, &[org]).await;
    let moderator = app.token(Role::Moderator, &[]).await;
    let created = app
        .data_as(
            Some(&editor),
            "mutation($input: CreateAssetInput!) { createAsset(input: $input) { id status version } }",
            json!({"input": {"kind": "COMMUNITY_GROUP", "name": "Lunch club", "geometry": point(HOME.0, HOME.1),
                             "organizationId": org.to_string(), "categories": ["lunch-clubs"]}}),
        )
        .await["createAsset"]
        .clone();
    assert_eq!(created["status"], "PENDING");
    let id = created["id"].as_str().unwrap().to_owned();
    let get = "query($id: ID!) { asset(id: $id) { name status version } }";
    let nearby = format!(
        "{{ nearbyAssets(near: {{lon: {}, lat: {}}}, radiusMeters: 1000) {{ edges {{ node {{ id }} }} }} }}",
        HOME.0, HOME.1
    );
    // the public, and other editors, see nothing
    let outsider = app
        .token(Role::Editor, &[organization(&app, "Elsewhere", true).await])
        .await;
    for who in [None, Some(outsider.as_str())] {
        assert!(app.data_as(who, get, json!({"id": id})).await["asset"].is_null());
        assert_eq!(
            app.data_as(who, &nearby, json!({})).await["nearbyAssets"]["edges"],
            json!([])
        );
    }
    // its own editor does
    assert_eq!(
        app.data_as(Some(&editor), get, json!({"id": id})).await["asset"]["status"],
        "PENDING"
    );
    // a moderator sees the proposal with its diff and approves it
    let listed = app
        .data_as(
            Some(&moderator),
            "{ pendingChanges { edges { node { id action status baseVersion proposedBy changes { field before after } } } } }",
            json!({}),
        )
        .await;
    let change = listed["pendingChanges"]["edges"][0]["node"].clone();
    assert_eq!(change["action"], "CREATE");
    assert_eq!(change["proposedBy"], "test Editor");
    let fields: Vec<&str> = change["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"name") && fields.contains(&"geometry"),
        "{fields:?}"
    );
    let approved = app
        .data_as(
            Some(&moderator),
            "mutation($id: ID!) { approveChange(id: $id) { status decidedBy } }",
            json!({"id": change["id"]}),
        )
        .await;
    assert_eq!(approved["approveChange"]["status"], "APPROVED");
    assert_eq!(
        app.data_as(None, get, json!({"id": id})).await["asset"],
        json!({"name": "Lunch club", "status": "ACTIVE", "version": 2})
    );
    assert_eq!(
        app.data_as(None, &nearby, json!({})).await["nearbyAssets"]["edges"][0]["node"]["id"],
        id
    );

    // an update waits too: the asset comes back unchanged, with its pending change
    let updated = app
        .data_as(
            Some(&editor),
            "mutation($id: ID!) { updateAsset(id: $id, expectedVersion: 2, input: {name: \"Lunch club (Fridays)\"}) { name version pendingChanges { id changes { field before after } } } }",
            json!({"id": id}),
        )
        .await["updateAsset"]
        .clone();
    assert_eq!(updated["name"], "Lunch club");
    assert_eq!(updated["version"], 2);
    assert_eq!(
        updated["pendingChanges"][0]["changes"],
        json!([{"field": "name", "before": "Lunch club", "after": "Lunch club (Fridays)"}])
    );
    let change_id = updated["pendingChanges"][0]["id"].clone();
    assert_eq!(
        app.data_as(None, get, json!({"id": id})).await["asset"]["name"],
        "Lunch club"
    );
    // anonymous readers cannot see pending changes or history
    let private = app
        .gql_as(
            None,
            "query($id: ID!) { asset(id: $id) { pendingChanges { id } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(code(&private["errors"][0]), "UNAUTHENTICATED");

    let rejected = app
        .data_as(
            Some(&moderator),
            "mutation($id: ID!) { rejectChange(id: $id, reason: \"Fridays are not on the flyer\") { status reason } }",
            json!({"id": change_id}),
        )
        .await;
    assert_eq!(rejected["rejectChange"]["status"], "REJECTED");
    let seen = app
        .data_as(
            Some(&editor),
            "{ pendingChanges(status: REJECTED) { edges { node { reason decidedBy } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        seen["pendingChanges"]["edges"][0]["node"],
        json!({"reason": "Fridays are not on the flyer", "decidedBy": "test Moderator"})
    );
    assert_eq!(
        app.data_as(None, get, json!({"id": id})).await["asset"]["version"],
        2
    );
    // a decided change cannot be decided again
    let again = app
        .error_as(
            Some(&moderator),
            "mutation($id: ID!) { approveChange(id: $id) { status } }",
            json!({"id": change_id}),
        )
        .await;
    assert_eq!(code(&again), "CONFLICT");

    // a proposal made against a version that has moved on cannot be approved
    let stale = app
        .data_as(
            Some(&editor),
            "mutation($id: ID!) { archiveAsset(id: $id, expectedVersion: 2) { pendingChanges { id } } }",
            json!({"id": id}),
        )
        .await["archiveAsset"]["pendingChanges"][0]["id"]
        .clone();
    app.data_as(
        Some(&moderator),
        "mutation($id: ID!) { updateAsset(id: $id, expectedVersion: 2, input: {description: \"Hot meals\"}) { version } }",
        json!({"id": id}),
    )
    .await;
    let error = app
        .error_as(
            Some(&moderator),
            "mutation($id: ID!) { approveChange(id: $id) { status } }",
            json!({"id": stale}),
        )
        .await;
    assert_eq!(code(&error), "CONFLICT");
    assert_eq!(error["extensions"]["currentVersion"], 3);
    assert_eq!(
        app.data_as(None, get, json!({"id": id})).await["asset"]["status"],
        "ACTIVE"
    );
}

/// Each change appends a revision with who, when, before and after; moderators restore
/// any earlier version, archived assets included; the database refuses to rewrite history.
async fn history_records_every_change_and_restores(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = organization(&app, "Friends of Haigh Woodland", true).await;
    let editor = app.token(Role::Editor, &[org]).await;
    let id = app
        .data_as(
            Some(&editor),
            "mutation($input: CreateAssetInput!) { createAsset(input: $input) { id } }",
            json!({"input": {"kind": "COMMUNITY_GROUP", "name": "Woodland walks", "geometry": point(HOME.0, HOME.1),
                             "organizationId": org.to_string(), "categories": ["walking"]}}),
        )
        .await["createAsset"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let steps = [
        "mutation($id: ID!) { updateAsset(id: $id, expectedVersion: 1, input: {name: \"Woodland walks (Saturdays)\", categories: [\"walking\", \"nature-and-green-space\"]}) { version } }",
        "mutation($id: ID!) { updateAsset(id: $id, expectedVersion: 2, input: {geometry: {type: \"Point\", coordinates: [-2.25, 53.49]}}) { version } }",
        "mutation($id: ID!) { archiveAsset(id: $id, expectedVersion: 3) { version } }",
    ];
    for step in steps {
        app.data_as(Some(&editor), step, json!({"id": id})).await;
    }
    let history = app
        .data_as(
            Some(&editor),
            "query($id: ID!) { asset(id: $id) { status history { version action actor at changes { field before after } } } }",
            json!({"id": id}),
        )
        .await["asset"]
        .clone();
    assert_eq!(history["status"], "ARCHIVED");
    let revisions = history["history"].as_array().unwrap();
    let summary: Vec<(i64, &str, &str)> = revisions
        .iter()
        .map(|r| {
            (
                r["version"].as_i64().unwrap(),
                r["action"].as_str().unwrap(),
                r["actor"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (4, "ARCHIVE", "test Editor"),
            (3, "UPDATE", "test Editor"),
            (2, "UPDATE", "test Editor"),
            (1, "CREATE", "test Editor"),
        ]
    );
    assert_eq!(
        revisions[0]["changes"],
        json!([{"field": "status", "before": "active", "after": "archived"}])
    );
    assert_eq!(revisions[1]["changes"][0]["field"], "geometry");
    assert_eq!(
        revisions[1]["changes"][0]["after"]["coordinates"],
        json!([-2.25, 53.49])
    );
    let names: Vec<&str> = revisions[2]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["categories", "name"]);

    // others may not read it
    let anonymous = app
        .gql_as(
            None,
            "query($id: ID!) { asset(id: $id) { history { version } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(code(&anonymous["errors"][0]), "UNAUTHENTICATED");
    let outsider = app
        .token(Role::Editor, &[organization(&app, "Other", true).await])
        .await;
    let other = app
        .gql_as(
            Some(&outsider),
            "query($id: ID!) { asset(id: $id) { history { version } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(code(&other["errors"][0]), "FORBIDDEN");

    // restore the archived asset as it was before the archiving, then as first created
    let restored = app
        .data(
            "mutation($id: ID!) { restoreAsset(id: $id, expectedVersion: 4, toVersion: 3) { status version name geometry } }",
            json!({"id": id}),
        )
        .await["restoreAsset"]
        .clone();
    assert_eq!(restored["status"], "ACTIVE");
    assert_eq!(restored["version"], 5);
    assert_eq!(restored["geometry"]["coordinates"], json!([-2.25, 53.49]));
    let first = app
        .data(
            "mutation($id: ID!) { restoreAsset(id: $id, expectedVersion: 5, toVersion: 1) { version name categories { slug } geometry } }",
            json!({"id": id}),
        )
        .await["restoreAsset"]
        .clone();
    assert_eq!(first["name"], "Woodland walks");
    assert_eq!(first["categories"], json!([{"slug": "walking"}]));
    assert_eq!(first["geometry"]["coordinates"], json!([HOME.0, HOME.1]));
    // the spatial index followed the geometry back
    let nearby = app
        .data_as(
            None,
            &format!("{{ nearbyAssets(near: {{lon: {}, lat: {}}}, radiusMeters: 10) {{ edges {{ node {{ id }} }} }} }}", HOME.0, HOME.1),
            json!({}),
        )
        .await;
    assert_eq!(nearby["nearbyAssets"]["edges"][0]["node"]["id"], id);
    let missing = app
        .error("mutation($id: ID!) { restoreAsset(id: $id, expectedVersion: 6, toVersion: 99) { version } }", json!({"id": id}))
        .await;
    assert_eq!(code(&missing), "INVALID_INPUT");

    // history is append-only in the database itself
    for sql in [
        "UPDATE asset_revisions SET actor_name = 'someone else'",
        "DELETE FROM asset_revisions",
    ] {
        assert!(
            app.db.write.execute_unprepared(sql).await.is_err(),
            "{sql} was allowed"
        );
    }
}

/// Many editors change one asset at once from what they last read: every accepted edit
/// is in the final text exactly once, every refused one got CONFLICT with a newer
/// version, and the version counts the accepted edits.
async fn concurrent_editors_lose_no_edit(backend: Backend) {
    const EDITORS: usize = 12;
    const EDITS_EACH: usize = 8;
    let app = Arc::new(TestApp::spawn(backend).await);
    let org = organization(&app, "Rochdale Befrienders", true).await;
    let id = asset_of(&app, org, "Befriending").await.to_string();
    let mut tasks = Vec::new();
    for editor in 0..EDITORS {
        let app = app.clone();
        let id = id.clone();
        let token = app.token(Role::Editor, &[org]).await;
        tasks.push(tokio::spawn(async move {
            let (mut accepted, mut conflicts) = (Vec::new(), 0_usize);
            for edit in 0..EDITS_EACH {
                let tag = format!("[{editor}.{edit}]");
                loop {
                    let current = app
                        .data_as(Some(&token), "query($id: ID!) { asset(id: $id) { version description } }", json!({"id": id}))
                        .await["asset"]
                        .clone();
                    let version = current["version"].as_i64().unwrap();
                    let text = format!("{}{tag}", current["description"].as_str().unwrap_or(""));
                    let response = app
                        .gql_as(
                            Some(&token),
                            "mutation($id: ID!, $v: Int!, $d: String!) { updateAsset(id: $id, expectedVersion: $v, input: {description: $d}) { version } }",
                            json!({"id": id, "v": version, "d": text}),
                        )
                        .await;
                    if response.get("errors").is_none() {
                        assert_eq!(response["data"]["updateAsset"]["version"].as_i64(), Some(version + 1));
                        accepted.push(tag.clone());
                        break;
                    }
                    let error = &response["errors"][0];
                    assert_eq!(code(error), "CONFLICT", "{response}");
                    assert!(error["extensions"]["currentVersion"].as_i64().unwrap() > version);
                    conflicts += 1;
                }
            }
            (accepted, conflicts)
        }));
    }
    let (mut accepted, mut conflicts) = (Vec::new(), 0);
    for task in tasks {
        let (a, c) = task.await.unwrap();
        accepted.extend(a);
        conflicts += c;
    }
    let last = app
        .data("query($id: ID!) { asset(id: $id) { version description history(last: 100) { version } } }", json!({"id": id}))
        .await["asset"]
        .clone();
    let text = last["description"].as_str().unwrap();
    for tag in &accepted {
        assert_eq!(
            text.matches(tag.as_str()).count(),
            1,
            "{tag} lost or doubled in {text}"
        );
    }
    assert_eq!(accepted.len(), EDITORS * EDITS_EACH);
    assert_eq!(
        last["version"].as_i64().unwrap(),
        1 + i64::try_from(accepted.len()).unwrap()
    );
    assert_eq!(
        last["history"].as_array().unwrap().len(),
        1 + accepted.len()
    );

    // all at once from the same version: exactly one wins
    let version = last["version"].as_i64().unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(EDITORS));
    let mut racers = Vec::new();
    for editor in 0..EDITORS {
        let (app, id, barrier) = (app.clone(), id.clone(), barrier.clone());
        let token = app.token(Role::Editor, &[org]).await;
        racers.push(tokio::spawn(async move {
            barrier.wait().await;
            app.gql_as(
                Some(&token),
                "mutation($id: ID!, $v: Int!, $d: String!) { updateAsset(id: $id, expectedVersion: $v, input: {description: $d}) { version } }",
                json!({"id": id, "v": version, "d": format!("racer {editor}")}),
            )
            .await
        }));
    }
    let (mut winners, mut losers) = (0, 0);
    for racer in racers {
        let response = racer.await.unwrap();
        if response.get("errors").is_none() {
            winners += 1;
        } else {
            assert_eq!(code(&response["errors"][0]), "CONFLICT", "{response}");
            assert_eq!(
                response["errors"][0]["extensions"]["currentVersion"],
                version + 1
            );
            losers += 1;
        }
    }
    assert_eq!((winners, losers), (1, EDITORS - 1));
    println!(
        "[{backend:?}] concurrent editors: {EDITORS} editors x {EDITS_EACH} edits: {} accepted, {conflicts} refused with CONFLICT and retried, 0 lost; {EDITORS} at once on one version: {winners} winner, {losers} CONFLICT",
        accepted.len()
    );
}

/// A retried create with the same idempotency key returns the first asset; the same key
/// with other input is refused; keys of different callers never collide.
async fn idempotent_creates(backend: Backend) {
    let app = Arc::new(TestApp::spawn(backend).await);
    let org = organization(&app, "Salford Foodbank", true).await;
    let editor = app.token(Role::Editor, &[org]).await;
    let other_editor = app.token(Role::Editor, &[org]).await;
    let create = "mutation($input: CreateAssetInput!, $key: String) { createAsset(input: $input, idempotencyKey: $key) { id version } }";
    let input = json!({"kind": "SERVICE", "name": "Food bank", "geometry": point(HOME.0, HOME.1), "organizationId": org.to_string()});
    let before = app.count_assets().await;
    let first = app
        .data_as(Some(&editor), create, json!({"input": input, "key": "k-1"}))
        .await;
    let again = app
        .data_as(Some(&editor), create, json!({"input": input, "key": "k-1"}))
        .await;
    assert_eq!(first, again);
    assert_eq!(app.count_assets().await, before + 1);
    let changed = json!({"kind": "SERVICE", "name": "Another food bank", "geometry": point(HOME.0, HOME.1), "organizationId": org.to_string()});
    let error = app
        .error_as(
            Some(&editor),
            create,
            json!({"input": changed, "key": "k-1"}),
        )
        .await;
    assert_eq!(code(&error), "INVALID_INPUT");
    assert_eq!(error["extensions"]["field"], "idempotencyKey");
    let theirs = app
        .data_as(
            Some(&other_editor),
            create,
            json!({"input": input, "key": "k-1"}),
        )
        .await;
    assert_ne!(theirs["createAsset"]["id"], first["createAsset"]["id"]);
    assert_eq!(app.count_assets().await, before + 2);
    let bad = app
        .error_as(Some(&editor), create, json!({"input": input, "key": ""}))
        .await;
    assert_eq!(code(&bad), "INVALID_INPUT");

    // the same request retried many times at once makes one asset
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let app = app.clone();
        let editor = editor.clone();
        let input = input.clone();
        tasks.push(tokio::spawn(async move {
            app.data_as(
                Some(&editor),
                create,
                json!({"input": input, "key": "k-burst"}),
            )
            .await["createAsset"]["id"]
                .clone()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(app.count_assets().await, before + 3);
}

/// Verifying sets lastVerifiedAt and nothing else a client would see change.
async fn verifying_is_not_changing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = organization(&app, "Stockport Walkers", false).await;
    let id = asset_of(&app, org, "Health walk").await.to_string();
    let editor = app.token(Role::Editor, &[org]).await;
    let fields = "version updatedAt lastVerifiedAt";
    let before = app
        .data(
            &format!("query($id: ID!) {{ asset(id: $id) {{ {fields} }} }}"),
            json!({"id": id}),
        )
        .await["asset"]
        .clone();
    assert!(before["lastVerifiedAt"].is_null());
    // an untrusted organization's editor verifies at once: confirming is not an edit
    let after = app
        .data_as(
            Some(&editor),
            &format!("mutation($id: ID!) {{ verifyAsset(id: $id, expectedVersion: 1) {{ {fields} history(last: 1) {{ action actor changes {{ field }} }} }} }}"),
            json!({"id": id}),
        )
        .await["verifyAsset"]
        .clone();
    assert_eq!(after["version"], before["version"]);
    assert_eq!(after["updatedAt"], before["updatedAt"]);
    assert!(after["lastVerifiedAt"].as_str().is_some());
    assert_eq!(
        after["history"],
        json!([{"action": "VERIFY", "actor": "test Editor", "changes": []}])
    );
    let stale = app
        .error_as(
            Some(&editor),
            "mutation($id: ID!) { verifyAsset(id: $id, expectedVersion: 7) { version } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(code(&stale), "CONFLICT");
}

/// The editor's list of their own listings: an organization's assets in id order, the
/// public seeing only what is listed, its own editors also what waits for a moderator,
/// and archived ones when asked; pages continue without repeats.
async fn an_organization_lists_its_assets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = organization(&app, "Leigh Lunch Club", true).await;
    let editor = app.token(Role::Editor, &[org]).await;
    let outsider = app
        .token(Role::Editor, &[organization(&app, "Elsewhere", true).await])
        .await;
    let listed = asset_of(&app, org, "Lunch club").await;
    let archived = asset_of(&app, org, "Old lunch club").await;
    app.data(
        "mutation($id: ID!) { archiveAsset(id: $id, expectedVersion: 1) { status } }",
        json!({"id": archived.to_string()}),
    )
    .await;
    set_trusted(&app, org, false).await;
    let pending = app
        .data_as(
            Some(&editor),
            "mutation($input: CreateAssetInput!) { createAsset(input: $input) { id } }",
            json!({"input": {"kind": "COMMUNITY_GROUP", "name": "New lunch club",
                             "geometry": point(HOME.0, HOME.1), "organizationId": org.to_string()}}),
        )
        .await["createAsset"]["id"]
        .as_str()
        .unwrap()
        .parse::<Uuid>()
        .unwrap();
    let query =
        "query($id: ID!, $all: Boolean, $first: Int, $after: String) { organization(id: $id) {
        assets(includeArchived: $all, first: $first, after: $after) {
            edges { node { id status } cursor } pageInfo { hasNextPage endCursor } } } }";
    let ids = |v: &Value| -> Vec<Uuid> {
        v["organization"]["assets"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().parse().unwrap())
            .collect()
    };
    let sorted = |mut v: Vec<Uuid>| {
        v.sort();
        v
    };
    let vars = |all: bool| json!({"id": org.to_string(), "all": all});
    for who in [None, Some(outsider.as_str())] {
        // archived ones are never shown to the public, even when asked for
        for all in [false, true] {
            assert_eq!(ids(&app.data_as(who, query, vars(all)).await), vec![listed]);
        }
    }
    assert_eq!(
        ids(&app.data_as(Some(&editor), query, vars(false)).await),
        sorted(vec![listed, pending])
    );
    let everything = sorted(vec![listed, archived, pending]);
    assert_eq!(
        ids(&app.data_as(Some(&editor), query, vars(true)).await),
        everything
    );
    // one at a time, in the same order, each once
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = app
            .data_as(
                Some(&editor),
                query,
                json!({"id": org.to_string(), "all": true, "first": 1, "after": after}),
            )
            .await;
        seen.extend(ids(&page));
        let info = &page["organization"]["assets"]["pageInfo"];
        if !info["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = info["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, everything);
    let bad = app
        .error_as(
            Some(&editor),
            query,
            json!({"id": org.to_string(), "first": 0}),
        )
        .await;
    assert_eq!(code(&bad), "INVALID_INPUT");
}

on_both_backends!(
    authorization_matrix,
    an_organization_lists_its_assets,
    the_write_itself_enforces_ownership,
    bad_and_revoked_tokens_are_refused,
    untrusted_edits_wait_for_a_moderator,
    history_records_every_change_and_restores,
    concurrent_editors_lose_no_edit,
    idempotent_creates,
    verifying_is_not_changing,
);

/// With a key configured, JWTs from the council's identity provider act as the roles
/// their claims name, under the same rules; bad, expired or foreign ones are refused.
async fn jwts_from_an_identity_provider(backend: Backend) {
    use jsonwebtoken::{EncodingKey, Header, encode};
    const SECRET: &[u8] = b"a shared secret of at least thirty-two bytes";
    let verifier = assetmap::jwt::JwtVerifier::new(
        "HS256",
        SECRET,
        Some("https://idp.example.gov.uk"),
        Some("assetmap"),
    )
    .unwrap();
    let app = TestApp::spawn_configured(
        backend,
        crate::helpers::fresh_database(backend).await,
        |config| config.http.jwt = Some(Arc::new(verifier)),
    )
    .await;
    let own = organization(&app, "Wigan Food Bank", true).await;
    let other = organization(&app, "Elsewhere", true).await;
    let mine = asset_of(&app, own, "Pantry").await;
    let theirs = asset_of(&app, other, "Their pantry").await;
    let now = chrono::Utc::now().timestamp();
    let sign = |claims: Value, key: &[u8]| {
        encode(&Header::default(), &claims, &EncodingKey::from_secret(key)).unwrap()
    };
    let claims = |exp: i64, iss: &str| {
        json!({"sub": "u-1", "name": "Sam", "role": "editor", "orgs": [own.to_string()],
               "exp": exp, "iss": iss, "aud": "assetmap"})
    };
    let good = sign(claims(now + 600, "https://idp.example.gov.uk"), SECRET);
    let me = "{ viewer { name role organizations { id } } }";
    assert_eq!(
        app.data_as(Some(&good), me, json!({})).await["viewer"],
        json!({"name": "Sam", "role": "EDITOR", "organizations": [{"id": own.to_string()}]})
    );
    let rename = "mutation($id: ID!) { updateAsset(id: $id, expectedVersion: 1, input: {name: \"Renamed\"}) { name } }";
    assert_eq!(
        app.data_as(Some(&good), rename, json!({"id": mine.to_string()}))
            .await["updateAsset"]["name"],
        "Renamed"
    );
    let refused = app
        .error_as(Some(&good), rename, json!({"id": theirs.to_string()}))
        .await;
    assert_eq!(code(&refused), "FORBIDDEN");
    let history = app
        .data(
            "query($id: ID!) { asset(id: $id) { history(last: 1) { actor } } }",
            json!({"id": mine.to_string()}),
        )
        .await;
    assert_eq!(history["asset"]["history"][0]["actor"], "Sam");

    let bad = [
        sign(claims(now - 3_600, "https://idp.example.gov.uk"), SECRET),
        sign(claims(now + 600, "https://elsewhere.example"), SECRET),
        sign(
            claims(now + 600, "https://idp.example.gov.uk"),
            b"another secret of at least thirty-two bytes!",
        ),
        sign(
            json!({"sub": "u-2", "role": "editor", "exp": now + 600, "iss": "https://idp.example.gov.uk", "aud": "assetmap"}),
            SECRET,
        ),
        sign(
            json!({"sub": "u-3", "role": "superuser", "exp": now + 600, "iss": "https://idp.example.gov.uk", "aud": "assetmap"}),
            SECRET,
        ),
        "not.a.jwt".to_owned(),
    ];
    for token in bad {
        let response = app.gql_as(Some(&token), me, json!({})).await;
        assert_eq!(
            code(&response["errors"][0]),
            "UNAUTHENTICATED",
            "{response}"
        );
    }
    assert_eq!(row(&app, theirs).await.version, 1);
    // API tokens keep working beside JWTs
    let moderator = app.token(Role::Moderator, &[]).await;
    assert_eq!(
        app.data_as(Some(&moderator), me, json!({})).await["viewer"]["role"],
        "MODERATOR"
    );
}

on_both_backends!(jwts_from_an_identity_provider);

/// Every entry point this work added answers bad input with a stable code, not a
/// success and not INTERNAL.
async fn bad_input_to_trust_and_link_worker_entry_points(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = organization(&app, "Somewhere", true).await;
    let id = asset_of(&app, org, "Group").await.to_string();
    let nobody = Uuid::now_v7().to_string();
    let many: Vec<String> = (0..21).map(|_| Uuid::now_v7().to_string()).collect();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "mutation($id: ID!) { approveChange(id: $id) { status } }",
            json!({"id": nobody}),
            "NOT_FOUND",
        ),
        (
            "mutation { approveChange(id: \"nope\") { status } }",
            json!({}),
            "INVALID_INPUT",
        ),
        (
            "mutation($id: ID!) { rejectChange(id: $id, reason: \"   \") { status } }",
            json!({"id": nobody}),
            "INVALID_INPUT",
        ),
        (
            "mutation($id: ID!) { setOrganizationTrusted(id: $id, trusted: true) { id } }",
            json!({"id": nobody}),
            "NOT_FOUND",
        ),
        (
            "mutation($id: ID!) { restoreAsset(id: $id, expectedVersion: 1, toVersion: 1) { id } }",
            json!({"id": nobody}),
            "NOT_FOUND",
        ),
        (
            "mutation($id: ID!) { verifyAsset(id: $id, expectedVersion: 1) { id } }",
            json!({"id": nobody}),
            "NOT_FOUND",
        ),
        (
            "mutation($input: CreateAssetInput!, $k: String) { createAsset(input: $input, idempotencyKey: $k) { id } }",
            json!({"input": {"kind": "CHARITY", "name": "x", "geometry": point(HOME.0, HOME.1)}, "k": "k".repeat(201)}),
            "INVALID_INPUT",
        ),
        (
            "mutation { createCategory(slug: \"Bad Slug\", name: \"x\") { slug } }",
            json!({}),
            "INVALID_INPUT",
        ),
        (
            "mutation { createCategory(slug: \"new-term\", name: \"x\", parentSlug: \"no-such\") { slug } }",
            json!({}),
            "INVALID_INPUT",
        ),
        (
            "mutation { createCategory(slug: \"new-term\", name: \"x\", parentSlug: \"walking\") { slug } }",
            json!({}),
            "INVALID_INPUT",
        ),
        (
            "mutation($ids: [ID!]!) { createShortlist(assetIds: $ids) { code } }",
            json!({"ids": many}),
            "INVALID_INPUT",
        ),
        (
            "mutation { createShortlist(assetIds: []) { code } }",
            json!({}),
            "INVALID_INPUT",
        ),
        (
            "mutation { createShortlist(assetIds: [\"nope\"]) { code } }",
            json!({}),
            "INVALID_INPUT",
        ),
        (
            "{ staleAssets(near: {lon: 0, lat: 0}, radiusMeters: 10, olderThanDays: 0) { edges { cursor } } }",
            json!({}),
            "INVALID_INPUT",
        ),
        (
            "{ pendingChanges(after: \"garbage\") { edges { cursor } } }",
            json!({}),
            "INVALID_INPUT",
        ),
        (
            "query($id: ID!) { asset(id: $id) { history(last: 0) { version } } }",
            json!({"id": id}),
            "INVALID_INPUT",
        ),
        (
            "mutation($id: ID!) { updateAsset(id: $id, expectedVersion: 1, input: {minAge: 40, maxAge: 20}) { id } }",
            json!({"id": id}),
            "INVALID_INPUT",
        ),
        (
            "mutation($id: ID!) { updateAsset(id: $id, expectedVersion: 1, input: {openingHours: \"whenever\"}) { id } }",
            json!({"id": id}),
            "INVALID_INPUT",
        ),
    ];
    for (query, vars, want) in cases {
        let response = app.gql(query, vars).await;
        assert_eq!(code(&response["errors"][0]), want, "{query}: {response}");
    }
    assert_eq!(row(&app, id.parse().unwrap()).await.version, 1);

    // a proposal from an untrusted organization is checked when made, not only when approved
    let untrusted = organization(&app, "Untrusted", false).await;
    let editor = app.token(Role::Editor, &[untrusted]).await;
    let theirs = asset_of(&app, untrusted, "Club").await.to_string();
    for input in [
        json!({"minAge": 40, "maxAge": 20}),
        json!({"categories": ["no-such"]}),
    ] {
        let error = app
            .error_as(
                Some(&editor),
                "mutation($id: ID!, $input: UpdateAssetInput!) { updateAsset(id: $id, expectedVersion: 1, input: $input) { id } }",
                json!({"id": theirs, "input": input}),
            )
            .await;
        assert_eq!(code(&error), "INVALID_INPUT", "{input}");
    }
    let pending = pending_change::Entity::find()
        .all(&app.db.read)
        .await
        .unwrap();
    assert!(pending.is_empty(), "{pending:?}");
}

on_both_backends!(bad_input_to_trust_and_link_worker_entry_points);
