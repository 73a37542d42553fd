//! Assetmap: a GraphQL API for mapping community assets and answering geospatial
//! questions about them, on SQLite or PostgreSQL with PostGIS.
//!
//! - `config`: the command line and environment; `telemetry`: logs
//! - `app`: builds the running service (connect, migrate, schema, router, bind) and
//!   `tasks`, what runs beside it and stops with it
//! - `db`: connections for either backend, and what else differs between them about a
//!   connection (pools, planner statistics, placeholders, hearing of others' commits)
//! - `domain`: validated types: an asset's content, the geometry gate, kinds, hours,
//!   search inputs, match reasons
//! - `spatial`: what differs between SQLite and PostGIS in searching: the searches, the
//!   spatial index (SQLite's in memory) and the map's clusters
//! - `service`: one function per use case (assets and their one write path, search,
//!   moderation, the change log, import, export, Open Referral UK, postcodes, tiles,
//!   shortlists, tokens, demo)
//! - `state`: the application's state (store, search engine, change follower), built
//!   once by `app`
//! - `auth`, `jwt`: who is asking; `graphql`: the schema; `http`: the axum router
//! - `cli`: the `serve`, `migrate`, `import`, `export`, `token`, `postcodes` and `schema`
//!   commands
//! - `error`: the application error and its GraphQL codes

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod convert;
pub mod db;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod jwt;
pub mod service;
pub mod spatial;
pub mod state;
pub mod tasks;
pub mod telemetry;
