//! Validated domain types. GraphQL and CLI inputs become these at the boundary; the
//! services accept nothing else.
//!
//! - `asset`: an asset's content ([`AssetContent`]), a patch to it, its contact details
//! - `text`: bounded free text, email addresses, category slugs
//! - `kind`: asset kinds and the geometry each may have; `geometry`, `validity`: the one
//!   geometry gate
//! - `hours`, `listing`: opening hours, accessibility, ages
//! - `people`: health champions shown only approximately
//! - `search`: points, radii, boxes, page sizes, cursors and the search filter
//! - `reasons`: why a search result matched, in words
//! - `changes`: what a sync client follows (a box, kinds, categories)

pub mod asset;
pub mod changes;
pub mod geometry;
pub mod hours;
pub mod kind;
pub mod listing;
pub mod people;
pub mod reasons;
pub mod search;
pub mod text;
pub mod validity;

pub use asset::{AssetContent, AssetPatch, AtVersion};
pub use entity::asset::{Moderation, Status as AssetStatus};
pub use geometry::{GeometryType, ValidGeometry};
pub use kind::{AssetKind, KindRules};
pub use search::{AssetFilter, BBox, Buffer, LonLat, PageSize, Radius, SearchCursor};
pub use text::Text;
