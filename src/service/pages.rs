//! Pages bounded in bytes as well as items.
//!
//! A page of 100 small assets is a few kilobytes, and a page of 100 walking routes of
//! 5 000 positions is 20 MB: counting items alone lets one request build whatever a
//! publisher once imported. So before loading a page's rows, the searches and feeds ask
//! how large each row's stored text is (one query of lengths, no rows read), and end
//! the page where the next row would pass the budget; the page says a next one follows
//! and its cursor goes on from the last row kept, as any short page does. A page always
//! holds its first row, however large (a geometry is at most 5 000 positions), so
//! paging always moves on.

use std::collections::HashMap;

use entity::asset;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::error::AppResult;

/// The stored bytes of an RPDE or Open Referral page's rows, at most (one row more when
/// the first alone is larger).
pub const FEED_PAGE_BYTES: u64 = 2 * 1024 * 1024;

/// The bytes of a row that grow with what a publisher wrote: its geometry and
/// description (every other field has a small cap).
const SIZE: &str = "CAST(length(geometry) + coalesce(length(description), 0) AS BIGINT)";

/// A loaded row's size, as [`stored_sizes`] counts it.
pub fn row_size(row: &asset::Model) -> u64 {
    let bytes = row.geometry.len() + row.description.as_ref().map_or(0, String::len);
    crate::convert::to_u64(bytes)
}

/// The stored size of each of these assets, by id (ids with no asset are left out).
pub async fn stored_sizes(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, u64>> {
    let mut sizes = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<(Uuid, i64)> = asset::Entity::find()
            .select_only()
            .column(asset::Column::Id)
            .column_as(Expr::cust(SIZE), "bytes")
            .filter(asset::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        sizes.extend(
            rows.into_iter()
                // a length is never negative
                .map(|(id, bytes)| (id, bytes.unsigned_abs())),
        );
    }
    Ok(sizes)
}

/// How many of `ids`, in order, fit in `budget` bytes of stored text: at least one
/// (when there is one), and all of them when they fit.
pub async fn fitting(conn: &impl ConnectionTrait, ids: &[Uuid], budget: u64) -> AppResult<usize> {
    if ids.len() <= 1 {
        return Ok(ids.len());
    }
    let sizes = stored_sizes(conn, ids).await?;
    Ok(count_fitting(
        ids.iter().map(|id| sizes.get(id).copied().unwrap_or(0)),
        budget,
    ))
}

/// The stored bytes of rows read at once where a response is written a part at a time.
pub const CHUNK_BYTES: u64 = 1024 * 1024;

/// These ids, in order, in runs whose rows hold at most `bytes` of stored text each (a
/// run holds one row at least), for reading a long page a few rows at a time.
pub async fn runs(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
    bytes: u64,
) -> AppResult<Vec<Vec<Uuid>>> {
    let sizes = stored_sizes(conn, ids).await?;
    let mut runs = Vec::new();
    let mut rest = ids;
    while !rest.is_empty() {
        let take = count_fitting(
            rest.iter().map(|id| sizes.get(id).copied().unwrap_or(0)),
            bytes,
        );
        let (run, after) = rest.split_at(take.clamp(1, rest.len()));
        runs.push(run.to_vec());
        rest = after;
    }
    Ok(runs)
}

/// How many of these sizes, in order, fit in `budget`: at least one.
pub fn count_fitting(sizes: impl IntoIterator<Item = u64>, budget: u64) -> usize {
    let mut total = 0_u64;
    let mut count = 0;
    for size in sizes {
        total = total.saturating_add(size);
        if count > 0 && total > budget {
            break;
        }
        count += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::count_fitting;

    #[test]
    fn a_page_ends_before_the_row_that_would_pass_the_budget() {
        assert_eq!(count_fitting([10, 10, 10], 25), 2);
        assert_eq!(count_fitting([10, 10, 10], 30), 3);
        assert_eq!(count_fitting([10, 10, 10], 1_000), 3);
        assert_eq!(count_fitting([], 10), 0);
    }

    #[test]
    fn the_first_row_is_always_kept_however_large() {
        assert_eq!(count_fitting([500, 1], 100), 1);
        assert_eq!(count_fitting([500], 0), 1);
    }
}
