//! Shortlists a link worker hands to a resident: assets and a note, opened by an
//! unguessable code, expiring. No personal data is stored with them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &'static str {
        "m20261122_000007_shortlists"
    }
}

const SQLITE_UP: &str = r"
CREATE TABLE shortlists (
    id BLOB PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    note TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE shortlist_items (
    shortlist_id BLOB NOT NULL REFERENCES shortlists (id),
    position INTEGER NOT NULL,
    asset_id BLOB NOT NULL REFERENCES assets (id),
    PRIMARY KEY (shortlist_id, position)
);
";

const POSTGRES_UP: &str = r"
CREATE TABLE shortlists (
    id uuid PRIMARY KEY,
    code text NOT NULL UNIQUE,
    note text,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE TABLE shortlist_items (
    shortlist_id uuid NOT NULL REFERENCES shortlists (id),
    position integer NOT NULL,
    asset_id uuid NOT NULL REFERENCES assets (id),
    PRIMARY KEY (shortlist_id, position)
);
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
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE shortlist_items; DROP TABLE shortlists;")
            .await?;
        Ok(())
    }
}
