//! Full-text search over name, description and categories, with each backend's own text
//! index: an FTS5 table (Porter stemming) kept by triggers on SQLite, a GIN index on the
//! English `tsvector` on PostgreSQL. The application writes `search_text` with each
//! asset; existing assets get theirs here.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &'static str {
        "m20261122_000006_full_text"
    }
}

const SQLITE_UP: &str = r"
ALTER TABLE assets ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE assets SET search_text = name || char(10) || coalesce(description, '') || char(10) ||
    coalesce((SELECT group_concat(replace(c.slug, '-', ' '), ' ') FROM asset_categories ac
              JOIN categories c ON c.id = ac.category_id WHERE ac.asset_id = assets.id), '');
CREATE VIRTUAL TABLE asset_fts USING fts5(
    search_text, content = 'assets', content_rowid = 'seq', tokenize = 'porter unicode61'
);
INSERT INTO asset_fts (asset_fts) VALUES ('rebuild');
CREATE TRIGGER assets_fts_insert AFTER INSERT ON assets BEGIN
    INSERT INTO asset_fts (rowid, search_text) VALUES (new.seq, new.search_text);
END;
CREATE TRIGGER assets_fts_delete AFTER DELETE ON assets BEGIN
    INSERT INTO asset_fts (asset_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text);
END;
CREATE TRIGGER assets_fts_update AFTER UPDATE OF search_text ON assets BEGIN
    INSERT INTO asset_fts (asset_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text);
    INSERT INTO asset_fts (rowid, search_text) VALUES (new.seq, new.search_text);
END;
";

const POSTGRES_UP: &str = r"
ALTER TABLE assets ADD COLUMN search_text text NOT NULL DEFAULT '';
UPDATE assets SET search_text = name || E'\n' || coalesce(description, '') || E'\n' ||
    coalesce((SELECT string_agg(replace(c.slug, '-', ' '), ' ') FROM asset_categories ac
              JOIN categories c ON c.id = ac.category_id WHERE ac.asset_id = assets.id), '');
CREATE INDEX assets_search ON assets USING gin (to_tsvector('english', search_text));
";

const SQLITE_DOWN: &str = r"
DROP TRIGGER assets_fts_update;
DROP TRIGGER assets_fts_delete;
DROP TRIGGER assets_fts_insert;
DROP TABLE asset_fts;
ALTER TABLE assets DROP COLUMN search_text;
";

const POSTGRES_DOWN: &str = r"
DROP INDEX assets_search;
ALTER TABLE assets DROP COLUMN search_text;
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
        let sql = match manager.get_database_backend() {
            DatabaseBackend::Sqlite => SQLITE_DOWN,
            _ => POSTGRES_DOWN,
        };
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }
}
