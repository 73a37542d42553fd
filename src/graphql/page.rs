//! Relay paging: `PageInfo` and the one way a page of edges is built.

use async_graphql::SimpleObject;
use uuid::Uuid;

use crate::domain::{PageSize, SearchCursor};

/// Relay page information.
#[derive(SimpleObject)]
pub struct PageInfo {
    /// More results follow: ask again with `after: endCursor`.
    pub has_next_page: bool,
    /// True when this page was asked for with `after`.
    pub has_previous_page: bool,
    /// The cursor of the first edge; null on an empty page.
    pub start_cursor: Option<String>,
    /// The cursor of the last edge, to pass as `after`; null on an empty page.
    pub end_cursor: Option<String>,
}

/// Where the next page starts, as the client sees it.
pub struct Position {
    pub has_next: bool,
    pub has_previous: bool,
    /// Where the next page starts when that is past the last item (a filtered search
    /// that stopped before it filled the page).
    pub resume_after: Option<String>,
}

/// A page's edges and its `PageInfo`: each item becomes an edge with its cursor.
pub fn edges<T, E>(
    items: Vec<T>,
    position: Position,
    cursor: impl Fn(&T) -> String,
    mut edge: impl FnMut(T, String) -> E,
) -> (Vec<E>, PageInfo) {
    let page_info = PageInfo {
        has_next_page: position.has_next,
        has_previous_page: position.has_previous,
        start_cursor: items.first().map(&cursor),
        end_cursor: position.resume_after.or_else(|| items.last().map(&cursor)),
    };
    let edges = items
        .into_iter()
        .map(|item| {
            let c = cursor(&item);
            edge(item, c)
        })
        .collect();
    (edges, page_info)
}

/// The cursor of a list ordered by id alone (organizations, pending changes).
pub fn id_cursor(id: Uuid) -> String {
    SearchCursor { distance: 0.0, id }.encode()
}

/// An id-ordered list read one past the page, as edges.
pub fn id_page<T, E>(
    mut rows: Vec<T>,
    first: PageSize,
    after: Option<Uuid>,
    id: impl Fn(&T) -> Uuid,
    edge: impl FnMut(T, String) -> E,
) -> (Vec<E>, PageInfo) {
    let position = Position {
        has_next: first.split(&mut rows),
        has_previous: after.is_some(),
        resume_after: None,
    };
    edges(rows, position, |row| id_cursor(id(row)), edge)
}
