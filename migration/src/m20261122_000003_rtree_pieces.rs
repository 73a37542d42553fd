//! SQLite: index long geometries in pieces. The R*Tree holds one entry per piece (a run of
//! a path's segments, a point of a MultiPoint, a polygon of a MultiPolygon), keyed
//! `seq * 1024 + n`, and the application writes the pieces with the asset. A path 10 km
//! long no longer has one box that meets every search window it passes. Existing assets
//! get one piece each (their whole box): coarser, but complete.
//! PostgreSQL is unchanged.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &'static str {
        "m20261122_000003_rtree_pieces"
    }
}

const SQLITE_UP: &str = r"
DROP TRIGGER assets_rtree_insert;
DROP TRIGGER assets_rtree_update;
DROP TRIGGER assets_rtree_delete;
DROP TABLE asset_rtree;
CREATE VIRTUAL TABLE asset_rtree USING rtree (piece, min_lon, max_lon, min_lat, max_lat);
INSERT INTO asset_rtree (piece, min_lon, max_lon, min_lat, max_lat)
    SELECT seq * 1024, min_lon, max_lon, min_lat, max_lat FROM assets;
";

const SQLITE_DOWN: &str = r"
DROP TABLE asset_rtree;
CREATE VIRTUAL TABLE asset_rtree USING rtree (seq, min_lon, max_lon, min_lat, max_lat);
INSERT INTO asset_rtree (seq, min_lon, max_lon, min_lat, max_lat)
    SELECT seq, min_lon, max_lon, min_lat, max_lat FROM assets;
CREATE TRIGGER assets_rtree_insert AFTER INSERT ON assets BEGIN
    INSERT INTO asset_rtree (seq, min_lon, max_lon, min_lat, max_lat)
    VALUES (new.seq, new.min_lon, new.max_lon, new.min_lat, new.max_lat);
END;
CREATE TRIGGER assets_rtree_update AFTER UPDATE OF min_lon, min_lat, max_lon, max_lat ON assets BEGIN
    UPDATE asset_rtree
    SET min_lon = new.min_lon, max_lon = new.max_lon, min_lat = new.min_lat, max_lat = new.max_lat
    WHERE seq = new.seq;
END;
CREATE TRIGGER assets_rtree_delete AFTER DELETE ON assets BEGIN
    DELETE FROM asset_rtree WHERE seq = old.seq;
END;
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
