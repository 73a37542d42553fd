//! Where an imported asset came from: a source (`oruk:https://council.example/api`) and
//! the id the source gives it, so that importing the same feed again updates the assets
//! it made instead of adding them twice.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &'static str {
        "m20261130_000012_asset_sources"
    }
}

fn sql(backend: DatabaseBackend) -> String {
    let uuid = if backend == DatabaseBackend::Postgres {
        "uuid"
    } else {
        "BLOB"
    };
    format!(
        "CREATE TABLE asset_sources (
            source TEXT NOT NULL,
            source_id TEXT NOT NULL,
            asset_id {uuid} NOT NULL REFERENCES assets (id),
            PRIMARY KEY (source, source_id)
        );
        CREATE INDEX asset_sources_asset ON asset_sources (asset_id);"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .get_connection()
            .execute_unprepared(&sql(backend))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE asset_sources")
            .await?;
        Ok(())
    }
}
