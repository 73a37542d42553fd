//! What a link worker needs on each asset: opening hours (OSM syntax), accessibility
//! features (a bit set), cost and age range; and, for people such as health champions,
//! the exact location kept apart from the public, approximate one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &'static str {
        "m20261122_000005_link_worker"
    }
}

const SQLITE_UP: &str = r"
ALTER TABLE assets ADD COLUMN opening_hours TEXT;
ALTER TABLE assets ADD COLUMN accessibility INTEGER NOT NULL DEFAULT 0;
ALTER TABLE assets ADD COLUMN free BOOLEAN;
ALTER TABLE assets ADD COLUMN cost_note TEXT;
ALTER TABLE assets ADD COLUMN min_age INTEGER;
ALTER TABLE assets ADD COLUMN max_age INTEGER;
-- people: `geometry` holds the public, approximate point; this the exact one
ALTER TABLE assets ADD COLUMN exact_geometry TEXT;
";

const POSTGRES_UP: &str = r"
ALTER TABLE assets ADD COLUMN opening_hours text;
ALTER TABLE assets ADD COLUMN accessibility bigint NOT NULL DEFAULT 0;
ALTER TABLE assets ADD COLUMN free boolean;
ALTER TABLE assets ADD COLUMN cost_note text;
ALTER TABLE assets ADD COLUMN min_age integer;
ALTER TABLE assets ADD COLUMN max_age integer;
ALTER TABLE assets ADD COLUMN exact_geometry text;
";

const DOWN: &str = r"
ALTER TABLE assets DROP COLUMN exact_geometry;
ALTER TABLE assets DROP COLUMN max_age;
ALTER TABLE assets DROP COLUMN min_age;
ALTER TABLE assets DROP COLUMN cost_note;
ALTER TABLE assets DROP COLUMN free;
ALTER TABLE assets DROP COLUMN accessibility;
ALTER TABLE assets DROP COLUMN opening_hours;
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
