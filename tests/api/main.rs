//! The integration suite: every test spawns the real app on a fresh database (a new
//! SQLite file or a new PostgreSQL database with PostGIS), through the real migrations,
//! and talks GraphQL to it over HTTP. Most scenarios run once per backend.

mod assets;
mod cli;
mod cross_backend;
mod helpers;
mod search;
