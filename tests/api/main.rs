//! The integration suite: every test spawns the real app on a fresh database (a new
//! SQLite file or a new PostgreSQL database with PostGIS), through the real migrations,
//! and talks GraphQL to it over HTTP. Most scenarios run once per backend.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test that meets the unexpected should stop right there, loudly"
)]
#![expect(
    clippy::too_many_lines,
    clippy::items_after_statements,
    reason = "a scenario reads top to bottom, with a `use` beside the lines that need it"
)]

mod assets;
mod caching;
mod changes;
mod cli;
mod cross_backend;
mod errors;
mod helpers;
mod hostile;
mod limits;
mod link_worker;
mod live;
mod oruk;
mod postcodes;
mod readme;
mod replicas;
mod search;
mod tiles;
mod trust;
mod web;
mod websites;
