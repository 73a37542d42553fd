//! Assetmap: a GraphQL API for mapping community assets and answering geospatial
//! questions about them, on SQLite or PostgreSQL with PostGIS.
//!
//! - `config`: the command line and environment
//! - `app`: builds the running service (connect, migrate, schema, router, bind)
//! - `db`: connections for either backend
//! - `domain`: validated types (geometry gate, kinds, radius, box, cursors)
//! - `spatial`: the only code that differs between SQLite and PostGIS: spatial search
//! - `service`: one function per use case (assets, search, import, export, demo)
//! - `graphql`: the schema; `http`: the axum router
//! - `cli`: the `migrate`, `import`, `export` and `schema` commands
//! - `error`: the application error and its GraphQL codes

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod jwt;
pub mod service;
pub mod spatial;
pub mod telemetry;
