//! sea-orm entities: the tables as stored, nothing more.
//!
//! The GraphQL types live in the server crate (`src/graphql`); the API is not the table.
//! Geometry is stored as normalised RFC 7946 GeoJSON text with its bounding box. What
//! searches read beside it (SQLite's search records, written by the server's write path;
//! PostGIS's geometry column, derived by the database) is not part of these models (see
//! the migrations and `spatial`).

/// A closed set of states stored as text: one list of its stored names, read and written
/// by sea-orm (`DeriveActiveEnum`) and by serde (revision snapshots), with `as_str` for the
/// rare place that needs the name itself (SQL built by hand, logs).
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, sea_orm::EnumIter, sea_orm::DeriveActiveEnum,
            serde::Serialize, serde::Deserialize,
        )]
        #[sea_orm(rs_type = "String", db_type = "Text")]
        $vis enum $name {
            $( $(#[$vmeta])* #[sea_orm(string_value = $value)] #[serde(rename = $value)] $variant ),*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $value),*
                }
            }

            /// The value with this stored name.
            pub fn from_stored(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }
    };
}

pub mod api_token;
pub mod api_token_organization;
pub mod app_meta;
pub mod asset;
pub mod asset_category;
pub mod asset_change;
pub mod asset_revision;
pub mod asset_source;
pub mod category;
pub mod change_log_state;
pub mod idempotency_key;
pub mod organization;
pub mod pending_change;
pub mod postcode;
pub mod shortlist;
pub mod shortlist_item;
