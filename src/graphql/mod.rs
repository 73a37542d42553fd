//! The GraphQL API: thin resolvers that turn inputs into domain types, call one service
//! function and map the result. The SDL this produces is `schema.graphql` at the repo root.
//!
//! - `query`, `mutation`, `changes::SubscriptionRoot`: the roots
//! - `changes`: the change log for sync clients, and its live subscription
//! - `asset`: `Asset` and its enums; `asset_input`: what creates and changes one
//! - `search`: the filter, the shapes, pages of results and why each matched
//! - `organization`: `Organization` and `Category`
//! - `context`: who is asking, and the store, as a resolver finds them
//! - `trust`: history and moderation; `shortlists`: what a resident opens
//! - `page`: `PageInfo` and the one way a page of edges is built
//! - `budget`: what one response may carry of geometry, counted as it is built
//! - `scalars`: `GeoJSON`; `loaders`: DataLoaders for an asset's relations

mod asset;
mod asset_input;
pub mod budget;
pub mod changes;
mod context;
pub mod loaders;
mod mutation;
mod organization;
mod page;
mod query;
mod scalars;
mod search;
mod shortlists;
mod trust;

use async_graphql::Schema;

use crate::state::AppState;
pub use changes::SubscriptionRoot;
pub use mutation::MutationRoot;
pub use query::QueryRoot;

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// The deepest selection a query may make.
pub const MAX_DEPTH: usize = 12;
/// The most a query may cost: a field costs 1, a field that loads related rows 5, and a
/// paged list its page size times its selection. A map page of 100 assets with a few
/// fields costs about 800; the same page asking for everything costs over 4 000.
pub const MAX_COMPLEXITY: usize = 4_000;

/// The schema without a database, for printing the SDL.
pub fn sdl() -> String {
    Schema::build(QueryRoot, MutationRoot, SubscriptionRoot)
        .finish()
        .sdl()
}

/// The most directives one field may carry.
pub const MAX_DIRECTIVES: usize = 5;

/// How long shortlists stay open, in days.
#[derive(Clone, Copy, Debug)]
pub struct ShortlistDays(pub u32);

/// The schema over the application's state: resolvers that only read and write the store
/// take its `Db`; searches and subscriptions take the `AppState`.
pub fn schema(state: AppState, introspection: bool, shortlist_days: u32) -> AppSchema {
    let builder = Schema::build(QueryRoot, MutationRoot, SubscriptionRoot);
    let builder = if introspection {
        builder
    } else {
        builder.disable_introspection()
    };
    builder
        .data(state.db.clone())
        .data(state)
        .data(ShortlistDays(shortlist_days))
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(MAX_DEPTH)
        .limit_directives(MAX_DIRECTIVES)
        // "did you mean ...?" would describe the schema to clients that may not read it
        .disable_suggestions()
        .finish()
}
