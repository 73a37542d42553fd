//! Trust: API tokens and the organizations they act for, trusted organizations,
//! moderation of assets, pending changes, an append-only revision history, verification
//! and idempotency keys for creates.
//!
//! `asset_revisions` refuses UPDATE and DELETE in the database itself: history is
//! append-only whatever the application does.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &'static str {
        "m20261122_000004_trust"
    }
}

const SQLITE_UP: &str = r"
ALTER TABLE organizations ADD COLUMN trusted BOOLEAN NOT NULL DEFAULT 0;
-- 'approved' assets are public; 'pending' ones wait for a moderator; 'rejected' ones never were
ALTER TABLE assets ADD COLUMN moderation TEXT NOT NULL DEFAULT 'approved'
    CHECK (moderation IN ('approved', 'pending', 'rejected'));
ALTER TABLE assets ADD COLUMN last_verified_at TEXT;
ALTER TABLE assets ADD COLUMN last_verified_by TEXT;
CREATE TABLE api_tokens (
    id BLOB PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('link_worker', 'editor', 'moderator', 'admin')),
    -- SHA-256 of the secret, hex; the secret itself is shown once and never stored
    secret_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE api_token_organizations (
    token_id BLOB NOT NULL REFERENCES api_tokens (id),
    organization_id BLOB NOT NULL REFERENCES organizations (id),
    PRIMARY KEY (token_id, organization_id)
);
CREATE TABLE asset_revisions (
    id BLOB PRIMARY KEY NOT NULL,
    asset_id BLOB NOT NULL REFERENCES assets (id),
    version INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    approved_by TEXT,
    at TEXT NOT NULL,
    before TEXT,
    after TEXT
);
CREATE INDEX asset_revisions_asset ON asset_revisions (asset_id, version);
CREATE TRIGGER asset_revisions_no_update BEFORE UPDATE ON asset_revisions BEGIN
    SELECT RAISE(ABORT, 'asset_revisions is append-only');
END;
CREATE TRIGGER asset_revisions_no_delete BEFORE DELETE ON asset_revisions BEGIN
    SELECT RAISE(ABORT, 'asset_revisions is append-only');
END;
CREATE TABLE pending_changes (
    id BLOB PRIMARY KEY NOT NULL,
    asset_id BLOB NOT NULL REFERENCES assets (id),
    organization_id BLOB REFERENCES organizations (id),
    action TEXT NOT NULL,
    base_version INTEGER NOT NULL,
    before TEXT,
    after TEXT NOT NULL,
    proposed_by_id TEXT NOT NULL,
    proposed_by_name TEXT NOT NULL,
    proposed_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by TEXT,
    decided_at TEXT,
    reason TEXT
);
CREATE INDEX pending_changes_status ON pending_changes (status, id);
CREATE INDEX pending_changes_asset ON pending_changes (asset_id);
CREATE TABLE idempotency_keys (
    owner TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    -- no foreign key: the key is claimed first, in the same transaction as the asset
    asset_id BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (owner, key)
);
";

const POSTGRES_UP: &str = r"
ALTER TABLE organizations ADD COLUMN trusted boolean NOT NULL DEFAULT false;
ALTER TABLE assets ADD COLUMN moderation text NOT NULL DEFAULT 'approved'
    CHECK (moderation IN ('approved', 'pending', 'rejected'));
ALTER TABLE assets ADD COLUMN last_verified_at timestamptz;
ALTER TABLE assets ADD COLUMN last_verified_by text;
CREATE TABLE api_tokens (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    role text NOT NULL CHECK (role IN ('link_worker', 'editor', 'moderator', 'admin')),
    secret_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE TABLE api_token_organizations (
    token_id uuid NOT NULL REFERENCES api_tokens (id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    PRIMARY KEY (token_id, organization_id)
);
CREATE TABLE asset_revisions (
    id uuid PRIMARY KEY,
    asset_id uuid NOT NULL REFERENCES assets (id),
    version integer NOT NULL,
    action text NOT NULL,
    actor_id text NOT NULL,
    actor_name text NOT NULL,
    approved_by text,
    at timestamptz NOT NULL,
    before text,
    after text
);
CREATE INDEX asset_revisions_asset ON asset_revisions (asset_id, version);
CREATE FUNCTION asset_revisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'asset_revisions is append-only';
END;
$$;
CREATE TRIGGER asset_revisions_append_only BEFORE UPDATE OR DELETE ON asset_revisions
    FOR EACH ROW EXECUTE FUNCTION asset_revisions_append_only();
CREATE TABLE pending_changes (
    id uuid PRIMARY KEY,
    asset_id uuid NOT NULL REFERENCES assets (id),
    organization_id uuid REFERENCES organizations (id),
    action text NOT NULL,
    base_version integer NOT NULL,
    before text,
    after text NOT NULL,
    proposed_by_id text NOT NULL,
    proposed_by_name text NOT NULL,
    proposed_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by text,
    decided_at timestamptz,
    reason text
);
CREATE INDEX pending_changes_status ON pending_changes (status, id);
CREATE INDEX pending_changes_asset ON pending_changes (asset_id);
CREATE TABLE idempotency_keys (
    owner text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    asset_id uuid NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (owner, key)
);
";

const SQLITE_DOWN: &str = r"
DROP TABLE idempotency_keys;
DROP TABLE pending_changes;
DROP TABLE asset_revisions;
DROP TABLE api_token_organizations;
DROP TABLE api_tokens;
ALTER TABLE assets DROP COLUMN last_verified_by;
ALTER TABLE assets DROP COLUMN last_verified_at;
ALTER TABLE assets DROP COLUMN moderation;
ALTER TABLE organizations DROP COLUMN trusted;
";

const POSTGRES_DOWN: &str = r"
DROP TABLE idempotency_keys;
DROP TABLE pending_changes;
DROP TABLE asset_revisions;
DROP FUNCTION asset_revisions_append_only();
DROP TABLE api_token_organizations;
DROP TABLE api_tokens;
ALTER TABLE assets DROP COLUMN last_verified_by;
ALTER TABLE assets DROP COLUMN last_verified_at;
ALTER TABLE assets DROP COLUMN moderation;
ALTER TABLE organizations DROP COLUMN trusted;
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
