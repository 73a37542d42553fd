//! Database migrations for both backends.
//!
//! Tables are the same on SQLite and PostgreSQL; what searches read differs, so the DDL
//! branches on the backend exactly there: on SQLite the compact search records (and
//! binary shapes) the write path stores beside each asset, from which the server builds
//! its in-memory index at start-up (`spatial::memory`), and the FTS5 table `asset_fts`;
//! on PostgreSQL a PostGIS `geometry(Geometry, 4326)` column derived from the stored
//! GeoJSON, with GiST indexes of the public assets (planar and geography, beside the
//! kind) and a `tsvector` index. The R*Tree of migration 3 is dropped by migration 9,
//! which replaced it with the search records.

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_create_tables;
mod m20261121_000002_seed_categories;
mod m20261122_000003_rtree_pieces;
mod m20261122_000004_trust;
mod m20261122_000005_link_worker;
mod m20261122_000006_full_text;
mod m20261122_000007_shortlists;
mod m20261128_000008_change_log;
mod m20261129_000009_search_records;
mod m20261129_000010_public_search_indexes;
mod m20261130_000011_postcodes;
mod m20261130_000012_asset_sources;
mod m20261130_000013_health_categories;
mod m20261130_000014_check_websites;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_create_tables::Migration),
            Box::new(m20261121_000002_seed_categories::Migration),
            Box::new(m20261122_000003_rtree_pieces::Migration),
            Box::new(m20261122_000004_trust::Migration),
            Box::new(m20261122_000005_link_worker::Migration),
            Box::new(m20261122_000006_full_text::Migration),
            Box::new(m20261122_000007_shortlists::Migration),
            Box::new(m20261128_000008_change_log::Migration),
            Box::new(m20261129_000009_search_records::Migration),
            Box::new(m20261129_000010_public_search_indexes::Migration),
            Box::new(m20261130_000011_postcodes::Migration),
            Box::new(m20261130_000012_asset_sources::Migration),
            Box::new(m20261130_000013_health_categories::Migration),
            Box::new(m20261130_000014_check_websites::Migration),
        ]
    }
}
