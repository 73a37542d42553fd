//! Use cases: one function per thing a user does. They take validated domain types and
//! a [`Db`](crate::db::Db), and return entities or [`AppError`](crate::error::AppError).
//!
//! - `assets`: create, read, update with optimistic concurrency, archive, verify, restore
//! - `asset_version`: the one write path of an asset row (with its revision), shared by
//!   `assets`, `moderation` and `import`
//! - `idempotency`: retry-safe creates
//! - `changes`: the change log (appended by `asset_version`), read by sync clients, the
//!   RPDE feed and the live subscriptions (`changes::hub`)
//! - `search`: nearby, viewport and corridor searches, paged
//! - `pages`: pages bounded in bytes as well as items (the stored size of their rows)
//! - `organizations`, `categories`: the groups that run assets and the taxonomy
//! - `import`, `export`: GeoJSON, CSV and Open Referral UK in (all or nothing), GeoJSON
//!   out
//! - `oruk`: the directory as Open Referral UK 3.0, for the `/oruk` API
//! - `postcodes`: the ONS Postcode Directory, for searches from a postcode
//! - `tabular`: opening a CSV file, for the CSV import and the postcode directory
//! - `tiles`: the map as vector tiles, clustered at low zoom
//! - `demo`: the Greater Manchester demo map, loaded once
//! - `tokens`: API tokens, issued and revoked from the CLI, checked on each request
//! - `moderation`: pending changes, approved or rejected by moderators
//! - `shortlists`: what a link worker hands a resident, by code

pub mod asset_version;
pub mod assets;
pub mod categories;
pub mod changes;
pub mod demo;
pub mod export;
pub mod idempotency;
pub mod import;
pub mod moderation;
pub mod organizations;
pub mod oruk;
pub mod pages;
pub mod postcodes;
pub mod search;
pub mod shortlists;
pub mod tabular;
pub mod tiles;
pub mod tokens;

use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

/// Refuses a request that named something that does not exist: the first of `wanted`
/// that no row in `found` has is `INVALID_INPUT` on `field`, "<id> <what>".
pub fn require_all<T>(
    field: &'static str,
    wanted: &[Uuid],
    found: &[T],
    id: impl Fn(&T) -> Uuid,
    what: &str,
) -> crate::error::AppResult<()> {
    match wanted.iter().find(|w| !found.iter().any(|f| id(f) == **w)) {
        Some(missing) => Err(crate::error::AppError::invalid(
            field,
            format!("{missing} {what}"),
        )),
        None => Ok(()),
    }
}

/// Now, to the microsecond: the finest both backends store.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
