//! SQLite searches move into memory: `asset_search` holds a compact record per public
//! asset (what the in-memory index needs, read in one column at start-up) and
//! `asset_shapes` the compact geometry of lines and areas, for exact distances. The
//! R*Tree of geometry pieces is no longer read, so it goes. The server fills both tables
//! for existing assets once (`app_meta` `search_records` = `rebuild` asks it to), since
//! the records are computed from the geometry. PostgreSQL is unchanged.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &'static str {
        "m20261129_000009_search_records"
    }
}

const SQLITE_UP: &str = r"
CREATE TABLE asset_search (
    seq INTEGER PRIMARY KEY NOT NULL,
    record BLOB NOT NULL
);
CREATE TABLE asset_shapes (
    seq INTEGER PRIMARY KEY NOT NULL,
    shape BLOB NOT NULL
);
DROP TABLE asset_rtree;
INSERT INTO app_meta (key, value) VALUES ('search_records', 'rebuild')
    ON CONFLICT (key) DO UPDATE SET value = 'rebuild';
";

const SQLITE_DOWN: &str = r"
DROP TABLE asset_shapes;
DROP TABLE asset_search;
DELETE FROM app_meta WHERE key = 'search_records';
CREATE VIRTUAL TABLE asset_rtree USING rtree (piece, min_lon, max_lon, min_lat, max_lat);
INSERT INTO asset_rtree (piece, min_lon, max_lon, min_lat, max_lat)
    SELECT seq * 1024, min_lon, max_lon, min_lat, max_lat FROM assets;
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            manager
                .get_connection()
                .execute_unprepared(SQLITE_UP)
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            manager
                .get_connection()
                .execute_unprepared(SQLITE_DOWN)
                .await?;
        }
        Ok(())
    }
}
