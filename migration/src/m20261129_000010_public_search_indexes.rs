//! PostGIS searches walk indexes of public assets only, with the kind beside the
//! geometry (`btree_gist`): a nearby search for one kind then reads, nearest first, only
//! the entries of that kind, instead of fetching every asset near the point from the
//! table to check its kind and state. They replace the plain geometry indexes, which
//! only searches used. SQLite is unchanged (its searches run in memory).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &'static str {
        "m20261129_000010_public_search_indexes"
    }
}

const POSTGRES_UP: &str = r"
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE INDEX assets_public_geom ON assets USING gist (kind, geom)
    WHERE status = 'active' AND moderation = 'approved';
CREATE INDEX assets_public_geog ON assets USING gist (kind, geography(geom))
    WHERE status = 'active' AND moderation = 'approved';
DROP INDEX assets_geom;
DROP INDEX assets_geog;
";

const POSTGRES_DOWN: &str = r"
CREATE INDEX assets_geom ON assets USING gist (geom);
CREATE INDEX assets_geog ON assets USING gist (geography(geom));
DROP INDEX assets_public_geom;
DROP INDEX assets_public_geog;
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(POSTGRES_UP)
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(POSTGRES_DOWN)
                .await?;
        }
        Ok(())
    }
}
