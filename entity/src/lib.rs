//! sea-orm entities: the tables as stored, nothing more.
//!
//! The GraphQL types live in the server crate (`src/graphql`); the API is not the table.
//! Geometry is stored as normalised RFC 7946 GeoJSON text with its bounding box; the
//! spatial indexes built from it (an SQLite R*Tree, a PostGIS column) are maintained by the
//! database itself (see the migration) and are not part of these models.

pub mod api_token;
pub mod api_token_organization;
pub mod app_meta;
pub mod asset;
pub mod asset_category;
pub mod asset_revision;
pub mod category;
pub mod idempotency_key;
pub mod organization;
pub mod pending_change;
pub mod shortlist;
pub mod shortlist_item;
