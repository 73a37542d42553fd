//! What one response may carry of the text that grows with what publishers wrote:
//! geometry (and a change's before and after, which can hold one).
//!
//! Complexity is counted before a query runs and cannot know that one park has 5 000
//! vertices and another four; this is counted as the response is built. Pages fill up
//! to [`PAGE_BYTES`] of their rows' stored size and then end early with a next page
//! (see `service::pages`), so a map app asking for 100 walking routes gets the first
//! few and a cursor; every geometry the response holds counts once, and a response that
//! would pass [`MAX_BYTES`] (aliases of many large assets, say) gets `TOO_LARGE` for the
//! fields past it instead of being built.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_graphql::Context;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// What pages fill up to, in bytes of stored text.
pub const PAGE_BYTES: u64 = 1024 * 1024;
/// What one response may hold at most.
pub const MAX_BYTES: u64 = 2 * 1024 * 1024;

/// One request's count, in its data.
#[derive(Default)]
pub struct ResponseBudget {
    spent: AtomicU64,
    /// Assets a page has already counted.
    counted: Mutex<HashSet<Uuid>>,
}

impl ResponseBudget {
    /// What pages may still fill.
    pub fn left_for_pages(&self) -> u64 {
        PAGE_BYTES.saturating_sub(self.spent.load(Ordering::Acquire))
    }

    /// A page keeps these assets, of this many bytes in all.
    pub fn page(&self, ids: impl IntoIterator<Item = Uuid>, bytes: u64) {
        self.spent.fetch_add(bytes, Ordering::AcqRel);
        if let Ok(mut counted) = self.counted.lock() {
            counted.extend(ids);
        }
    }

    /// An asset's text of `bytes` goes into the response (once per asset however often
    /// it appears): refused past the bound.
    pub fn spend(&self, asset: Option<Uuid>, bytes: usize) -> AppResult<()> {
        if let Some(id) = asset
            && let Ok(mut counted) = self.counted.lock()
            && !counted.insert(id)
        {
            return Ok(());
        }
        self.spend_bytes(bytes)
    }

    /// Text of `bytes` goes into the response: refused past the bound.
    pub fn spend_bytes(&self, bytes: usize) -> AppResult<()> {
        let bytes = crate::convert::to_u64(bytes);
        let total = self
            .spent
            .fetch_add(bytes, Ordering::AcqRel)
            .saturating_add(bytes);
        if total > MAX_BYTES {
            return Err(AppError::TooLarge(format!(
                "this response would hold more than {} MB of geometry: ask for fewer assets \
                 (or fewer changes) at once",
                MAX_BYTES / (1024 * 1024)
            )));
        }
        Ok(())
    }
}

/// The request's budget (a fresh one where the request has none, as in a subscription's
/// single event).
pub fn of<'a>(ctx: &'a Context<'_>) -> Option<&'a ResponseBudget> {
    ctx.data_opt::<ResponseBudget>()
}

/// The byte budget for a connection resolver's page: what pages may still fill when its
/// edges' nodes select `geometry`, else none (rows without geometry are small).
pub fn for_page(ctx: &Context<'_>) -> Option<u64> {
    let selects = ctx
        .look_ahead()
        .field("edges")
        .field("node")
        .field("geometry")
        .exists();
    selects.then(|| of(ctx).map_or(PAGE_BYTES, ResponseBudget::left_for_pages))
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::{MAX_BYTES, PAGE_BYTES, ResponseBudget};

    #[test]
    fn an_asset_counts_once_and_the_response_stops_at_its_bound() {
        let budget = ResponseBudget::default();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        budget.page([a], PAGE_BYTES);
        assert_eq!(budget.left_for_pages(), 0);
        // the page counted it: resolving its geometry costs nothing more
        assert!(budget.spend(Some(a), 1_000_000).is_ok());
        let room = crate::convert::to_usize(MAX_BYTES - PAGE_BYTES);
        assert!(budget.spend(Some(b), room).is_ok());
        // b again is free; anything new is over
        assert!(budget.spend(Some(b), room).is_ok());
        let over = budget
            .spend(Some(Uuid::now_v7()), 1)
            .expect_err("over the bound");
        assert_eq!(over.code(), "TOO_LARGE");
    }
}
