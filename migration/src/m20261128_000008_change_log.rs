//! The change log: one entry for every change to what the public sees of an asset, in
//! the order the changes committed, for sync clients, the RPDE feed and subscriptions.
//!
//! Positions come from the one row of `change_log_state`, updated in the writing
//! transaction: its row lock is held until commit, so positions become visible in the
//! order they were taken and a reader paging by position never skips one. Each entry
//! keeps the asset's public kind, box and categories before and after the change (null
//! where the public did not see it), so a client's filter can tell when an asset
//! entered or left it. `pruned_through` is the highest position pruned: a cursor before
//! it may have missed a deletion.
//!
//! Every asset the public sees now gets an entry here, so a feed read from the start
//! holds the whole map.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &'static str {
        "m20261128_000008_change_log"
    }
}

const SQLITE_UP: &str = r"
CREATE TABLE asset_changes (
    position INTEGER PRIMARY KEY NOT NULL,
    asset_id BLOB NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('updated', 'deleted')),
    changed_at TEXT NOT NULL,
    before_kind TEXT,
    before_min_lon REAL,
    before_min_lat REAL,
    before_max_lon REAL,
    before_max_lat REAL,
    before_categories TEXT,
    after_min_lon REAL,
    after_min_lat REAL,
    after_max_lon REAL,
    after_max_lat REAL,
    after_categories TEXT
);
CREATE INDEX asset_changes_asset ON asset_changes (asset_id, position);
CREATE INDEX asset_changes_changed_at ON asset_changes (changed_at);
CREATE TABLE change_log_state (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    last_position INTEGER NOT NULL,
    pruned_through INTEGER NOT NULL
);
INSERT INTO asset_changes (position, asset_id, kind, state, changed_at,
    after_min_lon, after_min_lat, after_max_lon, after_max_lat, after_categories)
SELECT ROW_NUMBER() OVER (ORDER BY a.seq), a.id, a.kind, 'updated', a.updated_at,
    a.min_lon, a.min_lat, a.max_lon, a.max_lat,
    coalesce((SELECT group_concat(c.slug, ',') FROM asset_categories ac
              JOIN categories c ON c.id = ac.category_id WHERE ac.asset_id = a.id), '')
FROM assets a WHERE a.status = 'active' AND a.moderation = 'approved';
INSERT INTO change_log_state (id, last_position, pruned_through)
    SELECT 1, coalesce(max(position), 0), 0 FROM asset_changes;
";

const POSTGRES_UP: &str = r"
CREATE TABLE asset_changes (
    position bigint PRIMARY KEY,
    asset_id uuid NOT NULL,
    kind text NOT NULL,
    state text NOT NULL CHECK (state IN ('updated', 'deleted')),
    changed_at timestamptz NOT NULL,
    before_kind text,
    before_min_lon double precision,
    before_min_lat double precision,
    before_max_lon double precision,
    before_max_lat double precision,
    before_categories text,
    after_min_lon double precision,
    after_min_lat double precision,
    after_max_lon double precision,
    after_max_lat double precision,
    after_categories text
);
CREATE INDEX asset_changes_asset ON asset_changes (asset_id, position);
CREATE INDEX asset_changes_changed_at ON asset_changes (changed_at);
CREATE TABLE change_log_state (
    id integer PRIMARY KEY CHECK (id = 1),
    last_position bigint NOT NULL,
    pruned_through bigint NOT NULL
);
INSERT INTO asset_changes (position, asset_id, kind, state, changed_at,
    after_min_lon, after_min_lat, after_max_lon, after_max_lat, after_categories)
SELECT ROW_NUMBER() OVER (ORDER BY a.created_at, a.id), a.id, a.kind, 'updated', a.updated_at,
    a.min_lon, a.min_lat, a.max_lon, a.max_lat,
    coalesce((SELECT string_agg(c.slug, ',') FROM asset_categories ac
              JOIN categories c ON c.id = ac.category_id WHERE ac.asset_id = a.id), '')
FROM assets a WHERE a.status = 'active' AND a.moderation = 'approved';
INSERT INTO change_log_state (id, last_position, pruned_through)
    SELECT 1, coalesce(max(position), 0), 0 FROM asset_changes;
";

const DOWN: &str = r"
DROP TABLE change_log_state;
DROP TABLE asset_changes;
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DatabaseBackend::Sqlite => SQLITE_UP,
            _ => POSTGRES_UP,
        };
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(DOWN).await?;
        Ok(())
    }
}
