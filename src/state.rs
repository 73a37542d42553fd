//! The application's state: the store, this replica's search engine and its change
//! follower, built once by `App::build` in start-up order and handed to the surfaces
//! (`graphql`, `http`). Use cases below it take only the parts they need: `&Db` for the
//! store, the `Engine` for a search, the `Hub` for live changes.

use std::sync::Arc;

use crate::db::Db;
use crate::service::changes::hub::Hub;
use crate::spatial::Engine;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// The backend's side of spatial search, with any state it keeps between searches
    /// (SQLite's in-memory index).
    pub search: Engine,
    /// New change-log entries, fanned out to this replica's subscriptions (and its
    /// search state).
    pub changes: Arc<Hub>,
}

impl AppState {
    /// After a write on this replica: the search state and the subscriptions catch up
    /// with the log before the writer is answered.
    pub async fn written(&self) {
        self.changes.committed(&self.db).await;
    }
}
