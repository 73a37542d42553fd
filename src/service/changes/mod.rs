//! The change log: every change to what the public sees of an asset, appended by the
//! one write path in the writing transaction, read by sync clients (`assetChanges`), the
//! RPDE feed and the subscriptions (through `hub`).
//!
//! Positions come from the one row of `change_log_state`, updated in the writing
//! transaction; its row lock is held until commit, so positions become visible in the
//! order they were taken (on PostgreSQL as on SQLite, where there is one writer anyway)
//! and a reader paging by position never skips an entry that commits late.
//!
//! An entry says which asset changed and what the public saw of it before and after
//! (kind, box, categories; nothing where it did not see it). Readers deliver each entry
//! with the asset as the public sees it now: that is what a client applying the log in
//! order needs, and an entry a later deletion superseded reads as deleted.

mod fanout;
pub mod hub;
mod read;

pub use fanout::Missed;

use entity::asset_change::{self, ChangeState};
use entity::change_log_state;
use sea_orm::ActiveValue::Set;
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

pub use read::{ChangePage, Current, Delivered, Position, deliver, latest_page, page, prune};

use crate::domain::changes::Seen;
use crate::domain::{AssetContent, AssetStatus, Moderation, people};
use crate::error::{AppError, AppResult};

/// The PostgreSQL channel each replica listens on for new entries.
pub const CHANNEL: &str = "asset_changes";

/// The public's view of content: its public geometry in place of the exact one, or
/// nothing when the public does not see the asset.
pub fn public_view(
    content: &AssetContent,
    moderation: Moderation,
) -> AppResult<Option<AssetContent>> {
    if moderation != Moderation::Approved || content.status != AssetStatus::Active {
        return Ok(None);
    }
    let geometry = people::public_geometry(content.kind, &content.geometry)?.into_owned();
    Ok(Some(AssetContent {
        geometry,
        ..content.clone()
    }))
}

fn seen(view: &AssetContent) -> Seen {
    let b = view.geometry.bbox();
    Seen {
        kind: view.kind,
        bbox: [b.min().x, b.min().y, b.max().x, b.max().y],
        categories: view.categories.clone(),
    }
}

/// One change to log.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub asset_id: Uuid,
    /// The asset's kind after the change (before it, for a deletion).
    pub kind: crate::domain::AssetKind,
    pub before: Option<Seen>,
    pub after: Option<Seen>,
}

impl Change {
    /// The change between two public views (None: the public did not see the asset),
    /// or nothing when the public sees no difference.
    pub fn between(
        asset_id: Uuid,
        before: Option<&AssetContent>,
        after: Option<&AssetContent>,
    ) -> Option<Self> {
        if before == after {
            return None;
        }
        let kind = after.or(before)?.kind;
        Some(Self {
            asset_id,
            kind,
            before: before.map(seen),
            after: after.map(seen),
        })
    }

    /// A change to something the public sees beside the content (its verification).
    pub fn touched(asset_id: Uuid, view: &AssetContent) -> Self {
        let seen = seen(view);
        Self {
            asset_id,
            kind: view.kind,
            before: Some(seen.clone()),
            after: Some(seen),
        }
    }
}

fn categories(seen: &Seen) -> String {
    seen.categories.join(",")
}

fn row(
    position: i64,
    at: chrono::DateTime<chrono::Utc>,
    change: Change,
) -> asset_change::ActiveModel {
    let (before, after) = (change.before, change.after);
    let bound = |s: &Option<Seen>, i: usize| s.as_ref().map(|s| s.bbox[i]);
    asset_change::ActiveModel {
        position: Set(position),
        asset_id: Set(change.asset_id),
        kind: Set(change.kind),
        state: Set(if after.is_some() {
            ChangeState::Updated
        } else {
            ChangeState::Deleted
        }),
        changed_at: Set(at),
        before_kind: Set(before.as_ref().map(|s| s.kind)),
        before_min_lon: Set(bound(&before, 0)),
        before_min_lat: Set(bound(&before, 1)),
        before_max_lon: Set(bound(&before, 2)),
        before_max_lat: Set(bound(&before, 3)),
        before_categories: Set(before.as_ref().map(categories)),
        after_min_lon: Set(bound(&after, 0)),
        after_min_lat: Set(bound(&after, 1)),
        after_max_lon: Set(bound(&after, 2)),
        after_max_lat: Set(bound(&after, 3)),
        after_categories: Set(after.as_ref().map(categories)),
    }
}

/// Takes `count` positions from the counter row (locking it until the transaction
/// ends) and returns the first.
async fn take_positions(conn: &impl ConnectionTrait, count: i64) -> AppResult<i64> {
    let sql = "UPDATE change_log_state SET last_position = last_position + ? WHERE id = 1 \
         RETURNING last_position";
    let row = conn
        .query_one_raw(crate::db::statement(
            conn.get_database_backend(),
            sql,
            [count.into()],
        ))
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("change_log_state has no row")))?;
    let last: i64 = row.try_get("", "last_position")?;
    Ok(last - count + 1)
}

/// Appends entries for these changes, in order, in the caller's transaction; on
/// PostgreSQL every replica is told when it commits.
pub async fn append(conn: &impl ConnectionTrait, changes: Vec<Change>) -> AppResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let count = i64::try_from(changes.len()).unwrap_or(i64::MAX);
    let first = take_positions(conn, count).await?;
    let at = crate::service::now();
    let rows: Vec<asset_change::ActiveModel> = changes
        .into_iter()
        .zip(first..)
        .map(|(change, position)| row(position, at, change))
        .collect();
    crate::db::insert_all(conn, &rows, 1_000).await?;
    // delivered at commit, to every replica that listens
    crate::db::commits::announce(conn, CHANNEL, (first + count - 1).to_string()).await?;
    Ok(())
}

/// The log's counters: the last position handed out and the highest pruned one.
pub async fn state(conn: &impl ConnectionTrait) -> AppResult<change_log_state::Model> {
    change_log_state::Entity::find_by_id(1)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("change_log_state has no row")))
}
