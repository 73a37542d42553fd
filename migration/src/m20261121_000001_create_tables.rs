//! Organizations, categories, assets, their link table, and the spatial index.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &'static str {
        "m20261121_000001_create_tables"
    }
}

const SQLITE_UP: &str = r"
CREATE TABLE organizations (
    id BLOB PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    website TEXT,
    email TEXT,
    phone TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE categories (
    id BLOB PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    parent_id BLOB REFERENCES categories (id)
);
-- seq gives the R*Tree its integer key; the public id is the UUID.
CREATE TABLE assets (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id BLOB NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    geometry TEXT NOT NULL,
    min_lon REAL NOT NULL,
    min_lat REAL NOT NULL,
    max_lon REAL NOT NULL,
    max_lat REAL NOT NULL,
    organization_id BLOB REFERENCES organizations (id),
    address TEXT,
    postcode TEXT,
    website TEXT,
    email TEXT,
    phone TEXT,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    archived_at TEXT
);
CREATE INDEX assets_kind ON assets (kind);
CREATE INDEX assets_organization ON assets (organization_id);
CREATE TABLE asset_categories (
    asset_id BLOB NOT NULL REFERENCES assets (id),
    category_id BLOB NOT NULL REFERENCES categories (id),
    PRIMARY KEY (asset_id, category_id)
);
CREATE INDEX asset_categories_category ON asset_categories (category_id);
CREATE TABLE app_meta (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
CREATE VIRTUAL TABLE asset_rtree USING rtree (seq, min_lon, max_lon, min_lat, max_lat);
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

const POSTGRES_UP: &str = r"
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE TABLE organizations (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    description text,
    website text,
    email text,
    phone text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE TABLE categories (
    id uuid PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    name text NOT NULL,
    parent_id uuid REFERENCES categories (id)
);
CREATE TABLE assets (
    id uuid PRIMARY KEY,
    kind text NOT NULL,
    name text NOT NULL,
    description text,
    geometry text NOT NULL,
    min_lon double precision NOT NULL,
    min_lat double precision NOT NULL,
    max_lon double precision NOT NULL,
    max_lat double precision NOT NULL,
    -- derived from geometry by the trigger below; never written by the application
    geom geometry(Geometry, 4326) NOT NULL,
    organization_id uuid REFERENCES organizations (id),
    address text,
    postcode text,
    website text,
    email text,
    phone text,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    archived_at timestamptz
);
CREATE INDEX assets_kind ON assets (kind);
CREATE INDEX assets_organization ON assets (organization_id);
CREATE INDEX assets_geom ON assets USING gist (geom);
CREATE INDEX assets_geog ON assets USING gist (geography(geom));
CREATE TABLE asset_categories (
    asset_id uuid NOT NULL REFERENCES assets (id),
    category_id uuid NOT NULL REFERENCES categories (id),
    PRIMARY KEY (asset_id, category_id)
);
CREATE INDEX asset_categories_category ON asset_categories (category_id);
CREATE TABLE app_meta (
    key text PRIMARY KEY,
    value text NOT NULL
);
CREATE FUNCTION assets_set_geom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.geom := ST_SetSRID(ST_GeomFromGeoJSON(NEW.geometry), 4326);
    RETURN NEW;
END;
$$;
CREATE TRIGGER assets_set_geom BEFORE INSERT OR UPDATE OF geometry ON assets
    FOR EACH ROW EXECUTE FUNCTION assets_set_geom();
";

const SQLITE_DOWN: &str = r"
DROP TABLE asset_rtree;
DROP TABLE asset_categories;
DROP TABLE assets;
DROP TABLE categories;
DROP TABLE organizations;
DROP TABLE app_meta;
";

const POSTGRES_DOWN: &str = r"
DROP TABLE asset_categories;
DROP TABLE assets;
DROP FUNCTION assets_set_geom();
DROP TABLE categories;
DROP TABLE organizations;
DROP TABLE app_meta;
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DatabaseBackend::Sqlite => SQLITE_UP,
            DatabaseBackend::Postgres => POSTGRES_UP,
            other => return Err(DbErr::Migration(format!("unsupported backend {other:?}"))),
        };
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DatabaseBackend::Sqlite => SQLITE_DOWN,
            DatabaseBackend::Postgres => POSTGRES_DOWN,
            other => return Err(DbErr::Migration(format!("unsupported backend {other:?}"))),
        };
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }
}
