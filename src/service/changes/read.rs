//! Reading the change log: pages for sync clients (every entry, through their filter),
//! the latest entry of each asset for the RPDE feed, and pruning.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::asset;
use entity::asset_change::{self, ChangeState};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::db::{Db, statement};
use crate::domain::changes::{ChangeFilter, Seen};
use crate::domain::{AssetStatus, Moderation, PageSize};
use crate::error::{AppError, AppResult};
use crate::service::categories;

/// A position in the change log, as a client holds it. The first position is 1; 0 is
/// "before everything".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position(pub i64);

impl Position {
    /// An opaque cursor for this position.
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("changes:{}", self.0))
    }

    pub fn decode(text: &str) -> AppResult<Self> {
        let bad = || AppError::invalid("after", "after is not a cursor returned by assetChanges");
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let text = std::str::from_utf8(&bytes).map_err(|_| bad())?;
        let n = text.strip_prefix("changes:").ok_or_else(bad)?;
        match n.parse::<i64>() {
            Ok(value) if value >= 0 && value.to_string() == n => Ok(Self(value)),
            _ => Err(bad()),
        }
    }
}

/// An entry as a reader delivers it.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub entry: asset_change::Model,
    /// `Updated` when this reader sees the asset now, else `Deleted`.
    pub state: ChangeState,
    /// The asset as the public sees it now (never a person's exact point), when updated.
    pub asset: Option<asset::Model>,
}

/// A page of the log for one client.
#[derive(Debug)]
pub struct ChangePage {
    pub items: Vec<Delivered>,
    /// Where the client continues from: the last entry read, delivered or not.
    pub end: Position,
    /// More entries follow `end` (as of this read).
    pub has_next: bool,
}

