//! Work that builds a large response, bounded in how much of it runs at once.
//!
//! Each surface bounds one response in bytes (pages end at a byte budget, see
//! `service::pages` and `graphql::budget`); this bounds how many are held at once, so
//! sixteen clients asking for the largest page multiply memory by the permits, not by
//! sixteen. A permit is taken before the work starts and held by the response's body
//! until the last byte has gone to the client (or the connection is cut off for not
//! reading, see `serve`), because a built body is memory too. Those who wait hold
//! nothing but their request, and the request timeout bounds their wait.
//!
//! Heavy: GraphQL documents that select geometry or a change's before and after, the
//! RPDE feed, Open Referral lists, vector tiles drawn afresh.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::Response;
use http_body::{Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The permits of heavy work on this replica.
#[derive(Clone)]
pub struct Heavy {
    semaphore: Arc<Semaphore>,
    permits: usize,
}

impl Heavy {
    pub fn new(permits: usize) -> Self {
        let permits = permits.max(1);
        Self {
            semaphore: Arc::new(Semaphore::new(permits)),
            permits,
        }
    }

    /// Waits for a permit.
    pub async fn permit(&self) -> Permit {
        metrics::gauge!("assetmap_heavy_waiting").increment(1.0);
        // the semaphore is never closed, so acquiring only ever waits
        let permit = self.semaphore.clone().acquire_owned().await.ok();
        metrics::gauge!("assetmap_heavy_waiting").decrement(1.0);
        Permit { _held: permit }
    }

    /// Permits in use.
    pub fn in_use(&self) -> usize {
        self.permits
            .saturating_sub(self.semaphore.available_permits())
    }
}

/// One permit of heavy work, given back when dropped.
pub struct Permit {
    _held: Option<OwnedSemaphorePermit>,
}

impl Permit {
    /// The response, its body holding this permit until it has been sent.
    pub fn hold(self, response: Response<Body>) -> Response<Body> {
        let (parts, body) = response.into_parts();
        Response::from_parts(
            parts,
            Body::new(Held {
                body,
                _permit: self,
            }),
        )
    }
}

/// A body and the permit it holds.
struct Held {
    body: Body,
    _permit: Permit,
}

impl http_body::Body for Held {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
