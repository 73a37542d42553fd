//! Validated domain types. GraphQL and CLI inputs become these at the boundary; the
//! services accept nothing else.

pub mod asset;
pub mod geometry;
pub mod hours;
pub mod kind;
pub mod listing;
pub mod people;
pub mod search;
pub mod validity;

pub use asset::{AssetPatch, NewAsset, Text};
pub use geometry::{GeometryType, ValidGeometry};
pub use kind::AssetKind;
pub use search::{AssetFilter, BBox, Buffer, LonLat, PageSize, Radius, SearchCursor};