fn split(categories: Option<&String>) -> Vec<String> {
    categories
        .map(|c| {
            c.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// What the public saw before the change.
pub fn seen_before(entry: &asset_change::Model) -> Option<Seen> {
    Some(Seen {
        kind: entry.before_kind?,
        bbox: [
            entry.before_min_lon?,
            entry.before_min_lat?,
            entry.before_max_lon?,
            entry.before_max_lat?,
        ],
        categories: split(entry.before_categories.as_ref()),
    })
}

/// What the public saw after the change.
pub fn seen_after(entry: &asset_change::Model) -> Option<Seen> {
    Some(Seen {
        kind: entry.kind,
        bbox: [
            entry.after_min_lon?,
            entry.after_min_lat?,
            entry.after_max_lon?,
            entry.after_max_lat?,
        ],
        categories: split(entry.after_categories.as_ref()),
    })
}

/// An asset as the public sees it now, with what a filter needs of it.
#[derive(Clone, Debug)]
pub struct Current {
    pub asset: asset::Model,
    pub seen: Seen,
}

/// The assets the public sees now, of these ids, by id (others are left out). A person's
/// exact point is dropped: readers of the log are the public.
pub async fn current(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Current>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = asset::Entity::find()
        .filter(asset::Column::Id.is_in(ids.iter().copied()))
        .filter(asset::Column::Status.eq(AssetStatus::Active))
        .filter(asset::Column::Moderation.eq(Moderation::Approved))
        .all(conn)
        .await?;
    let visible: Vec<Uuid> = rows.iter().map(|a| a.id).collect();
    let mut cats = categories::of_assets(conn, &visible).await?;
    Ok(rows
        .into_iter()
        .map(|mut a| {
            a.exact_geometry = None;
            let seen = Seen {
                kind: a.kind,
                bbox: [a.min_lon, a.min_lat, a.max_lon, a.max_lat],
                categories: cats
                    .remove(&a.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| c.slug)
                    .collect(),
            };
            (a.id, Current { asset: a, seen })
        })
        .collect())
}

/// How an entry reads to a client with `filter`: None when it does not concern them;
/// else updated (with the asset) if they see the asset now, deleted if not.
pub fn deliver(
    filter: &ChangeFilter,
    entry: &asset_change::Model,
    now: Option<&Current>,
) -> Option<Delivered> {
    if !filter.is_empty()
        && !filter.concerns(seen_before(entry).as_ref(), seen_after(entry).as_ref())
    {
        return None;
    }
    let seen_now = now.filter(|c| filter.matches(&c.seen));
    Some(Delivered {
        entry: entry.clone(),
        state: if seen_now.is_some() {
            ChangeState::Updated
        } else {
            ChangeState::Deleted
        },
        asset: seen_now.map(|c| c.asset.clone()),
    })
}

/// Entries after `after`, oldest first, at most `limit`.
pub async fn entries(
    conn: &impl ConnectionTrait,
    after: Position,
    limit: u64,
) -> AppResult<Vec<asset_change::Model>> {
    Ok(asset_change::Entity::find()
        .filter(asset_change::Column::Position.gt(after.0))
        .order_by_asc(asset_change::Column::Position)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Refuses a cursor from before what the log still holds, and (when `ahead_too`) one
/// from ahead of it: a log restored from a backup.
async fn check_cursor(
    conn: &impl ConnectionTrait,
    after: Position,
    ahead_too: bool,
) -> AppResult<()> {
    let state = super::state(conn).await?;
    if after.0 > 0 && after.0 < state.pruned_through {
        return Err(AppError::CursorExpired(format!(
            "this cursor is older than the change log keeps (changes up to position {} were \
             pruned): start again from a full export or from the beginning (no cursor)",
            state.pruned_through
        )));
    }
    if ahead_too && after.0 > state.last_position {
        return Err(AppError::CursorExpired(
            "this cursor is ahead of the change log (was the database restored?): start again \
             from the beginning (no cursor)"
                .to_owned(),
        ));
    }
    Ok(())
}

/// Entries read per round while filling a page.
const SCAN_BATCH: u64 = 500;
/// The most entries one page reads; a page that stops early says where to go on from.
const SCAN_MAX: usize = 10_000;

/// The first of these entries whose assets' stored text fits in `max_bytes` (at least
/// one; see `service::pages`), and whether some were left out.
async fn fitting(
    db: &Db,
    entries: &mut Vec<asset_change::Model>,
    max_bytes: Option<u64>,
) -> AppResult<bool> {
    let Some(budget) = max_bytes else {
        return Ok(false);
    };
    let ids: Vec<Uuid> = entries.iter().map(|e| e.asset_id).collect();
    let fit = crate::service::pages::fitting(&db.read, &ids, budget).await?;
    let cut = fit < entries.len();
    entries.truncate(fit);
    Ok(cut)
}

/// A client's page: the entries after `after` that concern its filter, oldest first;
/// with `max_bytes`, no more than fit in that many bytes of the assets' stored text.
pub async fn page(
    db: &Db,
    after: Position,
    first: PageSize,
    filter: &ChangeFilter,
    max_bytes: Option<u64>,
) -> AppResult<ChangePage> {
    check_cursor(&db.read, after, true).await?;
    let limit = crate::convert::to_usize(first.get());
    let mut picked: Vec<asset_change::Model> = Vec::new();
    let (mut end, mut scanned, mut has_next) = (after, 0_usize, false);
    'scan: loop {
        let batch = entries(&db.read, end, SCAN_BATCH).await?;
        let exhausted = (batch.len() as u64) < SCAN_BATCH;
        for entry in batch {
            scanned += 1;
            let concerns = filter.is_empty()
                || filter.concerns(seen_before(&entry).as_ref(), seen_after(&entry).as_ref());
            if concerns && picked.len() == limit {
                // one more that concerns the client: a next page exists
                has_next = true;
                break 'scan;
            }
            end = Position(entry.position);
            if concerns {
                picked.push(entry);
            }
            if scanned >= SCAN_MAX {
                has_next = true;
                break 'scan;
            }
        }
        if exhausted {
            break;
        }
    }
    if fitting(db, &mut picked, max_bytes).await? {
        has_next = true;
        end = picked.last().map_or(after, |e| Position(e.position));
    }
    let ids: Vec<Uuid> = picked.iter().map(|e| e.asset_id).collect();
    let now = current(&db.read, &ids).await?;
    let items = picked
        .iter()
        .filter_map(|e| deliver(filter, e, now.get(&e.asset_id)))
        .collect();
    Ok(ChangePage {
        items,
        end,
        has_next,
    })
}

/// The RPDE feed's page: the latest entry of each asset whose latest entry comes after
/// `after`, oldest first, at most `limit` and no more than fit in `max_bytes` of the
/// assets' stored text, each with the asset as the public sees it. A position past the
/// end reads as the (empty) last page, as RPDE asks.
pub async fn latest_page(
    db: &Db,
    after: Position,
    limit: u64,
    max_bytes: u64,
) -> AppResult<Vec<Delivered>> {
    check_cursor(&db.read, after, false).await?;
    let sql = "SELECT c.position FROM asset_changes c WHERE c.position > ? AND NOT EXISTS \
         (SELECT 1 FROM asset_changes l WHERE l.asset_id = c.asset_id AND l.position > c.position) \
         ORDER BY c.position LIMIT ?";
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = db
        .read
        .query_all_raw(statement(
            db.backend.db_backend(),
            sql,
            [after.0.into(), limit.into()],
        ))
        .await?;
    let positions = rows
        .iter()
        .map(|r| r.try_get::<i64>("", "position"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut latest = asset_change::Entity::find()
        .filter(asset_change::Column::Position.is_in(positions))
        .order_by_asc(asset_change::Column::Position)
        .all(&db.read)
        .await?;
    fitting(db, &mut latest, Some(max_bytes)).await?;
    let ids: Vec<Uuid> = latest.iter().map(|e| e.asset_id).collect();
    let now = current(&db.read, &ids).await?;
    let everything = ChangeFilter::default();
    Ok(latest
        .iter()
        .filter_map(|e| deliver(&everything, e, now.get(&e.asset_id)))
        .collect())
}

/// Prunes what no client needs any more: entries older than `retention` that a later
/// entry of the same asset supersedes, and deletions (tombstones) older than it. The
/// latest entry of an asset the public sees is kept however old, so the log read from
/// the start still holds the whole map. Returns how many entries went.
pub async fn prune(
    db: &Db,
    now: chrono::DateTime<chrono::Utc>,
    retention: chrono::Duration,
) -> AppResult<u64> {
    use sea_orm::TransactionTrait;
    let cutoff = now - retention;
    let backend = db.backend.db_backend();
    let prunable = "FROM asset_changes c WHERE c.changed_at < ? AND (c.state = ? OR EXISTS \
         (SELECT 1 FROM asset_changes l WHERE l.asset_id = c.asset_id AND l.position > c.position))";
    let values =
        || -> [sea_orm::Value; 2] { [cutoff.into(), ChangeState::Deleted.as_str().into()] };
    let txn = db.write.begin().await?;
    let row = txn
        .query_one_raw(statement(
            backend,
            &format!("SELECT max(c.position) AS last {prunable}"),
            values(),
        ))
        .await?;
    let Some(last) = row.and_then(|r| r.try_get::<Option<i64>>("", "last").ok().flatten()) else {
        return Ok(0);
    };
    let deleted = txn
        .execute_raw(statement(
            backend,
            &format!("DELETE FROM asset_changes WHERE position IN (SELECT c.position {prunable})"),
            values(),
        ))
        .await?
        .rows_affected();
    // the pruned mark never moves back (written without GREATEST/max: they differ)
    let bump = "UPDATE change_log_state SET pruned_through = \
         CASE WHEN pruned_through > ? THEN pruned_through ELSE ? END WHERE id = 1";
    txn.execute_raw(statement(backend, bump, [last.into(), last.into()]))
        .await?;
    txn.commit().await?;
    Ok(deleted)
}
